"""Greedy hybrid selection (paper section V-C; slides: "choose half of layers greedily to
maximize speedup"): pick which blocks of a network become FuSe to maximize the speedup for a
given fraction of blocks, or to meet a latency budget with as few FuSe blocks as possible.

In the paper latency model (``sw.latency.paper``) layers add up and a FuSe block has the same
output shape as the block it replaces, so converting block *i* saves a fixed
``saving_i = cycles(base block i on 'Systolic') - cycles(FuSe block i on 'FuSe')`` whatever the
other blocks are. Any plan's latency is therefore ``base_total - sum(saving_i)``, and taking the
blocks in decreasing order of saving is optimal for both goals (the greedy choice is exact).

Parameters add up the same way (``block_params``: a block's parameters as baseline and as
FuSe). With a parameter budget (``budget_params``) the greedy walks the same order and takes
every block that keeps the network within the budget (a block that removes parameters is always
taken); that is the paper's greedy, not an optimal knapsack. ``greedy_frontier`` gives every
prefix of the order (0, 1, ... n blocks); ``pareto_frontier`` the exact Pareto frontier of
parameters vs cycles over all ``2**n`` plans (``fusesa select`` draws both).
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
    params: int | None = None
    base_params: int | None = None

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


def _prefix_params(model, names: list[str]) -> list[int]:
    sums = [0] * len(names)
    for pname, p in model.named_parameters():
        for i, prefix in enumerate(names):
            if pname.startswith(prefix + "."):
                sums[i] += p.numel()
                break
    return sums


def block_params(network: str, variant: str = "full") -> tuple[int, list[int], list[int]]:
    """Parameters of the baseline ``network`` (1000 classes) and of each convertible block as
    baseline and as FuSe ``variant``: a plan has ``base + sum(fuse_i - base_i)`` over its FuSe
    blocks."""
    if variant not in FUSE_VARIANTS:
        raise ValueError(f"FuSe variant must be one of {sorted(FUSE_VARIANTS)}, not {variant!r}")
    base_model = build_meta(network, "base")
    names = base_model.block_names()  # type: ignore[operator]
    total = sum(p.numel() for p in base_model.parameters())
    return (
        total,
        _prefix_params(base_model, names),
        _prefix_params(build_meta(network, variant), names),
    )


def greedy_frontier(
    network: str, variant: str = "full", arr_x: int = 64, arr_y: int = 64, mode: str = "paper"
) -> list[tuple[tuple[int, ...], int, int]]:
    """``(chosen blocks, cycles, params)`` of every greedy prefix: 0 blocks (the baseline), the
    block with the largest saving, the two largest, ... all blocks."""
    costs = block_costs(network, variant, arr_x, arr_y, mode)
    base_total = zoo_latency(network, "base", arr_x, arr_y, "Systolic", mode).total
    total_params, pb, pf = block_params(network, variant)
    order = sorted(costs, key=lambda c: (-c.saving, c.index))
    out = [((), base_total, total_params)]
    chosen: list[int] = []
    cycles, params = base_total, total_params
    for c in order:
        chosen.append(c.index)
        cycles -= c.saving
        params += pf[c.index] - pb[c.index]
        out.append((tuple(sorted(chosen)), cycles, params))
    return out


def greedy_select(
    network: str,
    variant: str = "full",
    fraction: float | None = 0.5,
    budget_cycles: int | None = None,
    arr_x: int = 64,
    arr_y: int = 64,
    mode: str = "paper",
    budget_params: int | None = None,
) -> Selection:
    """Choose the blocks to convert to FuSe ``variant``.

    With ``budget_cycles``: the fewest blocks whose conversion brings the latency to at most the
    budget (``ValueError`` if even the all-FuSe network is slower). With ``budget_params``: in
    the same order, every block that keeps the parameter count within the budget (``ValueError``
    if no plan fits). Otherwise ``fraction`` of the blocks (rounded to nearest) with the largest
    savings."""
    if budget_cycles is not None and budget_params is not None:
        raise ValueError("give a latency budget or a parameter budget, not both")
    costs = block_costs(network, variant, arr_x, arr_y, mode)
    base_total = zoo_latency(network, "base", arr_x, arr_y, "Systolic", mode).total
    total_params, pb, pf = block_params(network, variant)
    order = sorted(costs, key=lambda c: (-c.saving, c.index))
    if budget_params is not None:
        chosen, cycles, params = [], base_total, total_params
        for c in order:
            delta = pf[c.index] - pb[c.index]
            if c.saving > 0 and (delta <= 0 or params + delta <= budget_params):
                chosen.append(c.index)
                cycles -= c.saving
                params += delta
        if params > budget_params:
            raise ValueError(
                f"Parameter budget {budget_params!r} is below {network}'s smallest {params} "
                f"parameters with FuSe-{variant} blocks"
            )
    elif budget_cycles is not None:
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
    params = total_params + sum(pf[i] - pb[i] for i in chosen)
    return Selection(
        network, variant, plan, tuple(sorted(chosen)), cycles, base_total, params, total_params
    )


def pareto_frontier(
    network: str, variant: str = "full", arr_x: int = 64, arr_y: int = 64, mode: str = "paper"
) -> list[tuple[tuple[int, ...], int, int]]:
    """The exact Pareto frontier of all ``2**n`` block selections (fewer parameters vs fewer
    cycles), as ``(chosen blocks, cycles, params)`` sorted by parameters. Exact because both
    add up per block; every zoo network has at most 17 convertible blocks (131,072 plans)."""
    import numpy as np

    costs = block_costs(network, variant, arr_x, arr_y, mode)
    n = len(costs)
    if n > 20:
        raise ValueError(f"{network} has {n} blocks; exhaustive frontier supports at most 20")
    base_total = zoo_latency(network, "base", arr_x, arr_y, "Systolic", mode).total
    total_params, pb, pf = block_params(network, variant)
    masks = np.arange(1 << n, dtype=np.int64)
    bits = (masks[:, None] >> np.arange(n)) & 1
    cycles = base_total - bits @ np.array([c.saving for c in costs], dtype=np.int64)
    params = total_params + bits @ np.array([f - b for b, f in zip(pb, pf, strict=True)])
    order = np.lexsort((cycles, params))
    out, best = [], None
    for i in order:
        if best is None or cycles[i] < best:
            best = cycles[i]
            chosen = tuple(j for j in range(n) if (int(masks[i]) >> j) & 1)
            out.append((chosen, int(cycles[i]), int(params[i])))
    return out
