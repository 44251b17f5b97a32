"""Simulation speed of the accelerator top (``hw.accel``): one large GEMM program run to
``done`` with no per-cycle Python (bulk $readmemh load, one ``RisingEdge(done)`` wait), on
Verilator (no global ``--public-flat-rw``, ``-O3 --x-assign fast --x-initial fast``) and
Icarus. Prints build time, simulated cycles (from the hardware counter), run wall time
(start -> done only) and load/read-back wall time.

With ``--layers``: instead, one program of three whole layers on the same array (conv 3x3
16->16 on 16x16 by im2col, depthwise 3x3 baseline on 16 channels (16 GEMM commands), FuSe 1x7
depthwise on 16x32x32 (one FUSE command)), outputs checked against ``sw.ref`` goldens and
``cnt_total`` against ``sw.latency.rtl``.

Usage: python benchmarks/accel_speed.py [--runs verilator:8 verilator:16 icarus:8] [--reps 8]
       python benchmarks/accel_speed.py --layers --runs verilator:8 icarus:8
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from hw import isa
from hw.config import ArrayConfig
from sim.accel import AccelResult, accel_layers, job_of, run_programs
from sim.runner import build
from sw.latency.rtl import (
    ACCEL_COMMAND_OVERHEAD,
    accel_depthwise_baseline_cycles,
    accel_fuse_conv_cycles,
    accel_gemm_cycles,
)
from sw.mapping.accel import LayerSpec, compile_gemms
from sw.ref import gemm_ref
from sw.ref.conv import conv2d_ref


def run_layers(sim: str, n: int, rng) -> tuple[AccelResult, object]:
    """Three whole layers as one program; returns the bench result (checked)."""
    cfg = ArrayConfig(
        rows=n, cols=n, act_depth=16384, weight_depth=2048, acc_depth=8192, cmd_depth=32
    )
    info = build(cfg, sim, design="accel")
    print(f"  build {sim} {n}x{n}: {info.seconds:.1f} s (fresh={info.fresh})", flush=True)
    xa, wa = rng.integers(-128, 128, (1, 16, 16, 16)), rng.integers(-128, 128, (16, 16, 3, 3))
    xb, wb = rng.integers(-128, 128, (1, 16, 16, 16)), rng.integers(-128, 128, (16, 1, 3, 3))
    xc, wc = rng.integers(-128, 128, (1, 16, 32, 32)), rng.integers(-128, 128, (16, 1, 1, 7))
    specs = [
        (LayerSpec(wa, padding=(1, 1), name="conv3x3"), xa),
        (LayerSpec(wb, padding=(1, 1), groups=16, name="dw3x3"), xb),
        (LayerSpec(wc, padding=(0, 3), groups=16, name="fuse1x7"), xc),
    ]
    run = accel_layers(specs, cfg, sim)
    refs = [
        conv2d_ref(xa, wa, padding=1),
        conv2d_ref(xb, wb, padding=1, groups=16),
        conv2d_ref(xc, wc, padding=(0, 3), groups=16),
    ]
    for y, ref in zip(run.outputs, refs, strict=True):
        assert np.array_equal(y, ref)
    expected = (
        accel_gemm_cycles(256, 144, 16, n, n)
        + accel_depthwise_baseline_cycles(1, 16, 16, 16, (3, 3), (1, 1), (1, 1), n, n)
        + accel_fuse_conv_cycles(1, 16, 32, 32, (1, 7), (1, 1), (0, 3), n, n)
        + ACCEL_COMMAND_OVERHEAD
    )
    assert run.cycles == expected, (run.cycles, expected)
    return run.result, info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", nargs="+", default=["verilator:8", "verilator:16", "icarus:8"])
    ap.add_argument("--M", type=int, default=2048)
    ap.add_argument("--reps", type=int, default=8, help="times the GEMM command is repeated")
    ap.add_argument("--layers", action="store_true", help="run three whole layers instead")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    table = []
    for spec in args.runs:
        sim, n = spec.split(":")
        n = int(n)
        if args.layers:
            t0 = time.perf_counter()
            res, info = run_layers(sim, n, rng)
            table.append((sim, f"{n}x{n}", info.seconds, info.fresh, res, time.perf_counter() - t0))
            print(f"  {sim} {n}x{n}: {res.total} cycles in {res.run_seconds:.2f} s", flush=True)
            continue
        K = N = 2 * n
        M = args.M
        cfg = ArrayConfig(
            rows=n, cols=n, act_depth=2 * M, weight_depth=4 * n, acc_depth=2 * M, cmd_depth=64
        )
        info = build(cfg, sim, design="accel")
        x, w = rng.integers(-128, 128, (M, K)), rng.integers(-128, 128, (K, N))
        prog = compile_gemms([(x, w)], cfg)
        prog.words = prog.words[:-1] * args.reps + [isa.encode(isa.Halt())]
        job = job_of(prog, "bench")
        job.timeout_cycles *= args.reps
        t0 = time.perf_counter()
        (res,) = run_programs([job], cfg, sim)
        wall = time.perf_counter() - t0
        assert not res.error
        assert np.array_equal(prog.outputs(res.acc)[0], gemm_ref(x, w))
        assert res.total == args.reps * accel_gemm_cycles(M, K, N, n, n) + 2
        table.append((sim, f"{n}x{n}", info.seconds, info.fresh, res, wall))
        print(f"  {sim} {n}x{n}: {res.total} cycles in {res.run_seconds:.2f} s", flush=True)
    print()
    hdr = f"{'simulator':10s} {'array':6s} {'build s':>8s} {'cycles':>8s} {'run s':>7s}"
    print(hdr + f" {'cycles/s':>9s} {'load s':>7s} {'total s':>8s}")
    for sim, arr, bs, fresh, res, wall in table:
        b = f"{bs:.1f}" if fresh else "cached"
        print(
            f"{sim:10s} {arr:6s} {b:>8s} {res.total:8d} {res.run_seconds:7.2f} "
            f"{res.total / res.run_seconds:9.0f} {res.load_seconds:7.2f} {wall:8.2f}"
        )
    print("(run s: start -> done; load s: bulk load + read-back; total s: whole process)")


if __name__ == "__main__":
    main()
