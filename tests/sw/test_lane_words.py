"""Memory words of lanes (``sw.mapping.gemm``): the numpy-speed ``pack_rows``/``unpack_rows``
give, row for row, the word an explicit sum of ``(v mod 2**width) << (lane * width)`` gives,
and decode it back to the signed values, for byte and non-byte widths, wrap-around values and
edge values; a word that does not fit is an error naming it."""

from __future__ import annotations

import numpy as np
import pytest

from sw.mapping.gemm import pack_rows, unpack_rows


def _word(row, width: int) -> int:
    return sum((int(v) % (1 << width)) << (i * width) for i, v in enumerate(row))


def _signed(row, width: int) -> list[int]:
    return [((int(v) + (1 << (width - 1))) % (1 << width)) - (1 << (width - 1)) for v in row]


@pytest.mark.parametrize("width", [8, 32, 5, 16])
@pytest.mark.parametrize("lanes", [1, 3, 16])
def test_pack_unpack_rows_match_the_arithmetic(width: int, lanes: int) -> None:
    rng = np.random.default_rng(width * 100 + lanes)
    lo, hi = -(1 << (width - 1)), 1 << (width - 1)
    vals = rng.integers(lo, hi, size=(37, lanes))
    vals[0] = lo  # edges
    vals[1] = hi - 1
    vals[2] = 0
    words = pack_rows(vals, width)
    assert words == [_word(r, width) for r in vals]
    back = unpack_rows(words, lanes, width)
    assert back.dtype == np.int64
    assert np.array_equal(back, vals)
    # values outside the width wrap as two's complement, like the hardware's lanes
    wide = vals + (1 << width) * rng.integers(-2, 3, size=vals.shape)
    assert pack_rows(wide, width) == words
    assert [list(r) for r in unpack_rows(pack_rows(wide, width), lanes, width)] == [
        _signed(r, width) for r in wide
    ]


def test_unpack_rows_rejects_a_word_too_wide() -> None:
    with pytest.raises(ValueError, match=r"0x10000 does not fit 2 lanes of 8 bits"):
        unpack_rows([1, 1 << 16], 2, 8)
    with pytest.raises(ValueError, match="does not fit"):
        unpack_rows([-1], 2, 8)
    with pytest.raises(ValueError, match="2-D"):
        pack_rows(np.zeros(4, np.int64), 8)
    assert unpack_rows([], 4, 8).shape == (0, 4)
