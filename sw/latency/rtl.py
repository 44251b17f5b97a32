"""RTL-exact cycle model of fusesa's own array (SPEC 4, mode ``rtl``).

Weight-stationary GEMM ``Y[M x N] = X[M x Kr] @ W[Kr x N]`` on an ``R x C`` array
(``hw.top.ArrayTop`` driven by the schedule of ``sw.mapping.gemm``):

- Folds: ``F = ceil(Kr / R) * ceil(N / C)``; each fold streams all ``M`` rows of its
  ``X`` slice, one row per cycle. Row folds are summed outside the array (host/accumulator).
- Weight load: one row of a ``C``-wide weight tile per cycle into the shadow registers,
  ``R`` cycles per tile, overlapped with the previous tile's compute (double buffering).
  Tile 0's row ``r`` is written in cycle ``r`` and its first activation row enters in cycle 1
  (the input skew gives row ``r`` the ``r`` cycles it needs).
- A tile's swap tag sweeps the array diagonally; row ``r`` of the next tile may be written
  once the tag has left PE(r, C-1), i.e. ``C - 1`` cycles after the tile started; the single
  write port needs ``R`` cycles per tile; the stream needs ``M``. So consecutive tiles start
  ``P = max(M, R, C)`` cycles apart.
- Fill/drain: a row leaves ``R + C - 1`` cycles after it entered (skew + mesh + de-skew).

Counting from the cycle of the first weight write to the cycle of the last valid output,
inclusive::

    cycles = (F - 1) * max(M, R, C) + M + R + C

(``1`` cycle before the first row enters + ``(F-1)*P`` + ``M`` rows + ``R + C - 1`` latency.)
For a single 1x1 array and one 1x1x1 GEMM: ``0 + 1 + 1 + 1 = 3`` cycles.
"""

from __future__ import annotations

from math import ceil

__all__ = ["gemm_folds", "gemm_fold_period", "gemm_cycles", "conv2d_gemm_shape"]


def _check_positive(**values: int) -> None:
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer, not {v!r}")


def gemm_folds(Kr: int, N: int, rows: int, cols: int) -> int:
    """Number of array tiles (row folds x column folds) of a ``Kr x N`` weight matrix."""
    _check_positive(Kr=Kr, N=N, rows=rows, cols=cols)
    return ceil(Kr / rows) * ceil(N / cols)


def gemm_fold_period(M: int, rows: int, cols: int) -> int:
    """Cycles between the starts of two consecutive tiles: ``max(M, rows, cols)``."""
    _check_positive(M=M, rows=rows, cols=cols)
    return max(M, rows, cols)


def gemm_cycles(M: int, Kr: int, N: int, rows: int, cols: int) -> int:
    """Exact RTL cycles of one WS GEMM (see the module docstring for the derivation)."""
    folds = gemm_folds(Kr, N, rows, cols)
    return (folds - 1) * gemm_fold_period(M, rows, cols) + M + rows + cols


def conv2d_gemm_shape(
    c_in: int, c_out: int, kh: int, kw: int, h_out: int, w_out: int, batch: int = 1
) -> tuple[int, int, int]:
    """(M, Kr, N) of a groups=1 conv lowered by im2col: pixels x (kh*kw*c_in) x filters."""
    return batch * h_out * w_out, kh * kw * c_in, c_out
