"""RTL-exact cycle model of fusesa's own hardware (SPEC 4): mode ``rtl`` counts the accelerator
top (``hw.accel``: each layer one program, its commands + ``HALT``, as ``sim.run_layer`` runs it;
``accel_layer_program_cycles``), mode ``rtl-array`` the bare array driven cycle by cycle
(``sim.run_layer(..., backend="array")``; ``rtl_layer_cycles``). The bare-array terms come first.

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

FuSe 1-D depthwise (``hw`` FuSe mode, schedule of ``sw.mapping.fuse``): ``L`` lines of
``J`` stride-1 output positions with a ``K``-tap kernel, folds ``ceil(L/R) * ceil(J/C)``,
each streaming ``C + K - 1`` inputs, broadcasting ``K`` taps in its last ``K`` stream cycles
and draining ``R`` results (one SHIFT per row, the bottom row is the output in a SHIFT cycle)
in the next cycles, which overlap the next fold's stream-in but not its taps. Fold 0 starts
in cycle 1 (the array registers its op, issued one cycle ahead)::

    P      = max(C + K - 1, R + K) = C + K - 1 + max(0, R - (C - 1))
    cycles = (folds - 1) * P + C + K + R

A 1xK layer on ``[N, Ch, H, W]`` with stride ``(sh, sw)``, padding ``(ph, pw)``: lines
``L = N*Ch*Ho`` (every ``sh``-th padded row), ``J = W + 2pw - K + 1`` (every ``sw``-th kept).
A Kx1 layer is the same on the transposed image.

Baseline depthwise (SPEC 3.4): one single-column GEMM per channel, run one after the other::

    cycles = Ch * gemm_cycles(N*Ho*Wo, kh*kw, 1, R, C)

Accelerator top (``hw.accel``, counted by its ``cnt_total`` counter from the cycle after
``start`` up to, not including, the first cycle ``done`` is high). Every command costs
``FETCH`` (1 cycle: command memory read) + ``DECODE`` (1: latch and check); a ``GEMM`` command
then RUNs ``1 + gemm_cycles(...)`` cycles (the ``1``: the memories' read latency puts the
sequencer's issue stage one cycle ahead of the array's first weight write; RUN ends in the
cycle of the last output, which is accumulated in that cycle)::

    accel_gemm_cycles    = 2 + 1 + gemm_cycles(M, Kr, N, R, C)
    accel_program_cycles = sum(accel_gemm_cycles over the GEMM commands) + 2   (HALT)

A ``FUSE`` command (FuSe folds run by the sequencer, ``hw.isa.Fuse``) costs the same
FETCH + DECODE, then RUNs ``1 + fuse_cycles(...)``: the sequencer issues a tap read two cycles
before it applies (memory latency + the array's registered op) and a line read one cycle before,
so fold 0's first element enters in RUN cycle 2 instead of the bare schedule's cycle 1::

    accel_fuse_cycles    = 2 + 1 + fuse_cycles(L, J, K, R, C)

Whole layers on the accelerator (``sw.mapping.accel.compile_layers``; one program = the layers'
commands + ``HALT``, ``ACCEL_COMMAND_OVERHEAD`` cycles):

- conv (im2col), pointwise, linear: one GEMM command, ``accel_gemm_cycles(M, Kr, N)``;
- depthwise baseline: ``Ch * accel_gemm_cycles(N*Ho*Wo, kh*kw, 1)`` (one command per channel);
- depthwise 1xK / Kx1 in FuSe mode: ``accel_fuse_cycles(L, J, K)`` (``accel_fuse_conv_cycles``).

Line packing (issue 22, ``sw.mapping.pack``): the lines of one channel share array rows; the
layer becomes ``FUSE`` command(s) over ``Ch * P`` pieces of ``C`` positions (``P`` pieces
per channel from ``sw.mapping.pack.packing_of_conv``), at most ``MAX_GROUPS * R`` pieces (whole
channels) per command. Nothing else changes, so the same formula counts it::

    packed_fuse_conv_cycles       = fuse_cycles(Ch * P, C, K, R, C)          (bare array)
    accel_packed_fuse_conv_cycles = sum over the commands of accel_fuse_cycles(L_i, C, K, R, C)

``fuse_conv_mapping`` picks a 1-D layer's mapping for ``depthwise="auto"``: ``fuse-packed``
if its accelerator cycles are strictly lower than the plain ``fuse`` mapping's (and its
activation words fit the ISA's ``2**20``), else ``fuse``. Packing never needs more folds than
the plain mapping (``sw.mapping.pack``), so ``auto`` is never slower than ``fuse``.

A layer run alone (``sim.run_layer``, latency mode ``rtl``) is one program: its commands plus
``HALT`` (``accel_layer_program_cycles = accel_layer_cycles + 2``).

Of those, ``cnt_busy = sum(folds * M)`` over GEMMs plus ``folds * (C + K - 1)`` over FUSEs (an activation row enters the array) and
``cnt_stall`` = the other RUN cycles, so ``total = busy + stall + 2 * commands``.
"""

from __future__ import annotations

from math import ceil

from sw.mapping.pack import command_channels, packing_of_conv
from sw.ref.conv import conv_out_size

__all__ = [
    "gemm_folds",
    "gemm_fold_period",
    "gemm_cycles",
    "conv2d_gemm_shape",
    "fuse_folds",
    "fuse_fold_period",
    "fuse_cycles",
    "fuse_conv_cycles",
    "depthwise_baseline_cycles",
    "rtl_layer_cycles",
    "ACCEL_COMMAND_OVERHEAD",
    "accel_gemm_cycles",
    "accel_program_cycles",
    "accel_fuse_cycles",
    "accel_fuse_conv_cycles",
    "accel_depthwise_baseline_cycles",
    "accel_layer_cycles",
    "accel_layer_program_cycles",
    "DEPTHWISE_MAPPINGS",
    "packed_fuse_commands",
    "packed_fuse_conv_cycles",
    "accel_packed_fuse_conv_cycles",
    "fuse_conv_mapping",
    "layer_depthwise_mapping",
]

#: depthwise mappings a caller may ask for: ``auto`` (the cheapest FuSe mapping for 1xK / Kx1
#: kernels the array runs, per-channel GEMMs otherwise), ``fuse`` (one line per array row),
#: ``fuse-packed`` (line packing), ``baseline`` (per-channel GEMMs, SPEC 3.4)
DEPTHWISE_MAPPINGS = ("auto", "fuse", "fuse-packed", "baseline")
#: the deepest memory ``hw.isa``'s 20-bit address fields reach
_MAX_WORDS = 1 << 20

#: cycles every accelerator command spends in FETCH + DECODE (``hw.accel``)
ACCEL_COMMAND_OVERHEAD = 2


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


def accel_gemm_cycles(M: int, Kr: int, N: int, rows: int, cols: int) -> int:
    """Cycles of one ``GEMM`` command on the accelerator top: FETCH + DECODE + the issue
    stage's one-cycle lead + the array's ``gemm_cycles``."""
    return ACCEL_COMMAND_OVERHEAD + 1 + gemm_cycles(M, Kr, N, rows, cols)


def accel_program_cycles(shapes, rows: int, cols: int) -> int:
    """``cnt_total`` of a program of GEMM commands ``[(M, Kr, N), ...]`` ending in ``HALT``."""
    return sum(accel_gemm_cycles(M, Kr, N, rows, cols) for M, Kr, N in shapes) + (
        ACCEL_COMMAND_OVERHEAD
    )


def conv2d_gemm_shape(
    c_in: int, c_out: int, kh: int, kw: int, h_out: int, w_out: int, batch: int = 1
) -> tuple[int, int, int]:
    """(M, Kr, N) of a groups=1 conv lowered by im2col: pixels x (kh*kw*c_in) x filters."""
    return batch * h_out * w_out, kh * kw * c_in, c_out


def fuse_folds(lines: int, positions: int, rows: int, cols: int) -> int:
    """FuSe folds: ``ceil(lines / rows) * ceil(positions / cols)``."""
    _check_positive(lines=lines, positions=positions, rows=rows, cols=cols)
    return ceil(lines / rows) * ceil(positions / cols)


def fuse_fold_period(K: int, rows: int, cols: int) -> int:
    """Steady-state FuSe fold period ``max(cols + K - 1, rows + K)``."""
    _check_positive(K=K, rows=rows, cols=cols)
    return max(cols + K - 1, rows + K)


def fuse_cycles(lines: int, positions: int, K: int, rows: int, cols: int) -> int:
    """Exact RTL cycles of ``lines`` 1-D correlations with ``positions`` outputs each."""
    folds = fuse_folds(lines, positions, rows, cols)
    return (folds - 1) * fuse_fold_period(K, rows, cols) + cols + K + rows


def fuse_conv_cycles(
    n: int,
    ch: int,
    h: int,
    w: int,
    kernel: tuple[int, int],
    stride=(1, 1),
    padding=(0, 0),
    rows: int = 1,
    cols: int = 1,
) -> int:
    """RTL cycles of a 1xK or Kx1 depthwise conv in FuSe mode."""
    kh, kw = kernel
    sh, sw = stride
    ph, pw = padding
    if kh == 1:
        lines, positions, K = n * ch * conv_out_size(h, 1, sh, ph), w + 2 * pw - kw + 1, kw
    elif kw == 1:
        lines, positions, K = n * ch * conv_out_size(w, 1, sw, pw), h + 2 * ph - kh + 1, kh
    else:
        raise ValueError(f"FuSe mode runs 1xK or Kx1 kernels, not {kh}x{kw}")
    return fuse_cycles(lines, positions, K, rows, cols)


def depthwise_baseline_cycles(
    n: int,
    ch: int,
    h: int,
    w: int,
    kernel: tuple[int, int],
    stride=(1, 1),
    padding=(0, 0),
    rows: int = 1,
    cols: int = 1,
) -> int:
    """RTL cycles of a depthwise conv as one single-column GEMM per channel (SPEC 3.4)."""
    kh, kw = kernel
    ho, wo = (
        conv_out_size(h, kh, stride[0], padding[0]),
        conv_out_size(w, kw, stride[1], padding[1]),
    )
    return ch * gemm_cycles(n * ho * wo, kh * kw, 1, rows, cols)


def _traced_conv(layer):
    """``(n, c, h, w, kernel, stride, padding)`` of a traced conv record (symmetric padding
    recovered from ``padded_hw``)."""
    n, c, h, w = layer.in_shape
    hp, wp = layer.padded_hw
    return n, c, h, w, layer.kernel, layer.stride, ((hp - h) // 2, (wp - w) // 2)


def layer_depthwise_mapping(layer, rows: int, cols: int, hardware: str, depthwise: str = "auto"):
    """How a traced layer runs: ``gemm``, ``depthwise-baseline``, ``fuse`` or ``fuse-packed``
    (1xK / Kx1 depthwise on ``'FuSe'``: ``fuse_conv_mapping``; on ``'Systolic'`` baseline)."""
    if depthwise not in DEPTHWISE_MAPPINGS:
        raise ValueError(
            f"depthwise mapping must be one of {DEPTHWISE_MAPPINGS}, not {depthwise!r}"
        )
    kind = layer.kind
    if kind in ("conv", "pointwise", "linear"):
        return "gemm"
    if kind in ("fuse_row", "fuse_col") and hardware == "FuSe" and depthwise != "baseline":
        return fuse_conv_mapping(*_traced_conv(layer), rows, cols, depthwise)
    return "depthwise-baseline"


def rtl_layer_cycles(layer, rows: int, cols: int, hardware: str, depthwise: str = "auto") -> int:
    """RTL-model cycles of one traced layer (``sw.latency.records.LayerLatency``) on our array:
    GEMM layers as WS GEMMs, KxK depthwise (and 1-D depthwise on ``'Systolic'``) as the
    per-channel baseline, 1xK / Kx1 depthwise on ``'FuSe'`` in FuSe mode (plain or packed,
    ``layer_depthwise_mapping``). Layers run one after the other, each with its own fill and
    drain."""
    n, c, _, _ = layer.in_shape
    hp, wp = layer.padded_hw
    (kh, kw), (sh, sw) = layer.kernel, layer.stride
    ho, wo = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    kind = layer.kind
    mapping = layer_depthwise_mapping(layer, rows, cols, hardware, depthwise)
    if mapping == "gemm":
        return gemm_cycles(n * ho * wo, kh * kw * c, layer.out_channels, rows, cols)
    if mapping == "fuse-packed":
        return packed_fuse_conv_cycles(*_traced_conv(layer), rows, cols)
    if mapping == "fuse" and kind == "fuse_row":
        return fuse_cycles(n * c * ((hp - 1) // sh + 1), wp - kw + 1, kw, rows, cols)
    if mapping == "fuse":
        return fuse_cycles(n * c * ((wp - 1) // sw + 1), hp - kh + 1, kh, rows, cols)
    return layer.out_channels * gemm_cycles(n * ho * wo, kh * kw, 1, rows, cols)


def accel_fuse_cycles(lines: int, positions: int, K: int, rows: int, cols: int) -> int:
    """Cycles of one ``FUSE`` command: FETCH + DECODE + the tap read's one-cycle lead over
    the bare schedule + ``fuse_cycles``."""
    return ACCEL_COMMAND_OVERHEAD + 1 + fuse_cycles(lines, positions, K, rows, cols)


def accel_fuse_conv_cycles(
    n: int,
    ch: int,
    h: int,
    w: int,
    kernel: tuple[int, int],
    stride=(1, 1),
    padding=(0, 0),
    rows: int = 1,
    cols: int = 1,
) -> int:
    """Cycles of the ``FUSE`` command of a 1xK or Kx1 depthwise conv (``HALT`` excluded)."""
    return (
        ACCEL_COMMAND_OVERHEAD
        + 1
        + fuse_conv_cycles(n, ch, h, w, kernel, stride, padding, rows, cols)
    )


def accel_depthwise_baseline_cycles(
    n: int,
    ch: int,
    h: int,
    w: int,
    kernel: tuple[int, int],
    stride=(1, 1),
    padding=(0, 0),
    rows: int = 1,
    cols: int = 1,
) -> int:
    """Cycles of the per-channel GEMM commands of a depthwise conv (``HALT`` excluded)."""
    return depthwise_baseline_cycles(n, ch, h, w, kernel, stride, padding, rows, cols) + ch * (
        ACCEL_COMMAND_OVERHEAD + 1
    )


def accel_layer_cycles(layer, rows: int, cols: int, hardware: str, depthwise: str = "auto") -> int:
    """``rtl_layer_cycles`` on the accelerator top: the layer's commands (``HALT`` excluded),
    i.e. ``2 + 1`` per command on top of the bare-array cycles (a packed layer split into
    several commands: their ``accel_fuse_cycles``)."""
    mapping = layer_depthwise_mapping(layer, rows, cols, hardware, depthwise)
    if mapping == "fuse-packed":
        return accel_packed_fuse_conv_cycles(*_traced_conv(layer), rows, cols)
    commands = layer.out_channels if mapping == "depthwise-baseline" else 1
    return rtl_layer_cycles(layer, rows, cols, hardware, depthwise) + commands * (
        ACCEL_COMMAND_OVERHEAD + 1
    )


def accel_layer_program_cycles(
    layer, rows: int, cols: int, hardware: str, depthwise: str = "auto"
) -> int:
    """``cnt_total`` of one traced layer run alone on the accelerator top (latency mode
    ``rtl``, ``sim.run_layer``): its commands (``accel_layer_cycles``) + ``HALT``."""
    return accel_layer_cycles(layer, rows, cols, hardware, depthwise) + ACCEL_COMMAND_OVERHEAD


# -- output stage (issue 18): REQUANT commands ------------------------------------------------


def requant_cycles(M: int, N: int, rows: int, cols: int) -> int:
    """RUN cycles of one ``REQUANT`` command over ``M`` rows of ``N`` channels
    (``hw.isa.Requant``, ``hw.accel``):

    ``F * (PARAM_WORDS + S * M) + OUTSTAGE_LATENCY + 1``, ``F = ceil(N / cols)`` channel
    folds, ``S = ceil(cols / rows)`` activation words per accumulator word. Per fold the
    sequencer reads the ``PARAM_WORDS`` (8) words of the fold's parameter block, one per cycle,
    then issues one accumulator read per cycle (``S * M`` of them); the last read's data
    enters the output stage one cycle later (memory latency) and leaves it
    ``OUTSTAGE_LATENCY`` (5) cycles after that, in the cycle RUN ends with its write."""
    from hw.isa import OUTSTAGE_LATENCY, PARAM_WORDS, requant_subfolds

    _check_positive(M=M, N=N, rows=rows, cols=cols)
    folds = ceil(N / cols)
    return folds * (PARAM_WORDS + requant_subfolds(rows, cols) * M) + OUTSTAGE_LATENCY + 1


def line_requant_cycles(folds: int, rows: int, cols: int) -> int:
    """RUN cycles of a ``Requant(lines=1)`` (the corner turn after a line-addressed FUSE) over
    ``folds`` FUSE folds::

        PARAM_WORDS + (folds - 1) * P + rows*S + 1 + OUTSTAGE_LATENCY + cols,
        P = max(rows*S, cols),  S = ceil(cols / min(rows, cols))

    The ``PARAM_WORDS`` (8) parameter words are read once (a lane per line). Fold ``f``'s
    ``rows*S`` accumulator reads (``S`` passes of the output stage's ``min(rows, cols)`` lanes
    per word) start ``f*P`` cycles later; each result lands in one of two ``rows x cols``
    buffers ``1 + OUTSTAGE_LATENCY`` (7) cycles after its read; the fold's ``cols`` write
    cycles (one activation word per position; only kept positions write) start in the cycle
    after its last landing, overlapping the next folds' reads. RUN ends with the last fold's
    last write cycle."""
    from hw.isa import OUTSTAGE_LATENCY, PARAM_WORDS, requant_subfolds

    _check_positive(folds=folds, rows=rows, cols=cols)
    reads = rows * requant_subfolds(rows, cols)
    period = max(reads, cols)
    return PARAM_WORDS + (folds - 1) * period + reads + 1 + OUTSTAGE_LATENCY + cols


def accel_requant_cycles(M: int, N: int, rows: int, cols: int) -> int:
    """Cycles of one ``REQUANT`` command: FETCH + DECODE + ``requant_cycles``."""
    return ACCEL_COMMAND_OVERHEAD + requant_cycles(M, N, rows, cols)


def add_cycles(n: int) -> int:
    """RUN cycles of one ``ADD`` command over ``n`` activation words (``hw.isa.Add``):
    ``PARAM_WORDS + 2*n + RESADD_LATENCY + 1``. The sequencer reads the parameter block (8
    words, one per cycle), then two activation words per output (``a``, then ``b``: one read
    port); ``b``'s data enters the adder one cycle after its read, the result is written
    ``RESADD_LATENCY`` (6) cycles later, in the last RUN cycle."""
    from hw.isa import PARAM_WORDS, RESADD_LATENCY

    _check_positive(n=n)
    return PARAM_WORDS + 2 * n + RESADD_LATENCY + 1


def accel_add_cycles(n: int) -> int:
    """Cycles of one ``ADD`` command: FETCH + DECODE + ``add_cycles``."""
    return ACCEL_COMMAND_OVERHEAD + add_cycles(n)


def accel_command_cycles(cmd, rows: int, cols: int) -> int:
    """Exact cycles of one ``hw.isa`` command record on the accelerator top (``HALT``: 2;
    ``CONV``: 2 + ``CONV_SETUP_CYCLES`` = 5; a ``Gemm(conv=1)`` costs what a plain ``Gemm``
    of the same fields does)."""
    from hw.isa import CONV_SETUP_CYCLES, Add, ConvCfg, Fuse, Gemm, Halt, MaxPool, Requant

    if isinstance(cmd, Halt):  # FETCH + DECODE, no RUN
        return ACCEL_COMMAND_OVERHEAD
    if isinstance(cmd, ConvCfg):  # FETCH + DECODE + the geometry's setup cycles
        return ACCEL_COMMAND_OVERHEAD + CONV_SETUP_CYCLES
    if isinstance(cmd, Gemm):
        shape = (cmd.m, cmd.kfolds * rows, cmd.nfolds * cols)
        return accel_gemm_cycles(*shape, rows, cols)
    if isinstance(cmd, Fuse):
        return accel_fuse_cycles(cmd.groups * rows, cmd.pfolds * cols, cmd.k, rows, cols)
    if isinstance(cmd, MaxPool):  # one read per window tap, + the cycle of the last write
        return ACCEL_COMMAND_OVERHEAD + cmd.m * cmd.kh * cmd.kw + 1
    if isinstance(cmd, Requant) and cmd.lines:
        return ACCEL_COMMAND_OVERHEAD + line_requant_cycles(cmd.folds * cmd.m, rows, cols)
    if isinstance(cmd, Requant):
        return accel_requant_cycles(cmd.m, cmd.folds * cols, rows, cols)
    if isinstance(cmd, Add):
        return accel_add_cycles(cmd.n)
    raise ValueError(f"not an accelerator command record: {cmd!r}")


def accel_commands_cycles(cmds, rows: int, cols: int) -> int:
    """``cnt_total`` of a whole program (command records, ending in ``Halt``)."""
    return sum(accel_command_cycles(c, rows, cols) for c in cmds)


__all__ += [
    "requant_cycles",
    "line_requant_cycles",
    "accel_requant_cycles",
    "add_cycles",
    "accel_add_cycles",
    "accel_command_cycles",
    "accel_commands_cycles",
]


# -- line packing (issue 22) -------------------------------------------------------------


def packed_fuse_commands(
    n: int,
    ch: int,
    h: int,
    w: int,
    kernel: tuple[int, int],
    stride=(1, 1),
    padding=(0, 0),
    rows: int = 1,
    cols: int = 1,
) -> list[tuple[int, int, int]]:
    """``(lines, positions, K)`` of each ``FUSE`` command of a packed 1xK / Kx1 depthwise
    conv: ``Ch * P`` pieces of ``cols`` positions, whole channels, at most ``MAX_GROUPS``
    line groups per command."""
    _check_positive(n=n, ch=ch, rows=rows, cols=cols)
    pk = packing_of_conv(n, h, w, kernel, stride, padding, cols)
    return [(c * pk.pieces, cols, pk.K) for c in command_channels(ch, pk.pieces, rows)]


def packed_fuse_conv_cycles(
    n: int,
    ch: int,
    h: int,
    w: int,
    kernel: tuple[int, int],
    stride=(1, 1),
    padding=(0, 0),
    rows: int = 1,
    cols: int = 1,
) -> int:
    """Bare-array cycles of a packed 1xK / Kx1 depthwise conv: one FuSe program over all
    ``Ch * P`` pieces, ``fuse_cycles(Ch * P, cols, K)``."""
    _check_positive(n=n, ch=ch, rows=rows, cols=cols)
    pk = packing_of_conv(n, h, w, kernel, stride, padding, cols)
    return fuse_cycles(ch * pk.pieces, cols, pk.K, rows, cols)


def accel_packed_fuse_conv_cycles(
    n: int,
    ch: int,
    h: int,
    w: int,
    kernel: tuple[int, int],
    stride=(1, 1),
    padding=(0, 0),
    rows: int = 1,
    cols: int = 1,
) -> int:
    """Cycles of the ``FUSE`` commands of a packed 1xK / Kx1 depthwise conv (``HALT``
    excluded)."""
    return sum(
        accel_fuse_cycles(L, J, K, rows, cols)
        for L, J, K in packed_fuse_commands(n, ch, h, w, kernel, stride, padding, rows, cols)
    )


def fuse_conv_mapping(
    n: int,
    ch: int,
    h: int,
    w: int,
    kernel: tuple[int, int],
    stride=(1, 1),
    padding=(0, 0),
    rows: int = 1,
    cols: int = 1,
    depthwise: str = "auto",
) -> str:
    """``fuse`` or ``fuse-packed`` for a 1xK / Kx1 depthwise conv run in FuSe mode.
    ``depthwise="auto"``: ``fuse-packed`` iff its accelerator cycles are strictly lower than
    ``fuse``'s and it fits the ISA (one channel's pieces in ``MAX_GROUPS`` line groups, at
    most ``2**20`` activation words); ``"fuse"`` / ``"fuse-packed"`` are returned as asked."""
    if depthwise in ("fuse", "fuse-packed"):
        return depthwise
    if depthwise != "auto":
        raise ValueError(f"a FuSe mapping is 'auto', 'fuse' or 'fuse-packed', not {depthwise!r}")
    geom = (n, ch, h, w, kernel, stride, padding, rows, cols)
    try:
        cmds = packed_fuse_commands(*geom)
    except ValueError:  # one channel needs more line groups than a command holds
        return "fuse"
    K = max(kernel)
    act = sum(ceil(L / rows) * (cols + K - 1) for L, _, _ in cmds)
    packed = sum(accel_fuse_cycles(L, J, K, rows, cols) for L, J, _ in cmds)
    plain = ACCEL_COMMAND_OVERHEAD + 1 + fuse_conv_cycles(*geom)
    return "fuse-packed" if packed < plain and act <= _MAX_WORDS else "fuse"
