"""Base-vs-FuSe synthesis flow: Verilog -> Yosys/osu018 -> OpenSTA timing and SAIF power
(SPEC section 7; the FuSe hardware is SPEC 3.3).

For one array size the flow generates two arrays from the same ``ArrayConfig`` fields, one with
``fuse=False`` (plain weight-stationary array, the baseline) and one with ``fuse=True``, and for
each measures area/cells/flops (Yosys ``stat -liberty``), timing at the target clock (OpenSTA)
and power for each workload of ``synth.activity`` (``gemm`` on both arrays, ``fuse`` on the FuSe
array). The power overhead is like-for-like: the FuSe array running the GEMM stream vs the base
array running the same stream (the cost of carrying the FuSe hardware).

Two methods:

- ``flat``: the whole array synthesized flat (exact; time grows ~N^2.6-3).
- ``hier`` (per-PE + glue): each distinct PE module is synthesized alone (Amaranth emits one
  module per PE; they differ at the edges, e.g. the top row has no ``psum_in`` and the last
  column no ``a_out``, and by row where accumulators are sized per row; identical bodies are
  grouped), and the glue (skew, de-skew, valid
  line, control decode, drain register, row write decode) is synthesized with every PE a black
  box (``expose -evert`` turns PE pins into glue ports). Area/cells = sum over variants of
  count x PE + glue. Power: each PE variant with the mean per-bit activity of its instances in
  the full-size SAIF run, times the count, plus the glue with its own activity. Timing: worst
  of the PE variants and the glue, each with ideal (0 ns) ports, so broadcast-net buffering
  between glue and PEs is not seen. The error against ``flat`` is measured at 8x8 and 16x16
  (``benchmarks/synth_sweep.py``, ``docs/synthesis.md``).
"""

from __future__ import annotations

import hashlib
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

from hw.config import ArrayConfig
from synth.activity import WORKLOADS, Activity, saif_activity
from synth.sta import StaResult, run_sta
from synth.yosys import SynthResult, synthesize

__all__ = ["METHODS", "synth_variant", "retime_variant", "pe_classes", "DEFAULT_PERIOD_NS"]

METHODS = ("flat", "hier")
DEFAULT_PERIOD_NS = 10.0
PE_PREFIX = "fusesa_array.mesh.pe_"


def _say(msg: str, progress: bool) -> None:
    if progress:
        print(msg, file=sys.stderr, flush=True)


_PE_MODULE = re.compile(
    r"^module \\fusesa_array\.mesh\.pe_(\d+)_(\d+)\s*\((.*?)\);(.*?)^endmodule", re.S | re.M
)


def pe_classes(rtl_text: str) -> dict[str, list[tuple[int, int]]]:
    """PE positions grouped by identical generated module (the PEs differ by edge and, when the
    generator sizes accumulators per row, by row); keys name the first member ``pe_R_C``.

    Bodies are compared with the port order and Yosys' ``dump_module$N`` counters normalized.
    """
    groups: dict[str, list[tuple[int, int]]] = {}
    for r, c, ports, body in _PE_MODULE.findall(rtl_text):
        key = ",".join(sorted(p.strip() for p in ports.split(","))) + re.sub(
            r"dump_module\$\d+", "dump_module$N", body
        )
        groups.setdefault(key, []).append((int(r), int(c)))
    return {f"pe_{ps[0][0]}_{ps[0][1]}": sorted(ps) for ps in groups.values()}


def _workloads(cfg: ArrayConfig) -> list[str]:
    return [w for w in WORKLOADS if cfg.fuse or w != "fuse"]


def _flat(
    cfg: ArrayConfig, rtl: Path, out: Path, period_ns: float, acts: dict[str, Activity], progress
) -> dict:
    syn = synthesize(rtl, out, period_ns, label=f"{cfg.name} flat", progress=progress)
    _say(
        f"  {cfg.name}: {syn.area_um2:,.0f} um2, {syn.n_cells} cells ({syn.seconds:.0f}s)", progress
    )
    timing = run_sta(syn.netlist, out, period_ns, tag="timing")
    power = {}
    for w, act in acts.items():
        power[w] = run_sta(
            syn.netlist, out, period_ns, activity=act.bits, tag=f"power_{w}"
        ).power_dict()
    return {"synth": syn.to_dict(), "timing": timing.timing_dict(), "power": power}


def _mean_bits(
    bits: dict[str, tuple[float, float]], positions: list[tuple[int, int]]
) -> dict[str, tuple[float, float]]:
    """Per-PE-relative bit name -> mean (toggles, duty) over the PE instances at ``positions``."""
    want = {f"mesh.pe_{r}_{c}." for r, c in positions}
    acc: dict[str, list[float]] = {}
    for name, (a, d) in bits.items():
        m = re.match(r"(mesh\.pe_\d+_\d+\.)(.*)", name)
        if not m or m.group(1) not in want:
            continue
        s = acc.setdefault(m.group(2), [0.0, 0.0, 0])
        s[0] += a
        s[1] += d
        s[2] += 1
    return {k: (s[0] / s[2], s[1] / s[2]) for k, s in acc.items()}


def _sum_synth(parts: list[tuple[int, SynthResult]]) -> dict:
    cells: dict[str, int] = defaultdict(int)
    area = seq = secs = 0.0
    for n, s in parts:
        area += n * s.area_um2
        seq += n * s.seq_area_um2
        secs += s.seconds
        for c, k in s.cells.items():
            if not c.startswith(PE_PREFIX):
                cells[c] += n * k
    flops = sum(k for c, k in cells.items() if c.startswith(("DFF", "LATCH")))
    return {
        "area_um2": area,
        "seq_area_um2": seq,
        "cells": sum(cells.values()),
        "flops": flops,
        "cell_types": dict(sorted(cells.items())),
        "seconds": round(secs, 2),
    }


def _hier(
    cfg: ArrayConfig, rtl: Path, out: Path, period_ns: float, acts: dict[str, Activity], progress
) -> dict:
    if cfg.rows < 2 or cfg.cols < 2:
        raise ValueError(f"the hier method needs at least a 2x2 array, not {cfg.rows}x{cfg.cols}")
    classes = pe_classes(rtl.read_text())
    if sum(len(p) for p in classes.values()) != cfg.pes:
        raise RuntimeError(
            f"{rtl}: found {sum(len(p) for p in classes.values())} PE modules, expected {cfg.pes}"
        )
    pe_modules = [f"{PE_PREFIX}{r}_{c}" for r in range(cfg.rows) for c in range(cfg.cols)]
    parts: list[tuple[int, SynthResult]] = []
    timings = []
    power: dict[str, dict] = {
        w: {"internal_w": 0.0, "switching_w": 0.0, "leakage_w": 0.0, "total_w": 0.0} for w in acts
    }
    detail: dict[str, dict] = {}
    pe_runs: dict[str, tuple[str, SynthResult]] = {}
    for name, positions in classes.items():
        r, c = positions[0]
        top = f"{PE_PREFIX}{r}_{c}"
        syn = synthesize(
            rtl,
            out / name,
            period_ns,
            top=top,
            label=f"{cfg.name} PE {name}",
            progress=False,
        )
        parts.append((len(positions), syn))
        pe_runs[name] = (top, syn)
        detail[name] = {"count": len(positions), "area_um2": syn.area_um2, "cells": syn.n_cells}
        for w, act in acts.items():
            p = run_sta(
                syn.netlist,
                out / name,
                period_ns,
                top=top,
                activity=_mean_bits(act.bits, positions),
                tag=f"power_{w}",
            ).power_dict()
            for k in ("internal_w", "switching_w", "leakage_w", "total_w"):
                power[w][k] += len(positions) * p[k]
        _say(f"  {cfg.name} PE {name}: {syn.area_um2:,.0f} um2 x {len(positions)}", progress)
    glue = synthesize(
        rtl,
        out / "glue",
        period_ns,
        blackbox=pe_modules,
        extra=[f"expose -evert t:{PE_PREFIX}*"],
        label=f"{cfg.name} glue",
        progress=progress,
    )
    parts.append((1, glue))
    detail["glue"] = {"count": 1, "area_um2": glue.area_um2, "cells": glue.n_cells}
    for w, act in acts.items():
        p = run_sta(
            glue.netlist, out / "glue", period_ns, activity=act.bits, tag=f"power_{w}"
        ).power_dict()
        for k in ("internal_w", "switching_w", "leakage_w", "total_w"):
            power[w][k] += p[k]
    timings, budget = _hier_timing(cfg, classes, pe_runs, glue, out, period_ns)
    worst_name, worst = min(timings, key=lambda nt: nt[1].wns_ns)
    timing = worst.timing_dict()
    timing["critical_path"]["part"] = worst_name
    timing["boundary_arrivals_ns"] = budget
    return {"synth": _sum_synth(parts), "timing": timing, "power": power, "parts": detail}


def _hier_timing(
    cfg: ArrayConfig,
    classes: dict[str, list[tuple[int, int]]],
    pe_runs: dict[str, tuple[str, SynthResult]],
    glue: SynthResult,
    out: Path,
    period_ns: float,
) -> tuple[list[tuple[str, StaResult]], dict[str, float]]:
    """Timing of the per-PE + glue method by boundary budgeting, so the nets between the
    parts (the row broadcast buses and row control fanout among them) are timed with their
    real loads:

    1. each PE class alone: the worst arrival at each of its output pins (``psum_out``,
       ``a_out``, ``swap_out``: clock-to-Q of its registers);
    2. the glue, the exposed PE outputs arriving as step 1 says and every exposed PE input
       loaded as the glue was synthesized for (ABC's constraint, 0.02 pF per PE pin, so a
       row's ``ctl`` or ``tap`` net carries ``cols`` such loads): the worst arrival at each
       kind of PE input pin (``ctl``, ``tap_in``, ``a_in``, ``psum_in``, ...);
    3. each PE class again, its inputs arriving as step 2 says for that class, each driven by a BUFX2 into
       the PE's own load (the buffer a hierarchical flow puts at a block's input).

    The array's timing is the worst of steps 2 and 3. Arrivals are the worst over the PEs of
    a class (the edge classes get the glue's skew/mux outputs, the interior ones a
    neighbour's register). Loading the glue ports with the PEs' real pin capacitance
    instead was tried: the glue, synthesized for 0.02 pF, then drives e.g. column 0's
    ``swap_in`` (a mux select per weight bit) through an unsized inverter, 1.1 ns that flat
    synthesis buffers away (8x8: FuSe 147 MHz vs 176.5 flat)."""
    out_kinds = ("psum_out", "a_out", "swap_out")
    pe_out: dict[str, float] = {}
    for name, (top, syn) in pe_runs.items():
        t = run_sta(
            syn.netlist,
            out / name,
            period_ns,
            top=top,
            tag="arrival",
            arrivals=True,
        )
        for k, v in t.arrivals.items():
            if k in out_kinds:
                pe_out[k] = max(pe_out.get(k, 0.0), v)
    glue_t = run_sta(
        glue.netlist,
        out / "glue",
        period_ns,
        tag="timing",
        input_delays=pe_out,
        arrivals=True,
        arrival_groups={f"mesh.pe_{r}_{c}": name for name, ps in classes.items() for r, c in ps},
    )
    pe_in: dict[str, dict[str, float]] = defaultdict(dict)  # class -> pin kind -> arrival
    for lab, v in glue_t.arrivals.items():
        if ":" in lab:
            name, kind = lab.split(":", 1)
            pe_in[name][kind] = v
    timings: list[tuple[str, StaResult]] = [("glue", glue_t)]
    for name, (top, syn) in pe_runs.items():
        t = run_sta(
            syn.netlist, out / name, period_ns, top=top, tag="timing", input_delays=pe_in[name]
        )
        timings.append((f"PE {name}", t))
    budget = {f"{k} (PE out)": round(v, 4) for k, v in pe_out.items()}
    for kind in sorted({k for d in pe_in.values() for k in d}):
        budget[f"{kind} (PE in, worst class)"] = round(
            max(d.get(kind, 0.0) for d in pe_in.values()), 4
        )
    return timings, budget


def synth_variant(
    cfg: ArrayConfig,
    out_dir: str | Path,
    period_ns: float = DEFAULT_PERIOD_NS,
    method: str = "flat",
    activity: bool = True,
    progress: bool = True,
) -> dict:
    """Synthesize one array (``cfg``) with ``method``; returns its report entry (a dict)."""
    from hw.gen import write_outputs

    if method not in METHODS:
        raise ValueError(f"unknown synthesis method {method!r}; choose from {METHODS}")
    out = Path(out_dir).resolve() / cfg.name / method
    t0 = time.perf_counter()
    rtl = write_outputs(cfg, out / "rtl")
    acts: dict[str, Activity] = {}
    if activity:
        for w in _workloads(cfg):
            _say(f"  {cfg.name}: SAIF activity of workload {w!r} (Verilator)", progress)
            acts[w] = saif_activity(cfg, w, Path(out_dir).resolve())
    run = _flat if method == "flat" else _hier
    entry = run(cfg, rtl, out, period_ns, acts, progress)
    entry["config"] = cfg.to_dict()
    # the hardware is under active development: record exactly which RTL was measured
    entry["rtl_sha256"] = hashlib.sha256(rtl.read_bytes()).hexdigest()[:16]
    entry["method"] = method
    entry["activity"] = {
        w: {"cycles": round(a.cycles, 1), "saif": str(a.saif), "seconds": round(a.seconds, 1)}
        for w, a in acts.items()
    }
    entry["seconds"] = round(time.perf_counter() - t0, 1)
    return entry


def retime_variant(entry: dict, out_dir: str | Path, period_ns: float) -> dict:
    """Timing of an already synthesized variant (a report entry of ``synth_variant`` whose
    netlists are still under ``out_dir``), re-run with the current STA constraints: for a
    change of constraints, not of RTL (the RTL hash must match the generated file)."""
    from types import SimpleNamespace

    cfg = ArrayConfig.from_dict(entry["config"])
    out = Path(out_dir).resolve() / cfg.name / entry["method"]
    rtl = out / "rtl" / "fusesa_array.v"
    if hashlib.sha256(rtl.read_bytes()).hexdigest()[:16] != entry["rtl_sha256"]:
        raise ValueError(f"{rtl} is not the RTL this report measured; synthesize again")
    if entry["method"] == "flat":
        return run_sta(out / "netlist.v", out, period_ns, tag="timing").timing_dict()
    classes = pe_classes(rtl.read_text())
    pe_runs = {
        name: (
            f"{PE_PREFIX}{ps[0][0]}_{ps[0][1]}",
            SimpleNamespace(netlist=out / name / "netlist.v"),
        )
        for name, ps in classes.items()
    }
    glue = SimpleNamespace(netlist=out / "glue" / "netlist.v")
    timings, budget = _hier_timing(cfg, classes, pe_runs, glue, out, period_ns)
    worst_name, worst = min(timings, key=lambda nt: nt[1].wns_ns)
    timing = worst.timing_dict()
    timing["critical_path"]["part"] = worst_name
    timing["boundary_arrivals_ns"] = budget
    return timing
