"""The RTL cycle formula on hand-derived cases (the RTL tests check it against hardware)."""

import pytest

from sw.latency.rtl import gemm_cycles, gemm_fold_period, gemm_folds


def test_gemm_cycles_single_pe_single_mac():
    # weight write in cycle 0, activation enters in cycle 1, result valid in cycle 2
    assert gemm_cycles(1, 1, 1, 1, 1) == 3


def test_gemm_cycles_hand_derived():
    # 4x4 array, 10x8 @ 8x6: folds 2*2=4, period max(10,4,4)=10,
    # last tile starts at 1+3*10=31, its 10 rows end at 40, +7 latency -> last output at 47
    assert gemm_folds(8, 6, 4, 4) == 4
    assert gemm_fold_period(10, 4, 4) == 10
    assert gemm_cycles(10, 8, 6, 4, 4) == 48
    # short stream on a wide array: period limited by the 16 columns
    assert gemm_cycles(2, 3, 40, 4, 16) == 2 * 16 + 2 + 4 + 16


def test_gemm_cycles_rejects_bad_sizes():
    with pytest.raises(ValueError, match="M must be a positive integer"):
        gemm_cycles(0, 1, 1, 1, 1)
    with pytest.raises(ValueError, match="rows"):
        gemm_cycles(1, 1, 1, 0, 1)
