"""Simulation speed of the RTL regression path: simulated cycles per second for one GEMM on
4x4, 8x8 and 16x16 arrays, on Icarus and Verilator, with the (cold) build time apart.

Usage: python benchmarks/sim_speed.py [--sizes 4 8 16] [--simulators icarus verilator]
Prints a table; the cycles/s include the per-cycle Python driver of the cocotb bench.
"""

from __future__ import annotations

import argparse
import shutil
import time

import numpy as np

from hw.config import ArrayConfig
from sim.gemm import rtl_gemm
from sim.runner import BUILD_ROOT, build
from sw.latency.rtl import gemm_cycles
from sw.ref import gemm_ref


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[4, 8, 16])
    ap.add_argument("--simulators", nargs="+", default=["icarus", "verilator"])
    ap.add_argument("--cold", action="store_true", help="delete cached builds first")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    for sim in args.simulators:
        for n in args.sizes:
            cfg = ArrayConfig(rows=n, cols=n)
            if args.cold:
                shutil.rmtree(BUILD_ROOT / "sim" / sim / cfg.name, ignore_errors=True)
            info = build(cfg, sim)
            M, K, N = 2048, 2 * n, 2 * n
            x = rng.integers(-128, 128, (M, K))
            w = rng.integers(-128, 128, (K, N))
            t0 = time.perf_counter()
            res = rtl_gemm(x, w, cfg, sim)
            wall = time.perf_counter() - t0
            assert np.array_equal(res.output, gemm_ref(x, w))
            assert res.cycles == gemm_cycles(M, K, N, n, n)
            rows.append((sim, f"{n}x{n}", info.seconds, info.fresh, res.cycles, wall))
            print(
                f"  {sim:9s} {n}x{n}: build {info.seconds:5.1f} s, {res.cycles} cycles in {wall:.2f} s",
                flush=True,
            )
    print()
    print(
        f"{'simulator':10s} {'array':7s} {'build s':>8s} {'cycles':>8s} {'run s':>7s} {'cycles/s':>9s}"
    )
    for sim, arr, bs, fresh, cyc, wall in rows:
        b = f"{bs:.1f}" if fresh else "cached"
        print(f"{sim:10s} {arr:7s} {b:>8s} {cyc:8d} {wall:7.2f} {cyc / wall:9.0f}")
    print("(run s includes simulator start-up and the cocotb per-cycle Python driver)")


if __name__ == "__main__":
    main()
