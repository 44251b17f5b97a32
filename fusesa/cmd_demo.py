"""``fusesa demo``: what the project is about, in RTL, in under two minutes on a new machine.

Default: generate the FuSe accelerator (16x16), take one MobileNetV2 depthwise stage at its real
size (``features.4.conv.1.0``: 144 channels, 56x56, 3x3, stride 2) with random int8 weights and
input, and run it both ways on the same accelerator in Verilator: the baseline mapping (one
single-column GEMM per channel, SPEC 3.4) and FuSe Half (1x3 on 72 channels + 3x1 on 72, SPEC
3.3). Prints bit-exactness of each against torch, the measured cycles (hardware counters) next
to the exact cycle model (``sw.latency.rtl``), the speedup, and where the Verilog is.

``--gemm MxKxN`` runs the older check instead: one random GEMM on the bare array.
"""

from __future__ import annotations

import time


def register(sub) -> None:
    p = sub.add_parser(
        "demo",
        help="baseline depthwise vs FuSe on the generated accelerator in RTL (exact, cycles, speedup)",
    )
    p.add_argument("--rows", type=int, default=16, help="array rows (default 16)")
    p.add_argument("--cols", type=int, default=16, help="array columns (default 16)")
    p.add_argument("--simulator", choices=["verilator", "icarus"], default="verilator")
    p.add_argument(
        "--layer", type=int, default=3, help="MobileNetV2 depthwise layer index (default 3)"
    )
    p.add_argument(
        "--channels", type=int, default=None, help="scale channels down (default: the layer's)"
    )
    p.add_argument(
        "--size", type=int, default=None, help="scale the input HxW down (default: the layer's)"
    )
    p.add_argument(
        "--gemm",
        default=None,
        metavar="MxKxN",
        help="instead: one X[M,K] @ W[K,N] GEMM on the bare array (the older demo, e.g. 64x20x12)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=run)


def run(args) -> int:
    from hw.config import ArrayConfig

    try:
        cfg = ArrayConfig(rows=args.rows, cols=args.cols)
    except ValueError as exc:
        print(f"error: {exc}")
        return 2
    if args.gemm is not None:
        return _gemm(args, cfg)
    return _depthwise(args, cfg)


def _depthwise(args, cfg) -> int:
    from sim.fuse_report import compare_depthwise
    from sim.runner import build
    from sw.mapping.accel import unbounded

    if args.channels is not None and (args.channels < 2 or args.channels % 2):
        print(
            f"error: --channels must be an even number >= 2 (Half splits them), not {args.channels}"
        )
        return 2
    if args.size is not None and args.size < 3:
        print(f"error: --size must be at least 3, not {args.size}")
        return 2
    t_all = time.perf_counter()
    acfg = unbounded(cfg)  # the one build every run_layer / run_network on this array uses
    print(
        f"[demo] FuSe accelerator {cfg.rows}x{cfg.cols} ({args.simulator}): generating and building ..."
    )
    t0 = time.perf_counter()
    info = build(acfg, args.simulator, design="accel")
    verilog = info.build_dir / "rtl" / "fusesa_accel.v"
    print(
        f"[demo] build {time.perf_counter() - t0:.1f} s ({'fresh' if info.fresh else 'cached'}); "
        f"Verilog: {verilog}"
    )
    t0 = time.perf_counter()
    try:
        (row,) = compare_depthwise(
            [(cfg.rows, cfg.cols)],
            args.layer,
            args.channels,
            args.size,
            args.simulator,
            seed=args.seed,
            progress=lambda m: print(m.replace("[fuse-report]", "[demo]"), flush=True),
        )
    except ValueError as exc:
        print(f"error: {exc}")
        return 2
    ok_b = row.baseline_measured == row.baseline_model
    ok_f = row.fuse_measured == row.fuse_model
    print(f"[demo] {row.layer}, random int8 weights and input (seed {args.seed})")
    print(f"[demo] RTL simulation of both mappings: {time.perf_counter() - t0:.1f} s")
    print(f"{'mapping':34s} {'exact vs torch':>14s} {'cycles (RTL)':>13s} {'model':>10s}")
    print(
        f"{'baseline depthwise (GEMM/channel)':34s} {str(row.baseline_exact):>14s} "
        f"{row.baseline_measured:13d} {row.baseline_model:10d} {'equal' if ok_b else 'DIFFERENT'}"
    )
    print(
        f"{'FuSe Half (1xK + Kx1, FuSe mode)':34s} {str(row.fuse_exact):>14s} "
        f"{row.fuse_measured:13d} {row.fuse_model:10d} {'equal' if ok_f else 'DIFFERENT'}"
    )
    print(
        f"[demo] speedup of FuSe over the baseline on the same {row.array} RTL: "
        f"{row.speedup:.2f}x (the paper's model for the same layers: {row.paper_speedup:.2f}x)"
    )
    print(f"[demo] total {time.perf_counter() - t_all:.1f} s")
    return 0 if row.outputs_exact and ok_b and ok_f else 1


def _gemm(args, cfg) -> int:
    import numpy as np

    from sim.gemm import rtl_gemm
    from sim.runner import build
    from sw.latency.rtl import gemm_cycles, gemm_folds
    from sw.ref import gemm_ref

    try:
        M, K, N = (int(v) for v in args.gemm.lower().split("x"))
    except ValueError as exc:
        print(f"error: bad --gemm {args.gemm!r}: {exc}")
        return 2
    rng = np.random.default_rng(args.seed)
    x = rng.integers(-128, 128, (M, K))
    w = rng.integers(-128, 128, (K, N))
    print(f"[demo] {cfg.rows}x{cfg.cols} weight-stationary array, {args.simulator}")
    t0 = time.perf_counter()
    info = build(cfg, args.simulator)
    print(
        f"[demo] Verilog + simulator build: {time.perf_counter() - t0:.1f} s ({'fresh' if info.fresh else 'cached'}) in {info.build_dir}"
    )
    t0 = time.perf_counter()
    res = rtl_gemm(x, w, cfg, args.simulator)
    sim_s = time.perf_counter() - t0
    golden = gemm_ref(x, w)
    model = gemm_cycles(M, K, N, cfg.rows, cfg.cols)
    match = bool(np.array_equal(res.output, golden))
    print(
        f"[demo] GEMM X[{M}x{K}] @ W[{K}x{N}]: {gemm_folds(K, N, cfg.rows, cfg.cols)} tiles, sim {sim_s:.1f} s"
    )
    print(f"[demo] outputs match golden: {match} ({golden.size} int32 values, exact)")
    print(
        f"[demo] cycles: measured {res.cycles}, model {model} -> {'equal' if res.cycles == model else 'DIFFERENT'}"
    )
    return 0 if match and res.cycles == model else 1
