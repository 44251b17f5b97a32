"""Long randomized regressions: ArrayTop in the Amaranth simulator, or whole random networks.

    python benchmarks/fuzz.py --n 10000 [--seed 0] [--jobs 3]
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
    ap.add_argument("--networks", type=int, help="run N random networks instead (RTL)")
    ap.add_argument("--simulator", default="verilator", choices=["verilator", "icarus"])
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
