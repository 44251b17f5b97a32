"""FuSe line packing (``depthwise="fuse-packed"``, ``sw.mapping.pack``) in RTL: 1xK and Kx1
depthwise layers with strides along and across, padding or none, K from 1 to ``max_kernel``,
batch 2 and a bias, on square and non-square arrays, on the accelerator top (``run_layers``,
each layer one program) and on the bare array (``backend="array"``). Outputs == torch
(float64 on integer values) exactly; cycles == ``sw.latency.rtl``'s packed formulas exactly
(``cnt_busy`` too). The accelerator arrays reuse the builds of ``tests/sim/test_accel_rtl.py``
(same depths); the bare-array runs the ``array_2x3`` / ``array_3x2`` builds of the FuSe tests.
"""

from __future__ import annotations

from math import ceil

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from hw.config import DEPTH_FIELDS, ArrayConfig
from sim import run_layer, run_layers
from sw.latency.rtl import (
    ACCEL_COMMAND_OVERHEAD,
    accel_packed_fuse_conv_cycles,
    fuse_cycles,
    packed_fuse_commands,
    packed_fuse_conv_cycles,
)
from sw.mapping.accel import MAX_DEPTH
from tests.conftest import sim_params

#: the one build per array that run_layer / run_network use (memories="shared")
DEPTHS = dict.fromkeys(DEPTH_FIELDS, MAX_DEPTH)


def _int_(layer, gen):
    with torch.no_grad():
        layer.weight.copy_(torch.randint(-128, 128, layer.weight.shape, generator=gen))
        if layer.bias is not None:
            layer.bias.copy_(torch.randint(-1000, 1000, layer.bias.shape, generator=gen))
    return layer


def _layers(seed: int, km: int):
    """``(layer, x)`` pairs covering the packing's corner cases."""
    gen = torch.Generator().manual_seed(seed)

    def dw(c, k, s, p, bias=False):
        conv = torch.nn.Conv2d(c, c, k, stride=s, padding=p, groups=c, bias=bias)
        return _int_(conv, gen)

    def ints(*shape):
        return torch.randint(-128, 128, shape, generator=gen).float()

    return [
        (dw(3, (1, 3), 1, (0, 1), bias=True), ints(2, 3, 4, 5)),  # batch 2, bias
        (dw(2, (3, 1), (2, 1), (1, 0)), ints(1, 2, 5, 4)),  # stride along the column
        (dw(2, (1, 5), (1, 2), (0, 2)), ints(1, 2, 3, 7)),  # stride along the row
        (dw(3, (km, 1), 1, (km // 2, 0)), ints(1, 3, 4, 3)),  # K = max_kernel
        (dw(2, (1, 3), 3, 1), ints(1, 2, 7, 8)),  # stride 3, zero rows across too
        (dw(2, (3, 1), (1, 3), 0), ints(1, 2, 6, 3)),  # no padding: junction outputs
        (dw(2, (1, 2), 1, (0, 1)), ints(1, 2, 3, 4)),  # even K
        (dw(2, 1, 1, 0), ints(1, 2, 2, 3)),  # 1x1: K = 1
    ]


def _geom(layer, x, rows, cols):
    n, c, h, w = x.shape
    k, s, p = tuple(layer.kernel_size), tuple(layer.stride), tuple(layer.padding)
    return (n, c, h, w, k, s, p, rows, cols)


def _expected(layer, x) -> np.ndarray:
    b = None if layer.bias is None else layer.bias.detach().double()
    y = F.conv2d(x.double(), layer.weight.detach().double(), b, layer.stride, layer.padding, 1,
                 layer.groups)  # fmt: skip
    return y.numpy().astype(np.int64)


@pytest.mark.parametrize("simulator", sim_params())
@pytest.mark.parametrize("array", [(2, 2), (3, 5), (6, 3)], ids=lambda a: f"{a[0]}x{a[1]}")
def test_packed_layers_on_the_accelerator_exact(simulator, array, require_simulator):
    require_simulator(simulator)
    rows, cols = array
    cfg = ArrayConfig(rows=rows, cols=cols, **DEPTHS)
    items = _layers(rows * 11 + cols, cfg.max_kernel)
    results = run_layers(items, cfg, simulator, depthwise="fuse-packed")
    for (layer, x), res in zip(items, results, strict=True):
        geom = _geom(layer, x, rows, cols)
        cmds = packed_fuse_commands(*geom)
        np.testing.assert_array_equal(res.output, _expected(layer, x), err_msg=repr(layer))
        assert (res.mapping, res.jobs) == ("fuse-packed", len(cmds))
        assert res.cycles == accel_packed_fuse_conv_cycles(*geom) + ACCEL_COMMAND_OVERHEAD
        K = max(layer.kernel_size)
        assert res.busy == sum(ceil(L / rows) for L, _, _ in cmds) * (cols + K - 1)
        assert res.config == cfg


@pytest.mark.slow
@pytest.mark.icarus
def test_packed_layer_split_into_two_commands(require_simulator):
    """On a 1x1 array every kept output is a piece; 2 channels of 2,100 pieces exceed the 4,095
        line groups of one FUSE command, so the layer is two commands (one channel each). ``slow``:
    ~12 s in all."""
    require_simulator("icarus")
    cfg = ArrayConfig(rows=1, cols=1, **DEPTHS)
    gen = torch.Generator().manual_seed(3)
    conv = _int_(torch.nn.Conv2d(2, 2, (1, 3), padding=(0, 1), groups=2, bias=False), gen)
    x = torch.randint(-128, 128, (1, 2, 1, 2100), generator=gen).float()
    res = run_layer(conv, x, cfg, "icarus", depthwise="fuse-packed")
    np.testing.assert_array_equal(res.output, _expected(conv, x))
    assert (res.mapping, res.jobs) == ("fuse-packed", 2)
    per_command = ACCEL_COMMAND_OVERHEAD + 1 + fuse_cycles(2100, 1, 3, 1, 1)
    assert res.cycles == 2 * per_command + ACCEL_COMMAND_OVERHEAD


@pytest.mark.parametrize(
    "simulator, array",
    [
        pytest.param(*p.values, (2, 3), marks=p.marks, id=f"{p.id}-2x3")
        if p.id == "icarus"
        else pytest.param(*p.values, (3, 2), marks=p.marks, id=f"{p.id}-3x2")
        for p in sim_params()
    ],
)
def test_packed_layers_on_the_bare_array_exact(simulator, array, require_simulator):
    require_simulator(simulator)
    rows, cols = array
    cfg = ArrayConfig(rows=rows, cols=cols)
    items = _layers(5, cfg.max_kernel)[1:3]  # one simulator process per layer
    for (layer, x), res in zip(
        items, run_layers(items, cfg, simulator, "fuse-packed", backend="array"), strict=True
    ):
        np.testing.assert_array_equal(res.output, _expected(layer, x), err_msg=repr(layer))
        assert res.mapping == "fuse-packed"
        assert res.cycles == packed_fuse_conv_cycles(*_geom(layer, x, rows, cols))
