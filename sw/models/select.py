"""Greedy hybrid selection (paper section V-C; slides: "choose half of layers greedily to
maximize speedup"): pick which blocks of a network become FuSe to maximize the speedup for a
given fraction of blocks, or to meet a latency budget with as few FuSe blocks as possible.

In the paper latency model (``sw.latency.paper``) layers add up and a FuSe block has the same
output shape as the block it replaces, so converting block *i* saves a fixed
``saving_i = cycles(base block i on 'Systolic') - cycles(FuSe block i on 'FuSe')`` whatever the
other blocks are. Any plan's latency is therefore ``base_total - sum(saving_i)``, and taking the
blocks in decreasing order of saving is optimal for both goals (the greedy choice is exact).
"""

from __future__ import annotations

from dataclasses import dataclass

from sw.latency.table import trace_model, zoo_latency
from sw.models.common import Plan, make_plan
from sw.models.fuse import FUSE_VARIANTS
from sw.models.shapes import build_meta


@dataclass(frozen=True)
class BlockCost:
    """Cycles of one convertible block as baseline (on 'Systolic') and as FuSe (on 'FuSe')."""

    index: int
    name: str
    base_cycles: int
    fuse_cycles: int

    @property
    def saving(self) -> int:
        return self.base_cycles - self.fuse_cycles


@dataclass(frozen=True)
class Selection:
    """A greedy choice: the plan, the chosen block indices (0-based), predicted cycles/speedup."""

    network: str
    variant: str
    plan: Plan
    chosen: tuple[int, ...]
    cycles: int
    base_cycles: int

    @property
    def speedup(self) -> float:
        return self.base_cycles / self.cycles


def _group(report, names: list[str]) -> list[int]:
    sums = [0] * len(names)
    for rec in report.layers:
        for i, prefix in enumerate(names):
            if rec.name == prefix or rec.name.startswith(prefix + "."):
                sums[i] += rec.cycles
                break
    return sums


def block_costs(
    network: str, variant: str = "full", arr_x: int = 64, arr_y: int = 64, mode: str = "paper"
) -> list[BlockCost]:
    """Per-block baseline and FuSe cycles of ``network`` (FuSe ``variant`` 'full' or 'half')."""
    if variant not in FUSE_VARIANTS:
        raise ValueError(f"FuSe variant must be one of {sorted(FUSE_VARIANTS)}, not {variant!r}")
    names = build_meta(network, "base").block_names()  # type: ignore[operator]
    base = _group(zoo_latency(network, "base", arr_x, arr_y, "Systolic", mode), names)
    fuse = _group(zoo_latency(network, variant, arr_x, arr_y, "FuSe", mode), names)
    return [
        BlockCost(i, n, b, f) for i, (n, b, f) in enumerate(zip(names, base, fuse, strict=True))
    ]


def greedy_select(
    network: str,
    variant: str = "full",
    fraction: float | None = 0.5,
    budget_cycles: int | None = None,
    arr_x: int = 64,
    arr_y: int = 64,
    mode: str = "paper",
) -> Selection:
    """Choose the blocks to convert to FuSe ``variant``.

    With ``budget_cycles``: the fewest blocks whose conversion brings the latency to at most the
    budget (``ValueError`` if even the all-FuSe network is slower). Otherwise ``fraction`` of the
    blocks (rounded to nearest) with the largest savings."""
    costs = block_costs(network, variant, arr_x, arr_y, mode)
    base_total = zoo_latency(network, "base", arr_x, arr_y, "Systolic", mode).total
    order = sorted(costs, key=lambda c: (-c.saving, c.index))
    if budget_cycles is not None:
        chosen, cycles = [], base_total
        for c in order:
            if cycles <= budget_cycles or c.saving <= 0:
                break
            chosen.append(c.index)
            cycles -= c.saving
        if cycles > budget_cycles:
            raise ValueError(
                f"Latency budget {budget_cycles!r} cycles is below {network}'s best {cycles} "
                f"cycles with every block FuSe-{variant} on {arr_x}x{arr_y}"
            )
    else:
        if fraction is None or not 0.0 <= fraction <= 1.0:
            raise ValueError(f"Fraction of blocks must be in [0, 1], not {fraction!r}")
        k = int(fraction * len(costs) + 0.5)
        chosen = [c.index for c in order[:k]]
        cycles = base_total - sum(c.saving for c in order[:k])
    plan = make_plan(len(costs), variant, chosen)
    # Keep the trace cache warm for the caller's follow-up latency queries.
    trace_model(network, "base")
    return Selection(network, variant, plan, tuple(sorted(chosen)), cycles, base_total)
