"""Convolution addressing (``hw.isa.ConvCfg`` + ``Gemm(conv=1)``, issue 18) in the Amaranth
simulator: dense KxK convs with stride and zero padding, depthwise convs (diagonal weight
tiles, one conv GEMM per activation plane) and a global average pool read their input feature
map straight from activation memory (no host im2col), and their int8 outputs after
``REQUANT`` equal the integer golden (``sw.ref.quant``: ``conv2d_acc`` + ``requantize``)
exactly; ``cnt_total`` equals ``sw.latency.rtl.accel_commands_cycles``."""

from dataclasses import replace

import numpy as np
import pytest

from hw import isa
from hw.config import ArrayConfig
from sw.latency.rtl import accel_commands_cycles
from sw.mapping.outstage import NetBuilder, place_input
from sw.ref import quant as qref
from tests.hw.test_accel_requant import run_accel

DEPTHS = dict(act_depth=1024, weight_depth=1024, acc_depth=256, cmd_depth=64)


def _nchw(t, cfg, act):
    n, h, w = t.shape
    return t.read(cfg, act).reshape(n, h, w, t.N).transpose(0, 3, 1, 2)


def _params(rng, n):
    mult = rng.uniform(0.002, 0.02, n).astype(np.float32)
    bias = rng.integers(-300, 300, n).astype(np.int32)
    return mult, bias


def _run(cfg, nb):
    prog = nb.build()
    res = run_accel(cfg, prog.act, prog.weight, prog.words, 0, prog.act_words, max_cycles=60000)
    assert not res["error"]
    assert res["counters"][0] == accel_commands_cycles(prog.commands, cfg.rows, cfg.cols)
    return prog, dict(enumerate(res["act"]))


@pytest.mark.parametrize(
    "array, x_shape, cout, kernel, stride, pad",
    [
        ((3, 4), (2, 5, 5, 6), 5, (3, 3), (2, 2), (1, 1)),
        ((4, 4), (1, 3, 6, 5), 6, (3, 2), (1, 2), (2, 0)),
        ((2, 3), (1, 3, 4, 4), 4, (1, 1), (2, 1), (0, 0)),
    ],
    ids=["3x4-k3s2p1-batch2", "4x4-k3x2-s1x2-p2x0", "2x3-pointwise-s2x1"],
)
def test_conv_addressing_dense_exact(array, x_shape, cout, kernel, stride, pad):
    cfg = ArrayConfig(*array, **DEPTHS)
    rng = np.random.default_rng(sum(x_shape) + cout)
    x = rng.integers(-128, 128, x_shape).astype(np.int8)
    wgt = rng.integers(-128, 128, (cout, x_shape[1], *kernel)).astype(np.int8)
    mult, bias = _params(rng, cout)
    nb = NetBuilder(cfg, reuse_acc=True)
    src = place_input(nb.b, x)
    t = nb.conv(src, wgt, bias, mult, (-128, 127), stride, pad)
    prog, act = _run(cfg, nb)
    want = qref.requantize(qref.conv2d_acc(x, wgt, bias, stride, pad), mult)
    np.testing.assert_array_equal(_nchw(t, cfg, act), want)
    assert sum(isinstance(c, isa.ConvCfg) for c in prog.commands) == 1


@pytest.mark.parametrize("array", [(3, 3), (2, 4), (4, 2)], ids=str)
def test_depthwise_and_avgpool_on_chip_exact(array):
    """conv 3x3 s1 -> depthwise 3x3 s2 (ReLU6 clamp) -> global average pool, one program;
    also on non-square arrays, where the depthwise output planes differ from the input's."""
    cfg = ArrayConfig(*array, **DEPTHS)
    rng = np.random.default_rng(array[0] * 7 + array[1])
    x = rng.integers(-128, 128, (1, 2, 6, 6)).astype(np.int8)
    c = 5
    w1 = rng.integers(-128, 128, (c, 2, 3, 3)).astype(np.int8)
    m1, b1 = _params(rng, c)
    wd = rng.integers(-128, 128, (c, 1, 3, 3)).astype(np.int8)
    md, bd = _params(rng, c)
    md *= 8
    nb = NetBuilder(cfg, reuse_acc=True)
    t0 = place_input(nb.b, x)
    t1 = nb.conv(t0, w1, b1, m1, (-128, 127), (1, 1), (1, 1))
    t2 = nb.depthwise(t1, wd, bd, md, (0, 100), (2, 2), (1, 1))
    t3 = nb.avgpool(t2, in_scale=0.05, out_scale=0.04)
    prog, act = _run(cfg, nb)
    y1 = qref.requantize(qref.conv2d_acc(x, w1, b1, (1, 1), (1, 1)), m1)
    y2 = qref.requantize(qref.conv2d_acc(y1, wd, bd, (2, 2), (1, 1), groups=c), md, 0, 100)
    y3 = qref.global_avgpool(y2, 0.05, 0.04)
    np.testing.assert_array_equal(_nchw(t1, cfg, act), y1)
    np.testing.assert_array_equal(_nchw(t2, cfg, act), y2)
    np.testing.assert_array_equal(_nchw(t3, cfg, act), y3)


def test_conv_gemm_malformed_words_set_error():
    """A conv GEMM before any CONV, one whose m or kfolds disagree with the geometry, and one
    reading past the activation memory each raise ``error`` (and the compiler names the
    field first)."""
    cfg = ArrayConfig(2, 2, **DEPTHS)
    geom = isa.ConvCfg(n=1, h=4, w=4, ho=2, wo=2, kh=3, kw=3, sh=2, sw=2, pt=1, pl=1, cfolds=2)
    good = isa.Gemm(m=4, kfolds=18, nfolds=1, a_addr=0, w_addr=0, acc_addr=0, conv=1)
    cases = {
        "no CONV": ([good], "needs a ConvCfg"),
        "m": ([geom, replace(good, m=5)], "Gemm.m=5"),
        "kfolds": ([geom, replace(good, kfolds=9)], "Gemm.kfolds=9"),
        "range": ([geom, replace(good, a_addr=1000)], "a_addr=1000"),
    }
    for name, (cmds, msg) in cases.items():
        with pytest.raises(ValueError, match=msg):
            isa.encode_program([*cmds, isa.Halt()], cfg)
        words = [isa.encode(c) for c in cmds] + [0]
        act = {a: 0x0101 for a in range(40)}
        res = run_accel(cfg, act, {}, words, 0, 40)
        assert res["error"], name
        assert res["act"] == [0x0101] * 40, name
    ok = [geom, good, isa.Halt()]
    res = run_accel(cfg, {}, {}, isa.encode_program(ok, cfg), 0, 1)
    assert not res["error"]
    assert res["counters"][0] == accel_commands_cycles(ok, 2, 2)


def _line_fuse_case(cfg, x, taps, orient, stride, pad):
    """ONE program: CONV geometry + ``Fuse(lines=1)`` over plane 0 of ``x``; returns the
    program, the line-major result ``[groups*rows, J]`` and the golden."""
    from sw.mapping.accel import FusePlacement, ProgramBuilder

    R, C = cfg.rows, cfg.cols
    n, ch, h, w = x.shape
    K = taps.shape[1]
    b = ProgramBuilder(cfg)
    src = place_input(b, x)
    if orient == "row":
        L, wo = w, (w + 2 * pad - K) // stride + 1
        ho = (h - 1) // stride + 1
        geom = isa.ConvCfg(n=n, h=h, w=w, ho=ho, wo=wo, kh=1, kw=K, sh=stride, sw=stride, pl=pad)
        groups = n * ho
    else:
        L, ho = h, (h + 2 * pad - K) // stride + 1
        wo = (w - 1) // stride + 1
        geom = isa.ConvCfg(n=n, h=h, w=w, ho=ho, wo=wo, kh=K, kw=1, sh=stride, sw=stride, pt=pad)
        groups = n * wo
    J = L + 2 * pad - K + 1
    pfolds = -(-J // C)
    w0 = b.w_next
    tp = np.zeros((max(R, C), K), np.int64)
    tp[:ch] = taps
    from sw.mapping.gemm import pack_lanes

    for i in range(K):
        b.prog.weight[w0 + i] = pack_lanes(tp[:, K - 1 - i], cfg.weight_width)
    b.w_next += K
    cmd = isa.Fuse(
        k=K, groups=groups, pfolds=pfolds, a_addr=src.addr, w_addr=w0, acc_addr=0, lines=1
    )
    b._place(geom, "CONV")
    b._place(cmd, "FUSE")
    b.prog.placements.append(FusePlacement(groups * R, J, K, 0))
    prog = b.build()
    want = np.zeros((groups * R, J), np.int64)
    for g in range(groups):
        nn_, o = divmod(g, ho if orient == "row" else wo)
        for r in range(ch):
            line = x[nn_, r, o * stride, :] if orient == "row" else x[nn_, r, :, o * stride]
            padded = np.pad(line.astype(np.int64), pad)
            want[g * R + r] = np.correlate(padded, taps[r].astype(np.int64), "valid")
    return prog, want


@pytest.mark.parametrize(
    "array, orient, shape, K, stride, pad",
    [
        ((3, 4), "row", (2, 3, 4, 7), 3, 2, 1),
        ((3, 4), "col", (1, 2, 6, 3), 3, 1, 1),
        ((4, 2), "col", (2, 4, 5, 4), 5, 2, 2),
        ((2, 5), "row", (1, 2, 3, 9), 2, 1, 0),
    ],
    ids=["3x4-1x3-s2-batch2", "3x4-3x1", "4x2-5x1-s2-p2-batch2", "2x5-1x2-p0"],
)
def test_fuse_line_addressing_exact(array, orient, shape, K, stride, pad):
    """``Fuse(lines=1)`` reads 1xK lines along image rows, Kx1 lines down image columns
    (stride ``W`` in memory, no host transposition), zero padding at both ends, every
    ``stride``-th line, a batch of images: the accumulator equals ``np.correlate`` of every
    padded line exactly and the cycles equal a plain FUSE of the same fields."""
    cfg = ArrayConfig(*array, max_kernel=5, **DEPTHS)
    rng = np.random.default_rng(sum(shape) * K)
    x = rng.integers(-128, 128, shape).astype(np.int8)
    taps = rng.integers(-128, 128, (shape[1], K)).astype(np.int8)
    prog, want = _line_fuse_case(cfg, x, taps, orient, stride, pad)
    res = run_accel(cfg, prog.act, prog.weight, prog.words, prog.acc_words_used, 1, 60000)
    assert not res["error"]
    (got,) = prog.outputs(res["acc"])
    np.testing.assert_array_equal(got, want)
    assert res["counters"][0] == accel_commands_cycles(prog.commands, cfg.rows, cfg.cols)


@pytest.mark.parametrize(
    "array, kernel, stride, pad, shape",
    [
        ((3, 4), (1, 3), (2, 2), (0, 1), (2, 5, 5, 7)),
        ((3, 4), (3, 1), (1, 1), (1, 0), (1, 4, 6, 3)),
        ((4, 2), (5, 1), (2, 2), (2, 0), (1, 3, 7, 4)),
        ((2, 5), (1, 2), (1, 2), (0, 0), (2, 3, 3, 9)),
    ],
    ids=["3x4-1x3-s2", "3x4-3x1", "4x2-5x1-s2", "2x5-1x2-s1x2"],
)
def test_fuse_layer_on_chip_exact(array, kernel, stride, pad, shape):
    """A FuSe depthwise layer in the FuSe mode with no host step: ``Fuse(lines=1)`` per
    plane and ``Requant(lines=1)`` (corner turn, stride along the line, clamp); the int8
    output equals ``requantize(conv2d_acc(groups=C))`` exactly, cycles == model."""
    cfg = ArrayConfig(*array, max_kernel=5, **DEPTHS)
    rng = np.random.default_rng(sum(shape) + sum(kernel))
    x = rng.integers(-128, 128, shape).astype(np.int8)
    c = shape[1]
    wgt = rng.integers(-128, 128, (c, 1, *kernel)).astype(np.int8)
    mult, bias = _params(rng, c)
    mult *= 4
    nb = NetBuilder(cfg, reuse_acc=True)
    src = place_input(nb.b, x)
    t = nb.fuse_lines(src, wgt, bias, mult, (-5, 90), stride, pad)
    prog, act = _run(cfg, nb)
    want = qref.requantize(qref.conv2d_acc(x, wgt, bias, stride, pad, groups=c), mult, -5, 90)
    np.testing.assert_array_equal(_nchw(t, cfg, act), want)
    assert any(isinstance(cmd, isa.Requant) and cmd.lines for cmd in prog.commands)


def test_docs_worked_example():
    """docs/accelerator.md "Worked example: a 3x3 conv and a 1x3 FuSe layer": the command
    words, the cycle count and both layers' outputs (which also equal the golden)."""
    cfg = ArrayConfig(2, 2, act_depth=256, weight_depth=256, acc_depth=64, cmd_depth=16)
    x = (np.arange(18).reshape(1, 2, 3, 3) - 9).astype(np.int8)
    w0 = np.array(
        [
            [[[1, 0, -1], [2, 0, -2], [1, 0, -1]], [[0, 1, 0], [1, -4, 1], [0, 1, 0]]],
            [[[0, 0, 0], [0, 1, 0], [0, 0, 0]], [[1, 1, 1], [1, 1, 1], [1, 1, 1]]],
        ],
        np.int8,
    )
    b0, m0 = np.array([3, -5], np.int32), np.array([0.5, 0.25], np.float32)
    w1 = np.array([[[[1, 2, -1]]], [[[-2, 0, 3]]]], np.int8)
    b1, m1 = np.array([0, 4], np.int32), np.array([0.125, 0.25], np.float32)
    nb = NetBuilder(cfg, reuse_acc=True)
    t1 = nb.conv(place_input(nb.b, x), w0, b0, m0, (0, 127), (1, 1), (1, 1))
    t2 = nb.fuse_lines(t1, w1, b1, m1, (-128, 127), (1, 1), (0, 1))
    prog, act = _run(cfg, nb)
    assert [hex(w) for w in prog.words] == [
        "0x44493300300300300300105",
        "0x1009000911",
        "0x7f00000000001200009000001000903",
        "0x44093100300300300300105",
        "0x1a00009002003000312",
        "0x7f80000000001d00012000003000213",
        "0x0",
    ]
    assert accel_commands_cycles(prog.commands, 2, 2) == 192
    y1 = qref.requantize(qref.conv2d_acc(x, w0, b0, (1, 1), (1, 1)), m0, 0, 127)
    y2 = qref.requantize(qref.conv2d_acc(y1, w1, b1, (1, 1), (0, 1), groups=2), m1)
    np.testing.assert_array_equal(_nchw(t1, cfg, act), y1)
    np.testing.assert_array_equal(_nchw(t2, cfg, act), y2)
    np.testing.assert_array_equal(
        y1[0], [[[14, 0, 0], [10, 0, 0], [0, 0, 0]], [[0, 0, 0], [2, 6, 4], [3, 6, 4]]]
    )
    np.testing.assert_array_equal(
        y2[0], [[[4, 2, 0], [2, 1, 0], [0, 0, 0]], [[1, 1, 1], [6, 3, -2], [6, 2, -2]]]
    )


@pytest.mark.parametrize(
    "array, shape, kernel, stride, pad",
    [
        ((3, 4), (2, 5, 7, 6), (3, 3), (2, 2), (1, 1)),
        ((2, 2), (1, 3, 4, 5), (2, 3), (1, 2), (0, 1)),
    ],
    ids=["3x4-3x3s2p1-batch2", "2x2-2x3-s1x2"],
)
def test_maxpool_on_chip_exact(array, shape, kernel, stride, pad):
    """``MAXPOOL`` per plane equals ``sw.ref.quant.maxpool2d`` (padding never wins), cycles
    == model (``m*kh*kw + 1`` RUN cycles)."""
    cfg = ArrayConfig(*array, **DEPTHS)
    rng = np.random.default_rng(sum(shape))
    x = rng.integers(-128, 128, shape).astype(np.int8)
    x[0, 0, 0, :] = -128  # windows of -128 only next to the padding
    nb = NetBuilder(cfg, reuse_acc=True)
    t = nb.maxpool(place_input(nb.b, x), kernel, stride, pad)
    prog, act = _run(cfg, nb)
    np.testing.assert_array_equal(_nchw(t, cfg, act), qref.maxpool2d(x, kernel, stride, pad))
    assert sum(isinstance(c, isa.MaxPool) for c in prog.commands) == -(-shape[1] // cfg.rows)


def _raw(layout, **fields) -> int:
    """A command word from raw field values (no checks: malformed on purpose)."""
    word = 0
    for name, value in fields.items():
        lo, width = layout[name]
        assert 0 <= value < (1 << width)
        word |= value << lo
    return word


_ROW = dict(n=1, h=4, w=5, ho=4, wo=5, kh=1, kw=3, sh=1, sw=1, pt=0, pl=1, cfolds=1)
_SQ = dict(n=1, h=4, w=4, ho=2, wo=2, kh=3, kw=3, sh=2, sw=2, pt=1, pl=1, cfolds=1)
_CONV = isa.Op.CONV
_MALFORMED = {
    "CONV kh=0": [_raw(isa.CONV_FIELDS, op=_CONV, **{**_ROW, "kh": 0})],
    "CONV reserved": [_raw(isa.CONV_FIELDS, op=_CONV, reserved=1, **_ROW)],
    "FUSE lines, no CONV": [isa.encode(isa.Fuse(k=3, groups=4, pfolds=3, w_addr=0, lines=1))],
    "FUSE lines, k": [
        isa.encode(isa.ConvCfg(**_ROW)),
        isa.encode(isa.Fuse(k=2, groups=4, pfolds=3, lines=1)),
    ],
    "FUSE lines, groups": [
        isa.encode(isa.ConvCfg(**_ROW)),
        isa.encode(isa.Fuse(k=3, groups=3, pfolds=3, lines=1)),
    ],
    "FUSE lines, 3x3 geometry": [
        isa.encode(isa.ConvCfg(**_SQ)),
        isa.encode(isa.Fuse(k=3, groups=2, pfolds=1, lines=1)),
    ],
    "REQUANT lines, folds": [
        isa.encode(isa.ConvCfg(**_ROW)),
        isa.encode(isa.Requant(m=3, folds=5, a_addr=50, p_addr=0, lines=1)),
    ],
    "MAXPOOL, no CONV": [isa.encode(isa.MaxPool(m=4, out_addr=50, kh=3, kw=3))],
    "MAXPOOL, m": [
        isa.encode(isa.ConvCfg(**_SQ)),
        isa.encode(isa.MaxPool(m=5, out_addr=50, kh=3, kw=3)),
    ],
    "MAXPOOL, kernel": [
        isa.encode(isa.ConvCfg(**_SQ)),
        isa.encode(isa.MaxPool(m=4, out_addr=50, kh=2, kw=3)),
    ],
    "MAXPOOL, out_addr": [
        isa.encode(isa.ConvCfg(**_SQ)),
        isa.encode(isa.MaxPool(m=4, out_addr=1022, kh=3, kw=3)),
    ],
}


@pytest.mark.parametrize("case", list(_MALFORMED))
def test_new_commands_malformed_set_error_memory_intact(case):
    """Malformed CONV, line-addressed FUSE, line REQUANT and MAXPOOL words raise ``error``
    and leave the activation and accumulator memories as they were (and the program-level
    check names the field first, where the record itself can be built)."""
    cfg = ArrayConfig(2, 2, max_kernel=3, **DEPTHS)
    words = [*_MALFORMED[case], 0]
    act = {a: (a * 37 + 11) & 0xFFFF for a in range(64)}
    res = run_accel(cfg, act, {a: 1 for a in range(16)}, words, 8, 64)
    assert res["error"], case
    assert res["act"] == [act[a] for a in range(64)], case
    assert res["acc"] == [0] * 8, case
    try:  # the software side refuses the same program: the decoder or the program check
        recs = [isa.decode(w) for w in words[:-1]]
    except ValueError:
        return
    with pytest.raises(ValueError):
        isa.encode_program([*recs, isa.Halt()], cfg)
