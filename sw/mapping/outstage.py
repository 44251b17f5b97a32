"""Compiler support of the output stage (``hw.isa.Requant``, issue 18): parameter blocks,
the channel layout a ``REQUANT`` leaves for the next layer, and ``compile_chain``, which
compiles a chain of GEMM layers (pointwise, ``Linear``, im2col'd first conv) into ONE program
whose intermediate activations never leave the chip.

Channel layout. A ``GEMM`` leaves channel ``n`` of its ``N`` outputs in accumulator lane
``n % cols`` of column fold ``n // cols``. ``REQUANT`` writes ``S = ceil(cols / rows)``
activation words per accumulator word (``rows`` lanes each), so channel ``n`` becomes input
row ``input_row(n) = (n // cols) * S * rows + n % cols`` of the next GEMM (lanes of a partial
sub-fold are 0); for square arrays ``input_row(n) = n``. ``relayout_weight`` moves a weight
matrix's rows there (zero rows elsewhere).

Parameter block of channel fold ``f`` (``hw.isa.PARAM_WORDS`` weight words): word ``j < 4``
holds byte ``j`` of every lane's float32 multiplier bits, word ``4 + j`` byte ``j`` of its
int32 bias, lane ``c`` = channel ``f*cols + c`` (unused channels: multiplier 0, bias 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

import numpy as np

from hw.config import ArrayConfig
from hw.isa import Add, Requant, requant_subfolds
from sw.mapping.accel import AccelProgram, GemmPlacement, ProgramBuilder, gemm_command
from sw.mapping.gemm import pack_lanes
from sw.ref.outstage import add_multipliers_bits, multiplier_bits

__all__ = [
    "ChainLayer",
    "param_block",
    "input_row",
    "relayout_weight",
    "requant_command",
    "compile_chain",
    "ChainProgram",
    "OnChip",
    "NetBuilder",
    "add_param_block",
]


def param_block(mult: np.ndarray, bias: np.ndarray, cfg: ArrayConfig) -> list[int]:
    """Weight-memory words of the parameter blocks of ``N`` channels (``ceil(N/cols)`` blocks
    of ``PARAM_WORDS`` words), from float32 multipliers and int32 biases."""
    mult = np.asarray(mult, np.float32)
    bias = np.asarray(bias)
    if mult.ndim != 1 or bias.shape != mult.shape:
        raise ValueError(
            f"need one multiplier and one bias per channel, got {mult.shape}, {bias.shape}"
        )
    if not np.issubdtype(bias.dtype, np.integer) or (
        bias.size and (bias.min() < -(2**31) or bias.max() > 2**31 - 1)
    ):
        raise ValueError("bias must be int32 values")
    mb = multiplier_bits(mult)
    C = cfg.cols
    folds = ceil(mult.size / C)
    mpad = np.zeros(folds * C, np.int64)
    bpad = np.zeros(folds * C, np.int64)
    mpad[: mult.size] = mb
    bpad[: mult.size] = bias.astype(np.int64) & 0xFFFFFFFF
    words = []
    for f in range(folds):
        ms, bs = mpad[f * C : (f + 1) * C], bpad[f * C : (f + 1) * C]
        for j in range(4):
            words.append(pack_lanes((ms >> (8 * j)) & 0xFF, cfg.weight_width))
        for j in range(4):
            words.append(pack_lanes((bs >> (8 * j)) & 0xFF, cfg.weight_width))
    return words


def input_row(n: np.ndarray | int, cfg: ArrayConfig):
    """Input row of the next GEMM where a ``REQUANT`` puts channel ``n``."""
    S = requant_subfolds(cfg.rows, cfg.cols)
    n = np.asarray(n)
    return (n // cfg.cols) * S * cfg.rows + n % cfg.cols


def relayout_weight(w: np.ndarray, cfg: ArrayConfig) -> np.ndarray:
    """``W[N_in, N]`` with row ``n`` moved to ``input_row(n)`` (zero rows in between)."""
    w = np.asarray(w, np.int64)
    rows = input_row(np.arange(w.shape[0]), cfg)
    out = np.zeros((int(rows.max()) + 1, w.shape[1]), np.int64)
    out[rows] = w
    return out


def requant_command(
    M: int,
    N: int,
    cfg: ArrayConfig,
    a_addr: int,
    p_addr: int,
    acc_addr: int,
    clamp: tuple[int, int] = (-128, 127),
) -> Requant:
    """The ``Requant`` of ``M`` rows x ``N`` channels (``ValueError`` names a bad field)."""
    lo, hi = clamp
    return Requant(
        m=M, folds=ceil(N / cfg.cols), a_addr=a_addr, p_addr=p_addr, acc_addr=acc_addr, lo=lo, hi=hi
    )


@dataclass(frozen=True)
class ChainLayer:
    """A GEMM layer ``y = requant(x @ weight + bias)``: ``weight[Kr, N]`` int8, ``bias[N]``
    int32, ``mult[N]`` float32, ``clamp`` (lo, hi) int8."""

    weight: np.ndarray
    bias: np.ndarray
    mult: np.ndarray
    clamp: tuple[int, int] = (-128, 127)


@dataclass
class ChainProgram:
    """``compile_chain``'s answer: the program, where the last layer's int8 output and int32
    accumulator live, and each command's expected cycles."""

    program: AccelProgram
    out_addr: int  # first activation word of the last layer's int8 output
    out_rows: int
    out_channels: int
    acc_addr: int  # first accumulator word of the last layer's raw GEMM result

    def output_from_act(self, act_words: dict[int, int] | list[int]) -> np.ndarray:
        """The last layer's int8 output ``[M, N]`` from activation memory words."""
        from sw.mapping.gemm import unpack_lanes

        cfg = self.program.cfg
        S = requant_subfolds(cfg.rows, cfg.cols)
        M, N = self.out_rows, self.out_channels
        n = np.arange(N)
        fold_of = (n // cfg.cols) * S + (n % cfg.cols) // cfg.rows
        lane = (n % cfg.cols) % cfg.rows
        out = np.zeros((M, N), np.int64)
        for i in range(M):
            for k in np.unique(fold_of):
                word = unpack_lanes(act_words[self.out_addr + int(k) * M + i], cfg.rows, 8)
                sel = fold_of == k
                out[i, sel] = word[lane[sel]]
        return out


@dataclass(frozen=True)
class OnChip:
    """An int8 tensor ``[M, N]`` in activation memory, in ``REQUANT``'s layout (``input_row``)
    from word ``addr`` (``folds * S * M`` words)."""

    addr: int
    M: int
    N: int

    def words(self, cfg: ArrayConfig) -> int:
        return ceil(self.N / cfg.cols) * requant_subfolds(cfg.rows, cfg.cols) * self.M

    def read(self, cfg: ArrayConfig, act_words: dict[int, int] | list[int]) -> np.ndarray:
        """The tensor's int8 values ``[M, N]`` from activation memory words."""
        from sw.mapping.gemm import unpack_lanes

        S = requant_subfolds(cfg.rows, cfg.cols)
        n = np.arange(self.N)
        fold_of = (n // cfg.cols) * S + (n % cfg.cols) // cfg.rows
        lane = (n % cfg.cols) % cfg.rows
        out = np.zeros((self.M, self.N), np.int64)
        for i in range(self.M):
            for k in np.unique(fold_of):
                word = unpack_lanes(act_words[self.addr + int(k) * self.M + i], cfg.rows, 8)
                sel = fold_of == k
                out[i, sel] = word[lane[sel]]
        return out


class NetBuilder:
    """ONE program for a small graph of GEMM layers (each ``GEMM`` + ``REQUANT``) and residual
    adds (``ADD``) whose int8 tensors stay in activation memory: ``input`` places the host
    input (im2col'd or flat ``[M, Kr]``), ``linear`` and ``add`` return ``OnChip`` tensors,
    ``build`` ends the program. ``ValueError`` names the layer and the field that does not
    fit."""

    def __init__(self, cfg: ArrayConfig, reuse_acc: bool = False) -> None:
        self.cfg = cfg
        self.reuse_acc = reuse_acc  # every GEMM writes accumulator words from 0: its REQUANT
        # consumes them right away (earlier layers' raw accumulators are then overwritten)
        self.b = ProgramBuilder(cfg)
        self.x: np.ndarray | None = None
        self.n_layers = 0

    def input(self, x: np.ndarray) -> np.ndarray:
        """Register the host input; the first ``linear`` places it (as ``ProgramBuilder.gemm``)."""
        self.x = np.asarray(x, np.int64)
        return self.x

    def linear(self, src: np.ndarray | OnChip, layer: ChainLayer) -> OnChip:
        cfg, b = self.cfg, self.b
        li = self.n_layers
        self.n_layers += 1
        w = np.asarray(layer.weight, np.int64)
        N = w.shape[1]
        if self.reuse_acc:
            b.acc_next = 0
        if isinstance(src, np.ndarray):
            M = src.shape[0]
            b.gemm(src, w, f"layer {li} GEMM")
        else:
            M = src.M
            if w.shape[0] != src.N:
                raise ValueError(
                    f"layer {li}: weight has {w.shape[0]} rows, its input {src.N} channels"
                )
            wr = relayout_weight(w, cfg)
            kr = ceil(wr.shape[0] / cfg.rows) * cfg.rows
            wp = np.zeros((kr, N), np.int64)
            wp[: wr.shape[0]] = wr
            w0, acc0 = b.w_next, b.acc_next
            cmd = gemm_command(M, kr, N, cfg, src.addr, w0, acc0)
            b._place(cmd, f"layer {li} GEMM")
            b.a_next -= cmd.extents(cfg.rows, cfg.cols)[0]  # reads on-chip activations
            _place_weights(b, wp, cmd, cfg)
            b.prog.placements.append(GemmPlacement(M, kr, N, acc0))
        acc_addr = b.acc_next - ceil(N / cfg.cols) * M
        p0 = b.w_next
        for k, word in enumerate(param_block(layer.mult, layer.bias, cfg)):
            b.prog.weight[p0 + k] = word
        out0 = b.a_next
        try:
            cmd = requant_command(M, N, cfg, out0, p0, acc_addr, tuple(layer.clamp))
        except ValueError as exc:
            raise ValueError(f"layer {li} REQUANT: {exc}") from None
        b._place(cmd, f"layer {li} REQUANT")
        b.acc_next -= cmd.extents(cfg.rows, cfg.cols)[2]  # reads, does not allocate
        return OnChip(out0, M, N)

    def add(
        self,
        a: OnChip,
        b_: OnChip,
        m_a: float,
        m_b: float,
        clamp: tuple[int, int] = (-128, 127),
    ) -> OnChip:
        """Residual add ``clamp(sat8(rne(float32(a*m_a) + float32(b*m_b))))`` (``ADD``)."""
        cfg, b = self.cfg, self.b
        if (a.M, a.N) != (b_.M, b_.N):
            raise ValueError(f"add inputs differ in shape: {(a.M, a.N)} vs {(b_.M, b_.N)}")
        ba, bb = add_multipliers_bits(m_a, m_b)
        p0 = b.w_next
        for k, word in enumerate(add_param_block(ba, bb, cfg)):
            b.prog.weight[p0 + k] = word
        out0 = b.a_next
        n = a.words(cfg)
        lo, hi = clamp
        cmd = Add(n=n, b_addr=b_.addr, a_addr=a.addr, p_addr=p0, out_addr=out0, lo=lo, hi=hi)
        b._place(cmd, f"ADD of words {a.addr} and {b_.addr}")
        return OnChip(out0, a.M, a.N)

    def build(self) -> AccelProgram:
        return self.b.build()


def add_param_block(mabits: int, mbbits: int, cfg: ArrayConfig) -> list[int]:
    """The ``ADD`` parameter block: byte ``j`` of ``m_a``'s float32 bits in lane 0 of word
    ``j``, byte ``j`` of ``m_b``'s in word ``4 + j``."""
    return [(mabits >> (8 * j)) & 0xFF for j in range(4)] + [
        (mbbits >> (8 * j)) & 0xFF for j in range(4)
    ]


def compile_chain(x: np.ndarray, layers: list[ChainLayer], cfg: ArrayConfig) -> ChainProgram:
    """ONE program for ``x[M, Kr] -> layer 0 -> layer 1 -> ...``: per layer a ``GEMM`` and a
    ``REQUANT`` whose int8 output, in activation memory, is the next GEMM's input (weights
    re-rowed by ``relayout_weight``). Only ``x``, the weights and the parameter blocks are
    loaded; the last layer's int8 output stays in activation memory and its raw accumulator
    (bias not added) in accumulator memory. ``ValueError`` names the layer and the field of
    anything that does not fit."""
    if not layers:
        raise ValueError("compile_chain needs at least one layer")
    nb = NetBuilder(cfg)
    t = nb.input(x)
    for layer in layers:
        t = nb.linear(t, layer)
    prog = nb.build()
    last = prog.placements[-1]
    return ChainProgram(prog, t.addr, t.M, t.N, last.acc_addr)


def _place_weights(b: ProgramBuilder, wp: np.ndarray, cmd, cfg: ArrayConfig) -> None:
    R, C = cfg.rows, cfg.cols
    kf, nf = cmd.kfolds, cmd.nfolds
    full = np.zeros((kf * R, nf * C), np.int64)
    full[: wp.shape[0], : wp.shape[1]] = wp
    if full.size and (full.min() < -128 or full.max() > 127):
        raise ValueError("weights must be int8")
    for n in range(nf):
        for k in range(kf):
            base = cmd.w_addr + (n * kf + k) * R
            for r in range(R):
                b.prog.weight[base + r] = pack_lanes(
                    full[k * R + r, n * C : (n + 1) * C], cfg.weight_width
                )
