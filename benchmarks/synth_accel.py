"""Area and Fmax of the whole accelerator per part (array, output stage, residual adder,
control + address generators + corner turn + MAXPOOL) on osu018, base vs FuSe array, and the
FuSe overhead against the whole accelerator and against the bare array (issue 18;
``synth.accel`` has the method). Memories are black boxes (not counted, ideal ports).

    nice -n 10 python benchmarks/synth_accel.py --rows 16 --cols 16 --period 10

``--flat`` also synthesizes each whole top in one flat run (the per-part method's check).
Depths default to ``sw.mapping.accel.unbounded`` (``2**20`` words: the address widths a whole
network is compiled for); ``--depth N`` sets every memory to N words instead. Writes
``<out>/accel_<R>x<C>.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from hw.config import DEPTH_FIELDS, ArrayConfig
from synth.accel import synth_accel, synth_accel_flat


def overhead(base: dict, fuse: dict) -> dict:
    """FuSe - base, against the whole accelerator's logic and against the bare array."""
    d_total = fuse["area_um2"] - base["area_um2"]
    d_array = fuse["parts"]["array"]["area_um2"] - base["parts"]["array"]["area_um2"]
    return {
        "accel_area_delta_um2": d_total,
        "accel_area_pct": 100 * d_total / base["area_um2"],
        "array_area_delta_um2": d_array,
        "array_area_pct": 100 * d_array / base["parts"]["array"]["area_um2"],
        "array_delta_vs_base_accel_pct": 100 * d_array / base["area_um2"],
        "control_area_delta_um2": fuse["parts"]["control"]["area_um2"]
        - base["parts"]["control"]["area_um2"],
        "fmax_base_mhz": base["timing"]["fmax_mhz"],
        "fmax_fuse_mhz": fuse["timing"]["fmax_mhz"],
        "fmax_pct": 100 * (fuse["timing"]["fmax_mhz"] / base["timing"]["fmax_mhz"] - 1),
    }


def table(entry: dict) -> str:
    lines = [
        f"{entry['design']}: {entry['area_um2']:,.0f} um2 (memories excluded), "
        f"Fmax {entry['timing']['fmax_mhz']:.1f} MHz",
        f"  {'part':10} {'area um2':>12} {'%':>6} {'flops':>7} {'alone MHz':>10} "
        f"{'in place MHz':>13}  critical path (in place)",
    ]
    for name, p in entry["parts"].items():
        cp = p["timing_in_place"]["critical_path"]
        lines.append(
            f"  {name:10} {p['area_um2']:>12,.0f} {100 * p['share']:>6.1f} {p['flops']:>7} "
            f"{p['fmax_alone_mhz']:>10.1f} {p['timing_in_place']['fmax_mhz']:>13.1f}  "
            f"{cp['startpoint']} -> {cp['endpoint']} ({cp['arrival_ns']} ns, "
            f"{cp['cells_on_path']} cells)"
        )
    lines.append("  control by group: flops, combinational cells feeding only that group")
    comb = entry["control_comb_groups"]
    for g in [
        *entry["control_flop_groups"],
        *(g for g in comb if g not in entry["control_flop_groups"]),
    ]:
        f = entry["control_flop_groups"].get(g, {"flops": 0, "area_um2": 0.0})
        c = comb.get(g, {"cells": 0, "area_um2": 0.0})
        lines.append(
            f"    {g:55} {f['flops']:>6} flops {f['area_um2']:>11,.0f} um2 + "
            f"{c['area_um2']:>11,.0f} um2 comb"
        )
    for mode, groups in entry["control_group_timing"].items():
        lines.append(f"  control timing per group ({mode}):")
        for g, t in groups.items():
            lines.append(
                f"    {g:55} {t['fmax_mhz']:>7.1f} MHz  {t['startpoint']} -> {t['endpoint']} "
                f"({t['cells_on_path']} cells)"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    from sw.mapping.accel import unbounded

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=16)
    ap.add_argument("--cols", type=int, default=16)
    ap.add_argument("--period", type=float, default=10.0, help="target clock period, ns")
    ap.add_argument("--depth", type=int, default=None, help="words of every memory")
    ap.add_argument("--variants", nargs="+", choices=["base", "fuse"], default=["base", "fuse"])
    ap.add_argument("--out", default="build/synth")
    ap.add_argument(
        "--flat",
        action="store_true",
        help="also synthesize each whole top flat in one run (the per-part method's check)",
    )
    args = ap.parse_args(argv)
    out = Path(args.out)
    results = {}
    for v in args.variants:
        cfg = ArrayConfig(args.rows, args.cols, fuse=v == "fuse")
        cfg = (
            unbounded(cfg)
            if args.depth is None
            else replace(cfg, **{f: args.depth for f in DEPTH_FIELDS})
        )
        results[v] = synth_accel(cfg, out / "accel", args.period)
        print(table(results[v]), flush=True)
        if args.flat:
            f = synth_accel_flat(cfg, out / "accel", args.period)
            results[v]["flat"] = {k: f[k] for k in ("area_um2", "cells", "flops", "timing")}
            cp = f["timing"]["critical_path"]
            print(
                f"  flat: {f['area_um2']:,.0f} um2, Fmax {f['timing']['fmax_mhz']:.1f} MHz, "
                f"{cp['startpoint']} -> {cp['endpoint']} ({cp['arrival_ns']} ns)",
                flush=True,
            )
        report = {"variants": results}
        if len(results) == 2:
            report["fuse_overhead"] = overhead(results["base"], results["fuse"])
            print(json.dumps(report["fuse_overhead"], indent=1))
        suffix = "" if args.depth is None else f"_depth{args.depth}"
        path = out / f"accel_{args.rows}x{args.cols}{suffix}.json"
        path.write_text(json.dumps(report, indent=1))
        print(f"wrote {path}", flush=True)


if __name__ == "__main__":
    main()
