"""cocotb regression: random int8 GEMMs and PyTorch convs replayed on the generated bare array
(``hw.top``, ``run_layer(..., backend="array")``), on Icarus and Verilator. Outputs ==
numpy/torch golden exactly; cycles == sw.latency.rtl (the bare-array formulas)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from hw.config import ArrayConfig
from sim import rtl_gemms, run_layer
from sw.export import quantize_symmetric
from sw.latency.rtl import gemm_cycles
from sw.ref import conv2d_ref, gemm_ref
from tests.conftest import sim_params

ARRAYS = [
    pytest.param((1, 1), id="1x1"),
    pytest.param((2, 2), id="2x2"),
    pytest.param((3, 5), id="3x5"),
    pytest.param((4, 4), id="4x4"),
    pytest.param((8, 8), id="8x8"),
    pytest.param((3, 5, False), id="3x5-ws"),  # generated without the FuSe mode
    pytest.param((4, 4, False), id="4x4-ws"),
    pytest.param((16, 16), id="16x16", marks=pytest.mark.slow),
]


def gemm_shapes(rows: int, cols: int) -> list[tuple[int, int, int]]:
    """Shapes inside one tile, exactly one tile, and folding in each and both dimensions."""
    shapes = [
        (1, 1, 1),
        (rows + cols, rows, cols),  # exactly one tile, M above the period floor
        (max(1, rows // 2), rows, cols),  # M below rows/cols: the period is set by the array
        (7, 2 * rows + 1, cols),  # row folds (partial sums added outside)
        (5, rows, 3 * cols - 1),  # column folds, ragged last
        (13, 3 * rows - 2, 2 * cols + 1),  # both
        (2, 5, 3),
    ]
    return shapes


@pytest.mark.parametrize("simulator", sim_params())
@pytest.mark.parametrize("array", ARRAYS)
def test_rtl_gemm_random_shapes_exact(simulator, array, require_simulator):
    require_simulator(simulator)
    rows, cols, *fuse = array
    cfg = ArrayConfig(rows=rows, cols=cols, fuse=fuse[0] if fuse else True)
    rng = np.random.default_rng(rows * 1000 + cols)
    pairs = []
    for M, K, N in gemm_shapes(rows, cols):
        pairs.append((rng.integers(-128, 128, (M, K)), rng.integers(-128, 128, (K, N))))
    # extremes: every product is +16384 in column 0 and -16256 in the rest
    pairs.append(
        (np.full((3, rows), -128), np.where(np.arange(cols) == 0, -128, 127)[None].repeat(rows, 0))
    )
    results = rtl_gemms(pairs, cfg, simulator)
    for (x, w), res in zip(pairs, results, strict=True):
        np.testing.assert_array_equal(res.output, gemm_ref(x, w))
        M, K = x.shape
        assert res.cycles == gemm_cycles(M, K, w.shape[1], rows, cols), (x.shape, w.shape)


def _int_conv_case(c_in, c_out, k, stride, padding, hw, seed, bias=False):
    torch.manual_seed(seed)
    conv = torch.nn.Conv2d(c_in, c_out, k, stride=stride, padding=padding, bias=bias)
    qw, _ = quantize_symmetric(conv.weight)
    x = torch.randn(1, c_in, hw, hw)
    qx, _ = quantize_symmetric(x)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(qw).float())
        if bias:
            conv.bias.copy_(torch.randint(-1000, 1000, (c_out,)).float())
    return conv, torch.from_numpy(qx).float()


@pytest.mark.parametrize("simulator", sim_params())
@pytest.mark.parametrize(
    "array",
    [
        pytest.param((3, 5), id="3x5"),
        pytest.param((4, 4), id="4x4"),
        pytest.param((8, 8), id="8x8"),
    ],
)
@pytest.mark.parametrize(
    "case",
    [
        pytest.param(dict(c_in=12, c_out=10, k=1, stride=1, padding=0, hw=5), id="pw1x1"),
        pytest.param(
            dict(c_in=3, c_out=6, k=3, stride=1, padding=1, hw=6, bias=True), id="3x3s1p1"
        ),
        pytest.param(dict(c_in=4, c_out=5, k=3, stride=2, padding=0, hw=7), id="3x3s2p0"),
    ],
)
def test_rtl_torch_conv_exact(simulator, array, case, require_simulator):
    require_simulator(simulator)
    rows, cols = array
    cfg = ArrayConfig(rows=rows, cols=cols)
    conv, x = _int_conv_case(seed=rows + cols, **case)
    res = run_layer(conv, x, cfg, simulator, backend="array")
    with torch.no_grad():
        # float64 conv of integers below 2^53 is exact: an independent golden
        expect = (
            F.conv2d(
                x.double(),
                conv.weight.double(),
                conv.bias.double() if conv.bias is not None else None,
                conv.stride,
                conv.padding,
            )
            .numpy()
            .astype(np.int64)
        )
    np.testing.assert_array_equal(res.output, expect)
    np.testing.assert_array_equal(
        res.output
        - (
            conv.bias.detach().numpy().astype(np.int64)[None, :, None, None]
            if conv.bias is not None
            else 0
        ),
        conv2d_ref(
            x.numpy().astype(np.int64),
            conv.weight.detach().numpy().astype(np.int64),
            conv.stride,
            conv.padding,
        ),
    )
    _, c_out, ho, wo = expect.shape
    k = case["k"]
    assert res.cycles == gemm_cycles(ho * wo, case["c_in"] * k * k, c_out, rows, cols)
