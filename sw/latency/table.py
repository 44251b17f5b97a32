"""The paper's Table I reproduced (SPEC section 6): FLOPs, parameters and 64x64 speedup of the
25 network/variant rows, next to the seed's values; plus array-size sweeps (paper Fig. 6-8).

Speedup = paper-mode cycles of the baseline on the 'Systolic' array / cycles of the variant on
the 'FuSe' array (``sw.latency.paper``). Each model is traced once (shape-only, on the ``meta``
device) and its layer list cached, so costing more array sizes is nearly free.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

import torch

from sw.latency.paper import cost_layers, trace_layers
from sw.latency.records import LatencyReport, LayerLatency
from sw.latency.timing import Clocks
from sw.models.flops import count_flops
from sw.models.shapes import build_meta
from sw.models.zoo import (
    NETWORKS,
    SEED_TABLE,
    TABLE_NETWORKS,
    VARIANT_LABELS,
    VARIANTS,
    SeedRow,
    canonical_variant,
    default_hardware,
)


@dataclass(frozen=True)
class ModelTrace:
    """Shape-derived facts of one zoo model: its conv/linear layers, pthflops-seed FLOPs and
    parameter count."""

    network: str
    variant: str
    layers: tuple[LayerLatency, ...]
    flops: int
    params: int


@cache
def trace_model(network: str, variant: str) -> ModelTrace:
    """Trace ``network``/``variant`` once per process (1x3x224x224 input, 1000 classes)."""
    variant = canonical_variant(variant)
    model = build_meta(network, variant)
    layers = tuple(trace_layers(model))
    flops = count_flops(model, torch.zeros(1, 3, 224, 224)).total
    params = sum(p.numel() for p in model.parameters())
    return ModelTrace(network, variant, layers, flops, params)


def zoo_latency(
    network: str,
    variant: str,
    arr_x: int = 64,
    arr_y: int = 64,
    hardware: str | None = None,
    mode: str = "paper",
    depthwise: str = "auto",
    batch: int = 1,
) -> LatencyReport:
    """Latency report of a zoo model; ``hardware`` defaults to the table's choice
    ('Systolic' for the baseline, 'FuSe' for FuSe variants). ``depthwise``: the depthwise
    mapping (modes ``rtl`` / ``rtl-array``, ``sw.latency.paper.layer_cycles``); ``batch``:
    images per inference (every layer's batch dimension, ``with_batch``)."""
    hw = hardware or default_hardware(variant)
    layers = with_batch(trace_model(network, variant).layers, batch)
    return cost_layers(layers, arr_x, arr_y, hw, mode, depthwise)


def with_batch(layers, batch: int) -> list[LayerLatency]:
    """Traced layer records for ``batch`` times the traced batch: every record's leading
    dimension (images, or a Linear's rows) multiplied by ``batch``. The layers run as
    before, each over the whole batch at once (a GEMM's ``M`` and a FuSe layer's lines grow;
    the weights are loaded once per layer)."""
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch must be a positive integer, not {batch!r}")
    return [replace(r, in_shape=(r.in_shape[0] * batch, *r.in_shape[1:])) for r in layers]


@dataclass(frozen=True)
class TableRow:
    """One reproduced row with the seed's values (``seed`` is None for networks not in it)."""

    network: str
    display: str
    variant: str
    flops_m: float
    params_m: float
    cycles: int
    base_cycles: int
    speedup: float
    seed: SeedRow | None
    hardware: str = ""
    clocks: Clocks | None = None

    @property
    def label(self) -> str:
        return f"{self.display} {VARIANT_LABELS[self.variant]}"

    @property
    def speedup_diff_pct(self) -> float | None:
        """Relative speedup difference to the seed, in percent."""
        if self.seed is None:
            return None
        return 100.0 * (self.speedup - self.seed.speedup) / self.seed.speedup

    @property
    def time_us(self) -> float | None:
        """Time per inference on the variant's array at its clock (None without clocks)."""
        return None if self.clocks is None else self.clocks.time_us(self.cycles, self.hardware)

    @property
    def base_time_us(self) -> float | None:
        """Time of the baseline on the base ('Systolic') array at the base clock."""
        return None if self.clocks is None else self.clocks.time_us(self.base_cycles, "Systolic")

    @property
    def speedup_time(self) -> float | None:
        """Speedup in time: baseline time / variant time (clock of each array applied)."""
        if self.clocks is None:
            return None
        return self.clocks.speedup_time(self.base_cycles, self.cycles, self.hardware)


def table_rows(
    arr_x: int = 64,
    arr_y: int = 64,
    networks: tuple[str, ...] = TABLE_NETWORKS,
    mode: str = "paper",
    progress: bool = False,
    clocks: Clocks | None = None,
) -> list[TableRow]:
    """All variants of ``networks`` at one array size; with ``clocks`` the rows also give
    time per inference and speedup in time."""
    jobs = [(n, v) for n in networks for v in VARIANTS]
    if progress:
        from tqdm import tqdm

        jobs = tqdm(jobs, desc="models", unit="model", leave=False)
    rows = []
    for net, variant in jobs:
        if net not in NETWORKS:
            raise ValueError(f"Unknown network {net!r}; choose one of {', '.join(NETWORKS)}")
        trace = trace_model(net, variant)
        base = zoo_latency(net, "base", arr_x, arr_y, mode=mode).total
        rep = zoo_latency(net, variant, arr_x, arr_y, mode=mode)
        rows.append(
            TableRow(
                net,
                NETWORKS[net][0],
                variant,
                trace.flops / 1e6,
                trace.params / 1e6,
                rep.total,
                base,
                base / rep.total,
                SEED_TABLE.get(net, {}).get(variant),
                rep.hardware,
                clocks,
            )  # fmt: skip
        )
    return rows


def sweep_rows(
    sizes: list[tuple[int, int]],
    networks: tuple[str, ...] = TABLE_NETWORKS,
    variants: tuple[str, ...] = VARIANTS,
    mode: str = "paper",
    progress: bool = False,
    clocks: dict[tuple[int, int], Clocks] | None = None,
) -> list[dict[str, object]]:
    """Cycles and speedup of every network/variant at every array size (one dict per cell);
    sizes with an entry in ``clocks`` also get clocks, time and speedup in time."""
    cells = [(x, y, n, v) for x, y in sizes for n in networks for v in variants]
    if progress:
        from tqdm import tqdm

        cells = tqdm(cells, desc="sweep", unit="cell", leave=False)
    out: list[dict[str, object]] = []
    for x, y, net, variant in cells:
        base = zoo_latency(net, "base", x, y, mode=mode).total
        rep = zoo_latency(net, variant, x, y, mode=mode)
        by_kind = rep.by_kind()
        out.append(
            {
                "arr_x": x,
                "arr_y": y,
                "network": net,
                "variant": variant,
                "hardware": rep.hardware,
                "cycles": rep.total,
                "base_cycles": base,
                "speedup": base / rep.total,
                **(
                    clocks[x, y].fields(rep.total, rep.hardware, base)
                    if clocks and (x, y) in clocks
                    else {}
                ),
                **{f"cycles_{k.replace(' ', '_').replace('-', '')}": c for k, c in by_kind.items()},
            }
        )
    return out


def parse_array(text: str) -> tuple[int, int]:
    """``"64x32"`` -> (64, 32) (rows x columns); ``"64"`` -> (64, 64)."""
    parts = text.lower().split("x")
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        dims = ()
    if len(dims) == 1:
        dims = (dims[0], dims[0])
    if len(dims) != 2 or min(dims) < 1:
        raise ValueError(f"Array size must look like '64x64' (rows x columns), not {text!r}")
    return dims  # type: ignore[return-value]


def table_records(rows: list[TableRow]) -> list[dict[str, object]]:
    """Rows as flat dicts (CSV/JSON)."""
    out = []
    for r in rows:
        s = r.seed
        out.append(
            {
                "network": r.network,
                "variant": r.variant,
                "flops_m": round(r.flops_m, 4),
                "seed_flops_m": s.flops_m if s else None,
                "params_m": round(r.params_m, 6),
                "seed_params_m": s.params_m if s else None,
                "cycles": r.cycles,
                "base_cycles": r.base_cycles,
                "speedup": round(r.speedup, 5),
                "seed_speedup": s.speedup if s else None,
                "speedup_diff_pct": None if s is None else round(r.speedup_diff_pct or 0.0, 3),
                **(
                    {} if r.clocks is None else r.clocks.fields(r.cycles, r.hardware, r.base_cycles)
                ),
            }
        )
    return out


def format_table(rows: list[TableRow]) -> str:
    """Readable table: ours vs seed for FLOPs, params and speedup, with differences."""
    head = (
        f"{'network / variant':34s} {'FLOPs M':>8s} {'seed':>5s} {'params M':>9s} {'seed':>5s} "
        f"{'cycles':>9s} {'speedup':>7s} {'seed':>5s} {'diff %':>7s}"
    )
    timed = any(r.clocks is not None for r in rows)
    if timed:
        head += f" {'time us':>10s} {'base us':>10s} {'t-speedup':>9s}"
    lines = [head, "-" * len(head)]
    for r in rows:
        s = r.seed
        seed_f, seed_p, seed_s = (
            (f"{s.flops_m:.0f}", f"{s.params_m:.2f}", f"{s.speedup:g}") if s else ("-", "-", "-")
        )
        diff = r.speedup_diff_pct
        lines.append(
            f"{r.label:34s} {r.flops_m:8.2f} {seed_f:>5s} {r.params_m:9.4f} {seed_p:>5s} "
            f"{r.cycles:9d} {r.speedup:7.3f} {seed_s:>5s} "
            + (f"{diff:+7.2f}" if diff is not None else f"{'-':>7s}")
            + (
                f" {r.time_us:10.1f} {r.base_time_us:10.1f} {r.speedup_time:9.3f}"
                if timed and r.clocks is not None
                else ""
            )
        )
    return "\n".join(lines)
