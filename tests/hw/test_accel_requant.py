"""REQUANT (the output stage inside ``hw.accel.Accelerator``) in the Amaranth simulator:
chains of GEMM layers compiled into ONE program (``sw.mapping.outstage.compile_chain``) whose
int8 activations stay on chip equal the integer golden (``sw.ref.quant``) exactly, every
layer; ``cnt_total`` equals ``sw.latency.rtl.accel_commands_cycles``; malformed REQUANT words
raise ``error`` with the memories left as they were."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from hw import isa
from hw.accel import Accelerator
from hw.config import ArrayConfig
from sw.latency.rtl import accel_commands_cycles, accel_requant_cycles
from sw.mapping.outstage import ChainLayer, compile_chain
from sw.ref import quant as qref

SMALL = dict(act_depth=256, weight_depth=256, acc_depth=256, cmd_depth=16)


def run_accel(cfg, act, weight, words, acc_words, act_read, max_cycles=20000):
    """Load through the plain host ports, run to done; returns accumulator words, activation
    words ``0..act_read-1`` (read from the memory itself), error, counters."""
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
        assert res["counters"][0] == n
        out = []
        for a in range(acc_words):
            ctx.set(dut.acc_raddr, a)
            await ctx.tick()
            out.append(ctx.get(dut.acc_rdata))
        res["acc"] = out
        mem = dut.probe.mems["act"].data
        res["act"] = [ctx.get(mem[a]).as_value().value for a in range(act_read)]

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return res


def random_chain(rng, M, widths, clamps):
    """Input and layers with multipliers that spread the outputs over the int8 range (some
    saturate), per-channel float32 multipliers and int32 biases."""
    x = rng.integers(-128, 128, (M, widths[0]))
    layers = []
    for i, (k, n) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        w = rng.integers(-127, 128, (k, n))
        bias = rng.integers(-3000, 3000, n).astype(np.int32)
        scale = 127.0 / (np.sqrt(k) * 128 * 64)
        mult = (scale * rng.uniform(0.2, 2.0, n)).astype(np.float32)
        layers.append(ChainLayer(w, bias, mult, clamps[i % len(clamps)]))
    return x, layers


def golden_chain(x, layers):
    outs = []
    for layer in layers:
        acc = qref.linear_acc(x, np.asarray(layer.weight).T, layer.bias)
        x = qref.requantize(acc, layer.mult, *layer.clamp).astype(np.int64)
        outs.append(x)
    return outs


ARRAYS = [
    (1, 1),
    (3, 5),
    (5, 3),
    pytest.param((2, 2), marks=pytest.mark.slow),
    pytest.param((4, 4, False), marks=pytest.mark.slow),
    pytest.param((2, 4), marks=pytest.mark.slow),
]


@pytest.mark.parametrize("array", ARRAYS, ids=str)
def test_accel_requant_chain_exact(array):
    rows, cols, *fuse = array
    cfg = ArrayConfig(rows, cols, fuse=fuse[0] if fuse else True, **SMALL)
    rng = np.random.default_rng(rows * 10 + cols)
    widths = [2 * rows + 1, 2 * cols + 1, cols + 2, 3]
    x, layers = random_chain(rng, 5, widths, [(0, 127), (-128, 127), (0, 40)])
    chain = compile_chain(x, layers, cfg)
    prog = chain.program
    res = run_accel(cfg, prog.act, prog.weight, prog.words, prog.acc_words_used, prog.act_words)
    assert not res["error"]
    want = golden_chain(x, layers)
    # the last layer's int8 output, read from activation memory
    act = dict(enumerate(res["act"]))
    np.testing.assert_array_equal(chain.output_from_act(act), want[-1])
    # every GEMM's raw accumulator (its input was the previous REQUANT's int8 output)
    accs = prog.outputs(res["acc"])
    for li, layer in enumerate(layers):
        inp = x if li == 0 else want[li - 1]
        np.testing.assert_array_equal(accs[li][:, : layer.weight.shape[1]], inp @ layer.weight)
    total, busy, stall = res["counters"]
    assert total == accel_commands_cycles(prog.commands, rows, cols)
    assert total == busy + stall + 2 * len(prog.commands)


def test_accel_requant_cycles_formula_terms():
    """One REQUANT of M rows, N channels: F*(8 + S*M) + OUTSTAGE_LATENCY + 1 RUN cycles + 2."""
    assert isa.OUTSTAGE_LATENCY == 6  # the output stage's pipeline depth (hw/requant.py)
    assert accel_requant_cycles(7, 11, 3, 5) == 2 + 3 * (8 + 2 * 7) + 6 + 1
    assert accel_requant_cycles(7, 11, 5, 3) == 2 + 4 * (8 + 1 * 7) + 6 + 1


def _bad_words(cfg):
    good = isa.Requant(m=4, folds=1, a_addr=100, p_addr=200, acc_addr=0, lo=0, hi=127)
    word = isa.encode(good, cfg)
    lo_bit = isa.REQUANT_FIELDS["lo"][0]
    hi_bit = isa.REQUANT_FIELDS["hi"][0]
    return {
        "lo>hi": (word & ~(0xFFFF << lo_bit)) | (5 << lo_bit) | (4 << hi_bit),
        "zero": word | (1 << isa.REQUANT_FIELDS["zero"][0]),
        "reserved": word | (1 << isa.REQUANT_FIELDS["reserved"][0]),
        "flags": word | (1 << (isa.REQUANT_FIELDS["flags"][0] + 1)),  # bit 0 is `lines`
        "m=0": word & ~(0xFFFF << isa.REQUANT_FIELDS["m"][0]),
        "folds=0": word & ~(0xFFF << isa.REQUANT_FIELDS["folds"][0]),
        "act_end": (word & ~(0xFFFFF << 48)) | ((cfg.act_depth - 3) << 48),
        "p_end": (word & ~(0xFFFFF << 68)) | ((cfg.weight_depth - 7) << 68),
        "acc_end": (word & ~(0xFFFFF << 88)) | ((cfg.acc_depth - 3) << 88),
    }


@pytest.mark.parametrize("bad", list(_bad_words(ArrayConfig(2, 2, **SMALL))))
def test_accel_requant_malformed_sets_error_memory_intact(bad):
    cfg = ArrayConfig(2, 2, **SMALL)
    rng = np.random.default_rng(3)
    x, layers = random_chain(rng, 4, [3, 3], [(0, 127)])
    chain = compile_chain(x, layers, cfg)
    prog = chain.program
    words = list(prog.words)
    words[1] = _bad_words(cfg)[bad]  # the REQUANT after the GEMM
    with pytest.raises(ValueError):  # the compiler side names the same problem
        isa.check_command(isa.decode(words[1]), cfg)
    res = run_accel(cfg, prog.act, prog.weight, words, prog.acc_words_used, cfg.act_depth)
    assert res["error"]
    # the GEMM before it kept its result; activation memory is exactly what was loaded
    np.testing.assert_array_equal(prog.outputs(res["acc"])[0], x @ layers[0].weight)
    assert {a: v for a, v in enumerate(res["act"]) if v} == {a: v for a, v in prog.act.items() if v}


def test_accel_requant_needs_int8_activations():
    """Without the output stage (act_width != 8) REQUANT is a malformed opcode."""
    cfg = ArrayConfig(2, 2, act_width=6, **SMALL)
    word = isa.encode(isa.Requant(m=1, folds=1, a_addr=0, p_addr=0, acc_addr=0))
    with pytest.raises(ValueError, match="act_width"):
        isa.check_command(isa.decode(word), cfg)
    res = run_accel(cfg, {}, {}, [word, 0], 1, 1)
    assert res["error"]


def test_accel_requant_docs_worked_example():
    """The two-layer example of docs/accelerator.md ("REQUANT: worked example") on 2x2."""
    cfg = ArrayConfig(2, 2, **SMALL)
    x = np.array([[1, 2, 3], [4, 5, 6]])
    w0, b0 = np.array([[-4, 3], [2, -1], [0, 5]]), np.array([10, -20], np.int32)
    w1, b1 = np.array([[1, -2], [3, 1]]), np.array([0, 7], np.int32)
    layers = [
        ChainLayer(w0, b0, np.array([0.25, 0.5], np.float32), (0, 127)),
        ChainLayer(w1, b1, np.array([0.125, 1.0], np.float32)),
    ]
    chain = compile_chain(x, layers, cfg)
    prog = chain.program
    assert [hex(w) for w in prog.words] == [
        "0x1002000201",
        "0x7f00000000000400004000001000203",
        "0x20000c00004001001000201",
        "0x7f80000020000e00006000001000203",
        "0x0",
    ]
    res = run_accel(cfg, prog.act, prog.weight, prog.words, prog.acc_words_used, prog.act_words)
    assert res["act"][4:8] == [0x0002, 0x0801, 0x0300, 0x0D03]
    np.testing.assert_array_equal(
        chain.output_from_act(dict(enumerate(res["act"]))), [[0, 3], [3, 13]]
    )
    assert res["counters"][0] == 11 + 19 + 9 + 19 + 2 == 60
