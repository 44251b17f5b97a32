"""Command set of the accelerator sequencer (``hw.accel.Accelerator``): opcodes, the fixed
128-bit command word, typed ``Command`` records and their ``encode``/``decode``.

This module is imported by both ``hw/`` (the sequencer decodes the same field layout) and
``sw/`` (the compiler emits these records), so it is stdlib only, like ``hw.config``.

Word layout (bit ranges ``[lo, hi)``, little-endian field order; documented in
``docs/accelerator.md``)::

    [0, 4)      op        Opcode
    [4, 8)      flags     reserved, must be 0
    [8, 24)     m         GEMM: activation rows M (1..65535)
    [24, 36)    kfolds    GEMM: row folds ceil(Kr / rows) (1..4095)
    [36, 48)    nfolds    GEMM: column folds ceil(N / cols) (1..4095)
    [48, 68)    a_addr    GEMM: first activation-memory word
    [68, 88)    w_addr    GEMM: first weight-memory word
    [88, 108)   acc_addr  GEMM: first accumulator-memory word
    [108, 128)  reserved, must be 0

``FUSE`` (FuSe 1-D folds, ``FUSE_FIELDS``) uses the same bit ranges under its own names::

    [8, 24)     k         taps per line K (1..ArrayConfig.max_kernel)
    [24, 36)    groups    line groups ceil(lines / rows) (1..4095)
    [36, 48)    pfolds    position folds per line ceil(positions / cols) (1..4095)
    [48, 68)    a_addr    first activation word (lines, see ``Fuse``)
    [68, 88)    w_addr    first weight word (taps)
    [88, 108)   acc_addr  first accumulator word (drained rows)

``REQUANT`` (the output stage, ``REQUANT_FIELDS``, issue 18)::

    [8, 24)     m         rows per channel fold M (1..65535)
    [24, 36)    folds     channel folds ceil(N / cols) (1..4095)
    [36, 48)    zero      must be 0
    [48, 68)    a_addr    first activation word written (int8 output)
    [68, 88)    p_addr    first weight-memory word of the parameter blocks (PARAM_WORDS per fold)
    [88, 108)   acc_addr  first accumulator word read
    [108, 116)  lo        clamp low bound (int8, two's complement)
    [116, 124)  hi        clamp high bound (int8, two's complement), lo <= hi
    [124, 128)  reserved  must be 0

``ADD`` (residual add, ``ADD_FIELDS``, issue 18)::

    [8, 28)     n         activation words (1..2**20-1)
    [28, 48)    b_addr    first word of input b
    [48, 68)    a_addr    first word of input a
    [68, 88)    p_addr    first weight word of the parameter block (PARAM_WORDS words)
    [88, 108)   out_addr  first activation word written
    [108, 116)  lo        clamp low bound (int8)
    [116, 124)  hi        clamp high bound (int8), lo <= hi
    [124, 128)  reserved  must be 0

``GEMM``'s ``flags`` bit 0 is ``conv`` (``GEMM_FIELDS``, issue 18): the activation rows are
generated from the convolution geometry set by the latest ``CONV`` command (``Gemm``); the
other three flag bits must be 0.

``CONV`` (convolution geometry for the ``GEMM`` commands with ``conv=1`` that follow it,
``CONV_FIELDS``, issue 18; no RUN: FETCH + DECODE + ``CONV_SETUP_CYCLES`` setup cycles)::

    [8, 20)     n         images N (1..4095)
    [20, 32)    h         input height H
    [32, 44)    w         input width W
    [44, 56)    ho        output height Ho
    [56, 68)    wo        output width Wo
    [68, 72)    kh        kernel height (1..15)
    [72, 76)    kw        kernel width (1..15)
    [76, 79)    sh        vertical stride (1..7)
    [79, 82)    sw        horizontal stride (1..7)
    [82, 86)    pt        zero rows above the input (0..15)
    [86, 90)    pl        zero columns left of the input (0..15)
    [90, 102)   cfolds    activation planes (row folds per kernel position, 1..4095)
    [102, 128)  reserved  must be 0

``HALT`` has every field but ``op`` zero. An all-zero word is ``HALT``, so a program that runs
off its end into cleared command memory stops.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from typing import Any

__all__ = [
    "WORD_BITS",
    "FIELDS",
    "Op",
    "Command",
    "Halt",
    "Gemm",
    "Fuse",
    "FUSE_FIELDS",
    "Requant",
    "REQUANT_FIELDS",
    "PARAM_WORDS",
    "OUTSTAGE_LATENCY",
    "CONV_SETUP_CYCLES",
    "RESADD_LATENCY",
    "requant_subfolds",
    "Add",
    "ADD_FIELDS",
    "ConvCfg",
    "CONV_FIELDS",
    "GEMM_FIELDS",
    "conv_act_words",
    "conv_supported",
    "check_conv_gemm",
    "check_line_fuse",
    "check_line_requant",
    "check_maxpool",
    "MaxPool",
    "MAXPOOL_FIELDS",
    "REQUANT_CMD_FIELDS",
    "FUSE_CMD_FIELDS",
    "LAYOUTS",
    "encode",
    "decode",
    "encode_program",
    "check_command",
    "Target",
    "LOAD_FIELDS",
    "LOAD_DATA_LO",
    "READ_FIELDS",
    "load_data_bits",
    "pack_load",
    "pack_read",
]

WORD_BITS = 128

#: name -> (lowest bit, width). ``flags`` and ``reserved`` must be zero.
FIELDS: dict[str, tuple[int, int]] = {
    "op": (0, 4),
    "flags": (4, 4),
    "m": (8, 16),
    "kfolds": (24, 12),
    "nfolds": (36, 12),
    "a_addr": (48, 20),
    "w_addr": (68, 20),
    "acc_addr": (88, 20),
    "reserved": (108, 20),
}

#: the ``FUSE`` command's names for the same bit ranges
FUSE_FIELDS: dict[str, tuple[int, int]] = {
    "op": (0, 4),
    "flags": (4, 4),
    "k": (8, 16),
    "groups": (24, 12),
    "pfolds": (36, 12),
    "a_addr": (48, 20),
    "w_addr": (68, 20),
    "acc_addr": (88, 20),
    "reserved": (108, 20),
}
assert [v for v in FUSE_FIELDS.values()] == [v for v in FIELDS.values()]

#: the ``REQUANT`` command's fields
REQUANT_FIELDS: dict[str, tuple[int, int]] = {
    "op": (0, 4),
    "flags": (4, 4),
    "m": (8, 16),
    "folds": (24, 12),
    "zero": (36, 12),
    "a_addr": (48, 20),
    "p_addr": (68, 20),
    "acc_addr": (88, 20),
    "lo": (108, 8),
    "hi": (116, 8),
    "reserved": (124, 4),
}

#: the ``ADD`` command's fields
ADD_FIELDS: dict[str, tuple[int, int]] = {
    "op": (0, 4),
    "flags": (4, 4),
    "n": (8, 20),
    "b_addr": (28, 20),
    "a_addr": (48, 20),
    "p_addr": (68, 20),
    "out_addr": (88, 20),
    "lo": (108, 8),
    "hi": (116, 8),
    "reserved": (124, 4),
}

#: the ``GEMM`` command's fields: ``FIELDS`` with ``flags`` bit 0 named ``conv``
GEMM_FIELDS: dict[str, tuple[int, int]] = {
    **{k: v for k, v in FIELDS.items() if k != "flags"},
    "conv": (4, 1),
    "flags": (5, 3),
}

#: the ``FUSE`` command's fields as encoded: ``FUSE_FIELDS`` with ``flags`` bit 0 named
#: ``lines`` (line addressing from the ``CONV`` geometry, see ``Fuse``)
FUSE_CMD_FIELDS: dict[str, tuple[int, int]] = {
    **{k: v for k, v in FUSE_FIELDS.items() if k != "flags"},
    "lines": (4, 1),
    "flags": (5, 3),
}

#: the ``REQUANT`` command's fields as encoded: ``flags`` bit 0 is ``lines``
REQUANT_CMD_FIELDS: dict[str, tuple[int, int]] = {
    **{k: v for k, v in REQUANT_FIELDS.items() if k != "flags"},
    "lines": (4, 1),
    "flags": (5, 3),
}

#: the ``MAXPOOL`` command's fields
MAXPOOL_FIELDS: dict[str, tuple[int, int]] = {
    "op": (0, 4),
    "flags": (4, 4),
    "m": (8, 20),
    "out_addr": (28, 20),
    "a_addr": (48, 20),
    "kh": (68, 4),
    "kw": (72, 4),
    "reserved": (76, 52),
}

#: the ``CONV`` command's fields
CONV_FIELDS: dict[str, tuple[int, int]] = {
    "op": (0, 4),
    "flags": (4, 4),
    "n": (8, 12),
    "h": (20, 12),
    "w": (32, 12),
    "ho": (44, 12),
    "wo": (56, 12),
    "kh": (68, 4),
    "kw": (72, 4),
    "sh": (76, 3),
    "sw": (79, 3),
    "pt": (82, 4),
    "pl": (86, 4),
    "cfolds": (90, 12),
    "reserved": (102, 26),
}

#: weight-memory words of one ``REQUANT`` parameter block (one channel fold): words 0..3 hold
#: byte ``j`` of each lane's float32 multiplier bits, words 4..7 byte ``j`` of its int32 bias
#: (lane ``c`` = channel ``fold*cols + c``, in weight lane ``c``)
PARAM_WORDS = 8

#: cycles from an accumulator word entering the output stage (``hw.requant``) to its int8
#: result (the stage's pipeline depth; ``sw.latency.rtl.requant_cycles`` uses it)
OUTSTAGE_LATENCY = 6

#: cycles a ``CONV`` spends after DECODE computing its geometry's products (``H*W``,
#: ``N*H*W``, ``N*Ho*Wo``, ``kh*kw*cfolds``, ``cfolds*N*H*W``, ...), one multiplier deep per
#: cycle from registers, and checking ``N*H*W < 2**20`` (else ``error``); ``hw.accel``
#: states CONV1..CONV3. Done in DECODE, this chain set the accelerator's clock (84 MHz at 16x16).
CONV_SETUP_CYCLES = 3

#: cycles from two activation words entering the residual adder (``hw.resadd``) to the result
RESADD_LATENCY = 6


def requant_subfolds(rows: int, cols: int) -> int:
    """Activation words ``REQUANT`` writes per accumulator word: ``ceil(cols / rows)`` (an
    activation word holds ``rows`` channels, an accumulator word ``cols``)."""
    return -(-cols // rows)


class Op(enum.IntEnum):
    """Opcodes (4 bits). Any other value is malformed: the sequencer raises ``error``."""

    HALT = 0  #: stop: raise ``done``, freeze the counters
    GEMM = 1  #: one whole WS GEMM, tiled and double-buffered by the sequencer
    FUSE = 2  #: FuSe 1-D folds (1xK lines) in the array's FuSe mode; needs ``ArrayConfig.fuse``
    REQUANT = 3  #: output stage: accumulator words -> bias, requantize, clamp -> int8 activations
    ADD = 4  #: residual add of two int8 activation ranges with float32 rescaling
    CONV = 5  #: convolution geometry for the following ``GEMM`` commands with ``conv=1``
    MAXPOOL = 6  #: int8 max pooling of one activation plane under the ``CONV`` geometry


@dataclass(frozen=True)
class Command:
    """Base of the typed command records."""

    op: Op = Op.HALT

    def fields(self) -> dict[str, int]:
        return {f.name: int(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class Halt(Command):
    op: Op = Op.HALT


@dataclass(frozen=True)
class Gemm(Command):
    """``Y = X @ W`` for ``X[M, Kr]``, ``W[Kr, N]`` laid out by ``sw.mapping.accel``:

    - activation word ``a_addr + kf*m + i`` = ``X[i, kf*rows : (kf+1)*rows]`` (rows lanes);
    - weight word ``w_addr + (nf*kfolds + kf)*rows + r`` = row ``r`` of tile ``(kf, nf)``
      (cols lanes; tiles in the order column folds outer, row folds inner);
    - accumulator word ``acc_addr + nf*m + i`` = ``Y[i, nf*cols : (nf+1)*cols]`` (int lanes):
      row fold 0 overwrites it, later row folds add to it.

    With ``conv=1`` the activation rows are not stored: they are read from a feature map with
    the geometry of the latest ``ConvCfg`` (``N, H, W, Ho, Wo, kh, kw, sh, sw, pt, pl,
    cfolds``; a conv GEMM before any ``CONV`` is malformed). The map is ``cfolds`` planes of
    ``N*H*W`` words (word ``a_addr + p*N*H*W + (n*H + y)*W + x`` = plane ``p`` of pixel
    ``(n, y, x)``, ``rows`` channel lanes: the layout ``REQUANT`` writes). Row ``i = (n*Ho +
    oy)*Wo + ox`` of row fold ``kf = (ky*kw + kx)*cfolds + p`` is that word at ``y = oy*sh +
    ky - pt``, ``x = ox*sw + kx - pl``, or zero where ``(y, x)`` is outside the map. So
    ``m`` must be ``N*Ho*Wo`` and ``kfolds`` ``kh*kw*cfolds``; the cycles are those of a
    plain ``GEMM`` of the same ``m, kfolds, nfolds``.
    """

    op: Op = Op.GEMM
    m: int = 1
    kfolds: int = 1
    nfolds: int = 1
    a_addr: int = 0
    w_addr: int = 0
    acc_addr: int = 0
    conv: int = 0

    # extents in each memory (words), used by the range checks; a conv GEMM's activation
    # extent depends on the ``ConvCfg`` in force (``conv_act_words``), checked per program
    def act_words(self, rows: int) -> int:
        return 0 if self.conv else self.kfolds * self.m

    def weight_words(self, rows: int) -> int:
        return self.kfolds * self.nfolds * rows

    def acc_words(self, rows: int) -> int:
        return self.nfolds * self.m

    def extents(self, rows: int, cols: int) -> tuple[int, int, int]:
        """Words used in the activation, weight and accumulator memories."""
        return self.act_words(rows), self.weight_words(rows), self.acc_words(rows)


@dataclass(frozen=True)
class Fuse(Command):
    """FuSe folds of ``L`` 1-D lines ``y[l, j] = sum_k line[l, j + k] * taps[l, k]`` (``j`` over
    ``J`` stride-1 positions) on the array in FuSe mode (``hw.top``), scheduled exactly as
    ``sw.mapping.fuse`` (fold period ``max(cols + K - 1, rows + K)``). Lines are taken ``rows``
    at a time (a line group, lane ``r`` = line ``g*rows + r``), positions ``cols`` at a time
    (a position fold); folds run group outer, position fold inner. Layout
    (``W = pfolds*cols + k - 1`` words per group):

    - activation word ``a_addr + g*W + j`` = element ``j`` of the group's lines (zero past a
      line's end); the sequencer walks a fold's receptive field ``j0 + cols + k - 2`` down to
      ``j0`` (``j0 = pf*cols``), i.e. reversed, as the FuSe dataflow needs;
    - weight word ``w_addr + g*k + i`` = tap ``k - 1 - i`` of the group's lines (``rows``
      lanes; taps are stored in the order they are broadcast);
    - accumulator word ``acc_addr + f*rows + i`` (fold ``f = g*pfolds + pf``) = the outputs of
      line ``g*rows + rows - 1 - i`` at positions ``j0 .. j0 + cols - 1`` (the array drains its
      bottom row first); overwritten, never accumulated.

    With ``lines=1`` (issue 18) the lines are read from a feature map with the geometry of
    the latest ``ConvCfg`` (a 1xK one, ``kh == 1``, or a Kx1 one, ``kw == 1``; no padding
    across the lines; ``k`` = the kernel length): the plane of ``n*h*w`` words from
    ``a_addr`` (``rows`` channel lanes, ``REQUANT``'s layout). Group ``g`` is image row
    ``oy*sh`` (1xK; ``g = n*ho + oy``) or column ``ox*sw`` (Kx1; ``g = n*wo + ox``) of
    image ``n``: its ``rows`` lines are the plane's channels along it, element ``j`` is the
    pixel at ``j - pl`` (``j - pt``) along the line, zero outside the map. ``groups`` must be
    ``n*ho`` (``n*wo``). The taps are the ``k`` words from ``w_addr`` for every group. The
    accumulator layout and the cycles are those of a plain ``FUSE`` of the same fields.
    """

    op: Op = Op.FUSE
    k: int = 1
    groups: int = 1
    pfolds: int = 1
    a_addr: int = 0
    w_addr: int = 0
    acc_addr: int = 0
    lines: int = 0

    def extents(self, rows: int, cols: int) -> tuple[int, int, int]:
        """Words used in the activation, weight and accumulator memories (a line-addressed
        FUSE's activation extent depends on the ``ConvCfg``: ``check_line_fuse``)."""
        if self.lines:
            return 0, self.k, self.groups * self.pfolds * rows
        return (
            self.groups * (self.pfolds * cols + self.k - 1),
            self.groups * self.k,
            self.groups * self.pfolds * rows,
        )


@dataclass(frozen=True)
class Requant(Command):
    """Output stage over ``folds`` channel folds of ``m`` accumulator words each (the layout a
    ``Gemm`` leaves: word ``acc_addr + f*m + i`` = row ``i``, channels ``f*cols ..``). With
    ``S = requant_subfolds(rows, cols)``, for every fold ``f``, sub-fold ``s < S`` and row
    ``i``, activation word ``a_addr + (f*S + s)*m + i`` gets, in lane ``r < rows``, channel
    ``c = s*rows + r`` of the fold (0 if ``c >= cols``)::

        clamp(sat8(rne(float32(float32(acc + bias[c]) * mult[c]))), lo, hi)

    ``mult``/``bias`` come from the fold's parameter block, weight words
    ``p_addr + f*PARAM_WORDS ..`` (see ``PARAM_WORDS``). So the output is the next ``Gemm``'s
    activation layout (row fold ``f*S + s``); channel ``n`` of the layer sits in its input row
    ``(n // cols)*S*rows + n % cols``.

    With ``lines=1`` (issue 18) it is the corner turn after a ``Fuse(lines=1)`` under the same
    ``ConvCfg``: ``folds`` = the FUSE's ``groups``, ``m`` = its ``pfolds``. Accumulator word
    ``acc_addr + f*rows + i`` (fold ``f = g*m + pf``) holds line ``rows-1-i`` (lane ``r`` of
    the plane) at positions ``pf*cols + c``; every lane of it takes line ``r``'s ``mult[r]``,
    ``bias[r]`` (one parameter block, lane ``r``). Position ``j`` is kept when ``j = k*s``
    (``s`` the stride along the line) with ``k < wo`` (1xK) or ``< ho`` (Kx1); its ``rows``
    results form the activation word of output pixel ``(n, oy, ox)`` = ``(n, g % ho, k)``
    (1xK) or ``(n, k, g % wo)`` (Kx1) at ``a_addr + (n*ho + oy)*wo + ox``: the layout the
    next layer reads, with no host transposition.
    """

    op: Op = Op.REQUANT
    m: int = 1
    folds: int = 1
    a_addr: int = 0
    p_addr: int = 0
    acc_addr: int = 0
    lo: int = -128
    hi: int = 127
    lines: int = 0

    def fields(self) -> dict[str, int]:
        out = super().fields()
        out["lo"] &= 0xFF  # two's complement in the word
        out["hi"] &= 0xFF
        return out

    def extents(self, rows: int, cols: int) -> tuple[int, int, int]:
        """Words used in the activation, weight and accumulator memories (line mode: the
        activation extent depends on the ``ConvCfg``, ``check_line_requant``)."""
        if self.lines:
            return 0, PARAM_WORDS, self.folds * self.m * rows
        return (
            self.folds * requant_subfolds(rows, cols) * self.m,
            self.folds * PARAM_WORDS,
            self.folds * self.m,
        )


@dataclass(frozen=True)
class Add(Command):
    """Residual add over ``n`` activation words (``rows`` int8 lanes each): word
    ``out_addr + i``, lane ``r`` =
    ``clamp(sat8(rne(float32(float32(a*m_a) + float32(b*m_b)))), lo, hi)`` with ``a``, ``b``
    lane ``r`` of words ``a_addr + i``, ``b_addr + i`` (``sw.ref.quant.add_requant``).
    ``m_a``/``m_b`` are the float32 bits in weight lane 0 of the parameter block at ``p_addr``:
    words 0..3 hold byte ``j`` of ``m_a``, words 4..7 byte ``j`` of ``m_b``. In place
    (``out_addr == a_addr`` or ``b_addr``) is allowed: a word is written after it is read."""

    op: Op = Op.ADD
    n: int = 1
    b_addr: int = 0
    a_addr: int = 0
    p_addr: int = 0
    out_addr: int = 0
    lo: int = -128
    hi: int = 127

    def fields(self) -> dict[str, int]:
        out = super().fields()
        out["lo"] &= 0xFF
        out["hi"] &= 0xFF
        return out

    def extents(self, rows: int, cols: int) -> tuple[int, int, int]:
        """Words used in the activation (written), weight and accumulator memories."""
        return self.n, PARAM_WORDS, 0


@dataclass(frozen=True)
class ConvCfg(Command):
    """Convolution geometry for the ``Gemm(conv=1)`` commands that follow (see ``Gemm``):
    ``n`` images of ``h x w`` pixels in ``cfolds`` activation planes, a ``kh x kw`` kernel
    with strides ``sh, sw`` and ``pt``/``pl`` zero rows/columns before the map, giving
    ``ho x wo`` outputs. Costs FETCH + DECODE (2 cycles); sets no memory."""

    op: Op = Op.CONV
    n: int = 1
    h: int = 1
    w: int = 1
    ho: int = 1
    wo: int = 1
    kh: int = 1
    kw: int = 1
    sh: int = 1
    sw: int = 1
    pt: int = 0
    pl: int = 0
    cfolds: int = 1

    @property
    def plane(self) -> int:
        """Words per activation plane: ``n*h*w``."""
        return self.n * self.h * self.w

    def extents(self, rows: int, cols: int) -> tuple[int, int, int]:
        return 0, 0, 0


@dataclass(frozen=True)
class MaxPool(Command):
    """Max pooling of the activation plane at ``a_addr`` (``n*h*w`` words) under the latest
    ``ConvCfg`` (window ``kh x kw``, which this word repeats, strides, padding): output pixel
    ``i = (n*ho + oy)*wo + ox``, word ``out_addr + i``, lane ``r`` = the max of lane ``r``
    over the window (positions outside the map count as -128, so padding never wins:
    ``sw.ref.quant.maxpool2d``). ``m`` must be ``n*ho*wo``. RUN: ``m*kh*kw + 1`` cycles (one
    read per cycle, the write in the cycle the last tap's data arrives)."""

    op: Op = Op.MAXPOOL
    m: int = 1
    out_addr: int = 0
    a_addr: int = 0
    kh: int = 1
    kw: int = 1

    def extents(self, rows: int, cols: int) -> tuple[int, int, int]:
        """Words written in the activation memory (the input plane depends on the
        ``ConvCfg``: ``check_maxpool``)."""
        return self.m, 0, 0


def check_maxpool(cmd: MaxPool, geom: ConvCfg | None, cfg: Any | None = None) -> None:
    """Raise ``ValueError`` naming the field if ``cmd`` does not match the geometry in force or
    reaches past activation memory."""
    if geom is None:
        raise ValueError("MaxPool needs a ConvCfg (CONV command) before it")
    if (cmd.kh, cmd.kw) != (geom.kh, geom.kw):
        raise ValueError(
            f"MaxPool.kh/kw={cmd.kh}x{cmd.kw} differ from the ConvCfg's {geom.kh}x{geom.kw}"
        )
    if cmd.m != geom.n * geom.ho * geom.wo:
        raise ValueError(f"MaxPool.m={cmd.m} must be n*ho*wo = {geom.n * geom.ho * geom.wo}")
    if cfg is not None:
        for field, base, words in (
            ("a_addr", cmd.a_addr, geom.plane),
            ("out_addr", cmd.out_addr, cmd.m),
        ):
            if base + words > cfg.act_depth:
                raise ValueError(
                    f"MaxPool.{field}={base} + {words} words runs past the memory "
                    f"(ArrayConfig.act_depth={cfg.act_depth})"
                )


def conv_act_words(geom: ConvCfg) -> int:
    """Activation words a ``Gemm(conv=1)`` under ``geom`` may read: ``cfolds * n*h*w``."""
    return geom.cfolds * geom.plane


_RECORDS: dict[Op, type[Command]] = {
    Op.HALT: Halt,
    Op.GEMM: Gemm,
    Op.FUSE: Fuse,
    Op.REQUANT: Requant,
    Op.ADD: Add,
    Op.CONV: ConvCfg,
    Op.MAXPOOL: MaxPool,
}

#: opcode -> field layout of its word
LAYOUTS: dict[Op, dict[str, tuple[int, int]]] = {
    Op.HALT: FIELDS,
    Op.GEMM: GEMM_FIELDS,
    Op.FUSE: FUSE_CMD_FIELDS,
    Op.REQUANT: REQUANT_CMD_FIELDS,
    Op.ADD: ADD_FIELDS,
    Op.CONV: CONV_FIELDS,
    Op.MAXPOOL: MAXPOOL_FIELDS,
}


def _check_field(cmd: str, name: str, value: Any, lo: int = 0, layout=FIELDS) -> int:
    _, width = layout[name]
    hi = (1 << width) - 1
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{cmd}.{name} must be an integer, not {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{cmd}.{name}={value} is out of range {lo}..{hi} ({width}-bit field)")
    return value


def check_command(cmd: Command, cfg: Any | None = None) -> None:
    """Raise ``ValueError`` naming the field if ``cmd`` cannot be encoded or, given an
    ``ArrayConfig`` ``cfg``, if it reaches outside the accelerator's memories."""
    name = type(cmd).__name__
    if not isinstance(cmd, Command) or type(cmd) not in _RECORDS.values():
        raise ValueError(f"not a command record: {cmd!r}")
    if cmd.op is not Op(cmd.op) or _RECORDS[Op(cmd.op)] is not type(cmd):
        raise ValueError(f"{name}.op={cmd.op!r} does not match the record type")
    if isinstance(cmd, Gemm):
        for f in ("m", "kfolds", "nfolds"):
            _check_field(name, f, getattr(cmd, f), lo=1)
        _check_field(name, "conv", cmd.conv, layout=GEMM_FIELDS)
    if isinstance(cmd, MaxPool):
        for f in ("m", "kh", "kw"):
            _check_field(name, f, getattr(cmd, f), lo=1, layout=MAXPOOL_FIELDS)
        for f in ("a_addr", "out_addr"):
            _check_field(name, f, getattr(cmd, f), layout=MAXPOOL_FIELDS)
        if cfg is not None and not conv_supported(cfg):
            raise ValueError(f"{name}: max pooling needs the output stage (act_width=8, ...)")
    if isinstance(cmd, ConvCfg):
        for f in ("n", "h", "w", "ho", "wo", "kh", "kw", "sh", "sw", "cfolds"):
            _check_field(name, f, getattr(cmd, f), lo=1, layout=CONV_FIELDS)
        for f in ("pt", "pl"):
            _check_field(name, f, getattr(cmd, f), layout=CONV_FIELDS)
        if cfg is not None and not conv_supported(cfg):
            raise ValueError(
                f"{name}: convolution addressing needs the output stage (ArrayConfig."
                f"act_width=8, weight_width >= 8, acc_width <= 32)"
            )
        if cmd.plane >= 1 << 20:
            raise ValueError(f"{name}: a plane of n*h*w = {cmd.plane} words exceeds 2**20")
    if isinstance(cmd, Fuse):
        for f in ("k", "groups", "pfolds"):
            _check_field(name, f, getattr(cmd, f), lo=1, layout=FUSE_FIELDS)
        _check_field(name, "lines", cmd.lines, layout=FUSE_CMD_FIELDS)
        if cfg is not None and not cfg.fuse:
            raise ValueError(f"{name}: array {cfg.name} has no FuSe mode (ArrayConfig.fuse=False)")
        if cfg is not None and cmd.k > cfg.max_kernel:
            raise ValueError(f"{name}.k={cmd.k} exceeds ArrayConfig.max_kernel={cfg.max_kernel}")
    if isinstance(cmd, Add):
        _check_field(name, "n", cmd.n, lo=1, layout=ADD_FIELDS)
        for f in ("a_addr", "b_addr", "out_addr", "p_addr"):
            _check_field(name, f, getattr(cmd, f), layout=ADD_FIELDS)
        if cfg is not None:
            for f, depth_name, words in (
                ("a_addr", "act_depth", cmd.n),
                ("b_addr", "act_depth", cmd.n),
                ("out_addr", "act_depth", cmd.n),
                ("p_addr", "weight_depth", PARAM_WORDS),
            ):
                base, depth = getattr(cmd, f), getattr(cfg, depth_name)
                if base + words > depth:
                    raise ValueError(
                        f"{name}.{f}={base} + {words} words runs past the memory "
                        f"(ArrayConfig.{depth_name}={depth})"
                    )
    if isinstance(cmd, (Requant, Add)):
        for f in ("lo", "hi"):
            v = getattr(cmd, f)
            if isinstance(v, bool) or not isinstance(v, int) or not -128 <= v <= 127:
                raise ValueError(f"{name}.{f}={v!r} is out of the int8 range -128..127")
        if cmd.lo > cmd.hi:
            raise ValueError(f"{name}.lo={cmd.lo} is above {name}.hi={cmd.hi}")
        if cfg is not None and (cfg.act_width != 8 or cfg.weight_width < 8 or cfg.acc_width > 32):
            raise ValueError(
                f"{name}: the output stage needs ArrayConfig.act_width=8, weight_width >= 8 "
                f"and acc_width <= 32, not {cfg.act_width}, {cfg.weight_width} and "
                f"{cfg.acc_width}"
            )
    if isinstance(cmd, Requant):
        for f in ("m", "folds"):
            _check_field(name, f, getattr(cmd, f), lo=1, layout=REQUANT_FIELDS)
        _check_field(name, "lines", cmd.lines, layout=REQUANT_CMD_FIELDS)
        if cmd.lines and cfg is not None and not cfg.fuse:
            raise ValueError(f"{name}.lines=1 needs a FuSe array (ArrayConfig.fuse=True)")
    if isinstance(cmd, (Gemm, Fuse, Requant)):
        waddr = "p_addr" if isinstance(cmd, Requant) else "w_addr"
        for f in ("a_addr", waddr, "acc_addr"):
            _check_field(name, f, getattr(cmd, f), layout=LAYOUTS[Op(cmd.op)])
        if cfg is not None:
            act, wgt, acc = cmd.extents(cfg.rows, cfg.cols)
            extents = (
                ("a_addr", cmd.a_addr, act, "act_depth", cfg.act_depth),
                (waddr, getattr(cmd, waddr), wgt, "weight_depth", cfg.weight_depth),
                ("acc_addr", cmd.acc_addr, acc, "acc_depth", cfg.acc_depth),
            )
            for field, base, words, depth_name, depth in extents:
                if base + words > depth:
                    raise ValueError(
                        f"{name}.{field}={base} + {words} words runs past the memory "
                        f"(ArrayConfig.{depth_name}={depth})"
                    )


def conv_supported(cfg: Any) -> bool:
    """Whether ``cfg``'s accelerator decodes ``CONV`` and ``Gemm(conv=1)``: only with the output
    stage (``hw.accel.has_outstage``), as the on-chip network path needs both."""
    return cfg.act_width == 8 and cfg.weight_width >= 8 and cfg.acc_width <= 32


def check_conv_gemm(cmd: Gemm, geom: ConvCfg | None, cfg: Any | None = None) -> None:
    """Raise ``ValueError`` naming the field if ``Gemm(conv=1)`` ``cmd`` does not match the
    geometry ``geom`` in force (``None``: no ``CONV`` yet) or reads past activation memory."""
    if geom is None:
        raise ValueError("Gemm.conv=1 needs a ConvCfg (CONV command) before it")
    if cmd.m != geom.n * geom.ho * geom.wo:
        raise ValueError(
            f"Gemm.m={cmd.m} must be n*ho*wo = {geom.n}*{geom.ho}*{geom.wo} of the ConvCfg"
        )
    if cmd.kfolds != geom.kh * geom.kw * geom.cfolds:
        raise ValueError(
            f"Gemm.kfolds={cmd.kfolds} must be kh*kw*cfolds = "
            f"{geom.kh}*{geom.kw}*{geom.cfolds} of the ConvCfg"
        )
    if cfg is not None and cmd.a_addr + conv_act_words(geom) > cfg.act_depth:
        raise ValueError(
            f"Gemm.a_addr={cmd.a_addr} + {conv_act_words(geom)} words (cfolds*n*h*w) runs "
            f"past the memory (ArrayConfig.act_depth={cfg.act_depth})"
        )


def check_line_fuse(cmd: Fuse, geom: ConvCfg | None, cfg: Any | None = None) -> None:
    """Raise ``ValueError`` naming the field if ``Fuse(lines=1)`` ``cmd`` does not match the
    geometry ``geom`` in force (see ``Fuse``) or reads past activation memory."""
    if geom is None:
        raise ValueError("Fuse.lines=1 needs a ConvCfg (CONV command) before it")
    row = geom.kh == 1
    if not row and geom.kw != 1:
        raise ValueError(f"Fuse.lines=1 needs a 1xK or Kx1 ConvCfg, not {geom.kh}x{geom.kw}")
    k, across, pad_name, groups = (
        (geom.kw, geom.pt, "pt", geom.n * geom.ho)
        if row
        else (geom.kh, geom.pl, "pl", geom.n * geom.wo)
    )
    if across:
        raise ValueError(f"Fuse.lines=1: ConvCfg.{pad_name}={across} pads across the lines")
    if cmd.k != k:
        raise ValueError(f"Fuse.k={cmd.k} must be the ConvCfg kernel length {k}")
    if cmd.groups != groups:
        raise ValueError(f"Fuse.groups={cmd.groups} must be {groups} (one per image line)")
    if cfg is not None and cmd.a_addr + geom.plane > cfg.act_depth:
        raise ValueError(
            f"Fuse.a_addr={cmd.a_addr} + {geom.plane} words (n*h*w) runs past the memory "
            f"(ArrayConfig.act_depth={cfg.act_depth})"
        )


def check_line_requant(cmd: Requant, geom: ConvCfg | None, cfg: Any | None = None) -> None:
    """Raise ``ValueError`` naming the field if ``Requant(lines=1)`` ``cmd`` does not match the
    geometry ``geom`` in force or writes past activation memory."""
    if geom is None:
        raise ValueError("Requant.lines=1 needs a ConvCfg (CONV command) before it")
    row = geom.kh == 1
    if not row and geom.kw != 1:
        raise ValueError(f"Requant.lines=1 needs a 1xK or Kx1 ConvCfg, not {geom.kh}x{geom.kw}")
    groups = geom.n * (geom.ho if row else geom.wo)
    if cmd.folds != groups:
        raise ValueError(f"Requant.folds={cmd.folds} must be {groups} (the FUSE's groups)")
    out = geom.n * geom.ho * geom.wo
    if cfg is not None and cmd.a_addr + out > cfg.act_depth:
        raise ValueError(
            f"Requant.a_addr={cmd.a_addr} + {out} words (n*ho*wo) runs past the memory "
            f"(ArrayConfig.act_depth={cfg.act_depth})"
        )


def encode(cmd: Command, cfg: Any | None = None) -> int:
    """The 128-bit word of ``cmd`` (validated first, see ``check_command``)."""
    check_command(cmd, cfg)
    word = 0
    layout = LAYOUTS[Op(cmd.op)]
    for name, value in cmd.fields().items():
        lo, _ = layout[name]
        word |= value << lo
    return word


def decode(word: int) -> Command:
    """The record of a 128-bit word; ``ValueError`` for an unknown opcode or set reserved bits."""
    if isinstance(word, bool) or not isinstance(word, int) or not 0 <= word < (1 << WORD_BITS):
        raise ValueError(f"command word must be a {WORD_BITS}-bit unsigned integer, not {word!r}")
    opv = word & 0xF
    try:
        op = Op(opv)
    except ValueError:
        raise ValueError(f"command word {word:#x}: unknown opcode op={opv}") from None
    rec = _RECORDS[op]
    layout = LAYOUTS[op]
    raw = {name: (word >> lo) & ((1 << w) - 1) for name, (lo, w) in layout.items()}
    for name in ("flags", "reserved"):
        if raw[name]:
            raise ValueError(f"command word {word:#x}: {name} bits must be 0, not {raw[name]:#x}")
    names = [f.name for f in fields(rec) if f.name != "op"]
    extra = [n for n in layout if n not in names and n not in ("op", "flags", "reserved")]
    for name in extra:
        if raw[name]:
            raise ValueError(f"command word {word:#x}: {op.name} must have {name}=0")
    for name in ("lo", "hi"):
        if name in names and raw[name] >= 128:
            raw[name] -= 256
    cmd = rec(**{n: raw[n] for n in names})
    check_command(cmd)
    return cmd


def encode_program(cmds: list[Command], cfg: Any | None = None) -> list[int]:
    """Encode a program; it must end with ``Halt`` (the sequencer stops there)."""
    if not cmds or not isinstance(cmds[-1], Halt):
        raise ValueError("a program must end with a Halt command")
    if cfg is not None and len(cmds) > cfg.cmd_depth:
        raise ValueError(
            f"program of {len(cmds)} commands does not fit ArrayConfig.cmd_depth={cfg.cmd_depth}"
        )
    out = []
    geom: ConvCfg | None = None
    for i, cmd in enumerate(cmds):
        try:
            out.append(encode(cmd, cfg))
            if isinstance(cmd, ConvCfg):
                geom = cmd
            elif isinstance(cmd, Gemm) and cmd.conv:
                check_conv_gemm(cmd, geom, cfg)
            elif isinstance(cmd, Fuse) and cmd.lines:
                check_line_fuse(cmd, geom, cfg)
            elif isinstance(cmd, Requant) and cmd.lines:
                check_line_requant(cmd, geom, cfg)
            elif isinstance(cmd, MaxPool):
                check_maxpool(cmd, geom, cfg)
        except ValueError as exc:
            raise ValueError(f"command {i}: {exc}") from None
    return out


# -- host streams (``hw.accel.Accelerator.load`` / ``rd_req``) ----------------------------------


class Target(enum.IntEnum):
    """Memory a ``load`` stream word writes. Any other value is rejected (``host_error``)."""

    CMD = 0  #: ``cmd_mem`` (one command word)
    ACT = 1  #: ``act_mem`` (``rows`` activation lanes)
    WEIGHT = 2  #: ``w_mem`` (``cols`` or, on a FuSe array, ``max(rows, cols)`` weight lanes)


#: ``load`` payload fields (lowest bit, width); ``data`` follows from ``LOAD_DATA_LO`` upwards,
#: ``load_data_bits(cfg)`` wide
LOAD_FIELDS: dict[str, tuple[int, int]] = {"target": (0, 2), "addr": (2, 20)}
LOAD_DATA_LO = 22

#: ``rd_req`` payload fields: read ``count`` accumulator words from ``addr`` upwards
READ_FIELDS: dict[str, tuple[int, int]] = {"addr": (0, 20), "count": (20, 21)}


def load_data_bits(cfg: Any) -> int:
    """Width of a ``load`` word's ``data`` field: the widest memory word of ``cfg``."""
    w_lanes = max(cfg.rows, cfg.cols) if cfg.fuse else cfg.cols
    return max(WORD_BITS, cfg.rows * cfg.act_width, w_lanes * cfg.weight_width)


def _pack(layout: dict[str, tuple[int, int]], what: str, **values: int) -> int:
    word = 0
    for name, value in values.items():
        lo, width = layout[name]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < (1 << width):
            raise ValueError(f"{what}.{name}={value!r} is out of range 0..{(1 << width) - 1}")
        word |= value << lo
    return word


def pack_load(target: int, addr: int, data: int, cfg: Any | None = None) -> int:
    """The ``load`` stream payload writing ``data`` to word ``addr`` of memory ``target``.

    Only the field widths are checked (given ``cfg``, also ``data``'s width): an address past
    the memory's depth packs fine and is rejected by the hardware, which is what the
    robustness tests need."""
    word = _pack(LOAD_FIELDS, "load", target=int(target), addr=addr)
    bits = load_data_bits(cfg) if cfg is not None else None
    if isinstance(data, bool) or not isinstance(data, int) or data < 0:
        raise ValueError(f"load.data must be a non-negative integer, not {data!r}")
    if bits is not None and data >> bits:
        raise ValueError(f"load.data={data:#x} is wider than {bits} bits")
    return word | data << LOAD_DATA_LO


def pack_read(addr: int, count: int) -> int:
    """The ``rd_req`` stream payload asking for accumulator words ``addr .. addr+count-1``."""
    return _pack(READ_FIELDS, "rd_req", addr=addr, count=count)
