"""Synthesis sweep: base vs FuSe overhead over array sizes, flat and per-PE + glue (SPEC 7).

    python benchmarks/synth_sweep.py                      # 4, 8, 16 flat; 8, 16, 32 hier
    python benchmarks/synth_sweep.py --flat 4 8 --hier 8 32 --period 10

Writes one report per (size, method) under build/synth/ (``synth_<N>x<N>_<method>.json/.md``),
then ``synth_sweep.json``, ``synth_sweep.md`` (overheads, flat-vs-hier error where both exist,
run times) and ``synth_overhead.png`` (with the paper's 32x32 claim marked). Sizes already
reported are reused unless ``--force``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "build" / "synth"


def _err(h: float, f: float) -> float:
    return 100.0 * (h - f) / f


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--flat", type=int, nargs="*", default=[4, 8, 16])
    p.add_argument("--hier", type=int, nargs="*", default=[8, 16, 32])
    p.add_argument("--period", type=float, default=10.0)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--force", action="store_true", help="re-run sizes already reported")
    p.add_argument(
        "--retime",
        action="store_true",
        help="re-run only the timing of sizes already reported, on their netlists (after a "
        "change of STA constraints, not of RTL)",
    )
    p.add_argument(
        "--power-max",
        type=int,
        default=32,
        help="skip the Verilator SAIF power runs above this size (default 32; a 64x64 "
        "SAIF build alone takes most of an hour on 2 cores)",
    )
    args = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from synth.report import (
        FLOW,
        PAPER,
        plot_overhead,
        retime_report,
        synth_report,
        write_report,
    )

    reports: dict[tuple[int, str], dict] = {}
    for method, sizes in (("flat", args.flat), ("hier", args.hier)):
        for n in sizes:
            path = args.out / f"synth_{n}x{n}_{method}.json"
            if path.exists() and args.retime and not args.force:
                rep = retime_report(json.loads(path.read_text()), args.out)
                write_report(rep, args.out)
                print(f"retimed {path}")
                reports[(n, method)] = rep
                continue
            if path.exists() and not args.force:
                rep = json.loads(path.read_text())
                if rep.get("period_ns") == args.period and rep.get("flow") == FLOW:
                    print(f"reuse {path}")
                    reports[(n, method)] = rep
                    continue
            t0 = time.perf_counter()
            rep = synth_report(
                n,
                n,
                period_ns=args.period,
                method=method,
                out_dir=args.out,
                activity=n <= args.power_max,
            )
            write_report(rep, args.out)
            reports[(n, method)] = rep
            print(f"{n}x{n} {method}: {time.perf_counter() - t0:.0f} s", flush=True)

    rows = []
    head = (
        "| N | method | base area um² | FuSe area um² | area % | cells % | flops % | "
        "base Fmax | FuSe Fmax | base P mW | FuSe P mW | power % | FuSe-layer P mW | time s |"
    )
    lines = [
        "# FuSe overhead sweep (osu018, Yosys + OpenSTA)",
        "",
        head,
        "|" + "---|" * (head.count("|") - 1),
    ]
    for (n, method), r in sorted(reports.items()):
        b, f, o = r["variants"]["base"], r["variants"]["fuse"], r["overhead_pct"]
        if "gemm" in b["power"]:
            pb, pf = b["power"]["gemm"]["total_w"] * 1e3, f["power"]["gemm"]["total_w"] * 1e3
            pl = f["power"]["fuse"]["total_w"] * 1e3
            pw = f"{pb:.2f} | {pf:.2f} | {o['power_gemm']:+.2f} | {pl:.2f}"
        else:
            pw = "- | - | - | -"
        lines.append(
            f"| {n} | {method} | {b['synth']['area_um2']:,.0f} | {f['synth']['area_um2']:,.0f} | "
            f"{o['area']:+.2f} | {o['cells']:+.2f} | {o['flops']:+.2f} | "
            f"{b['timing']['fmax_mhz']:.1f} | {f['timing']['fmax_mhz']:.1f} | {pw} | "
            f"{r['seconds']:.0f} |"
        )
        rows.append({"n": n, "method": method, **{k: o[k] for k in o}, "seconds": r["seconds"]})
    val = []
    for (n, method), h in sorted(reports.items()):
        if method != "hier" or (n, "flat") not in reports:
            continue
        fl = reports[(n, "flat")]
        for key in ("base", "fuse"):
            hv, fv = h["variants"][key], fl["variants"][key]
            e = {
                "n": n,
                "variant": key,
                "area_err_pct": _err(hv["synth"]["area_um2"], fv["synth"]["area_um2"]),
                "cells_err_pct": _err(hv["synth"]["cells"], fv["synth"]["cells"]),
                "fmax_err_pct": _err(hv["timing"]["fmax_mhz"], fv["timing"]["fmax_mhz"]),
            }
            for w in hv["power"]:
                e[f"power_{w}_err_pct"] = _err(hv["power"][w]["total_w"], fv["power"][w]["total_w"])
            val.append(e)
        val.append(
            {
                "n": n,
                "variant": "overhead",
                "area_pct_flat": fl["overhead_pct"]["area"],
                "area_pct_hier": h["overhead_pct"]["area"],
                "power_pct_flat": fl["overhead_pct"].get("power_gemm"),
                "power_pct_hier": h["overhead_pct"].get("power_gemm"),
            }
        )
    if val:
        lines += ["", "## hier (per-PE + glue) vs flat", "", "```", *map(json.dumps, val), "```"]
    lines += [
        "",
        f"Paper: {PAPER['area_pct']} % area, {PAPER['power_pct']} % power at {PAPER['array']}.",
    ]
    md = "\n".join(lines) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "synth_sweep.md").write_text(md)
    (args.out / "synth_sweep.json").write_text(
        json.dumps({"overheads": rows, "hier_vs_flat": val, "paper": PAPER}, indent=2) + "\n"
    )
    png = plot_overhead(list(reports.values()), args.out / "synth_overhead.png")
    print(md)
    print(f"wrote {args.out / 'synth_sweep.md'}, {args.out / 'synth_sweep.json'}, {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
