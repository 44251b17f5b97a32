"""Whole layers on the accelerator top (``hw.accel``): ``sim.run_layer`` / ``run_layers`` (the
default ``backend="accel"``: each layer its own program) and ``sim.accel.accel_layers`` (all the
layers back to back in ONE program, GEMM <-> FuSe mode switches without draining).

Every mapping: multi-fold GEMM (conv via host im2col, Linear with bias, pointwise with batch 2),
3x3 conv with stride and padding, a rectangular kernel, the per-channel depthwise baseline
3x3 / 5x5 with stride, FuSe 1xK and Kx1 with stride and padding up to ``max_kernel``, and a
1x1 depthwise (FuSe with K = 1). Outputs == torch (float64 on integer values, exact below
2**53) exactly, as int64; ``cycles`` (the ``cnt_total`` counter) == the documented formulas of
``sw.latency.rtl`` exactly, ``busy`` too.

Cost: every (simulator, array) runs two simulator processes (the layers as separate programs
in one process, then as one program), 500 to 3,700 cycles each (most at 1x1). Icarus: all six
shapes in the default run (~2 s of startup per process, ~1 k cycles/s, an 8x8 build ~4 s).
Verilator: the five shapes below 8x8 share the builds of ``tests/sim/test_accel_rtl.py``
(same ``DEPTHS``) and run in ~2 s each; 8x8 would need a Verilator build of its own (20-50 s)
for a shape the Icarus run already covers, so it is ``slow``.
"""

from __future__ import annotations

from math import ceil

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from hw.config import DEPTH_FIELDS, ArrayConfig
from sim import run_layer, run_layers
from sim.accel import accel_layers
from sw.latency.rtl import (
    ACCEL_COMMAND_OVERHEAD,
    accel_depthwise_baseline_cycles,
    accel_fuse_conv_cycles,
    accel_gemm_cycles,
    accel_packed_fuse_conv_cycles,
    gemm_folds,
    packed_fuse_commands,
)
from sw.mapping.accel import MAX_DEPTH, LayerSpec
from tests.conftest import sim_params

#: the one build per array that run_layer / run_network use (memories="shared")
DEPTHS = dict.fromkeys(DEPTH_FIELDS, MAX_DEPTH)
#: small depths (what run_layer's memories="fit" grows from)
SMALL = dict(act_depth=2048, weight_depth=512, acc_depth=1024, cmd_depth=32)


def _out(size, k, s, p):
    return (size + 2 * p - k) // s + 1


class Case:
    """One torch layer with its input and what the accelerator must do with it."""

    def __init__(self, layer, x, mapping, commands, cycles, busy):
        self.layer, self.x, self.mapping = layer, x, mapping
        self.commands = commands  # commands of the layer (HALT excluded)
        self.cycles = cycles  # (R, C) -> cycles of the layer's commands (HALT excluded)
        self.busy = busy  # (R, C) -> cnt_busy

    packed = None  # 1-D layers: (R, C) -> whether "auto" packs the lines

    @property
    def name(self) -> str:
        return repr(self.layer)

    def mapping_on(self, rows: int, cols: int) -> str:
        return "fuse-packed" if self.packed and self.packed(rows, cols) else self.mapping

    def spec(self) -> LayerSpec:
        layer = self.layer
        w = layer.weight.detach().numpy().astype(np.int64)
        b = None if layer.bias is None else layer.bias.detach().numpy().astype(np.int64)
        if isinstance(layer, torch.nn.Linear):
            return LayerSpec(w, b, linear=True, name=self.name)
        return LayerSpec(
            w, b, tuple(layer.stride), tuple(layer.padding), layer.groups, name=self.name
        )

    def expected(self) -> np.ndarray:
        layer, x = self.layer, self.x.double()
        w = layer.weight.double()
        b = None if layer.bias is None else layer.bias.double()
        if isinstance(layer, torch.nn.Linear):
            y = F.linear(x, w, b)
        else:
            y = F.conv2d(x, w, b, layer.stride, layer.padding, 1, layer.groups)
        return y.detach().numpy().astype(np.int64)


def _int_(layer, gen, bias_range=1000):
    with torch.no_grad():
        layer.weight.copy_(torch.randint(-128, 128, layer.weight.shape, generator=gen))
        if layer.bias is not None:
            layer.bias.copy_(
                torch.randint(-bias_range, bias_range, layer.bias.shape, generator=gen)
            )
    return layer


def _gemm_case(layer, x, M, Kr, N):
    return Case(
        layer,
        x,
        "gemm",
        1,
        lambda R, C: accel_gemm_cycles(M, Kr, N, R, C),
        lambda R, C: M * gemm_folds(Kr, N, R, C),
    )


def _baseline_case(layer, x):
    n, c, h, w = x.shape
    k, s, p = tuple(layer.kernel_size), tuple(layer.stride), tuple(layer.padding)
    m = n * _out(h, k[0], s[0], p[0]) * _out(w, k[1], s[1], p[1])
    return Case(
        layer,
        x,
        "depthwise-baseline",
        c,
        lambda R, C: accel_depthwise_baseline_cycles(n, c, h, w, k, s, p, R, C),
        lambda R, C: c * m * gemm_folds(k[0] * k[1], 1, R, C),
    )


def _fuse_case(layer, x):
    """A 1-D depthwise layer under ``depthwise="auto"``: the plain FuSe mapping, or line
    packing where its documented cycle count is strictly lower (docs/accelerator.md)."""
    n, c, h, w = x.shape
    k, s, p = tuple(layer.kernel_size), tuple(layer.stride), tuple(layer.padding)
    if k[0] == 1:  # 1xK: lines = rows kept by the stride across, positions along at stride 1
        lines, positions, K = n * c * _out(h, 1, s[0], p[0]), w + 2 * p[1] - k[1] + 1, k[1]
    else:  # Kx1: the same on the transposed image
        lines, positions, K = n * c * _out(w, 1, s[1], p[1]), h + 2 * p[0] - k[0] + 1, k[0]

    def packed(R, C):
        return accel_packed_fuse_conv_cycles(n, c, h, w, k, s, p, R, C) < (
            accel_fuse_conv_cycles(n, c, h, w, k, s, p, R, C)
        )

    def cycles(R, C):
        if packed(R, C):
            return accel_packed_fuse_conv_cycles(n, c, h, w, k, s, p, R, C)
        return accel_fuse_conv_cycles(n, c, h, w, k, s, p, R, C)

    def busy(R, C):  # an activation row enters in C + K - 1 cycles of every fold
        if packed(R, C):
            cmds = packed_fuse_commands(n, c, h, w, k, s, p, R, C)
            return sum(ceil(L / R) for L, _, _ in cmds) * (C + K - 1)
        return ceil(lines / R) * ceil(positions / C) * (C + K - 1)

    case = Case(layer, x, "fuse", 1, cycles, busy)
    case.packed = packed
    return case


def _cases(seed: int, max_kernel: int) -> list[Case]:
    """Every mapping, ordered so that GEMM and FUSE commands alternate in one program."""
    gen = torch.Generator().manual_seed(seed)

    def ints(*shape):
        return torch.randint(-128, 128, shape, generator=gen).float()

    def dw(c, k, s, p, bias=False):
        return _int_(torch.nn.Conv2d(c, c, k, stride=s, padding=p, groups=c, bias=bias), gen)

    km = max_kernel
    lin = _int_(torch.nn.Linear(11, 9), gen, 5000)
    conv = _int_(torch.nn.Conv2d(3, 4, 3, stride=2, padding=1), gen)
    rect = _int_(torch.nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 0), bias=False), gen)
    pw = _int_(torch.nn.Conv2d(4, 5, 1, bias=False), gen)
    return [
        _gemm_case(lin, ints(4, 11), 4, 11, 9),  # Linear with bias, row and column folds
        _fuse_case(dw(3, (1, 3), (2, 2), (0, 1), bias=True), ints(1, 3, 5, 6)),
        _gemm_case(conv, ints(1, 3, 6, 6), 9, 27, 4),  # 3x3 s2 p1 (im2col), bias
        _fuse_case(dw(2, (5, 1), (1, 2), (2, 0)), ints(1, 2, 6, 5)),
        _baseline_case(dw(2, 3, 1, 1), ints(1, 2, 4, 4)),
        _fuse_case(dw(2, (1, km), 1, (0, km // 2)), ints(1, 2, 3, 6)),
        _gemm_case(rect, ints(1, 2, 5, 3), 3 * 2, 12, 3),  # (3, 2) kernel, stride (2, 1)
        _fuse_case(dw(2, (km, 1), (2, 1), (km // 2, 0)), ints(1, 2, 5, 2)),
        _baseline_case(dw(2, 5, 2, 2), ints(1, 2, 5, 5)),
        _fuse_case(dw(2, 1, 1, 0), ints(1, 2, 2, 3)),  # 1x1 depthwise: FuSe with K = 1
        _gemm_case(pw, ints(2, 4, 3, 3), 18, 4, 5),  # pointwise, batch 2
    ]


ARRAYS = [(1, 1), (2, 2), (3, 5), (6, 3), (4, 4), (8, 8)]


def _matrix():
    out = []
    for p in sim_params():
        sim = p.values[0]
        for a in ARRAYS:
            slow = sim == "verilator" and a == (8, 8)  # its own 20-50 s build
            marks = [*p.marks, pytest.mark.slow] if slow else p.marks
            out.append(pytest.param(sim, a, marks=marks, id=f"{sim}-{a[0]}x{a[1]}"))
    return out


@pytest.mark.parametrize("simulator, array", _matrix())
def test_every_mapping_on_the_accelerator_exact(simulator, array, require_simulator):
    require_simulator(simulator)
    rows, cols = array
    cfg = ArrayConfig(rows=rows, cols=cols, **DEPTHS)
    cases = _cases(rows * 7 + cols, cfg.max_kernel)
    # each layer its own program (what run_layer does), all in one simulator process
    results = run_layers([(c.layer, c.x) for c in cases], cfg, simulator)
    for case, res in zip(cases, results, strict=True):
        np.testing.assert_array_equal(res.output, case.expected(), err_msg=case.name)
        assert res.output.dtype == np.int64
        assert (res.mapping, res.jobs) == (case.mapping_on(rows, cols), case.commands), case.name
        assert res.cycles == case.cycles(rows, cols) + ACCEL_COMMAND_OVERHEAD, case.name
        assert res.busy == case.busy(rows, cols), case.name
        assert res.cycles == res.busy + res.stall + ACCEL_COMMAND_OVERHEAD * (case.commands + 1)
        assert res.config == cfg  # the layers fit DEPTHS: nothing grown
    # the same layers back to back in ONE program: GEMM and FUSE commands alternate
    run = accel_layers([(c.spec(), c.x.numpy()) for c in cases], cfg, simulator)
    for y, plan, case in zip(run.outputs, run.program.layers, cases, strict=True):
        assert plan.mapping == case.mapping_on(rows, cols), case.name
        np.testing.assert_array_equal(y, case.expected(), err_msg=case.name)
    modes = [plan.mapping.startswith("fuse") for plan in run.program.layers]
    switches = sum(modes[i] != modes[i + 1] for i in range(len(modes) - 1))
    assert switches == 10  # GEMM <-> FUSE mode switches inside the one run
    assert run.cycles == sum(c.cycles(rows, cols) for c in cases) + ACCEL_COMMAND_OVERHEAD
    assert run.busy == sum(c.busy(rows, cols) for c in cases)


@pytest.mark.icarus
def test_run_layer_layers_of_any_size_share_one_build(require_simulator):
    """Default ``memories="shared"``: four layers of different sizes (one needing 40 commands,
    one 2,048 activation words) run with separate ``run_layer`` calls on ONE build: every
    result ran on ``unbounded(cfg)`` (all memories at the command set's 2**20 words), whatever
    depths ``cfg`` gives, and each output is exact."""
    require_simulator("icarus")
    from sim.runner import BUILD_ROOT
    from sw.mapping.accel import MAX_DEPTH, unbounded

    cfg = ArrayConfig(rows=2, cols=2, **SMALL)
    gen = torch.Generator().manual_seed(7)
    dw = _int_(torch.nn.Conv2d(40, 40, 3, groups=40), gen)
    cases = [
        (dw, torch.randint(-128, 128, (1, 40, 3, 3), generator=gen).float(), "baseline"),
        (_int_(torch.nn.Conv2d(3, 4, 3, padding=1), gen), None, "auto"),
        (_int_(torch.nn.Conv2d(4, 4, (1, 3), padding=(0, 1), groups=4), gen), None, "fuse"),
        (_int_(torch.nn.Conv2d(2, 3, 1), gen), None, "auto"),
    ]
    shapes = [None, (1, 3, 6, 6), (1, 4, 5, 7), (1, 2, 32, 64)]
    configs = set()
    for (layer, x, dwm), shape in zip(cases, shapes, strict=True):
        if x is None:
            x = torch.randint(-128, 128, shape, generator=gen).float()
        res = run_layer(layer, x, cfg, "icarus", depthwise=dwm)
        want = torch.nn.functional.conv2d(
            x.double(),
            layer.weight.double(),
            layer.bias.double(),
            layer.stride,
            layer.padding,
            1,
            layer.groups,
        )
        np.testing.assert_array_equal(res.output, want.detach().numpy().astype(np.int64))
        configs.add(res.config)
    assert configs == {unbounded(cfg)}
    (only,) = configs
    assert (only.act_depth, only.weight_depth, only.acc_depth, only.cmd_depth) == (MAX_DEPTH,) * 4
    assert (BUILD_ROOT / "sim" / "icarus" / only.accel_name).is_dir()


@pytest.mark.icarus
def test_run_layer_fit_grows_memories_to_powers_of_two(require_simulator):
    """``memories="fit"``: a layer bigger than ``cfg``'s memories still runs as one program:
    the depths grow to the next power of two (``LayerResult.config``), the cycles do not
    change. Here the 40 per-channel GEMM commands of a baseline depthwise layer (+ HALT)
    overflow ``cmd_depth=32``; ``memories="given"`` refuses it naming the memory."""
    require_simulator("icarus")
    cfg = ArrayConfig(rows=2, cols=2, **SMALL)
    gen = torch.Generator().manual_seed(5)
    conv = _int_(torch.nn.Conv2d(40, 40, 3, groups=40), gen)
    x = torch.randint(-128, 128, (1, 40, 3, 3), generator=gen).float()
    res = run_layer(conv, x, cfg, "icarus", depthwise="baseline", memories="fit")
    case = _baseline_case(conv, x)
    np.testing.assert_array_equal(res.output, case.expected())
    assert (res.mapping, res.jobs) == ("depthwise-baseline", 40)
    assert res.cycles == case.cycles(2, 2) + ACCEL_COMMAND_OVERHEAD
    assert res.config.cmd_depth == 64
    assert (res.config.act_depth, res.config.weight_depth, res.config.acc_depth) == (
        SMALL["act_depth"],
        SMALL["weight_depth"],
        SMALL["acc_depth"],
    )
    with pytest.raises(ValueError, match="cmd_depth=32"):
        run_layer(conv, x, cfg, "icarus", depthwise="baseline", memories="given")
    with pytest.raises(ValueError, match="memories must be one of"):
        run_layer(conv, x, cfg, "icarus", memories="grow")


def test_compile_layers_errors_name_layer_and_memory():
    cfg = ArrayConfig(rows=2, cols=2, act_depth=64)
    spec = LayerSpec(np.ones((4, 3, 3, 3), dtype=np.int64), name="conv1")
    with pytest.raises(ValueError, match=r"conv1 .*act_depth=64"):
        accel_layers([(spec, np.ones((1, 3, 8, 8), dtype=np.int64))], cfg)
    dw = LayerSpec(np.ones((70, 1, 3, 3), dtype=np.int64), groups=70, name="dwbig")
    big = ArrayConfig(rows=2, cols=2, weight_depth=1024)
    with pytest.raises(ValueError, match=r"dwbig channel 63 .*cmd_depth=64"):
        accel_layers([(dw, np.ones((1, 70, 3, 3), dtype=np.int64))], big, depthwise="baseline")
    fz = LayerSpec(np.ones((2, 1, 1, 9), dtype=np.int64), groups=2, name="fz")
    with pytest.raises(ValueError, match=r"fz: kernel length 9 exceeds .*max_kernel=7"):
        accel_layers([(fz, np.ones((1, 2, 3, 12)))], cfg, depthwise="fuse")


def test_run_layer_too_big_for_one_program_names_the_field():
    """Beyond what ``hw.isa`` can address (here: M > 65535 rows in one GEMM command) the
    error names the command field and the way out (the bare array); nothing is simulated."""
    lin = _int_(torch.nn.Linear(1, 1, bias=False), torch.Generator().manual_seed(0))
    x = torch.zeros(70000, 1)
    with pytest.raises(ValueError, match=r"Gemm\.m=70000 .*backend='array'"):
        run_layer(lin, x, ArrayConfig(rows=2, cols=2), "icarus")


def test_run_layer_rejects_bad_backend():
    with pytest.raises(ValueError, match=r"backend must be one of .*'gpu'"):
        run_layer(
            torch.nn.Linear(1, 1), torch.zeros(1, 1), ArrayConfig(1, 1), "icarus", "auto", "gpu"
        )
