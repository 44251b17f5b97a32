"""The integer-only output stage model (``sw.ref.outstage.requant_int``) equals the float32
golden (``sw.ref.quant.requantize``) exactly: edge cases and a million seeded random ones."""

import numpy as np
import pytest

from sw.ref.outstage import multiplier_bits, outstage_ref, requant_int
from tests.sw.outstage_cases import CLAMPS, edge_cases, golden, random_cases


@pytest.mark.parametrize("clamp", CLAMPS, ids=str)
def test_outstage_ref_edge_cases_exact(clamp):
    v, m = edge_cases()
    np.testing.assert_array_equal(
        requant_int(v, 0, multiplier_bits(m), *clamp), golden(v, m, *clamp)
    )
    # a negative multiplier flips the sign (the golden allows any finite float32)
    np.testing.assert_array_equal(
        requant_int(v, 0, multiplier_bits(-m), *clamp), golden(v, -m, *clamp)
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_outstage_ref_random_exact(seed):
    acc, bias, m = random_cases(500_000, seed)
    for clamp in ((-128, 127), (0, 127)):
        got = requant_int(acc, bias, multiplier_bits(m), *clamp)
        np.testing.assert_array_equal(got, golden(acc + bias, m, *clamp))


def test_outstage_ref_ties_are_exercised():
    """The random cases hit exact float32 ties and products a few ulps off x.5."""
    acc, bias, m = random_cases(200_000, 3)
    p = (acc + bias).astype(np.float32) * m
    frac = np.abs(p - np.floor(p))
    assert np.sum(frac == 0.5) > 1000


def test_outstage_ref_33_bit_sum():
    """``acc + bias`` beyond int32 (the golden rejects it) follows the same formula on the
    exact sum: float32(int64) is correctly rounded in numpy."""
    rng = np.random.default_rng(5)
    acc = rng.integers(-(2**31), 2**31, 10_000)
    bias = rng.integers(-(2**31), 2**31, 10_000)
    m = (2.0 ** rng.integers(-34, -20, 10_000) * rng.uniform(1, 2, 10_000)).astype(np.float32)
    np.testing.assert_array_equal(
        requant_int(acc, bias, multiplier_bits(m)), outstage_ref(acc, bias, m)
    )


def test_outstage_ref_rejects_bad_input():
    with pytest.raises(ValueError, match="finite"):
        multiplier_bits(np.array([1.0, np.inf], np.float32))
    with pytest.raises(ValueError, match="clamp"):
        requant_int(1, 0, multiplier_bits(1.0), 5, 4)
