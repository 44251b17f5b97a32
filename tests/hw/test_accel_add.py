"""ADD (residual add inside ``hw.accel.Accelerator``) in the Amaranth simulator: a residual
block compiled into ONE program (``sw.mapping.outstage.NetBuilder``: GEMM+REQUANT layers, an
ADD of two on-chip tensors, a layer reading the sum) equals the golden (``sw.ref.quant``)
exactly at every tensor; ``cnt_total`` == ``sw.latency.rtl.accel_commands_cycles``; malformed
ADD words raise ``error`` with memory intact."""

import numpy as np
import pytest

from hw import isa
from hw.config import ArrayConfig
from sw.latency.rtl import accel_add_cycles, accel_commands_cycles
from sw.mapping.outstage import NetBuilder
from sw.ref import quant as qref
from tests.hw.test_accel_requant import SMALL, random_chain, run_accel


def residual_block(cfg, seed, M=5, C0=None, clamp=(-128, 127), mults=(0.75, 0.5)):
    rng = np.random.default_rng(seed)
    c0 = C0 or cfg.cols + 1
    x, layers = random_chain(
        rng, M, [2 * cfg.rows + 1, c0, c0, 3], [(0, 127), (-128, 127), (0, 127)]
    )
    nb = NetBuilder(cfg)
    t0 = nb.linear(nb.input(x), layers[0])
    t1 = nb.linear(t0, layers[1])
    t2 = nb.add(t0, t1, *mults, clamp)
    t3 = nb.linear(t2, layers[2])
    prog = nb.build()
    # golden
    g0 = qref.requantize(
        qref.linear_acc(x, layers[0].weight.T, layers[0].bias), layers[0].mult, *layers[0].clamp
    )
    g1 = qref.requantize(
        qref.linear_acc(g0, layers[1].weight.T, layers[1].bias), layers[1].mult, *layers[1].clamp
    )
    g2 = qref.add_requant(g0, g1, np.float32(mults[0]), np.float32(mults[1]), *clamp)
    g3 = qref.requantize(
        qref.linear_acc(g2, layers[2].weight.T, layers[2].bias), layers[2].mult, *layers[2].clamp
    )
    return prog, (t0, t1, t2, t3), (g0, g1, g2, g3)


@pytest.mark.parametrize("array", [(1, 1), (2, 2), (3, 5), (5, 3)], ids=str)
def test_accel_residual_block_exact(array):
    cfg = ArrayConfig(*array, **SMALL)
    prog, tensors, golden = residual_block(cfg, seed=array[0] * 7 + array[1], clamp=(-100, 120))
    res = run_accel(cfg, prog.act, prog.weight, prog.words, prog.acc_words_used, prog.act_words)
    assert not res["error"]
    act = dict(enumerate(res["act"]))
    for t, g in zip(tensors, golden, strict=True):
        np.testing.assert_array_equal(t.read(cfg, act), g)
    assert len({int(v) for v in golden[2].ravel()}) > 5  # the add's output is not trivial
    total, busy, stall = res["counters"]
    assert total == accel_commands_cycles(prog.commands, *array)
    assert total == busy + stall + 2 * len(prog.commands)


def test_accel_add_cycles_formula():
    assert isa.PARAM_WORDS == 8 and isa.RESADD_LATENCY == 6
    assert accel_add_cycles(10) == 2 + 8 + 2 * 10 + 6 + 1


def _bad_add_words(cfg):
    good = isa.Add(n=4, b_addr=10, a_addr=20, p_addr=100, out_addr=30, lo=0, hi=127)
    word = isa.encode(good, cfg)
    f = isa.ADD_FIELDS

    def put(name, v):
        lo, w = f[name]
        return (word & ~(((1 << w) - 1) << lo)) | (v << lo)

    return {
        "n=0": put("n", 0),
        "lo>hi": put("lo", 5) & ~(0xFF << f["hi"][0]) | (4 << f["hi"][0]),
        "reserved": word | (1 << f["reserved"][0]),
        "flags": word | (1 << f["flags"][0]),
        "a_end": put("a_addr", cfg.act_depth - 3),
        "b_end": put("b_addr", cfg.act_depth - 3),
        "out_end": put("out_addr", cfg.act_depth - 3),
        "p_end": put("p_addr", cfg.weight_depth - 7),
    }


@pytest.mark.parametrize("bad", list(_bad_add_words(ArrayConfig(2, 2, **SMALL))))
def test_accel_add_malformed_sets_error_memory_intact(bad):
    cfg = ArrayConfig(2, 2, **SMALL)
    word = _bad_add_words(cfg)[bad]
    with pytest.raises(ValueError):
        isa.check_command(isa.decode(word), cfg)
    act = {a: (a * 37) & 0xFFFF for a in range(40)}
    res = run_accel(cfg, act, {}, [word, 0], 1, 64)
    assert res["error"]
    assert {a: v for a, v in enumerate(res["act"]) if v} == {a: v for a, v in act.items() if v}
