"""Simulation speed of the RTL: simulated cycles per second, with the (cold) build time apart.

Two parts (both by default):

- ``array``: one GEMM on the bare array (``hw.top``) at 4x4, 8x8, 16x16 on Icarus and
  Verilator; the cycles/s include the per-cycle Python driver of the cocotb bench
  (``sim.tb_array``).
- ``accel``: whole layers as one accelerator program (``hw.accel``, bench ``sim.tb_accel``,
  no per-cycle Python): a pointwise conv, a 3x3 conv (im2col), a 3x3 depthwise baseline and a
  FuSe 1x7 depthwise layer, run three times back to back, outputs checked against ``sw.ref``. Per simulator and size: build
  time, simulated cycles/s over the program (``cnt_total`` / wall time start -> done, median of
  ``--repeat`` runs in one simulator process), the same program on the plain C++ Verilator
  harness (``benchmarks/harness``; its accumulator words and counters must equal the cocotb
  run's) and the ratio, and the bulk load + read-back rate in words/s.

Usage: python benchmarks/sim_speed.py [--parts array accel] [--sizes 4 8 16]
           [--accel-runs verilator:8 verilator:16 verilator:32 icarus:8 icarus:16]
           [--repeat 3] [--cold] [--no-bulk]
``--cold`` deletes the cached builds first and disables ccache (``CCACHE_DISABLE=1``), so
the build times are cold builds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # harness/ and this checkout

from harness.raw import build_raw, run_raw  # noqa: E402

from hw import isa  # noqa: E402
from hw.config import ArrayConfig  # noqa: E402
from sim.accel import AccelJob, job_of, run_programs  # noqa: E402
from sim.gemm import rtl_gemm  # noqa: E402
from sim.runner import BUILD_ROOT, build  # noqa: E402
from sw.latency.rtl import gemm_cycles  # noqa: E402
from sw.mapping.accel import LayerSpec, compile_layers  # noqa: E402
from sw.ref import gemm_ref  # noqa: E402
from sw.ref.conv import conv2d_ref  # noqa: E402

LAYER_PASSES = 3

#: memory depths of the accelerator used here (the layers below fit at every size)
ACCEL_DEPTHS = dict(act_depth=32768, weight_depth=2048, acc_depth=8192, cmd_depth=64)


def array_part(sizes: list[int], simulators: list[str], cold: bool) -> None:
    rng = np.random.default_rng(0)
    rows = []
    for sim in simulators:
        for n in sizes:
            cfg = ArrayConfig(rows=n, cols=n)
            if cold:
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
                f"  {sim:9s} {n}x{n}: build {info.seconds:5.1f} s, {res.cycles} cycles in "
                f"{wall:.2f} s",
                flush=True,
            )
    print()
    print("bare array, one GEMM (per-cycle Python driver)")
    print(
        f"{'simulator':10s} {'array':7s} {'build s':>8s} {'cycles':>8s} {'run s':>7s} "
        f"{'cycles/s':>9s}"
    )
    for sim, arr, bs, fresh, cyc, wall in rows:
        b = f"{bs:.1f}" if fresh else "cached"
        print(f"{sim:10s} {arr:7s} {b:>8s} {cyc:8d} {wall:7.2f} {cyc / wall:9.0f}")
    print("(run s includes simulator start-up and the cocotb per-cycle Python driver)")
    print()


def layer_items(rng: np.random.Generator) -> tuple[list, list[np.ndarray]]:
    """Four layers shaped like a MobileNet block at 16x16 resolution, and their goldens."""
    x1, w1 = rng.integers(-128, 128, (1, 32, 16, 16)), rng.integers(-128, 128, (32, 32, 1, 1))
    x2, w2 = rng.integers(-128, 128, (1, 16, 16, 16)), rng.integers(-128, 128, (32, 16, 3, 3))
    x3, w3 = rng.integers(-128, 128, (1, 16, 16, 16)), rng.integers(-128, 128, (16, 1, 3, 3))
    x4, w4 = rng.integers(-128, 128, (1, 32, 16, 16)), rng.integers(-128, 128, (32, 1, 1, 7))
    items = [
        (LayerSpec(w1, name="pw32"), x1),
        (LayerSpec(w2, padding=(1, 1), name="conv3x3"), x2),
        (LayerSpec(w3, padding=(1, 1), groups=16, name="dw3x3"), x3),
        (LayerSpec(w4, padding=(0, 3), groups=32, name="fuse1x7"), x4, "fuse"),  # no packing
    ]
    refs = [
        conv2d_ref(x1, w1),
        conv2d_ref(x2, w2, padding=1),
        conv2d_ref(x3, w3, padding=1, groups=16),
        conv2d_ref(x4, w4, padding=(0, 3), groups=32),
    ]
    return items, refs


def _words(job: AccelJob) -> int:
    return len(job.act) + len(job.weight) + len(job.cmd) + job.acc_words


def accel_part(runs: list[str], repeat: int, cold: bool, bulk: bool) -> None:
    table = []
    for spec in runs:
        sim, n = spec.split(":")
        n = int(n)
        cfg = ArrayConfig(rows=n, cols=n, **ACCEL_DEPTHS)
        if cold:
            for d in (BUILD_ROOT / "sim" / sim).glob(f"{cfg.accel_name}*"):
                shutil.rmtree(d, ignore_errors=True)
            shutil.rmtree(BUILD_ROOT / "harness" / cfg.accel_name, ignore_errors=True)
        info = build(cfg, sim, design="accel")
        items, refs = layer_items(np.random.default_rng(n))
        prog = compile_layers(items, cfg, "auto")
        # the four layers three times back to back (same outputs: row fold 0 overwrites)
        assert prog.words[-1] == isa.encode(isa.Halt())
        prog.words = prog.words[:-1] * LAYER_PASSES + prog.words[-1:]
        job = job_of(prog, f"layers_{n}x{n}")
        job.timeout_cycles *= LAYER_PASSES
        results = run_programs([job] * repeat, cfg, sim)
        for res in results:
            assert not res.error and res.acc == results[0].acc
            for y, ref in zip(prog.layer_outputs(res.acc), refs, strict=True):
                assert np.array_equal(y, ref)
        speed = statistics.median(r.total / r.run_seconds for r in results)
        load = statistics.median(_words(job) / r.load_seconds for r in results)
        raw_speed = raw_build = None
        if sim == "verilator":
            rb = build_raw(cfg)
            raws = [run_raw(job, cfg) for _ in range(repeat)]
            for r in raws:
                same = (r.acc, r.total, r.busy, r.stall, r.error)
                c = results[0]
                assert same == (c.acc, c.total, c.busy, c.stall, c.error), "harness != cocotb"
            raw_speed = statistics.median(r.total / r.run_seconds for r in raws)
            raw_build = rb.seconds if rb.fresh else None
        row = (sim, n, info, results[0].total, speed, raw_speed, raw_build, load)
        table.append(row)
        ratio = f", raw {raw_speed:.0f}/s ({speed / raw_speed:.0%})" if raw_speed else ""
        print(
            f"  {sim} {n}x{n}: build {info.seconds:.1f} s, {results[0].total} cycles, "
            f"{speed:.0f} cycles/s{ratio}, load {load:.0f} words/s",
            flush=True,
        )
    load_rows = [bulk_load(sim) for sim in sorted({r.split(":")[0] for r in runs})] if bulk else []
    print()
    print(f"accelerator, whole layers (median of {repeat}; load average {os.getloadavg()[0]:.1f})")
    print(
        f"{'simulator':10s} {'array':6s} {'build s':>8s} {'cycles':>8s} {'cycles/s':>9s} "
        f"{'raw/s':>9s} {'ratio':>6s} {'raw bld s':>9s} {'load w/s':>9s}"
    )
    for sim, n, info, cyc, speed, raw, rawb, load in table:
        b = f"{info.seconds:.1f}" if info.fresh else "cached"
        rs = f"{raw:9.0f}" if raw else f"{'-':>9s}"
        ratio = f"{speed / raw:6.0%}" if raw else f"{'-':>6s}"
        rbs = f"{rawb:9.1f}" if rawb else f"{'cached' if raw else '-':>9s}"
        print(f"{sim:10s} {n}x{n:<4d} {b:>8s} {cyc:8d} {speed:9.0f} {rs} {ratio} {rbs} {load:9.0f}")
    print("(cycles/s: cnt_total / wall time start -> done; load: images + acc read-back words")
    print(" per second of bulk load + read-back)")
    for sim, words, secs in load_rows:
        print(
            f"bulk load + read-back alone ({sim}, 8x8, full act and acc memories): {words} words "
            f"in {secs:.3f} s = {words / secs:.0f} words/s"
        )


def bulk_load(sim: str = "verilator", n: int = 8) -> tuple[str, int, float]:
    """Fill the whole activation memory and read the whole accumulator memory back (a
    HALT-only program) on the ``n x n`` accelerator of the layer runs; returns
    ``(simulator, words, seconds)``."""
    cfg = ArrayConfig(rows=n, cols=n, **ACCEL_DEPTHS)
    rng = np.random.default_rng(1)
    act = {a: int(v) for a, v in enumerate(rng.integers(0, 1 << 62, cfg.act_depth))}
    job = AccelJob("bulk", act, {}, [isa.encode(isa.Halt())], cfg.acc_depth, 64)
    build(cfg, sim, design="accel")
    results = run_programs([job] * 3, cfg, sim)
    secs = statistics.median(r.load_seconds for r in results)
    return sim, cfg.act_depth + 1 + cfg.acc_depth, secs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", nargs="+", default=["array", "accel"], choices=["array", "accel"])
    ap.add_argument("--sizes", type=int, nargs="+", default=[4, 8, 16], help="array part")
    ap.add_argument("--simulators", nargs="+", default=["icarus", "verilator"], help="array part")
    ap.add_argument(
        "--accel-runs",
        nargs="+",
        default=["verilator:8", "verilator:16", "verilator:32", "icarus:8", "icarus:16"],
    )
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-bulk", action="store_true", help="skip the bulk load measurement")
    ap.add_argument("--cold", action="store_true", help="delete cached builds, no ccache")
    args = ap.parse_args()
    if args.cold:
        os.environ["CCACHE_DISABLE"] = "1"
    if "array" in args.parts:
        array_part(args.sizes, args.simulators, args.cold)
    if "accel" in args.parts:
        accel_part(args.accel_runs, args.repeat, args.cold, not args.no_bulk)


if __name__ == "__main__":
    main()
