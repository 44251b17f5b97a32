"""``fusesa table``: the paper's 25-row table (FLOPs, params, speedup) reproduced next to the
seed's values (SPEC section 6), with the speedup difference in percent."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from fusesa.cmd_latency import MODES, add_clock_args, clocks_from_args


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "table", help="the 25-row FLOPs/params/speedup table vs the paper's (seed) values"
    )
    p.add_argument("--array", default="64x64", help="array size ROWSxCOLS (default 64x64)")
    p.add_argument("--mode", choices=MODES, default="paper")
    p.add_argument(
        "--networks", nargs="+", default=None, help="subset of networks (default: the 5 table nets)"
    )
    p.add_argument("--csv", type=Path, default=None, help="also write the rows as CSV here")
    p.add_argument("--json", action="store_true", help="print JSON instead of the text table")
    add_clock_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except ValueError as exc:  # user input errors: message names the culprit
        print(f"fusesa table: error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from sw.latency.table import format_table, parse_array, table_records, table_rows
    from sw.models.zoo import TABLE_NETWORKS

    arr_x, arr_y = parse_array(args.array)
    networks = tuple(args.networks) if args.networks else TABLE_NETWORKS
    clocks = clocks_from_args(args, arr_x, arr_y)
    rows = table_rows(arr_x, arr_y, networks, args.mode, progress=True, clocks=clocks)
    records = table_records(rows)
    if args.csv:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        with args.csv.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(records[0]))
            writer.writeheader()
            writer.writerows(records)
    if args.json:
        print(json.dumps(records, indent=1))
    else:
        print(
            f"array {arr_x}x{arr_y}, latency mode {args.mode}; speedup = baseline on Systolic"
            " / variant on FuSe; seed = SPEC section 6"
        )
        if clocks is not None:
            print(
                f"time: baseline at {clocks.base_mhz:g} MHz (base array), FuSe variants at "
                f"{clocks.fuse_mhz:g} MHz (FuSe array); clocks: {clocks.source}"
            )
        print(format_table(rows))
    return 0
