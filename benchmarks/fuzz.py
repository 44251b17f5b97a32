"""Long randomized regressions: ArrayTop in the Amaranth simulator, or whole random networks.

    python benchmarks/fuzz.py --n 10000 [--seed 0] [--jobs 3]
    python benchmarks/fuzz.py --n 10000 --workers 2              # on a local Dask cluster
    python benchmarks/fuzz.py --n 10000 --scheduler tcp://HOST:8786   # on an existing one
    python benchmarks/fuzz.py --networks 1000 [--seed 0] [--simulator verilator]

``--networks N``: network ``i`` is ``tests.sim.netfuzz.random_network(seed + i)`` (a random
small quantized network on a random array shape), run through the accelerator RTL and checked
bit-exactly against the golden executor, every layer's cycles == the ``sw.latency.rtl`` model
(``tests.sim.netfuzz.check_network``: ``sim.run_network``, one simulator process per network;
one build per array shape, cached). Prints ``FAIL seed=...`` per failure; replay one with
``--networks 1 --seed S``.

Case ``i`` uses seed ``seed + i`` (``tests.hw.jobs.fuzz_case``: random config 1..6 x 1..6,
widths 2..8, max_kernel 1..7, GEMM/FuSe jobs back to back with garbage, gaps and resets).
Every failure prints its seed; replay one with ``--seed S --n 1``. Exit status 1 on failure.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.hw.jobs import fuzz_case  # noqa: E402  (after the path set-up)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=100, help="number of cases")
    ap.add_argument("--seed", type=int, default=0, help="seed of the first case")
    ap.add_argument("--jobs", type=int, default=3, help="jobs per case")
    ap.add_argument("--stop", action="store_true", help="stop at the first failure")
    add_cluster_args(ap)
    ap.add_argument("--networks", type=int, help="run N random networks instead (RTL)")
    ap.add_argument("--simulator", default="verilator", choices=["verilator", "icarus"])
    args = ap.parse_args(argv)
    if args.networks is not None:
        return _networks(args)
    if args.workers is not None or args.scheduler is not None:
        return run_on_cluster(args)
    failed = []
    t0 = time.monotonic()
    for i in range(args.n):
        seed = args.seed + i
        try:
            fuzz_case(seed, args.jobs)
        except Exception as exc:  # report every kind of failure with its seed
            failed.append(seed)
            print(f"FAIL seed={seed}: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
            if args.stop:
                traceback.print_exc()
                break
        if (i + 1) % 50 == 0 or i + 1 == args.n:
            rate = (i + 1) / (time.monotonic() - t0)
            print(
                f"[fuzz] {i + 1}/{args.n} cases, {len(failed)} failed, {rate:.1f} cases/s",
                flush=True,
            )
    if failed:
        print(f"failing seeds: {failed}")
        return 1
    print(f"all {args.n} cases passed (seeds {args.seed}..{args.seed + args.n - 1})")
    return 0


def add_cluster_args(ap: argparse.ArgumentParser) -> None:
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--workers", type=int, default=None, help="cases on a local Dask cluster")
    g.add_argument("--scheduler", default=None, help="cases on the Dask cluster at this address")
    ap.add_argument("--chunk", type=int, default=10, help="cases per cluster task (default 10)")


def fuzz_chunk(seeds: list[int], jobs: int) -> list[tuple[int, str]]:
    """Run the cases ``seeds`` (on a worker); the failing ones as (seed, first error line)."""
    failed = []
    for seed in seeds:
        try:
            fuzz_case(seed, jobs)
        except Exception as exc:  # report every kind of failure with its seed
            failed.append((seed, f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"))
    return failed


def run_on_cluster(args: argparse.Namespace) -> int:
    """The cases in chunks of ``--chunk`` on a Dask cluster (``dse.cluster.open_client``); a
    chunk whose worker dies is re-run elsewhere by the scheduler. Workers of an existing
    cluster must import this repository (start them from its root)."""
    from distributed import as_completed
    from tqdm import tqdm

    from dse.cluster import open_client

    if args.chunk < 1:
        raise SystemExit(f"--chunk must be a positive integer, not {args.chunk!r}")
    seeds = list(range(args.seed, args.seed + args.n))
    chunks = [seeds[i : i + args.chunk] for i in range(0, len(seeds), args.chunk)]
    failed: list[tuple[int, str]] = []
    t0 = time.monotonic()
    with open_client(args.workers or 2, args.scheduler) as client:
        nworkers = len(client.scheduler_info()["workers"])
        futures = [client.submit(fuzz_chunk, c, args.jobs, pure=False) for c in chunks]
        with tqdm(total=args.n, unit="case", desc=f"fuzz on {nworkers} workers") as bar:
            for fut, res in as_completed(futures, with_results=True):
                for seed, msg in res:
                    print(f"FAIL seed={seed}: {msg}", flush=True)
                failed += res
                bar.update(len(chunks[futures.index(fut)]))
    rate = args.n / (time.monotonic() - t0)
    print(f"[fuzz] {args.n} cases on {nworkers} workers, {len(failed)} failed, {rate:.1f} cases/s")
    if failed:
        print(f"failing seeds: {sorted(s for s, _ in failed)}")
        return 1
    print(f"all {args.n} cases passed (seeds {args.seed}..{args.seed + args.n - 1})")
    return 0


def _networks(args) -> int:
    from tests.sim.netfuzz import check_network, random_network

    t0 = time.monotonic()
    failed, layers, shapes = [], 0, {}
    for i in range(args.networks):
        seed = args.seed + i
        try:
            case = random_network(seed)
            shapes[case.shape] = shapes.get(case.shape, 0) + 1
            layers += len(case.qnet.mac_layers())
            check_network(case, args.simulator)
        except Exception as exc:  # report every kind of failure with its seed
            failed.append(seed)
            print(f"FAIL seed={seed}: {type(exc).__name__}: {str(exc)[:600]}", flush=True)
            if args.stop:
                traceback.print_exc()
                break
        if (i + 1) % 10 == 0 or i + 1 == args.networks:
            rate = (i + 1) / (time.monotonic() - t0)
            print(
                f"[netfuzz] {i + 1}/{args.networks} networks ({layers} accelerator layers), "
                f"{len(failed)} failed, {rate:.2f} networks/s",
                flush=True,
            )
    secs = time.monotonic() - t0
    print(
        f"{i + 1} networks, {layers} accelerator layers, {len(failed)} failed, {secs:.0f} s wall "
        f"({args.simulator}, seeds {args.seed}..{args.seed + i}); per array shape: "
        + ", ".join(f"{r}x{c}: {n}" for (r, c), n in sorted(shapes.items()))
    )
    if failed:
        print(f"failing seeds: {failed}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
