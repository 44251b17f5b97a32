"""Weight-stationary GEMM tile program for ``hw.top.ArrayTop`` (SPEC 3.2).

``gemm_program(x, w, rows, cols)`` cuts ``W[Kr x N]`` into ``rows x cols`` tiles (column
folds outer, row folds inner), and lays out, cycle by cycle, what the host drives into the
array top: shadow-weight row writes and activation rows with the tile ``swap`` tag. The
schedule is the earliest one the hardware allows (see ``hw/top.py`` for the legal windows):

- tile ``f``'s weight rows are written in cycles ``B_f .. B_f + rows - 1``;
- tile ``f``'s activation rows enter in cycles ``S_f .. S_f + M - 1``;
- ``B_0 = 0``, ``S_0 = 1``; ``B_{f+1} = max(B_f + rows, S_f + cols - 1)`` (write port free
  and tag of tile ``f`` gone from the row), ``S_{f+1} = max(S_f + M, B_{f+1} + 1)``.

The analytical closed form of the resulting cycle count is ``sw.latency.rtl.gemm_cycles``;
the RTL tests check the measured count against it. Row folds produce partial results that
``assemble_gemm_output`` adds up (the accumulator buffer's job), exactly in int64.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

import numpy as np

__all__ = [
    "GemmProgram",
    "gemm_program",
    "assemble_gemm_output",
    "pack_lanes",
    "unpack_lanes",
    "pack_rows",
    "unpack_rows",
]


def pack_lanes(values: np.ndarray, width: int) -> int:
    """Pack signed lane values into one unsigned int, lane ``i`` at bits ``[i*width +: width]``."""
    mask = (1 << width) - 1
    out = 0
    for i, v in enumerate(values.tolist()):
        out |= (int(v) & mask) << (i * width)
    return out


def unpack_lanes(word: int, lanes: int, width: int) -> np.ndarray:
    """Inverse of ``pack_lanes`` (two's complement lanes) as int64."""
    mask = (1 << width) - 1
    sign = 1 << (width - 1)
    vals = [(word >> (i * width)) & mask for i in range(lanes)]
    return np.array([v - (1 << width) if v & sign else v for v in vals], dtype=np.int64)


#: lane widths ``pack_rows``/``unpack_rows`` handle as whole little-endian bytes
_BYTE_WIDTHS = {8: "<i1", 16: "<i2", 32: "<i4", 64: "<i8"}


def pack_rows(values: np.ndarray, width: int) -> list[int]:
    """``[pack_lanes(row, width) for row in values]`` for a 2-D array, at numpy speed when
    ``width`` is 8, 16, 32 or 64 bits (lane values wrap to ``width`` bits, as the mask of
    ``pack_lanes`` does)."""
    values = np.asarray(values)
    if values.ndim != 2:
        raise ValueError(f"pack_rows expects a 2-D array, not shape {values.shape}")
    dt = _BYTE_WIDTHS.get(width)
    if dt is None:
        return [pack_lanes(row, width) for row in values]
    raw = values.astype(np.int64).astype(dt)  # two's complement wrap to ``width`` bits
    return [int.from_bytes(row.tobytes(), "little") for row in raw]


def unpack_rows(words, lanes: int, width: int) -> np.ndarray:
    """``np.stack([unpack_lanes(w, lanes, width) for w in words])`` (int64, ``[len, lanes]``),
    at numpy speed when ``width`` is 8, 16, 32 or 64 bits. A word wider than ``lanes * width``
    bits, or negative, is a ``ValueError``."""
    words = [int(w) for w in words]
    dt = _BYTE_WIDTHS.get(width)
    if dt is None:
        if not words:
            return np.zeros((0, lanes), np.int64)
        return np.stack([unpack_lanes(w, lanes, width) for w in words])
    n = lanes * width // 8
    try:
        buf = b"".join(w.to_bytes(n, "little") for w in words)
    except OverflowError:
        bad = next(w for w in words if w < 0 or w >> (8 * n))
        raise ValueError(f"word {bad:#x} does not fit {lanes} lanes of {width} bits") from None
    return np.frombuffer(buf, dt).reshape(len(words), lanes).astype(np.int64)


@dataclass
class GemmProgram:
    """Per-cycle host commands for one GEMM (arrays of length ``cycles_driven``).

    ``in_data[t]``/``w_data[t]`` are lane values (int64) of the activation row / weight row
    driven in cycle ``t``. ``folds[f] = (k0, n0)`` is tile ``f``'s origin in ``W``; its results
    are the ``f``-th block of ``M`` valid output rows.
    """

    rows: int
    cols: int
    M: int
    Kr: int
    N: int
    folds: list[tuple[int, int]]
    in_valid: np.ndarray
    in_swap: np.ndarray
    in_data: np.ndarray
    w_we: np.ndarray
    w_row: np.ndarray
    w_data: np.ndarray

    @property
    def cycles_driven(self) -> int:
        return len(self.in_valid)

    @property
    def n_outputs(self) -> int:
        return len(self.folds) * self.M

    def packed(
        self, act_width: int, weight_width: int
    ) -> list[tuple[int, int, int, int, int, int]]:
        """Per-cycle tuples ``(in_valid, in_swap, in_data, w_we, w_row, w_data)`` with the lane
        arrays packed into flat port words, ready for a simulator driver."""
        return [
            (
                int(self.in_valid[t]),
                int(self.in_swap[t]),
                pack_lanes(self.in_data[t], act_width),
                int(self.w_we[t]),
                int(self.w_row[t]),
                pack_lanes(self.w_data[t], weight_width),
            )
            for t in range(self.cycles_driven)
        ]


def _check_operands(x: np.ndarray, w: np.ndarray) -> None:
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0]:
        raise ValueError(
            f"GEMM operands must be X[M, Kr] and W[Kr, N], got {x.shape} and {w.shape}"
        )
    if 0 in x.shape or 0 in w.shape:
        raise ValueError(f"GEMM operands must be non-empty, got {x.shape} and {w.shape}")


def gemm_program(x: np.ndarray, w: np.ndarray, rows: int, cols: int) -> GemmProgram:
    """Build the earliest legal cycle-level schedule of ``x @ w`` on a ``rows x cols`` array."""
    x = np.asarray(x, dtype=np.int64)
    w = np.asarray(w, dtype=np.int64)
    _check_operands(x, w)
    M, Kr = x.shape
    N = w.shape[1]
    folds = [(k0, n0) for n0 in range(0, N, cols) for k0 in range(0, Kr, rows)]
    assert len(folds) == ceil(Kr / rows) * ceil(N / cols)

    starts, loads = [], []
    b, s = 0, 1
    for _ in folds:
        loads.append(b)
        starts.append(s)
        b = max(b + rows, s + cols - 1)
        s = max(s + M, b + 1)
    T = max(starts[-1] + M, loads[-1] + rows)

    in_valid = np.zeros(T, dtype=np.int8)
    in_swap = np.zeros(T, dtype=np.int8)
    in_data = np.zeros((T, rows), dtype=np.int64)
    w_we = np.zeros(T, dtype=np.int8)
    w_row = np.zeros(T, dtype=np.int64)
    w_data = np.zeros((T, cols), dtype=np.int64)
    for (k0, n0), b, s in zip(folds, loads, starts, strict=True):
        tile = np.zeros((rows, cols), dtype=np.int64)
        blk = w[k0 : k0 + rows, n0 : n0 + cols]
        tile[: blk.shape[0], : blk.shape[1]] = blk
        for r in range(rows):
            w_we[b + r] = 1
            w_row[b + r] = r
            w_data[b + r] = tile[r]
        xs = x[:, k0 : k0 + rows]
        in_valid[s : s + M] = 1
        in_swap[s] = 1
        in_data[s : s + M, : xs.shape[1]] = xs
    return GemmProgram(rows, cols, M, Kr, N, folds, in_valid, in_swap, in_data, w_we, w_row, w_data)


def assemble_gemm_output(prog: GemmProgram, outputs: np.ndarray) -> np.ndarray:
    """Add up the per-tile results ``outputs[F*M, cols]`` (in output order) into ``Y[M, N]``."""
    outputs = np.asarray(outputs, dtype=np.int64)
    if outputs.shape != (prog.n_outputs, prog.cols):
        raise ValueError(
            f"expected {prog.n_outputs} output rows of {prog.cols} lanes, got {outputs.shape}"
        )
    y = np.zeros((prog.M, prog.N), dtype=np.int64)
    for f, (_, n0) in enumerate(prog.folds):
        nc = min(prog.cols, prog.N - n0)
        y[:, n0 : n0 + nc] += outputs[f * prog.M : (f + 1) * prog.M, :nc]
    return y
