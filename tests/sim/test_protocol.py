"""The ArrayTop protocol checker (``sim.protocol``): clean mapper programs pass, and every
illegal placement of a weight write, mode switch or op is reported with its cycle and rule."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim.protocol import (
    PinTrace,
    ProtocolError,
    check_trace,
    trace_of_fuse,
    trace_of_gemm,
)
from sw.mapping.fuse import fuse_program
from sw.mapping.gemm import gemm_program


@pytest.mark.parametrize("rows, cols", [(1, 1), (2, 3), (3, 2), (4, 4), (1, 5), (5, 1)])
def test_protocol_mapper_programs_are_legal(rows, cols):
    rng = np.random.default_rng(rows * 7 + cols)
    for M, Kr, N in [(1, 1, 1), (3, 2 * rows + 1, 2 * cols + 1), (9, rows, cols)]:
        prog = gemm_program(rng.integers(-8, 8, (M, Kr)), rng.integers(-8, 8, (Kr, N)), rows, cols)
        check_trace(trace_of_gemm(prog, True), rows, cols, strict=True, writes_per_tile=True)
    for L, W, K in [(1, 1, 1), (2 * rows + 1, 2 * cols + 3, 3)]:
        prog = fuse_program(rng.integers(-8, 8, (L, W)), rng.integers(-8, 8, (L, K)), rows, cols)
        check_trace(trace_of_fuse(prog), rows, cols, strict=True)


def _gemm_trace(rows=3, cols=3, M=8, Kr=12, N=3):
    rng = np.random.default_rng(0)
    prog = gemm_program(rng.integers(-8, 8, (M, Kr)), rng.integers(-8, 8, (Kr, N)), rows, cols)
    return prog, trace_of_gemm(prog)


def _moved(trace: PinTrace, src: int, dst: int, pad: int = 8) -> PinTrace:
    """``trace`` with the weight write of cycle ``src`` moved to cycle ``dst``."""
    T = len(trace) + pad
    f = {
        k: np.concatenate([v, np.zeros(pad, v.dtype)])
        for k, v in (
            ("in_valid", trace.in_valid),
            ("in_swap", trace.in_swap),
            ("w_we", trace.w_we),
            ("w_row", trace.w_row),
        )
    }
    assert f["w_we"][src] and not f["w_we"][dst] and dst < T
    f["w_we"][src], f["w_we"][dst] = 0, 1
    f["w_row"][dst] = f["w_row"][src]
    return PinTrace(**f)


def illegal_write_placements(prog, trace):
    """(src, dst) moves of single weight writes into cycles outside their legal window."""
    rows, cols = prog.rows, prog.cols
    swaps = list(np.flatnonzero(trace.in_valid.astype(bool) & trace.in_swap.astype(bool)))
    writes = [int(t) for t in np.flatnonzero(trace.w_we)]
    moves = []
    for i, src in enumerate(writes):
        f, r = divmod(i, rows)  # gemm_program writes rows 0..rows-1 of tile f in order
        lo = swaps[f - 1] + r + cols - 1 if f else 0
        hi = swaps[f] + r  # first illegal cycle after the window
        for dst in (lo - 1, lo - 2, hi, hi + 1, hi + 2):
            if 0 <= dst < len(trace) + 8 and (dst >= len(trace) or not trace.w_we[dst]):
                moves.append((src, dst))
    return moves


def test_protocol_detects_ten_illegal_weight_writes():
    prog, trace = _gemm_trace()
    moves = illegal_write_placements(prog, trace)
    assert len(moves) >= 10
    for src, dst in moves[:10]:
        with pytest.raises(ProtocolError) as err:
            check_trace(_moved(trace, src, dst), prog.rows, prog.cols, writes_per_tile=True)
        assert err.value.cycle == dst and err.value.rule in ("W-WINDOW", "W-TILE"), str(err.value)
        assert f"cycle {dst}:" in str(err.value)


def test_protocol_legal_moves_inside_the_window_pass():
    prog, trace = _gemm_trace()
    swaps = list(np.flatnonzero(trace.in_swap))
    t = int(np.flatnonzero(trace.w_we)[prog.rows])  # tile 1, row 0
    lo = swaps[0] + prog.cols - 1
    for dst in range(lo, swaps[1]):
        if not trace.w_we[dst]:
            check_trace(_moved(trace, t, dst), prog.rows, prog.cols, writes_per_tile=True)


def test_protocol_illegal_weight_writes_corrupt_the_array():
    """Why the checker matters: the RTL gives no error, just wrong numbers."""
    from amaranth.sim import Simulator

    from hw.config import ArrayConfig
    from hw.top import ArrayTop
    from sw.mapping.gemm import assemble_gemm_output

    prog, trace = _gemm_trace()
    cfg = ArrayConfig(prog.rows, prog.cols, fuse=False)
    rng = np.random.default_rng(0)
    x, w = rng.integers(-8, 8, (8, 12)), rng.integers(-8, 8, (12, 3))
    wrong = 0
    for src, dst in illegal_write_placements(prog, trace)[:4]:
        moved = dataclasses.replace(prog)
        T = len(trace) + 8
        moved.in_valid = np.concatenate([prog.in_valid, np.zeros(8, np.int8)])
        moved.in_swap = np.concatenate([prog.in_swap, np.zeros(8, np.int8)])
        moved.in_data = np.concatenate([prog.in_data, np.zeros((8, prog.rows), np.int64)])
        moved.w_we = np.concatenate([prog.w_we, np.zeros(8, np.int8)])
        moved.w_row = np.concatenate([prog.w_row, np.zeros(8, np.int64)])
        moved.w_data = np.concatenate([prog.w_data, np.zeros((8, prog.cols), np.int64)])
        moved.w_we[src], moved.w_we[dst] = 0, 1
        moved.w_row[dst], moved.w_data[dst] = moved.w_row[src], moved.w_data[src]
        dut = ArrayTop(cfg)
        outs = []

        async def bench(ctx, moved=moved, dut=dut, outs=outs, T=T):
            for t in range(T + cfg.latency):
                if ctx.get(dut.out_valid):
                    outs.append([ctx.get(dut.out_data[c]) for c in range(cfg.cols)])
                on = t < T
                ctx.set(dut.in_valid, int(moved.in_valid[t]) if on else 0)
                ctx.set(dut.in_swap, int(moved.in_swap[t]) if on else 0)
                ctx.set(dut.w_we, int(moved.w_we[t]) if on else 0)
                ctx.set(dut.w_row, int(moved.w_row[t]) if on else 0)
                for r in range(cfg.rows):
                    ctx.set(dut.in_data[r], int(moved.in_data[t, r]) if on else 0)
                for c in range(cfg.cols):
                    ctx.set(dut.w_data[c], int(moved.w_data[t, c]) if on else 0)
                await ctx.tick()

        sim = Simulator(dut)
        sim.add_clock(1e-6)
        sim.add_testbench(bench)
        sim.run()
        y = assemble_gemm_output(prog, np.array(outs, np.int64))
        wrong += not np.array_equal(y, x @ w)
    assert wrong >= 1


def _fuse_trace(rows=2, cols=2):
    rng = np.random.default_rng(1)
    prog = fuse_program(rng.integers(-8, 8, (3, 6)), rng.integers(-8, 8, (3, 3)), rows, cols)
    return prog, trace_of_fuse(prog)


def test_protocol_mode_change_while_busy():
    prog, trace = _gemm_trace()
    pad = np.zeros(10, np.int64)
    trace = PinTrace(
        *(
            np.concatenate([v, pad])
            for v in (trace.in_valid, trace.in_swap, trace.w_we, trace.w_row)
        )
    )
    last_valid = int(np.flatnonzero(trace.in_valid)[-1])
    bad = dataclasses.replace(trace, mode=np.zeros(len(trace), np.int64))
    bad.mode[last_valid + 2 :] = 1  # rows still in flight
    with pytest.raises(ProtocolError, match="M-BUSY") as err:
        check_trace(bad, prog.rows, prog.cols)
    assert err.value.cycle == last_valid + 2
    fprog, ftrace = _fuse_trace()
    bad = dataclasses.replace(ftrace, mode=ftrace.mode.copy())
    last_shift = int(np.flatnonzero(ftrace.op == 3)[-1])
    bad.mode[last_shift:] = 0  # the last SHIFT is decoded in GEMM mode
    with pytest.raises(ProtocolError, match="M-BUSY"):
        check_trace(bad, fprog.rows, fprog.cols)


def test_protocol_op_or_tap_in_gemm_mode_is_flagged_in_strict_mode():
    prog, trace = _gemm_trace()
    t = dataclasses.replace(
        trace,
        mode=np.zeros(len(trace), np.int64),
        op=np.zeros(len(trace), np.int64),
        tap=np.zeros((len(trace), prog.rows), np.int64),
    )
    t.op[4] = 1
    check_trace(t, prog.rows, prog.cols)  # don't-care for the RTL
    with pytest.raises(ProtocolError, match=r"cycle 4: \[F-GEMM\]"):
        check_trace(t, prog.rows, prog.cols, strict=True)
    t.op[4] = 0
    t.tap[6, 1] = 5
    with pytest.raises(ProtocolError, match=r"cycle 6: \[F-GEMM\]"):
        check_trace(t, prog.rows, prog.cols, strict=True)


def test_protocol_fuse_op_order_and_missing_tile():
    fprog, ftrace = _fuse_trace()
    firsts = np.flatnonzero(ftrace.op == 1)
    bad = dataclasses.replace(ftrace, op=ftrace.op.copy())
    bad.op[firsts[1]] = 2  # ACC opens a fold
    with pytest.raises(ProtocolError, match="F-ORDER"):
        check_trace(bad, fprog.rows, fprog.cols)
    bad = dataclasses.replace(ftrace, op=ftrace.op.copy())
    bad.op[np.flatnonzero(ftrace.op == 3)[0]] = 0  # one SHIFT short: next FIRST too early
    with pytest.raises(ProtocolError, match="F-ORDER"):
        check_trace(bad, fprog.rows, fprog.cols)
    prog, trace = _gemm_trace()
    bad = dataclasses.replace(trace, in_swap=np.zeros_like(trace.in_swap))
    with pytest.raises(ProtocolError, match=r"cycle 1: \[G-NOTILE\]"):
        check_trace(bad, prog.rows, prog.cols)


def test_protocol_weight_write_to_missing_row():
    prog, trace = _gemm_trace()
    bad = dataclasses.replace(trace, w_row=trace.w_row.copy())
    bad.w_row[0] = 3
    with pytest.raises(ProtocolError, match=r"cycle 0: \[W-ROW\]"):
        check_trace(bad, prog.rows, prog.cols)
