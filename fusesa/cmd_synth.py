"""``fusesa synth``: area/timing/power of the base vs FuSe array on osu018 (SPEC section 7)."""

from __future__ import annotations

import argparse
import sys


def register(sub) -> None:
    p = sub.add_parser(
        "synth",
        help="area/timing/power of the base vs FuSe array (Yosys + OpenSTA, osu018)",
        description="Synthesize the array without and with the FuSe mode and report area, "
        "cells, flops, WNS/Fmax and SAIF-based power, plus the FuSe overhead.",
    )
    p.add_argument("--rows", type=int, default=8, help="PE rows (default 8)")
    p.add_argument("--cols", type=int, default=8, help="PE columns (default 8)")
    p.add_argument("--period", type=float, default=10.0, help="target clock period in ns (10)")
    p.add_argument(
        "--method",
        choices=("flat", "hier"),
        default="flat",
        help="flat synthesis (exact) or per-PE + glue (for 32x32 and up)",
    )
    p.add_argument(
        "--acc-width",
        type=int,
        default=32,
        help="accumulator width of both arrays (default 32; the narrowest legal one is "
        "ArrayConfig.min_acc_width)",
    )
    p.add_argument("--no-power", action="store_true", help="skip the Verilator SAIF power runs")
    p.add_argument("--out", default=None, help="output directory (default build/synth)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from synth.report import DEFAULT_OUT, markdown, synth_report, write_report
    from synth.tools import ToolMissing

    out = args.out or DEFAULT_OUT
    try:
        rep = synth_report(
            args.rows,
            args.cols,
            period_ns=args.period,
            method=args.method,
            out_dir=out,
            activity=not args.no_power,
            acc_width=args.acc_width,
        )
    except (ValueError, ToolMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    jp, mp = write_report(rep, out)
    print(markdown(rep))
    print(f"wrote {jp} and {mp}")
    return 0
