"""Residual adder (``hw.resadd.ResidualAdd``) in the Amaranth simulator, and its integer model
(``sw.ref.outstage.add_int``): both equal the golden ``sw.ref.quant.add_requant`` (numpy
float32) exactly; the model on every (a, b) pair for hundreds of multiplier pairs."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from hw.resadd import LATENCY, ResidualAdd
from sw.ref import quant as qref
from sw.ref.outstage import add_int, add_multipliers_bits

#: multiplier pairs: exact ties ((a + b) / 2), signs, far-apart exponents, random ones
PAIRS = [
    (1.0, 1.0),
    (0.5, 0.5),
    (0.75, 0.25),
    (1.5, -0.5),
    (1.0, -1.0),
    (2.0**-20, 1.0),
    (3.0, 2.0**-30),
    (100.0, 0.01),
    (0.3333333, 0.6666667),
    (2.0**-99, 2.0**99),
]


def tie_cases():
    """(a, b, ma, mb) whose exact float32 sum lies at, just above or just below a halfway
    point next to ``n + 1/2``: the adder's round-half-to-even and its sticky bit decide the
    integer result (a rounding or sticky mistake changes it)."""
    out = []
    for n in (0, 1, 2, 3, 5, 10, 50, 100, 126, 127, 128, 200):
        t = n + 0.5
        ulp = 2.0 ** (np.floor(np.log2(t)) - 23)
        for dy in (ulp / 2, ulp / 2 + ulp * 2**-10, ulp / 2 - ulp * 2**-17, -ulp / 2, 1.5 * ulp):
            for (a, b), (sx, sy) in (((1, 1), (1, 1)), ((-1, -1), (1, 1)), ((2, 4), (0.5, 0.25))):
                out.append((a, b, t * sx, dy * sy))
                out.append((b, a, dy * sy, t * sx))
    return out


def _random_pairs(n, seed):
    rng = np.random.default_rng(seed)
    out = [
        tuple(float(v) for v in rng.uniform(0.2, 3, 2) * np.where(rng.random(2) < 0.2, -1, 1))
        for _ in range(n)
    ]
    out += [
        tuple(float(v) for v in 2.0 ** rng.integers(-40, 40, 2) * rng.uniform(1, 2, 2))
        for _ in range(n // 2)
    ]
    return out


def golden(a, b, ma, mb, lo=-128, hi=127):
    with np.errstate(over="ignore"):
        return qref.add_requant(
            np.int8(a) if np.isscalar(a) else a.astype(np.int8), b.astype(np.int8), ma, mb, lo, hi
        )


ALL_A, ALL_B = (g.ravel() for g in np.meshgrid(np.arange(-128, 128), np.arange(-128, 128)))


def _check_model(pairs):
    for ma, mb in pairs:
        ba, bb = add_multipliers_bits(ma, mb)
        for lo, hi in ((-128, 127), (0, 100)):
            got = add_int(ALL_A, ALL_B, ba, bb, lo, hi)
            np.testing.assert_array_equal(got, golden(ALL_A, ALL_B, ma, mb, lo, hi), f"{ma}, {mb}")


def test_add_int_every_pair_exact():
    _check_model(PAIRS + _random_pairs(16, 1))


@pytest.mark.slow
def test_add_int_every_pair_many_multipliers_exact():
    _check_model(_random_pairs(300, 11))


def test_add_ties_exact():
    cases = tie_cases()
    a = np.array([c[0] for c in cases])
    b = np.array([c[1] for c in cases])
    got = [add_int(x, y, *add_multipliers_bits(ma, mb)) for x, y, ma, mb in cases]
    want = [golden(np.array([x]), np.array([y]), ma, mb)[0] for x, y, ma, mb in cases]
    np.testing.assert_array_equal(got, want)
    assert len(set(want)) > 10 and a.size == b.size


def test_add_multipliers_bits_rejects_out_of_range():
    for bad in (0.0, 2.0**-120, 2.0**101, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="m_b"):
            add_multipliers_bits(1.0, bad)


def rtl_resadd(cases, lanes=8):
    """``cases``: list of (a[lanes], b[lanes], ma, mb, lo, hi) words. Returns outputs and the
    (input cycle, output cycle) of each word."""
    dut = ResidualAdd(lanes)
    outs, t_in, t_out = [], [], []

    def pack(v):
        return sum((int(x) & 0xFF) << (8 * i) for i, x in enumerate(v))

    async def bench(ctx):
        cyc, w = 0, 0
        while len(outs) < len(cases):
            if w < len(cases):
                a, b, ma, mb, lo, hi = cases[w]
                ba, bb = add_multipliers_bits(ma, mb)
                ctx.set(dut.i_valid, 1)
                ctx.set(dut.a.as_value(), pack(a))
                ctx.set(dut.b.as_value(), pack(b))
                ctx.set(dut.ma, ba)
                ctx.set(dut.mb, bb)
                ctx.set(dut.lo, lo)
                ctx.set(dut.hi, hi)
                t_in.append(cyc)
                w += 1
            else:
                ctx.set(dut.i_valid, 0)
            await ctx.tick()
            cyc += 1
            if ctx.get(dut.o_valid):
                word = ctx.get(dut.out.as_value())
                outs.append(
                    [
                        ((word >> (8 * i)) & 0xFF) - (256 if (word >> (8 * i + 7)) & 1 else 0)
                        for i in range(lanes)
                    ]
                )
                t_out.append(cyc)
            assert cyc < len(cases) + 100

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return np.array(outs), list(zip(t_in, t_out, strict=True))


def _cases(pairs, per_pair, seed, lanes=8):
    rng = np.random.default_rng(seed)
    cases, want = [], []
    for k, (ma, mb) in enumerate(pairs):
        lo, hi = ((-128, 127), (0, 127), (-10, 90))[k % 3]
        idx = rng.choice(ALL_A.size, per_pair * lanes, replace=False)
        # always include the extremes
        idx[:4] = [0, ALL_A.size - 1, 128, 255 * 256]
        a, b = ALL_A[idx], ALL_B[idx]
        g = golden(a, b, ma, mb, lo, hi)
        for w in range(per_pair):
            sl = slice(w * lanes, (w + 1) * lanes)
            cases.append((a[sl], b[sl], ma, mb, lo, hi))
            want.append(g[sl])
    return cases, np.array(want)


def test_resadd_rtl_exact():
    cases, want = _cases(PAIRS + _random_pairs(20, 2), 12, seed=3)
    for x, y, ma, mb in tie_cases():  # one per word, the other lanes repeat it
        cases.append((np.full(8, x), np.full(8, y), ma, mb, -128, 127))
        want = np.vstack([want, np.full(8, golden(np.array([x]), np.array([y]), ma, mb)[0])])
    got, times = rtl_resadd(cases)
    np.testing.assert_array_equal(got, want)
    assert all(o - i == LATENCY for i, o in times)
    assert [i for i, _ in times] == list(range(len(cases)))


@pytest.mark.slow
def test_resadd_rtl_every_pair_exact():
    for ma, mb in PAIRS[:4]:
        ba = ALL_A.reshape(-1, 8)
        bb = ALL_B.reshape(-1, 8)
        cases = [(x, y, ma, mb, -128, 127) for x, y in zip(ba, bb, strict=True)]
        got, _ = rtl_resadd(cases)
        np.testing.assert_array_equal(got.ravel(), golden(ALL_A, ALL_B, ma, mb))
