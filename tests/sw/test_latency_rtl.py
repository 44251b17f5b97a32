"""The RTL cycle formula on hand-derived cases (the RTL tests check it against hardware)."""

import pytest

from sw.latency.rtl import (
    depthwise_baseline_cycles,
    fuse_conv_cycles,
    fuse_cycles,
    fuse_fold_period,
    gemm_cycles,
    gemm_fold_period,
    gemm_folds,
)


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


def test_fuse_cycles_hand_derived():
    # 1x1, one line, one position, one tap: stream+tap in cycle 0, SHIFT in 1, output in 2
    assert fuse_cycles(1, 1, 1, 1, 1) == 3
    # 4x4, K=3: stream 6 cycles, drain of 4 rows must end before the next fold's taps
    # (which start 3 cycles into its stream): P = max(6, 7) = 7 = cols + K
    assert fuse_fold_period(3, 4, 4) == 7
    # 5 lines x 10 positions -> 2 x 3 folds; last fold starts at 35, its last SHIFT
    # at 35 + 6 + 3 = 44, output visible at 45 -> 46 cycles
    assert fuse_cycles(5, 10, 3, 4, 4) == 46
    # wide array: the stream dominates, P = cols + K - 1
    assert fuse_fold_period(3, 2, 6) == 8


def test_fuse_conv_cycles_maps_1xk_and_kx1_lines():
    # 1x3, stride 1, pad (0,1) on 2ch 5x7: lines 2*5, positions 7+2-3+1 = 7
    assert fuse_conv_cycles(1, 2, 5, 7, (1, 3), (1, 1), (0, 1), 4, 4) == fuse_cycles(10, 7, 3, 4, 4)
    # 3x1 stride 2, pad (1,0) on 2ch 5x7: lines = columns kept 2*4, positions 5+2-3+1 = 5
    assert fuse_conv_cycles(1, 2, 5, 7, (3, 1), (2, 2), (1, 0), 4, 4) == fuse_cycles(8, 5, 3, 4, 4)
    with pytest.raises(ValueError, match="not 3x3"):
        fuse_conv_cycles(1, 2, 5, 7, (3, 3), (1, 1), (1, 1), 4, 4)


def test_depthwise_baseline_cycles_is_one_gemm_per_channel():
    # 3x3 s1 p1 on 4ch 6x6: per channel M = 36, Kr = 9, N = 1
    assert depthwise_baseline_cycles(1, 4, 6, 6, (3, 3), (1, 1), (1, 1), 4, 4) == 4 * gemm_cycles(
        36, 9, 1, 4, 4
    )
