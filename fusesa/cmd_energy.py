"""``fusesa energy``: energy per inference, per block and per layer of one zoo network on the
accelerator (issue 20, docs/energy.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fusesa.cmd_latency import NETWORKS

#: depthwise mappings (``sw.latency.rtl.DEPTHWISE_MAPPINGS``)
DEPTHWISE = ("auto", "baseline", "fuse", "fuse-packed")
PNG_VARIANTS = ("base", "full", "half")


def register(sub) -> None:
    p = sub.add_parser(
        "energy",
        help="energy per inference and per block on the accelerator (uJ, pJ/MAC)",
        description="Per layer and per block: cycles, MACs, utilization, memory accesses and "
        "energy by component (array, each SRAM, DRAM, control), from the compiled accelerator "
        "programs, measured per-PE-cycle energies (osu018) and CACTI 7 SRAM figures.",
    )
    p.add_argument("--net", required=True, choices=sorted(NETWORKS), help="zoo network")
    p.add_argument("--variant", default="base", help="base, full, half, full_hybrid, half_hybrid")
    p.add_argument("--array", default="16x16", help="array RxC (default 16x16)")
    p.add_argument("--depthwise", default="auto", choices=DEPTHWISE, help="depthwise mapping")
    p.add_argument("--batch", type=int, default=1, help="images per inference (default 1)")
    p.add_argument(
        "--memories",
        default="fit",
        choices=("fit", "gemmini"),
        help="SRAM sizes: fit = the largest layer's need (the present accelerator, default); "
        "gemmini = Gemmini-sized SRAMs priced for the same accesses (what-if)",
    )
    p.add_argument(
        "--actions",
        default=None,
        help="per-action energies from benchmarks/energy_actions.py (JSON) instead of the "
        "built-in measured table",
    )
    p.add_argument("--json", default=None, help="write the whole report as JSON")
    p.add_argument("--csv", default=None, help="write the per-block table as CSV")
    p.add_argument(
        "--png", default=None, help="stacked bars by component: base vs Full vs Half (PNG)"
    )
    p.add_argument("--layers", action="store_true", help="also print the per-layer table")
    p.set_defaults(func=run)


def _parse_array(text: str) -> tuple[int, int]:
    try:
        r, c = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--array must look like RxC (e.g. 16x16), not {text!r}") from None
    if r < 1 or c < 1:
        raise ValueError(f"--array needs positive rows and columns, not {text!r}")
    return r, c


def format_report(rep: dict, layers: bool = False) -> list[str]:
    from sw.energy.model import COMPONENTS

    out = [
        f"{rep['network']} {rep['variant']} on {rep['array']} {rep['hardware']} "
        f"(depthwise {rep['depthwise']}, batch {rep['batch']}, memories {rep['memory_policy']})",
        f"{'block':14s} {'cycles':>10s} {'MMACs':>9s} {'util':>6s} {'energy uJ':>11s} "
        f"{'pJ/MAC':>8s}",
    ]
    R, C = (int(x) for x in rep["array"].split("x"))
    for b in rep["blocks"]:
        util = b["macs"] / (b["cycles"] * R * C)
        out.append(
            f"{b['name']:14s} {b['cycles']:10d} {b['macs'] / 1e6:9.2f} {100 * util:5.1f}% "
            f"{b['energy_uj']:11.1f} {b['energy_uj'] * 1e6 / b['macs']:8.1f}"
        )
    out.append(
        f"{'total':14s} {rep['cycles']:10d} {rep['macs'] / 1e6:9.2f} "
        f"{100 * rep['utilization']:5.1f}% {rep['total_uj']:11.1f} {rep['pj_per_mac']:8.1f}"
    )
    out.append(
        "by component (uJ): "
        + ", ".join(f"{c} {rep['components_uj'][c]:.1f}" for c in COMPONENTS)
        + f"  (not measured: {', '.join(rep['unmeasured'])})"
    )
    mems = ", ".join(
        f"{m} {s['depth']}x{s['word_bytes']}B {s['read_pj']:.1f}/{s['write_pj']:.1f} pJ"
        for m, s in rep["memories"].items()
    )
    out.append(f"SRAMs (depth x word, read/write at 180 nm): {mems}")
    if layers:
        out.append(f"{'layer':34s} {'mapping':18s} {'cycles':>9s} {'util':>6s} {'uJ':>9s}")
        for le in rep["layers"]:
            out.append(
                f"{le['name']:34s} {le['mapping']:18s} {le['cycles']:9d} "
                f"{100 * le['utilization']:5.1f}% {le['energy_uj']:9.2f}"
            )
    return out


def run(args: argparse.Namespace) -> int:
    from sw.energy.cacti import CactiMissing
    from sw.energy.model import network_energy, write_csv, write_png
    from sw.energy.params import load_actions
    from sw.models.zoo import canonical_variant

    try:
        rows, cols = _parse_array(args.array)
        variant = canonical_variant(args.variant)
        actions = load_actions(args.actions) if args.actions else None
        kw = dict(
            depthwise=args.depthwise, batch=args.batch, actions=actions, memories=args.memories
        )
        rep = network_energy(args.net, variant, rows, cols, **kw)
    except (ValueError, CactiMissing, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(format_report(rep, args.layers)))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(rep, indent=1))
        print(f"wrote {args.json}")
    if args.csv:
        print(f"wrote {write_csv(rep, args.csv)}")
    if args.png:
        reps = [
            rep if v == variant else network_energy(args.net, v, rows, cols, **kw)
            for v in PNG_VARIANTS
        ]
        for r in reps:
            if r is not rep:
                print(f"{r['variant']}: {r['total_uj']:.1f} uJ, {r['cycles']} cycles")
        print(f"wrote {write_png(reps, args.png)}")
    return 0
