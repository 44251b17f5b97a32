"""Per-action energies of the array (issue 20): pJ per PE-cycle for each mapping kind, from
the synthesized netlist (``synth.flow``, flat, osu018) and SAIF switching activity of real
runs (``synth.activity``).

Kinds:

- ``gemm``: the GEMM tile stream of ``synth.activity`` (both arrays);
- ``fuse``: the 1x3 depthwise FuSe layer of ``synth.activity`` (FuSe array only);
- ``idle``: the array clocked with no work: every flop ``Q`` and every input holds its value
  (zero toggles), so only the flops' clock pins and leakage draw power (no clock gating in
  this RTL). No run is needed for this activity: a clocked idle array has, by definition, no
  transitions.

Energy per cycle = OpenSTA ``report_power`` total x the bench clock period; per PE-cycle =
that / (rows x cols). The raw powers (internal, switching, leakage, total) are kept in the
result. Activity is averaged over the whole bench run (fill and drain included), as in
``synth.activity``.
"""

from __future__ import annotations

import time
from pathlib import Path

from hw.config import ArrayConfig
from synth.activity import parse_saif
from synth.flow import DEFAULT_PERIOD_NS, synth_variant
from synth.sta import run_sta

__all__ = ["KINDS", "action_energies", "idle_activity"]

KINDS = ("gemm", "fuse", "idle")


def idle_activity(bits: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """The activity of a clocked idle array over the names of a real run: no toggles, every
    bit held at 0 (the state after reset with no data)."""
    return dict.fromkeys(bits, (0.0, 0.0))


def _from_entry(entry: dict, cfg: ArrayConfig, period_ns: float) -> dict:
    pes = cfg.rows * cfg.cols
    kinds = {}
    for kind, p in entry["power"].items():
        e_cycle_pj = p["total_w"] * period_ns * 1e-9 * 1e12
        kinds[kind] = {
            "power_w": {k: p[k] for k in ("internal_w", "switching_w", "leakage_w", "total_w")},
            "pj_per_cycle": e_cycle_pj,
            "pj_per_pe_cycle": e_cycle_pj / pes,
            "activity_coverage": p.get("activity_coverage"),
        }
    return kinds


def action_energies(
    rows: int,
    cols: int,
    out_dir: str | Path,
    period_ns: float = DEFAULT_PERIOD_NS,
    progress: bool = True,
) -> dict:
    """Synthesize the base and FuSe ``rows x cols`` arrays flat, measure power for every kind
    and return ``{"base": {kind: ...}, "fuse": {kind: ...}, ...}`` (raw powers kept)."""
    t0 = time.perf_counter()
    out = {"rows": rows, "cols": cols, "period_ns": period_ns, "library": "osu018 (0.18 um)"}
    for key, fuse in (("base", False), ("fuse", True)):
        cfg = ArrayConfig(rows=rows, cols=cols, fuse=fuse)
        entry = synth_variant(cfg, out_dir, period_ns, "flat", activity=True, progress=progress)
        netlist = Path(out_dir).resolve() / cfg.name / "flat" / "netlist.v"
        _, _, names = parse_saif(entry["activity"]["gemm"]["saif"])  # the gemm run's bits
        entry["power"]["idle"] = run_sta(
            netlist,
            netlist.parent,
            period_ns,
            activity=idle_activity(dict.fromkeys(names, (0.0, 0.0))),
            tag="power_idle",
        ).power_dict()
        out[key] = {
            "kinds": _from_entry(entry, cfg, period_ns),
            "area_um2": entry["synth"]["area_um2"],
            "fmax_mhz": entry["timing"]["fmax_mhz"],
            "rtl_sha256": entry["rtl_sha256"],
            "activity_cycles": entry["activity"],
        }
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out
