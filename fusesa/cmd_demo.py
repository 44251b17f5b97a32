"""``fusesa demo``: generate an array, run a random int8 GEMM through it in RTL, and print
whether the outputs match the numpy golden and the measured cycles vs the RTL model."""

from __future__ import annotations

import time


def register(sub) -> None:
    p = sub.add_parser(
        "demo", help="generate an array, run a GEMM in RTL, compare with golden and model"
    )
    p.add_argument("--rows", type=int, default=8)
    p.add_argument("--cols", type=int, default=8)
    p.add_argument("--simulator", choices=["verilator", "icarus"], default="verilator")
    p.add_argument("--gemm", default="64x20x12", help="MxKxN of X[M,K] @ W[K,N] (default 64x20x12)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=run)


def run(args) -> int:
    import numpy as np

    from hw.config import ArrayConfig
    from sim.gemm import rtl_gemm
    from sim.runner import build
    from sw.latency.rtl import gemm_cycles, gemm_folds
    from sw.ref import gemm_ref

    try:
        cfg = ArrayConfig(rows=args.rows, cols=args.cols)
        M, K, N = (int(v) for v in args.gemm.lower().split("x"))
    except ValueError as exc:
        print(f"error: {exc if 'ArrayConfig' in str(exc) else f'bad --gemm {args.gemm!r}: {exc}'}")
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
