"""FuSe 1-D depthwise program for ``hw.top.ArrayTop`` in FuSe mode (SPEC 3.3).

A 1xK (or Kx1) depthwise conv is a set of independent 1-D correlations ("lines"):
``y[j] = sum_k line[j + k] * taps[k]``. A fold maps up to ``rows`` lines (one per array row)
x up to ``cols`` consecutive output positions (one per PE). Folds go line-group outer,
position-fold inner. Fold ``f`` starts in cycle ``S_f = 1 + f * P`` (cycle 0 lets the
registered op of fold 0 be issued; see ``hw/top.py``); relative to ``S_f``, cycle ``u``:

- ``u = 0 .. cols+K-2``: stream the receptive field ``line[j0 .. j0+cols+K-2]`` into every
  row, reversed (last element first), so PE ``c`` meets ``line[j0 + c + k]`` at tap ``k``;
- ``u = cols-1+i`` (``i = 0..K-1``): broadcast tap ``taps[K-1-i]``; op FIRST at ``i = 0``,
  ACC after (the accumulators of fold ``f-1`` must be drained by then);
- ``u = cols+K-1+i`` (``i = 0..rows-1``): SHIFT; the result of row ``rows-1-i`` is the output
  in that cycle. These cycles overlap the next fold's stream-in but not its taps.

Ops and taps are issued one cycle before the cycle they apply to (the array registers the op
per row and each PE registers its row's tap; the arrays of ``FuseProgram`` hold them at their
issue cycle). The
drain must end before the next fold's first tap, and the stream must end before the next
fold's stream starts, so the fold period is::

    P = max(cols + K - 1, rows + K) = cols + K - 1 + max(0, rows - (cols - 1))

(``cols + K`` on a square array: the paper's ``oneFoldTime = arrY + K``). Cycles from
cycle 0 to the last valid output, inclusive: ``(folds - 1) * P + cols + K + rows``
(``sw.latency.rtl.fuse_cycles``). Stride along the line: all positions are computed at
stride 1 and every ``s``-th is kept (what the paper assumes); stride across lines: only every
``s``-th line is computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

import numpy as np

from sw.mapping.gemm import pack_lanes

__all__ = [
    "FuseProgram",
    "fuse_program",
    "assemble_fuse_output",
    "depthwise_lines",
    "lines_to_output",
    "FUSE_OPS",
]

#: FuseOp codes (hw.interfaces.FuseOp; sw/ never imports the HDL).
FUSE_OPS = {"HOLD": 0, "FIRST": 1, "ACC": 2, "SHIFT": 3}


@dataclass
class FuseProgram:
    """Per-cycle commands of a set of 1-D lines on a ``rows x cols`` array in FuSe mode."""

    rows: int
    cols: int
    K: int
    n_lines: int
    n_out: int  # stride-1 output positions per line
    folds: list[tuple[int, int]]  # (first line, first position) of each fold
    in_valid: np.ndarray
    in_data: np.ndarray  # [T, rows]
    tap: np.ndarray  # [T, rows]
    op: np.ndarray  # [T]

    @property
    def cycles_driven(self) -> int:
        return len(self.op)

    @property
    def n_outputs(self) -> int:
        return len(self.folds) * self.rows

    def packed(self, act_width: int, weight_width: int) -> list[tuple[int, int, int, int]]:
        """Per-cycle ``(in_valid, in_data, tap, op)`` with lanes packed into port words."""
        return [
            (
                int(self.in_valid[t]),
                pack_lanes(self.in_data[t], act_width),
                pack_lanes(self.tap[t], weight_width),
                int(self.op[t]),
            )
            for t in range(self.cycles_driven)
        ]


def fuse_program(lines: np.ndarray, taps: np.ndarray, rows: int, cols: int) -> FuseProgram:
    """Schedule ``y[l, j] = sum_k lines[l, j+k] * taps[l, k]`` (``j`` over all stride-1
    positions) on the array."""
    lines = np.asarray(lines, dtype=np.int64)
    taps = np.asarray(taps, dtype=np.int64)
    if lines.ndim != 2 or taps.ndim != 2 or lines.shape[0] != taps.shape[0]:
        raise ValueError(f"need lines[L, W] and taps[L, K], got {lines.shape} and {taps.shape}")
    n_lines, width = lines.shape
    K = taps.shape[1]
    if n_lines == 0 or K == 0:
        raise ValueError(f"need at least one line and one tap, got {lines.shape}, {taps.shape}")
    if width < K:
        raise ValueError(f"lines of length {width} are shorter than the kernel ({K})")
    n_out = width - K + 1
    span = cols + K - 1
    period = max(cols + K - 1, rows + K)
    folds = [(l0, j0) for l0 in range(0, n_lines, rows) for j0 in range(0, n_out, cols)]
    assert len(folds) == ceil(n_lines / rows) * ceil(n_out / cols)
    T = 1 + (len(folds) - 1) * period + span + rows - 1  # through the last SHIFT's issue

    in_valid = np.zeros(T, dtype=np.int8)
    in_data = np.zeros((T, rows), dtype=np.int64)
    tap = np.zeros((T, rows), dtype=np.int64)
    op = np.full(T, FUSE_OPS["HOLD"], dtype=np.int8)
    for f, (l0, j0) in enumerate(folds):
        start = 1 + f * period
        nl = min(rows, n_lines - l0)
        field = np.zeros((rows, span), dtype=np.int64)
        seg = lines[l0 : l0 + nl, j0 : j0 + span]
        field[:nl, : seg.shape[1]] = seg
        ktab = np.zeros((rows, K), dtype=np.int64)
        ktab[:nl] = taps[l0 : l0 + nl]
        in_valid[start : start + span] = 1
        in_data[start : start + span] = field[:, ::-1].T
        for i in range(K):
            t = start + cols - 1 + i
            tap[t - 1] = ktab[:, K - 1 - i]  # op and tap one cycle ahead (the array
            op[t - 1] = FUSE_OPS["FIRST"] if i == 0 else FUSE_OPS["ACC"]  # registers both)
        op[start + span - 1 : start + span - 1 + rows] = FUSE_OPS["SHIFT"]
    return FuseProgram(rows, cols, K, n_lines, n_out, folds, in_valid, in_data, tap, op)


def assemble_fuse_output(prog: FuseProgram, outputs: np.ndarray) -> np.ndarray:
    """Place the drained rows (``outputs[folds*rows, cols]``, in output order) into
    ``y[n_lines, n_out]``."""
    outputs = np.asarray(outputs, dtype=np.int64)
    if outputs.shape != (prog.n_outputs, prog.cols):
        raise ValueError(
            f"expected {prog.n_outputs} output rows of {prog.cols} lanes, got {outputs.shape}"
        )
    y = np.zeros((prog.n_lines, prog.n_out), dtype=np.int64)
    for f, (l0, j0) in enumerate(prog.folds):
        nj = min(prog.cols, prog.n_out - j0)
        for i in range(prog.rows):  # SHIFT i drains array row rows-1-i
            line = l0 + prog.rows - 1 - i
            if line < prog.n_lines:
                y[line, j0 : j0 + nj] = outputs[f * prog.rows + i, :nj]
    return y


def depthwise_lines(
    x: np.ndarray, weight: np.ndarray, stride=(1, 1), padding=(0, 0)
) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int], bool]:
    """Cut a 1xK / Kx1 depthwise conv into 1-D lines for ``fuse_program``.

    ``x[N, C, H, W]``, ``weight[C, 1, kh, kw]`` with ``kh == 1`` or ``kw == 1``. Returns
    ``(lines[L, len], taps[L, K], out_shape, transposed)``: lines are ordered ``(n, c, o)``
    where ``o`` is the output row (1xK) or output column (Kx1, lines read column-wise).
    """
    x = np.asarray(x, dtype=np.int64)
    weight = np.asarray(weight, dtype=np.int64)
    n, c, h, w = x.shape
    if weight.shape[0] != c or weight.shape[1] != 1:
        raise ValueError(f"depthwise weight must be [C={c}, 1, kh, kw], got {weight.shape}")
    kh, kw = weight.shape[2:]
    sh, sw = stride
    ph, pw = padding
    transposed = kh != 1
    if transposed and kw != 1:
        raise ValueError(f"FuSe mode runs 1xK or Kx1 kernels, not {kh}x{kw}")
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    if transposed:  # Kx1: read columns as lines
        xp = xp.transpose(0, 1, 3, 2)
        taps = weight[:, 0, :, 0]
        s_line, s_across = sh, sw
    else:
        taps = weight[:, 0, 0, :]
        s_line, s_across = sw, sh
    K = taps.shape[1]
    n_lines_per = (xp.shape[2] - 1) // s_across + 1
    n_pos = (xp.shape[3] - K) // s_line + 1
    if n_pos < 1:
        raise ValueError(f"kernel {K} does not fit a padded line of {xp.shape[3]}")
    sel = xp[:, :, ::s_across, :]  # [N, C, lines, len]
    lines = sel.reshape(n * c * n_lines_per, xp.shape[3])
    line_taps = np.repeat(taps[None, :, None, :], n, 0).repeat(n_lines_per, 2).reshape(-1, K)
    out_shape = (n, c, n_lines_per, n_pos) if not transposed else (n, c, n_pos, n_lines_per)
    return lines, line_taps, out_shape, transposed


def lines_to_output(
    y_lines: np.ndarray, stride_along: int, out_shape: tuple[int, int, int, int], transposed: bool
) -> np.ndarray:
    """Subsample stride-1 line outputs by ``stride_along`` and fold them back into NCHW."""
    n, c = out_shape[:2]
    keep = y_lines[:, ::stride_along]
    if transposed:
        n_pos, n_lines_per = out_shape[2], out_shape[3]
        return keep[:, :n_pos].reshape(n, c, n_lines_per, n_pos).transpose(0, 1, 3, 2).copy()
    n_lines_per, n_pos = out_shape[2], out_shape[3]
    return keep[:, :n_pos].reshape(n, c, n_lines_per, n_pos)
