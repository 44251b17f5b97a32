"""Long randomized regressions: ArrayTop in the Amaranth simulator, or whole random networks.

    python benchmarks/fuzz.py --n 10000 [--seed 0] [--jobs 3]
    python benchmarks/fuzz.py --networks 1000 [--seed 0] [--simulator verilator] [--batch 25]

``--networks N``: network ``i`` is ``tests.sim.netfuzz.random_network(seed + i)`` (a random
small quantized network on a random array shape), run through the accelerator RTL and checked
bit-exactly against the golden executor, every layer's cycles == the ``sw.latency.rtl`` model.
Networks are grouped by array shape, ``--batch`` per simulator process (the bench and jobs of
``sim.run_network``); a batch that fails as a whole is rerun network by network through
``sim.run_network`` to name the culprit. Prints ``FAIL seed=...`` per failure; replay one with
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
    ap.add_argument("--networks", type=int, help="run N random networks instead (RTL)")
    ap.add_argument("--simulator", default="verilator", choices=["verilator", "icarus"])
    ap.add_argument("--batch", type=int, default=25, help="networks per simulator process")
    args = ap.parse_args(argv)
    if args.networks is not None:
        return _networks(args)
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


def _networks(args) -> int:
    from tests.sim.netfuzz import check_batch, check_network, random_network

    t0 = time.monotonic()
    pending: dict[tuple[int, int], list] = {}
    failed, done, layers = [], 0, 0

    def flush(shape):
        nonlocal done, layers
        cases = pending.pop(shape, [])
        if not cases:
            return
        try:
            failures = check_batch(cases, args.simulator)
        except Exception as exc:  # the batch died: one process per network to name it
            print(f"batch {shape} failed as a whole ({type(exc).__name__}); rerunning singly")
            failures = []
            for c in cases:
                try:
                    check_network(c, args.simulator)
                except Exception as e:
                    failures.append((c, f"{c.describe()}: {type(e).__name__}: {e}"[:500]))
        for c, msg in failures:
            failed.append(c.seed)
            print(f"FAIL seed={c.seed}: {msg}", flush=True)
        done += len(cases)
        layers += sum(len(c.qnet.mac_layers()) for c in cases)
        rate = done / (time.monotonic() - t0)
        print(
            f"[netfuzz] {done}/{args.networks} networks ({layers} accelerator layers), "
            f"{len(failed)} failed, {rate:.2f} networks/s",
            flush=True,
        )

    for i in range(args.networks):
        case = random_network(args.seed + i)
        pending.setdefault(case.shape, []).append(case)
        if len(pending[case.shape]) >= args.batch:
            flush(case.shape)
        if failed and args.stop:
            break
    for shape in list(pending):
        flush(shape)
    secs = time.monotonic() - t0
    print(
        f"{done} networks, {layers} accelerator layers, {len(failed)} failed, "
        f"{secs:.0f} s wall ({args.simulator}, seeds {args.seed}..{args.seed + args.networks - 1})"
    )
    if failed:
        print(f"failing seeds: {sorted(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
