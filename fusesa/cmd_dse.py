"""``fusesa dse SPACE.yaml --out DIR``: design-space exploration on Dask (docs/dse.md).

Every point of the declared space (array sizes x networks x variants / greedy selections x
memory sizes) gets its latency, Fmax, area, power, params and FLOPs; tasks run on a local Dask
cluster (``--workers N``) or an existing one (``--scheduler tcp://HOST:PORT``), each result cached
on disk by the hash of its configuration so a rerun or a resumed run computes nothing twice.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "dse",
        help="design-space exploration on Dask: CSV/JSON + Pareto PNGs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("space", type=Path, help="the space file (YAML; see examples/dse_tiny.yaml)")
    p.add_argument("--out", type=Path, required=True, help="output directory")
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--workers", type=int, default=2, help="worker processes of the local cluster (default 2)"
    )
    g.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler")
    p.add_argument("--cache", type=Path, default=None, help="task cache (default OUT/cache)")
    p.add_argument("--no-plots", action="store_true", help="write the CSV and JSON only")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except ValueError as exc:  # user input errors: message names the culprit
        print(f"fusesa dse: error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from dse.run import run_dse
    from dse.space import load_space

    space = load_space(args.space)
    if args.workers < 1:
        raise ValueError(f"--workers must be a positive integer, not {args.workers!r}")
    rows, report, files = run_dse(
        space,
        args.out,
        workers=args.workers,
        scheduler=args.scheduler,
        cache_dir=args.cache,
        progress=not args.no_progress,
        plots=not args.no_plots,
    )
    _print_table(rows)
    r = report
    print(
        f"{r.total} tasks: {len(r.computed)} computed, {len(r.cached)} from the cache, "
        f"{len(r.failed)} failed ({r.seconds:.1f} s"
        + (f", {r.workers} workers)" if r.workers else ")")
    )
    for key, n in r.retried.items():
        print(f"retried after a worker died ({n}x): {r.labels.get(key, '')} [{key}]")
    for key, err in r.failed.items():
        print(f"FAILED {r.labels.get(key, '')} [{key}]: {err}", file=sys.stderr)
    for f in files:
        print(f"wrote {f}")
    return 1 if r.failed else 0


def _print_table(rows: list[dict]) -> None:
    timed = any(r.get("time_us") is not None for r in rows)
    head = f"{'array':>7s} {'network':20s} {'design':26s} {'cycles':>11s} {'speedup':>7s}"
    if timed:
        head += f" {'MHz':>6s} {'time us':>10s} {'area mm2':>9s} {'mW':>7s}"
    head += f" {'params M':>8s} {'GFLOPs':>6s}"
    print(head)
    seen = set()
    for r in rows:
        if r["task"] in seen:
            continue
        seen.add(r["task"])
        if "error" in r:
            print(f"{r['array']:>7s} {r['network']:20s} {r['design']:26s} error: {r['error']}")
            continue
        line = (
            f"{r['array']:>7s} {r['network']:20s} {r['design']:26s} {r['cycles']:11d} "
            f"{r['speedup']:7.2f}"
        )
        if timed:
            pw = r.get("power_gemm_mw")
            line += f" {r['fmax_mhz']:6.1f} {r['time_us']:10.1f} {r['area_um2'] / 1e6:9.3f} " + (
                f"{pw:7.2f}" if pw is not None else f"{'-':>7s}"
            )
        line += f" {r['params'] / 1e6:8.3f} {r['flops'] / 1e9:6.3f}"
        print(line)
