"""Output stage (``hw.requant.OutputStage``) in the Amaranth simulator: bias add, float32-exact
requantization and clamp equal the golden (``sw.ref.quant.requantize``) exactly, one word per
cycle, ``LATENCY`` cycles after the input."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from hw.requant import LATENCY, OutputStage
from sw.ref.outstage import multiplier_bits
from tests.sw.outstage_cases import CLAMPS, edge_cases, golden, random_cases


def _pack(vals, width):
    mask = (1 << width) - 1
    word = 0
    for i, v in enumerate(vals):
        word |= (int(v) & mask) << (i * width)
    return word


def _unpack_int8(word, lanes):
    out = []
    for i in range(lanes):
        b = (word >> (8 * i)) & 0xFF
        out.append(b - 256 if b & 0x80 else b)
    return out


def rtl_outstage(acc, bias, m, clamps, lanes=4, gaps=False):
    """Run vectors through ``OutputStage(lanes)``; ``clamps`` gives (lo, hi) per word. Returns
    the int8 outputs and the (input cycle, output cycle) of every word."""
    n = len(acc)
    words = -(-n // lanes)
    pad = words * lanes - n
    acc = np.concatenate([acc, np.zeros(pad, np.int64)])
    bias = np.concatenate([bias, np.zeros(pad, np.int64)])
    mb = np.concatenate([multiplier_bits(m), np.zeros(pad, np.int64)])
    dut = OutputStage(lanes)
    outs, t_in, t_out = [], [], []
    rng = np.random.default_rng(0)

    async def bench(ctx):
        cyc, w = 0, 0
        while len(outs) < words:
            if w < words and not (gaps and rng.random() < 0.3):
                sl = slice(w * lanes, (w + 1) * lanes)
                ctx.set(dut.i_valid, 1)
                ctx.set(dut.acc.as_value(), _pack(acc[sl], 32))
                ctx.set(dut.bias.as_value(), _pack(bias[sl], 32))
                ctx.set(dut.mult.as_value(), _pack(mb[sl], 32))
                ctx.set(dut.lo, clamps[w][0])
                ctx.set(dut.hi, clamps[w][1])
                t_in.append(cyc)
                w += 1
            else:
                ctx.set(dut.i_valid, 0)
                ctx.set(dut.lo, 0)
                ctx.set(dut.hi, 0)
            await ctx.tick()
            cyc += 1
            if ctx.get(dut.o_valid):
                outs.append(_unpack_int8(ctx.get(dut.out.as_value()), lanes))
                t_out.append(cyc)
            assert cyc < 10 * words + 100

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return np.array(outs, np.int64).ravel()[:n], list(zip(t_in, t_out, strict=True))


def test_requant_edge_cases_exact():
    v, m = edge_cases()
    n = len(v)
    lanes = 4
    words = -(-n // lanes)
    clamps = [CLAMPS[w % len(CLAMPS)] for w in range(words)]
    got, times = rtl_outstage(v, np.zeros(n, np.int64), m, clamps, lanes)
    want = np.concatenate(
        [
            golden(v[w * lanes : (w + 1) * lanes], m[w * lanes : (w + 1) * lanes], *clamps[w])
            for w in range(words)
        ]
    )
    np.testing.assert_array_equal(got, want)
    assert all(o - i == LATENCY for i, o in times)
    assert [i for i, _ in times] == list(range(words))  # one word per cycle, no stall


@pytest.mark.parametrize("lanes,gaps", [(3, True), (8, False)])
def test_requant_random_exact(lanes, gaps):
    acc, bias, m = random_cases(1200, seed=10 + lanes)
    words = -(-len(acc) // lanes)
    clamps = [((-128, 127), (0, 127), (0, 37))[w % 3] for w in range(words)]
    got, times = rtl_outstage(acc, bias, m, clamps, lanes, gaps=gaps)
    want = np.concatenate(
        [
            golden(
                (acc + bias)[w * lanes : (w + 1) * lanes],
                m[w * lanes : (w + 1) * lanes],
                *clamps[w],
            )
            for w in range(words)
        ]
    )
    np.testing.assert_array_equal(got, want)
    assert all(o - i == LATENCY for i, o in times)


@pytest.mark.slow
def test_requant_random_many_exact():
    acc, bias, m = random_cases(40_000, seed=99)
    got, _ = rtl_outstage(acc, bias, m, [(-128, 127)] * 5000, lanes=8)
    np.testing.assert_array_equal(got, golden(acc + bias, m, -128, 127))


def test_requant_rejects_bad_parameters():
    with pytest.raises(ValueError, match="Lane count"):
        OutputStage(0)
    with pytest.raises(ValueError, match="acc_width"):
        OutputStage(4, acc_width=48)
