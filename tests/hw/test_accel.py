"""Accelerator top in the Amaranth simulator: whole GEMM programs loaded through the host
write ports, results read through the host read port; outputs == numpy, counters == the
``sw.latency.rtl`` accelerator formulas; malformed command words raise ``error``."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from hw import isa
from hw.accel import Accelerator
from hw.config import ArrayConfig
from sw.latency.rtl import ACCEL_COMMAND_OVERHEAD, accel_program_cycles, gemm_folds
from sw.mapping.accel import compile_gemms
from sw.ref import gemm_ref

SMALL = dict(act_depth=256, weight_depth=128, acc_depth=256, cmd_depth=16)


def amaranth_accel(cfg, act, weight, words, acc_words, max_cycles=20000):
    """Load the images through the host ports, pulse start, wait for done; returns
    (accumulator words, error, (total, busy, stall))."""
    dut = Accelerator(cfg)
    res = {}

    async def bench(ctx):
        for port, image in (("act", act), ("w", weight), ("cmd", dict(enumerate(words)))):
            for a, v in image.items():
                ctx.set(getattr(dut, f"{port}_we"), 1)
                ctx.set(getattr(dut, f"{port}_waddr"), a)
                ctx.set(getattr(dut, f"{port}_wdata"), v)
                await ctx.tick()
            ctx.set(getattr(dut, f"{port}_we"), 0)
        assert not ctx.get(dut.done) and not ctx.get(dut.running)
        ctx.set(dut.start, 1)
        await ctx.tick()
        ctx.set(dut.start, 0)
        n = 0
        while not ctx.get(dut.done):
            assert n < max_cycles, "no done"
            await ctx.tick()
            n += 1
        res["error"] = bool(ctx.get(dut.error))
        res["counters"] = (ctx.get(dut.cnt_total), ctx.get(dut.cnt_busy), ctx.get(dut.cnt_stall))
        assert res["counters"][0] == n  # cnt_total counts exactly start -> done
        out = []
        for a in range(acc_words):
            ctx.set(dut.acc_raddr, a)
            await ctx.tick()
            out.append(ctx.get(dut.acc_rdata))
        res["acc"] = out

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return res["acc"], res["error"], res["counters"]


def _shapes(rows, cols):
    return [
        (1, 1, 1),
        (7, 2 * rows + 1, cols),
        (5, rows, 3 * cols - 1),
        (13, 3 * rows - 2, 2 * cols + 1),
    ]


@pytest.mark.parametrize("array", [(1, 1), (2, 2), (3, 5), (6, 3), (4, 4, False)], ids=str)
def test_accel_gemm_program_exact(array):
    rows, cols, *fuse = array
    cfg = ArrayConfig(rows=rows, cols=cols, fuse=fuse[0] if fuse else True, **SMALL)
    rng = np.random.default_rng(rows * 100 + cols)
    shapes = _shapes(rows, cols)
    pairs = [
        (rng.integers(-128, 128, (M, K)), rng.integers(-128, 128, (K, N))) for M, K, N in shapes
    ]
    prog = compile_gemms(pairs, cfg)
    acc, error, (total, busy, stall) = amaranth_accel(
        cfg, prog.act, prog.weight, prog.words, prog.acc_words_used
    )
    assert not error
    for y, (x, w) in zip(prog.outputs(acc), pairs, strict=True):
        np.testing.assert_array_equal(y, gemm_ref(x, w))
    assert total == accel_program_cycles(shapes, rows, cols)
    assert busy == sum(M * gemm_folds(K, N, rows, cols) for M, K, N in shapes)
    assert total == busy + stall + ACCEL_COMMAND_OVERHEAD * (len(shapes) + 1)


def test_accel_extreme_values_accumulate_exactly():
    """Row folds add in the accumulator: -128 * -128 over Kr = 3 folds of 2 rows."""
    cfg = ArrayConfig(rows=2, cols=2, **SMALL)
    x = np.full((3, 6), -128)
    w = np.where(np.arange(3) == 0, -128, 127)[None].repeat(6, 0)
    prog = compile_gemms([(x, w)], cfg)
    acc, error, _ = amaranth_accel(cfg, prog.act, prog.weight, prog.words, prog.acc_words_used)
    assert not error
    np.testing.assert_array_equal(prog.outputs(acc)[0], gemm_ref(x, w))


def test_accel_row_folds_one_cycle_apart_update_one_word():
    """On a 1x1 array a GEMM with ``M = 1`` accumulates its row folds into one accumulator
    word in consecutive cycles: each read-modify-write must see the previous cycle's write
    (the accumulate read port is transparent). Bigger arrays space the updates further."""
    cfg = ArrayConfig(rows=1, cols=1, **SMALL)
    rng = np.random.default_rng(5)
    pairs = [(rng.integers(-128, 128, (1, 5)), rng.integers(-128, 128, (5, 2)))]
    prog = compile_gemms(pairs, cfg)
    acc, error, (total, _, _) = amaranth_accel(
        cfg, prog.act, prog.weight, prog.words, prog.acc_words_used
    )
    assert not error
    np.testing.assert_array_equal(prog.outputs(acc)[0], gemm_ref(*pairs[0]))
    assert total == accel_program_cycles([(1, 5, 2)], 1, 1)


def _bad_words():
    good = isa.encode(isa.Gemm(m=2, kfolds=1, nfolds=1))
    lo, _ = isa.FIELDS["a_addr"]
    return {
        "unknown-opcode": 0x7,
        "reserved-bits": good | (1 << isa.FIELDS["reserved"][0]),
        "zero-m": good & ~(((1 << 16) - 1) << isa.FIELDS["m"][0]),
        "act-range": good | (SMALL["act_depth"] - 1) << lo,  # 2 words from the last one
        "halt-with-field": 1 << isa.FIELDS["m"][0],
    }


@pytest.mark.parametrize("case", sorted(_bad_words()))
def test_accel_malformed_command_sets_error(case):
    cfg = ArrayConfig(rows=2, cols=2, **SMALL)
    bad = _bad_words()[case]
    with pytest.raises(ValueError):
        isa.decode(bad) if case != "act-range" else isa.check_command(isa.decode(bad), cfg)
    # a valid GEMM first, then the bad word: the GEMM completes, the bad word stops the run
    x, w = np.ones((2, 2), dtype=np.int64), np.ones((2, 2), dtype=np.int64)
    prog = compile_gemms([(x, w)], cfg)
    words = prog.words[:-1] + [bad, isa.encode(isa.Halt())]
    acc, error, (total, _, _) = amaranth_accel(cfg, prog.act, prog.weight, words, 2)
    assert error
    assert total == accel_program_cycles([(2, 2, 2)], 2, 2)  # stopped in the bad word's DECODE
    np.testing.assert_array_equal(prog.outputs(acc)[0], gemm_ref(x, w))


def test_accel_good_program_has_no_error_and_restarts():
    """Control for the error test: the same program without the bad word; start twice."""
    cfg = ArrayConfig(rows=2, cols=2, **SMALL)
    x, w = np.ones((2, 2), dtype=np.int64), np.ones((2, 2), dtype=np.int64)
    prog = compile_gemms([(x, w)], cfg)
    acc, error, (total, _, _) = amaranth_accel(cfg, prog.act, prog.weight, prog.words, 2)
    assert not error and total == accel_program_cycles([(2, 2, 2)], 2, 2)
