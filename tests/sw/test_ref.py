"""The integer goldens themselves, checked against torch (float64 is exact for these sizes)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sw.export import quantize_symmetric
from sw.ref import conv2d_ref, gemm_ref, im2col


def test_gemm_ref_matches_torch_matmul():
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, (17, 33))
    w = rng.integers(-128, 128, (33, 9))
    expect = (torch.from_numpy(x).double() @ torch.from_numpy(w).double()).numpy().astype(np.int64)
    np.testing.assert_array_equal(gemm_ref(x, w), expect)


def test_gemm_ref_rejects_bad_operands():
    with pytest.raises(ValueError, match="inner dimensions"):
        gemm_ref(np.zeros((2, 3), int), np.zeros((4, 2), int))
    with pytest.raises(ValueError, match="integer"):
        gemm_ref(np.zeros((2, 3)), np.zeros((3, 2), int))


@pytest.mark.parametrize(
    "c_in, c_out, k, stride, padding, groups",
    [
        (3, 4, (3, 3), 1, 1, 1),
        (4, 6, (1, 1), 1, 0, 1),
        (5, 5, (3, 3), 2, 1, 5),  # depthwise
        (6, 6, (1, 5), (2, 2), (0, 2), 6),  # FuSe row filter
        (6, 6, (7, 1), 1, (3, 0), 6),  # FuSe column filter
        (4, 8, (2, 3), (1, 2), (1, 0), 2),  # grouped, non-square
    ],
)
def test_conv2d_ref_matches_torch(c_in, c_out, k, stride, padding, groups):
    rng = np.random.default_rng(c_in * 7 + c_out)
    x = rng.integers(-128, 128, (2, c_in, 9, 8))
    w = rng.integers(-128, 128, (c_out, c_in // groups, *k))
    expect = F.conv2d(
        torch.from_numpy(x).double(), torch.from_numpy(w).double(), None, stride, padding, 1, groups
    )
    np.testing.assert_array_equal(
        conv2d_ref(x, w, stride, padding, groups), expect.numpy().astype(np.int64)
    )


def test_im2col_rejects_kernel_larger_than_input():
    with pytest.raises(ValueError, match="does not fit"):
        im2col(np.zeros((1, 1, 2, 2), int), (3, 3))


def test_quantize_symmetric_range_and_scale():
    t = torch.tensor([-2.0, 0.5, 1.0])
    q, scale = quantize_symmetric(t)
    assert scale == pytest.approx(2.0 / 127)
    assert q.tolist() == [-127, 32, 64]
    with pytest.raises(ValueError, match="NaN"):
        quantize_symmetric(torch.tensor([float("nan")]))
