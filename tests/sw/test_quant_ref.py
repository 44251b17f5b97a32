"""Integer kernels of the int8 golden (sw/ref/quant.py) against independent references:
torch float64 convolutions (exact on int8 data), Python's round-half-even, hand values."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sw.ref import quant as qref


def _rand_int8(rng, shape, lo=-128):
    return rng.integers(lo, 128, shape).astype(np.int8)


@pytest.mark.parametrize(
    ("c", "o", "k", "stride", "pad", "groups"),
    [
        (5, 7, (3, 3), (2, 2), (1, 1), 1),  # dense
        (16, 9, (1, 1), (1, 1), (0, 0), 1),  # pointwise
        (6, 6, (3, 3), (2, 2), (1, 1), 6),  # depthwise KxK
        (6, 6, (1, 3), (2, 2), (0, 1), 6),  # FuSe row, stride 2
        (6, 6, (5, 1), (2, 2), (2, 0), 6),  # FuSe column, stride 2
        (8, 4, (3, 3), (1, 1), (1, 1), 2),  # grouped
        (3, 4, (7, 7), (2, 2), (3, 3), 1),  # ResNet stem
    ],
)
def test_conv2d_acc_matches_torch(c, o, k, stride, pad, groups):
    rng = np.random.default_rng(0)
    x = _rand_int8(rng, (2, c, 9, 11))
    w = _rand_int8(rng, (o, c // groups, *k), lo=-127)
    b = rng.integers(-(2**20), 2**20, o).astype(np.int32)
    want = F.conv2d(
        torch.tensor(x, dtype=torch.float64),
        torch.tensor(w, dtype=torch.float64),
        torch.tensor(b, dtype=torch.float64),
        stride,
        pad,
        groups=groups,
    ).numpy()
    got = qref.conv2d_acc(x, w, b, stride, pad, groups)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, want.astype(np.int64))


def test_linear_acc_matches_torch():
    rng = np.random.default_rng(1)
    x, w = _rand_int8(rng, (4, 300)), _rand_int8(rng, (10, 300), lo=-127)
    b = rng.integers(-1000, 1000, 10).astype(np.int32)
    want = torch.tensor(x, dtype=torch.float64) @ torch.tensor(
        w, dtype=torch.float64
    ).T + torch.tensor(b, dtype=torch.float64)
    np.testing.assert_array_equal(qref.linear_acc(x, w, b), want.numpy().astype(np.int64))


def test_requantize_rounds_half_to_even_and_saturates():
    acc = np.array([[1, 3, 5, -1, -3, -5, 7, 1000, -1000]], np.int32)
    got = qref.requantize(acc, np.float32(0.5))
    np.testing.assert_array_equal(got, [[0, 2, 2, 0, -2, -2, 4, 127, -128]])


def test_requantize_per_channel_matches_python_round():
    rng = np.random.default_rng(2)
    acc = rng.integers(-(2**24), 2**24, (3, 4, 5)).astype(np.int32)
    m = rng.uniform(1e-6, 2e-5, 4).astype(np.float32)
    got = qref.requantize(acc, m, lo=0, hi=100)
    want = np.empty_like(acc)
    for idx, a in np.ndenumerate(acc):
        v = round(float(np.float32(a) * m[idx[1]]))  # Python round: half to even
        want[idx] = min(100, max(0, v))
    np.testing.assert_array_equal(got, want)


def test_conv_multiplier_is_float32_product_then_quotient():
    m = qref.conv_multiplier(0.1, np.array([0.3], np.float32), 0.7)
    want = (np.float32(0.1) * np.float32(0.3)) / np.float32(0.7)
    assert m.dtype == np.float32 and m[0] == want


def test_add_requant_matches_float32_formula():
    a = np.array([[10, -10, 127, -128]], np.int8)
    b = np.array([[3, 3, 127, -128]], np.int8)
    got = qref.add_requant(a, b, 0.5, 0.5)
    np.testing.assert_array_equal(got, [[6, -4, 127, -128]])  # 6.5 -> 6, -3.5 -> -4
    np.testing.assert_array_equal(qref.add_requant(a, b, 0.5, 0.5, lo=0), [[6, 0, 127, 0]])


def test_global_avgpool_sum_then_requant():
    rng = np.random.default_rng(3)
    x = _rand_int8(rng, (2, 3, 4, 5))
    got = qref.global_avgpool(x, 0.02, 0.01)
    m = np.float32(0.02) / (np.float32(0.01) * np.float32(20))
    for (n, c), v in np.ndenumerate(got[:, :, 0, 0]):
        s = int(x[n, c].astype(np.int64).sum())
        assert v == max(-128, min(127, round(float(np.float32(s) * m))))


def test_maxpool_matches_torch():
    rng = np.random.default_rng(4)
    x = _rand_int8(rng, (2, 3, 9, 8))
    want = F.max_pool2d(torch.tensor(x, dtype=torch.float32), 3, 2, 1).numpy()
    np.testing.assert_array_equal(qref.maxpool2d(x, (3, 3), (2, 2), (1, 1)), want)


def test_quantize_float_is_quantizelinear():
    x = np.array([0.25, 0.75, -0.25, 100.0, -100.0], np.float32)
    np.testing.assert_array_equal(qref.quantize_float(x, 0.5), [0, 2, 0, 127, -128])


def test_kernels_reject_non_int8():
    with pytest.raises(ValueError, match="int8"):
        qref.conv2d_acc(np.full((1, 1, 3, 3), 300), np.ones((1, 1, 1, 1), np.int8))
    with pytest.raises(ValueError, match="int8"):
        qref.linear_acc(np.ones((1, 2), np.float32), np.ones((1, 2), np.int8))
    with pytest.raises(ValueError, match="groups"):
        qref.conv2d_acc(np.ones((1, 4, 3, 3), np.int8), np.ones((4, 3, 1, 1), np.int8), groups=1)
