"""Line packing for the FuSe 1-D depthwise mapping (issue 22; SPEC 4.1 "column occupancy").

The plain FuSe mapping (``sw.mapping.fuse``) gives every array row one image line. A line of
``W`` outputs on a ``C``-column array occupies ``ceil(W / C)`` position folds, so at 14x14 or
7x7 on a 64-wide array most columns compute nothing. All the lines of one channel share the
same taps, and the array broadcasts one tap per row, so several lines of ONE channel can share
a row. No hardware change: the packed layer is an ordinary ``FUSE`` command over other lines.

Geometry, per channel (every channel is the same). The channel's ``n`` lines (all images of
the batch, every ``s_across``-th padded line, in order) are laid out as one **stream**::

    pl zeros | line 0 | g zeros | line 1 | g zeros | ... | line n-1 | pr zeros,   g = max(pl, pr)

with ``pl``/``pr`` the zero padding along the line (``pw`` for 1xK, ``ph`` for Kx1). Line
``i``'s padded window starts at stream position ``i * pitch`` (``pitch = W + g``): the gap
before it holds at least its ``pl`` left zeros and the gap after it its ``pr`` right zeros,
so neighbouring lines share their padding. The stride-1 correlation of the stream at position
``p`` = ``sum_k stream[p + k] * taps[k]`` is then line ``i``'s output ``j`` at ``p = i*pitch + j``
for ``j < n_pos * s`` (``s`` = stride along the line; only every ``s``-th is kept); the other
positions straddle a junction and are discarded.

The stream is cut into **pieces** of ``C`` consecutive positions (``C + K - 1`` stream
elements each, zero past the stream's end). Each piece is one line of the ``FUSE`` command
(one array row of one fold, with the channel's taps). The piece starts are chosen greedily:
start at the first needed (kept) position not yet covered, cover ``C`` positions, repeat.
Covering points on a line with intervals of fixed length this way uses the fewest intervals,
so a channel never needs more pieces than the plain mapping's ``lines * ceil(J / C)`` (its
pieces, each starting at a line's first output, are one valid cover). All channels use the
same starts; the command's lines are the pieces channel-major: line ``c * P + q`` = piece ``q``
of channel ``c`` (``P`` pieces per channel), each with ``positions = C`` (one position fold).

Cycles: those of the ``FUSE`` command(s) over ``Ch * P`` lines of ``C`` positions, the exact
formula of ``sw.latency.rtl.fuse_cycles`` (``sw.latency.rtl.packed_fuse_conv_cycles``). A
command holds at most ``MAX_GROUPS * rows`` pieces (the ``groups`` field); bigger layers are
split into several commands, each whole channels.

``packing_of_conv`` gives a conv's geometry from shapes alone (the latency model uses it);
``pack_depthwise`` lays out the data (pieces and their taps) and ``unpack_depthwise`` turns
the pieces' outputs back into the layer's NCHW output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "LinePacking",
    "line_packing",
    "packing_of_conv",
    "command_channels",
    "pack_depthwise",
    "unpack_depthwise",
    "MAX_GROUPS",
]

#: the ``Fuse.groups`` field's range (12 bits, ``hw.isa.FUSE_FIELDS``)
MAX_GROUPS = (1 << 12) - 1


def _positive(**values: int) -> None:
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer, not {v!r}")


@dataclass(frozen=True)
class LinePacking:
    """How the ``lines`` lines of one channel are packed into pieces of ``cols`` positions.

    ``width``: unpadded line length; ``pad``: ``(pl, pr)`` zeros along the line; ``K``: taps;
    ``stride``: stride along the line (every ``stride``-th stride-1 output is kept);
    ``starts``: stream position of each piece's first output (ascending)."""

    lines: int
    width: int
    pad: tuple[int, int]
    K: int
    stride: int
    cols: int
    starts: tuple[int, ...]

    @property
    def gap(self) -> int:
        return max(self.pad)

    @property
    def pitch(self) -> int:
        """Stream distance between two lines' padded windows."""
        return self.width + self.gap

    @property
    def n_pos(self) -> int:
        """Kept outputs per line: ``(W + pl + pr - K) // s + 1``."""
        return (self.width + sum(self.pad) - self.K) // self.stride + 1

    @property
    def stream_len(self) -> int:
        pl, pr = self.pad
        return pl + self.lines * self.width + (self.lines - 1) * self.gap + pr

    @property
    def pieces(self) -> int:
        """Pieces (FUSE lines) per channel."""
        return len(self.starts)

    @property
    def piece_len(self) -> int:
        """Stream elements one piece reads: ``cols + K - 1``."""
        return self.cols + self.K - 1

    def position(self, line: int, t: int) -> int:
        """Stream position of kept output ``t`` of line ``line``."""
        return line * self.pitch + self.stride * t


def line_packing(
    lines: int, width: int, pad: tuple[int, int], K: int, stride: int, cols: int
) -> LinePacking:
    """Greedy packing of ``lines`` lines of length ``width`` (zero padding ``pad`` along the
    line, ``K`` taps, every ``stride``-th output kept) into pieces of ``cols`` positions."""
    _positive(lines=lines, width=width, K=K, stride=stride, cols=cols)
    pl, pr = pad
    if pl < 0 or pr < 0:
        raise ValueError(f"padding must be >= 0, not {pad!r}")
    span = width + pl + pr
    if span < K:
        raise ValueError(f"kernel {K} does not fit a padded line of {span}")
    n_pos = (span - K) // stride + 1
    pitch = width + max(pl, pr)
    # kept positions of all lines, ascending (with wide padding two lines' windows overlap
    # in shared zeros, so positions of consecutive lines may interleave or coincide)
    pos = np.unique(
        (np.arange(lines)[:, None] * pitch + stride * np.arange(n_pos)[None, :]).ravel()
    )
    starts: list[int] = []
    i = 0
    while i < len(pos):  # greedy: a piece starts at the first position not yet covered
        p = int(pos[i])
        starts.append(p)
        i = int(np.searchsorted(pos, p + cols, side="left"))
    return LinePacking(lines, width, (pl, pr), K, stride, cols, tuple(starts))


def packing_of_conv(
    n: int,
    h: int,
    w: int,
    kernel: tuple[int, int],
    stride=(1, 1),
    padding=(0, 0),
    cols: int = 1,
) -> LinePacking:
    """The ``LinePacking`` of a 1xK or Kx1 depthwise conv on ``[n, Ch, h, w]`` (the same for
    every channel): 1xK lines are the rows (every ``sh``-th padded row), Kx1 lines the
    columns (every ``sw``-th padded column), as in ``sw.mapping.fuse.depthwise_lines``."""
    kh, kw = kernel
    (sh, sw), (ph, pw) = stride, padding
    if kh == 1:
        return line_packing(n * ((h + 2 * ph - 1) // sh + 1), w, (pw, pw), kw, sw, cols)
    if kw == 1:
        return line_packing(n * ((w + 2 * pw - 1) // sw + 1), h, (ph, ph), kh, sh, cols)
    raise ValueError(f"FuSe mode runs 1xK or Kx1 kernels, not {kh}x{kw}")


def command_channels(channels: int, pieces: int, rows: int) -> list[int]:
    """Split ``channels`` channels of ``pieces`` pieces each into FUSE commands of at most
    ``MAX_GROUPS`` line groups: the channel count of each command (whole channels)."""
    _positive(channels=channels, pieces=pieces, rows=rows)
    per = (MAX_GROUPS * rows) // pieces
    if per < 1:
        raise ValueError(
            f"one channel's {pieces} packed pieces need more than {MAX_GROUPS} line groups "
            f"of {rows} rows (hw.isa Fuse.groups)"
        )
    return [min(per, channels - c0) for c0 in range(0, channels, per)]


def pack_depthwise(
    x: np.ndarray, weight: np.ndarray, stride=(1, 1), padding=(0, 0), cols: int = 1
) -> tuple[np.ndarray, np.ndarray, LinePacking, tuple[int, int, int, int], bool]:
    """Packed FuSe lines of a 1xK / Kx1 depthwise conv (``x[N, Ch, H, W]``, ``weight[Ch, 1,
    kh, kw]``, integer values). Returns ``(pieces[Ch*P, cols+K-1], taps[Ch*P, K], packing,
    out_shape, transposed)``: ``pieces`` are the ``FUSE`` lines (channel-major), ``out_shape``
    the conv's NCHW output shape, ``transposed`` True for Kx1 (lines are columns)."""
    x = np.asarray(x, dtype=np.int64)
    weight = np.asarray(weight, dtype=np.int64)
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(
            f"need x[N, C, H, W] and weight[C, 1, kh, kw], got {x.shape}, {weight.shape}"
        )
    n, c, h, w = x.shape
    if weight.shape[:2] != (c, 1):
        raise ValueError(f"depthwise weight must be [C={c}, 1, kh, kw], got {weight.shape}")
    kh, kw = weight.shape[2:]
    (sh, sw), (ph, pw) = tuple(stride), tuple(padding)
    pk = packing_of_conv(n, h, w, (kh, kw), (sh, sw), (ph, pw), cols)
    transposed = kh != 1
    if transposed:  # Kx1: lines are the columns, every sw-th padded column
        xl = np.pad(x, ((0, 0), (0, 0), (0, 0), (pw, pw)))[:, :, :, ::sw].transpose(0, 1, 3, 2)
        taps = weight[:, 0, :, 0]
        out_shape = (n, c, pk.n_pos, (w + 2 * pw - 1) // sw + 1)
    else:  # 1xK: lines are the rows, every sh-th padded row
        xl = np.pad(x, ((0, 0), (0, 0), (ph, ph), (0, 0)))[:, :, ::sh, :]
        taps = weight[:, 0, 0, :]
        out_shape = (n, c, (h + 2 * ph - 1) // sh + 1, pk.n_pos)
    # xl[N, C, lines per image, width] -> per channel the lines of all images, in order
    per_ch = xl.transpose(1, 0, 2, 3).reshape(c, pk.lines, pk.width)
    pl = pk.pad[0]
    tail = pk.starts[-1] + pk.piece_len
    stream = np.zeros((c, max(tail, pk.stream_len)), dtype=np.int64)
    at = pl + np.arange(pk.lines)[:, None] * pk.pitch + np.arange(pk.width)[None, :]
    stream[:, at] = per_ch
    idx = np.asarray(pk.starts)[:, None] + np.arange(pk.piece_len)[None, :]
    pieces = stream[:, idx].reshape(c * pk.pieces, pk.piece_len)
    piece_taps = np.repeat(taps, pk.pieces, axis=0)
    return pieces, piece_taps, pk, out_shape, transposed


def unpack_depthwise(
    y_pieces: np.ndarray, pk: LinePacking, out_shape: tuple[int, int, int, int], transposed: bool
) -> np.ndarray:
    """The conv's NCHW output from the pieces' stride-1 outputs ``y_pieces[Ch*P, >= cols]``
    (piece ``q`` of channel ``c`` is row ``c*P + q``; lane ``u`` = stream position
    ``starts[q] + u``)."""
    n, c = out_shape[:2]
    y = np.asarray(y_pieces, dtype=np.int64)
    if y.ndim != 2 or y.shape[0] != c * pk.pieces or y.shape[1] < pk.cols:
        raise ValueError(
            f"expected {c * pk.pieces} piece outputs of >= {pk.cols} lanes, got {y.shape}"
        )
    y = y[:, : pk.cols].reshape(c, pk.pieces, pk.cols)
    pos = np.arange(pk.lines)[:, None] * pk.pitch + pk.stride * np.arange(pk.n_pos)[None, :]
    starts = np.asarray(pk.starts)
    q = np.searchsorted(starts, pos, side="right") - 1  # the piece that covers each position
    lane = pos - starts[q]
    if (q < 0).any() or (lane >= pk.cols).any():
        raise AssertionError("line packing does not cover every kept output")  # a bug, not input
    vals = y[:, q, lane]  # [C, lines, n_pos]
    lines_per_image = pk.lines // n
    vals = vals.reshape(c, n, lines_per_image, pk.n_pos).transpose(1, 0, 2, 3)
    if transposed:
        vals = vals.transpose(0, 1, 3, 2)
    if vals.shape != tuple(out_shape):
        raise AssertionError(f"unpacked {vals.shape}, expected {out_shape}")
    return np.ascontiguousarray(vals)
