"""Array top in the Amaranth simulator: GEMM tile programs against the numpy golden, cycles
against the RTL formula (the cocotb regression repeats this on Icarus and Verilator)."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from hw.config import ArrayConfig
from hw.interfaces import ArrayMode, FuseOp
from hw.top import ArrayTop
from sim.protocol import check_trace, trace_of_fuse, trace_of_gemm
from sw.latency.rtl import fuse_cycles, gemm_cycles
from sw.mapping.fuse import assemble_fuse_output, fuse_program
from sw.mapping.gemm import assemble_gemm_output, gemm_program
from sw.ref import gemm_ref


def _drive(cfg, dut, n_outputs, cycles_driven, drive_cycle, mode=None):
    """Run ``drive_cycle(ctx, t)`` for every cycle, collect valid outputs; returns
    (outputs, measured cycles): first command to last valid output, inclusive. ``mode`` is
    set one cycle before the first command (it is a registered configuration input)."""
    outs, last = [], [None]

    async def bench(ctx):
        if mode is not None:
            ctx.set(dut.mode, mode)
            await ctx.tick()
        t = 0
        while len(outs) < n_outputs:
            assert t < cycles_driven + 4 * cfg.latency + 16, "outputs missing"
            if ctx.get(dut.out_valid):
                outs.append([ctx.get(dut.out_data[c]) for c in range(cfg.cols)])
                last[0] = t
            drive_cycle(ctx, t if t < cycles_driven else None)
            await ctx.tick()
            t += 1
        for _ in range(cfg.latency + 2):  # no spurious outputs afterwards
            assert not ctx.get(dut.out_valid)
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return np.array(outs, dtype=np.int64), last[0] + 1


def amaranth_fuse(lines, taps, cfg):
    prog = fuse_program(lines, taps, cfg.rows, cfg.cols)
    check_trace(trace_of_fuse(prog), cfg.rows, cfg.cols, strict=True)
    dut = ArrayTop(cfg)

    def drive(ctx, t):
        ctx.set(dut.in_valid, int(prog.in_valid[t]) if t is not None else 0)
        ctx.set(dut.op, FuseOp(int(prog.op[t])) if t is not None else FuseOp.HOLD)
        for r in range(cfg.rows):
            ctx.set(dut.in_data[r], int(prog.in_data[t, r]) if t is not None else 0)
            ctx.set(dut.tap[r], int(prog.tap[t, r]) if t is not None else 0)

    outs, cycles = _drive(cfg, dut, prog.n_outputs, prog.cycles_driven, drive, ArrayMode.FUSE)
    return assemble_fuse_output(prog, outs), cycles


@pytest.mark.parametrize(
    "rows, cols, L, W, K", [(1, 1, 2, 4, 3), (2, 3, 5, 9, 3), (3, 2, 4, 8, 7), (4, 4, 6, 5, 1)]
)
def test_array_fuse_lines_match_golden_and_cycle_formula(rows, cols, L, W, K):
    cfg = ArrayConfig(rows=rows, cols=cols)
    rng = np.random.default_rng(L * W * K)
    lines = rng.integers(-128, 128, (L, W))
    taps = rng.integers(-128, 128, (L, K))
    y, cycles = amaranth_fuse(lines, taps, cfg)
    expect = np.stack([np.correlate(lines[i], taps[i], "valid") for i in range(L)])
    np.testing.assert_array_equal(y, expect)
    assert cycles == fuse_cycles(L, W - K + 1, K, rows, cols)


def amaranth_gemm(x, w, cfg):
    """Drive ``gemm_program`` into ArrayTop cycle by cycle; return (Y, measured cycles)."""
    prog = gemm_program(x, w, cfg.rows, cfg.cols)
    check_trace(
        trace_of_gemm(prog, cfg.fuse), cfg.rows, cfg.cols, strict=True, writes_per_tile=True
    )
    dut = ArrayTop(cfg)

    def drive(ctx, t):
        if cfg.fuse:
            ctx.set(dut.mode, ArrayMode.GEMM)
        on = t is not None
        ctx.set(dut.in_valid, int(prog.in_valid[t]) if on else 0)
        ctx.set(dut.in_swap, int(prog.in_swap[t]) if on else 0)
        ctx.set(dut.w_we, int(prog.w_we[t]) if on else 0)
        ctx.set(dut.w_row, int(prog.w_row[t]) if on else 0)
        for r in range(cfg.rows):
            ctx.set(dut.in_data[r], int(prog.in_data[t, r]) if on else 0)
        for c in range(cfg.cols):
            ctx.set(dut.w_data[c], int(prog.w_data[t, c]) if on else 0)

    outs, cycles = _drive(cfg, dut, prog.n_outputs, prog.cycles_driven, drive)
    return assemble_gemm_output(prog, outs), cycles


@pytest.mark.parametrize(
    "rows, cols, M, K, N",
    [
        (1, 1, 3, 2, 2),
        (2, 2, 4, 2, 2),
        (2, 3, 5, 5, 7),  # folds in both dimensions, ragged edges
        (3, 2, 1, 4, 3),  # M smaller than rows and cols: period set by the array
        (4, 4, 9, 4, 4),
    ],
)
@pytest.mark.parametrize("fuse", [True, False], ids=["fuse", "ws"])
def test_array_gemm_matches_golden_and_cycle_formula(rows, cols, M, K, N, fuse):
    cfg = ArrayConfig(rows=rows, cols=cols, fuse=fuse)
    rng = np.random.default_rng(rows * 100 + cols * 10 + M)
    x = rng.integers(-128, 128, (M, K))
    w = rng.integers(-128, 128, (K, N))
    y, cycles = amaranth_gemm(x, w, cfg)
    np.testing.assert_array_equal(y, gemm_ref(x, w))
    assert cycles == gemm_cycles(M, K, N, rows, cols)


def test_array_extreme_values_fill_accumulator():
    cfg = ArrayConfig(rows=4, cols=2, acc_width=18, max_kernel=4)
    x = np.full((3, 4), -128)
    w = np.full((4, 2), -128)
    w[:, 1] = 127
    y, _ = amaranth_gemm(x, w, cfg)
    np.testing.assert_array_equal(y, gemm_ref(x, w))
    assert y[0, 0] == 4 * 16384
