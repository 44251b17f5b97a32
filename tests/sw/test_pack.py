"""Line packing (``sw.mapping.pack``) and its cycle model (``sw.latency.rtl``), without a
simulator: the packed pieces, correlated by a plain numpy loop, give torch's depthwise conv
exactly (the numpy golden ``sw.ref.conv.conv2d_ref``, itself checked against torch in
``tests/sw/test_ref.py``); every kept output is covered; packing never needs more folds than one line per row;
the cycle counts follow the FUSE formula (hand-computed examples)."""

from __future__ import annotations

import itertools
from math import ceil

import numpy as np
import pytest

from sw.latency.rtl import (
    accel_fuse_conv_cycles,
    accel_packed_fuse_conv_cycles,
    fuse_conv_cycles,
    fuse_conv_mapping,
    fuse_cycles,
    packed_fuse_commands,
    packed_fuse_conv_cycles,
)
from sw.mapping.pack import (
    MAX_GROUPS,
    line_packing,
    pack_depthwise,
    packing_of_conv,
    unpack_depthwise,
)
from sw.ref.conv import conv2d_ref


def _correlate(pieces: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """``y[l, j] = sum_k pieces[l, j + k] * taps[l, k]``, every stride-1 ``j``."""
    K = taps.shape[1]
    return np.stack(
        [(pieces[:, j : j + K] * taps).sum(1) for j in range(pieces.shape[1] - K + 1)], 1
    )


def test_packed_pieces_compute_the_depthwise_conv_exactly():
    rng = np.random.default_rng(22)
    done = 0
    for _ in range(300):
        n, c = int(rng.integers(1, 3)), int(rng.integers(1, 4))
        h, w = int(rng.integers(1, 10)), int(rng.integers(1, 10))
        K = int(rng.integers(1, 8))
        kernel = (1, K) if rng.random() < 0.5 else (K, 1)
        stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        padding = (int(rng.integers(0, 4)), int(rng.integers(0, 4)))
        cols = int(rng.integers(1, 12))
        if (h + 2 * padding[0] < kernel[0]) or (w + 2 * padding[1] < kernel[1]):
            continue
        x = rng.integers(-128, 128, (n, c, h, w))
        wt = rng.integers(-128, 128, (c, 1, *kernel))
        pieces, taps, pk, out_shape, transposed = pack_depthwise(x, wt, stride, padding, cols)
        assert pieces.shape == (c * pk.pieces, cols + K - 1)
        got = unpack_depthwise(_correlate(pieces, taps), pk, out_shape, transposed)
        np.testing.assert_array_equal(got, conv2d_ref(x, wt, stride, padding, groups=c))
        done += 1
    assert done > 200


def test_greedy_pieces_cover_every_output_and_never_exceed_one_line_per_row():
    for lines, width, pl, pr, K, s, cols in itertools.product(
        range(1, 4), range(1, 6), range(3), range(3), range(1, 4), range(1, 4), (1, 2, 3, 5, 7)
    ):
        if width + pl + pr < K:
            continue
        pk = line_packing(lines, width, (pl, pr), K, s, cols)
        starts = np.asarray(pk.starts)
        assert (np.diff(starts) >= cols).all()  # pieces never overlap
        for i, t in itertools.product(range(lines), range(pk.n_pos)):
            p = pk.position(i, t)
            assert ((starts <= p) & (p < starts + cols)).sum() == 1
        plain = lines * ceil((width + pl + pr - K + 1) / cols)  # one line per row
        assert pk.pieces <= plain


def test_packing_examples_by_hand():
    # 7 lines of 7 (1x3, pad 1): pitch 8, kept positions 8i + 0..6, all in one 64-wide piece
    pk = line_packing(7, 7, (1, 1), 3, 1, 64)
    assert (pk.pitch, pk.n_pos, pk.starts) == (8, 7, (0,))
    # on 16 columns: 0..15 covers lines 0 and 1, line 2 starts at 16, ...
    assert line_packing(7, 7, (1, 1), 3, 1, 16).starts == (0, 16, 32, 48)
    # 112-wide lines on 16 columns fill 7 pieces each: packing cannot save anything
    assert line_packing(2, 112, (1, 1), 3, 1, 16).pieces == 14
    # stride 2 along: kept 0, 2, 4, 6 of line 0 and 8 + the same of line 1 (pitch 8)
    assert line_packing(2, 7, (1, 1), 3, 2, 5).starts == (0, 6, 12)


def test_issue_example_features_15_row_branch_at_64x64():
    """MobileNetV2-FuSe-Half ``features.15.conv.1.row.0``: 480 channels, 7x7, 1x3, pad 1.
    One line per row: 3360 lines in 53 groups of 64 -> 52 * 67 + 64 + 3 + 64 = 3615 cycles
    (+3 command, +2 HALT = 3620, the issue's figure). Packed: the 7 lines of a channel fit one
    64-wide piece, 480 pieces in 8 groups -> 7 * 67 + 131 = 600 (+5)."""
    geom = (1, 480, 7, 7, (1, 3), (1, 1), (0, 1), 64, 64)
    assert accel_fuse_conv_cycles(*geom) + 2 == 3620
    assert packed_fuse_conv_cycles(*geom) == 600
    assert accel_packed_fuse_conv_cycles(*geom) == 603
    assert fuse_conv_mapping(*geom) == "fuse-packed"
    # the column branch is the same on the transposed image
    col = (1, 480, 7, 7, (3, 1), (1, 1), (1, 0), 64, 64)
    assert packed_fuse_conv_cycles(*col) == 600


def test_auto_is_never_slower_and_ties_keep_the_plain_mapping():
    rng = np.random.default_rng(5)
    for _ in range(300):
        K = int(rng.integers(1, 8))
        kernel = (1, K) if rng.random() < 0.5 else (K, 1)
        geom = (
            int(rng.integers(1, 3)),
            int(rng.integers(1, 40)),
            int(rng.integers(K, 60)),
            int(rng.integers(K, 60)),
            kernel,
            (int(rng.integers(1, 3)), int(rng.integers(1, 3))),
            (K // 2 * (kernel[0] > 1), K // 2 * (kernel[1] > 1)),
            int(rng.integers(1, 70)),
            int(rng.integers(1, 70)),
        )
        plain = accel_fuse_conv_cycles(*geom)
        packed = accel_packed_fuse_conv_cycles(*geom)
        # packing never needs more folds, so the bare array is never slower either
        assert packed_fuse_conv_cycles(*geom) <= fuse_conv_cycles(*geom)
        choice = fuse_conv_mapping(*geom)
        assert choice == ("fuse-packed" if packed < plain else "fuse")
    tie = (1, 4, 3, 18, (1, 3), (1, 1), (0, 0), 8, 16)  # J = 16 = cols: nothing to pack
    assert accel_packed_fuse_conv_cycles(*tie) == accel_fuse_conv_cycles(*tie)
    assert fuse_conv_mapping(*tie) == "fuse"


def test_big_layers_split_into_commands_of_whole_channels():
    # 1x1 array: one piece per kept position; 2 channels of 2100 pieces > 4095 line groups
    geom = (1, 2, 1, 2100, (1, 3), (1, 1), (0, 1), 1, 1)
    assert packing_of_conv(1, 1, 2100, (1, 3), (1, 1), (0, 1), 1).pieces == 2100
    assert packed_fuse_commands(*geom) == [(2100, 1, 3), (2100, 1, 3)]
    assert accel_packed_fuse_conv_cycles(*geom) == 2 * (3 + fuse_cycles(2100, 1, 3, 1, 1))
    two = packed_fuse_commands(1, 10, 1, 1000, (1, 3), (1, 1), (0, 1), 2, 1)
    assert [L for L, _, _ in two] == [8000, 2000]  # 8190 pieces fit a command: 8 channels
    assert all(ceil(L / 2) <= MAX_GROUPS for L, _, _ in two)
    # one channel alone too big for a command: auto keeps the plain mapping
    huge = (1, 1, 1, 5000, (1, 3), (1, 1), (0, 1), 1, 1)
    assert fuse_conv_mapping(*huge) == "fuse"
    with pytest.raises(ValueError, match=r"more than 4095 line groups"):
        packed_fuse_commands(*huge)


def test_packing_errors_name_the_value():
    with pytest.raises(ValueError, match=r"cols must be a positive integer, not 0"):
        line_packing(2, 5, (1, 1), 3, 1, 0)
    with pytest.raises(ValueError, match=r"kernel 5 does not fit a padded line of 4"):
        line_packing(2, 2, (1, 1), 5, 1, 4)
    with pytest.raises(ValueError, match=r"not 3x3"):
        packing_of_conv(1, 4, 4, (3, 3), (1, 1), (1, 1), 4)
    with pytest.raises(ValueError, match=r"a FuSe mapping is .* not 'baseline'"):
        fuse_conv_mapping(1, 2, 4, 4, (1, 3), (1, 1), (0, 1), 4, 4, "baseline")
