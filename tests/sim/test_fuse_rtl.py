"""FuSe mode regression: 1-D depthwise lines and PyTorch 1xK / Kx1 / KxK depthwise layers
replayed on the bare array (``run_layer(..., backend="array")``; FuSe mode and the baseline
per-channel GEMM mapping on the same array), on Icarus and Verilator. Outputs == torch
exactly; cycles == sw.latency.rtl (the bare-array formulas) exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from hw.config import ArrayConfig
from sim import run_layer
from sim.fuse import rtl_fuse
from sw.export import quantize_symmetric
from sw.latency.rtl import (
    depthwise_baseline_cycles,
    fuse_conv_cycles,
    fuse_cycles,
    fuse_fold_period,
)
from tests.conftest import sim_params


def correlate_lines(lines, taps):
    return np.stack([np.correlate(lines[i], taps[i], "valid") for i in range(len(lines))])


@pytest.mark.parametrize("simulator", sim_params())
@pytest.mark.parametrize(
    "array", [(1, 1), (2, 2), (3, 5), (5, 2), (4, 4), (8, 8)], ids=lambda a: f"{a[0]}x{a[1]}"
)
def test_rtl_fuse_lines_exact(simulator, array, require_simulator):
    require_simulator(simulator)
    rows, cols = array
    cfg = ArrayConfig(rows=rows, cols=cols)
    rng = np.random.default_rng(rows * 31 + cols)
    for n_lines, width, K in [(1, 1, 1), (rows + 1, cols + 6, 7), (2 * rows + 3, 3 * cols + 2, 3)]:
        lines = rng.integers(-128, 128, (n_lines, width))
        taps = rng.integers(-128, 128, (n_lines, K))
        if n_lines > 1:  # extremes on one line: K products of +16384
            lines[0] = -128
            taps[0] = -128
        res = rtl_fuse(lines, taps, cfg, simulator)
        np.testing.assert_array_equal(res.output, correlate_lines(lines, taps))
        assert res.cycles == fuse_cycles(n_lines, width - K + 1, K, rows, cols)


@pytest.mark.parametrize("simulator", sim_params())
@pytest.mark.parametrize("n", [4, 8], ids=lambda n: f"{n}x{n}")
@pytest.mark.parametrize("K", [3, 5, 7])
def test_rtl_fuse_square_fold_period_is_cols_plus_k(simulator, n, K, require_simulator):
    """Measured: one more fold costs exactly cols + K cycles on a square array (the paper's
    oneFoldTime = arrY + K)."""
    require_simulator(simulator)
    cfg = ArrayConfig(rows=n, cols=n)
    rng = np.random.default_rng(K)
    measured = []
    for groups in (1, 2, 3):  # 1, 2, 3 line groups of one position fold each
        lines = rng.integers(-128, 128, (groups * n, n + K - 1))
        taps = rng.integers(-128, 128, (groups * n, K))
        res = rtl_fuse(lines, taps, cfg, simulator)
        np.testing.assert_array_equal(res.output, correlate_lines(lines, taps))
        measured.append(res.cycles)
    assert measured[1] - measured[0] == measured[2] - measured[1] == n + K
    assert fuse_fold_period(K, n, n) == n + K


def _dw_layer(c, kernel, stride, padding, hw, seed):
    torch.manual_seed(seed)
    conv = torch.nn.Conv2d(c, c, kernel, stride=stride, padding=padding, groups=c, bias=False)
    qw, _ = quantize_symmetric(conv.weight)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(qw).float())
    qx, _ = quantize_symmetric(torch.randn(1, c, *hw))
    return conv, torch.from_numpy(qx).float()


def _torch_int(conv, x):
    with torch.no_grad():
        y = F.conv2d(
            x.double(), conv.weight.double(), None, conv.stride, conv.padding, 1, conv.groups
        )
    return y.numpy().astype(np.int64)


DW_CASES = [
    # (channels, kernel, stride, padding, (H, W))
    pytest.param(5, (1, 3), 1, (0, 1), (6, 11), id="1x3s1-c5-w11"),
    pytest.param(3, (3, 1), 1, (1, 0), (12, 5), id="3x1s1-c3-h12"),
    pytest.param(6, (1, 5), 2, (0, 2), (7, 13), id="1x5s2-c6"),
    pytest.param(7, (7, 1), 2, (3, 0), (15, 6), id="7x1s2-c7"),
    pytest.param(3, (1, 7), 1, (0, 3), (4, 17), id="1x7s1-wide"),
]


@pytest.mark.parametrize("simulator", sim_params())
@pytest.mark.parametrize("array", [(4, 4), (3, 5), (6, 4)], ids=lambda a: f"{a[0]}x{a[1]}")
@pytest.mark.parametrize("c, kernel, stride, padding, hw", DW_CASES)
def test_rtl_torch_fuse_depthwise_exact(
    simulator, array, c, kernel, stride, padding, hw, require_simulator
):
    require_simulator(simulator)
    rows, cols = array
    cfg = ArrayConfig(rows=rows, cols=cols)
    conv, x = _dw_layer(c, kernel, stride, padding, hw, seed=rows * cols + c)
    res = run_layer(conv, x, cfg, simulator, depthwise="fuse", backend="array")
    assert res.mapping == "fuse"
    np.testing.assert_array_equal(res.output, _torch_int(conv, x))
    s = (stride, stride)
    assert res.cycles == fuse_conv_cycles(1, c, *hw, kernel, s, padding, rows, cols)


@pytest.mark.parametrize("simulator", sim_params())
@pytest.mark.parametrize(
    "c, kernel, stride, padding, hw",
    [
        pytest.param(3, (3, 3), 1, 1, (5, 6), id="3x3s1"),
        pytest.param(2, (5, 5), 2, 2, (7, 7), id="5x5s2"),
        pytest.param(2, (1, 3), 1, (0, 1), (4, 5), id="1x3-baseline"),
    ],
)
def test_rtl_torch_baseline_depthwise_exact(
    simulator, c, kernel, stride, padding, hw, require_simulator
):
    require_simulator(simulator)
    cfg = ArrayConfig(rows=4, cols=3)
    conv, x = _dw_layer(c, kernel, stride, padding, hw, seed=c)
    res = run_layer(conv, x, cfg, simulator, depthwise="baseline", backend="array")
    assert res.mapping == "depthwise-baseline" and res.jobs == c
    np.testing.assert_array_equal(res.output, _torch_int(conv, x))
    p = (padding, padding) if isinstance(padding, int) else padding
    assert res.cycles == depthwise_baseline_cycles(1, c, *hw, kernel, (stride, stride), p, 4, 3)


def test_run_layer_fuse_errors_name_the_problem():
    conv = torch.nn.Conv2d(2, 2, (1, 9), padding=(0, 4), groups=2, bias=False)
    sq = torch.nn.Conv2d(2, 2, 3, groups=2, bias=False)
    with torch.no_grad():
        conv.weight.fill_(1.0)
        sq.weight.fill_(-1.0)
    x = torch.zeros(1, 2, 3, 12)
    with pytest.raises(ValueError, match="max_kernel=7"):
        run_layer(conv, x, ArrayConfig(rows=2, cols=2), "icarus", depthwise="fuse")
    with pytest.raises(ValueError, match="without the FuSe mode"):
        run_layer(
            conv,
            x,
            ArrayConfig(rows=2, cols=2, fuse=False, max_kernel=9),
            "icarus",
            depthwise="fuse",
        )
    with pytest.raises(ValueError, match="not 3x3"):
        run_layer(
            sq, torch.zeros(1, 2, 5, 5), ArrayConfig(rows=2, cols=2), "icarus", depthwise="fuse"
        )
    with pytest.raises(ValueError, match="'magic'"):
        run_layer(
            sq, torch.zeros(1, 2, 5, 5), ArrayConfig(rows=2, cols=2), "icarus", depthwise="magic"
        )
