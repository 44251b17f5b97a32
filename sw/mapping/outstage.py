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
from hw.isa import (
    Add,
    ConvCfg,
    Fuse,
    Gemm,
    MaxPool,
    Requant,
    check_conv_gemm,
    check_line_fuse,
    check_line_requant,
    check_maxpool,
    requant_subfolds,
)
from sw.mapping.accel import AccelProgram, GemmPlacement, ProgramBuilder, gemm_command
from sw.mapping.gemm import pack_lanes, pack_rows
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
    "place_input",
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
        from sw.mapping.gemm import unpack_rows

        cfg = self.program.cfg
        S = requant_subfolds(cfg.rows, cfg.cols)
        M, N = self.out_rows, self.out_channels
        n = np.arange(N)
        fold_of = (n // cfg.cols) * S + (n % cfg.cols) // cfg.rows
        lane = (n % cfg.cols) % cfg.rows
        out = np.zeros((M, N), np.int64)
        for k in np.unique(fold_of):
            a = self.out_addr + int(k) * M
            block = unpack_rows([act_words[a + i] for i in range(M)], cfg.rows, 8)
            sel = fold_of == k
            out[:, sel] = block[:, lane[sel]]
        return out


@dataclass(frozen=True)
class OnChip:
    """An int8 tensor ``[M, N]`` (``M`` pixels, ``N`` channels) in activation memory from word
    ``addr``: ``planes`` planes of ``M`` words (``rows`` channel lanes per word), channel ``c``
    in lane ``row % rows`` of plane ``row // rows`` for ``row = chan_rows(cfg)[c]``. By
    default (``rows``/``planes`` None) that is ``REQUANT``'s layout (``input_row``).
    ``shape`` is ``(n, h, w)`` for a feature map (``M = n*h*w``), None for ``[N, C]``."""

    addr: int
    M: int
    N: int
    shape: tuple[int, int, int] | None = None
    rows: tuple[int, ...] | None = None
    planes: int | None = None

    def chan_rows(self, cfg: ArrayConfig) -> np.ndarray:
        if self.rows is not None:
            return np.asarray(self.rows, np.int64)
        return np.asarray(input_row(np.arange(self.N), cfg), np.int64)

    def n_planes(self, cfg: ArrayConfig) -> int:
        if self.planes is not None:
            return self.planes
        return ceil(self.N / cfg.cols) * requant_subfolds(cfg.rows, cfg.cols)

    def words(self, cfg: ArrayConfig) -> int:
        return self.n_planes(cfg) * self.M

    def read(self, cfg: ArrayConfig, act_words: dict[int, int] | list[int]) -> np.ndarray:
        """The tensor's int8 values ``[M, N]`` from activation memory words."""
        from sw.mapping.gemm import unpack_rows

        rows = self.chan_rows(cfg)
        fold_of, lane = rows // cfg.rows, rows % cfg.rows
        out = np.zeros((self.M, self.N), np.int64)
        for k in np.unique(fold_of):
            sel = fold_of == k
            a = self.addr + int(k) * self.M
            block = unpack_rows([act_words[a + i] for i in range(self.M)], cfg.rows, 8)
            out[:, sel] = block[:, lane[sel]]
        return out


def place_input(b: ProgramBuilder, x: np.ndarray) -> OnChip:
    """Place the int8 NCHW host input in activation memory as a feature map: channel ``c`` in
    plane ``c // rows``, lane ``c % rows``."""
    cfg = b.cfg
    x = np.asarray(x, np.int64)
    n, c, h, w = x.shape
    _check_int8("network input", x)
    planes = ceil(c / cfg.rows)
    rows = x.transpose(0, 2, 3, 1).reshape(-1, c)
    M = rows.shape[0]
    pad = np.zeros((M, planes * cfg.rows), np.int64)
    pad[:, :c] = rows
    a0 = b.a_next
    for p in range(planes):
        words = pack_rows(pad[:, p * cfg.rows : (p + 1) * cfg.rows], cfg.act_width)
        for i, word in enumerate(words):
            b.prog.act[a0 + p * M + i] = word
    b.a_next += planes * M
    return OnChip(a0, M, c, (n, h, w), tuple(range(c)), planes)


def _check_int8(what: str, a: np.ndarray) -> None:
    if a.size and (a.min() < -128 or a.max() > 127):
        raise ValueError(f"{what} must be int8, holds values in [{a.min()}, {a.max()}]")


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
        self.geom: ConvCfg | None = None  # the CONV geometry in force

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
            wr = np.zeros((src.n_planes(cfg) * cfg.rows, N), np.int64)
            wr[src.chan_rows(cfg)] = w
            kr = wr.shape[0]
            wp = np.zeros((kr, N), np.int64)
            wp[: wr.shape[0]] = wr
            w0, acc0 = b.w_next, b.acc_next
            cmd = gemm_command(M, kr, N, cfg, src.addr, w0, acc0)
            b._place(cmd, f"layer {li} GEMM")
            b.a_next -= cmd.extents(cfg.rows, cfg.cols)[0]  # reads on-chip activations
            _place_weights(b, wp, cmd, cfg)
            b.prog.placements.append(GemmPlacement(M, kr, N, acc0))
        out0 = self._requant(li, M, N, layer.mult, layer.bias, layer.clamp)
        return OnChip(out0, M, N)

    def _requant(self, li, M: int, N: int, mult, bias, clamp) -> int:
        """``REQUANT`` of the last GEMM's ``M x N`` accumulator into new activation words
        (their first word is returned)."""
        cfg, b = self.cfg, self.b
        acc_addr = b.acc_next - ceil(N / cfg.cols) * M
        p0 = b.w_next
        for k, word in enumerate(param_block(mult, bias, cfg)):
            b.prog.weight[p0 + k] = word
        out0 = b.a_next
        try:
            cmd = requant_command(M, N, cfg, out0, p0, acc_addr, tuple(clamp))
        except ValueError as exc:
            raise ValueError(f"layer {li} REQUANT: {exc}") from None
        b._place(cmd, f"layer {li} REQUANT")
        b.acc_next -= cmd.extents(cfg.rows, cfg.cols)[2]  # reads, does not allocate
        return out0

    def _conv_gemm(self, li, geom: ConvCfg, a_addr: int, wmat: np.ndarray) -> Gemm:
        """``CONV`` (when ``geom`` differs from the one in force) + ``Gemm(conv=1)`` reading
        the map at ``a_addr`` with the row-fold-ordered weight matrix ``wmat``."""
        cfg, b = self.cfg, self.b
        if geom != self.geom:
            b._place(geom, f"layer {li} CONV")
            self.geom = geom
        if self.reuse_acc:
            b.acc_next = 0
        N = wmat.shape[1]
        cmd = Gemm(
            m=geom.n * geom.ho * geom.wo,
            kfolds=wmat.shape[0] // cfg.rows,
            nfolds=ceil(N / cfg.cols),
            a_addr=a_addr,
            w_addr=b.w_next,
            acc_addr=b.acc_next,
            conv=1,
        )
        try:
            check_conv_gemm(cmd, geom, cfg)
        except ValueError as exc:
            raise ValueError(f"layer {li} GEMM: {exc}") from None
        b._place(cmd, f"layer {li} GEMM")
        _place_weights(b, wmat, cmd, cfg)
        b.prog.placements.append(GemmPlacement(cmd.m, wmat.shape[0], N, cmd.acc_addr))
        return cmd

    def _geom(self, src: OnChip, kernel, stride, padding, planes: int) -> ConvCfg:
        n, h, w = src.shape
        (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
        ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
        return ConvCfg(
            n=n, h=h, w=w, ho=ho, wo=wo, kh=kh, kw=kw, sh=sh, sw=sw, pt=ph, pl=pw, cfolds=planes
        )

    def conv(self, src: OnChip, weight: np.ndarray, bias, mult, clamp, stride, padding) -> OnChip:
        """Dense conv ``weight[O, C, kh, kw]`` (zero padding) read from the feature map ``src``
        by the sequencer's conv addressing (``CONV`` + ``Gemm(conv=1)``), then ``REQUANT``."""
        cfg = self.cfg
        li = self.n_layers
        self.n_layers += 1
        weight = np.asarray(weight, np.int64)
        n_out, c_in, kh, kw = weight.shape
        if src.shape is None or c_in != src.N:
            raise ValueError(f"layer {li}: conv weight {weight.shape} does not fit input {src}")
        P = src.n_planes(cfg)
        geom = self._geom(src, (kh, kw), stride, padding, P)
        R = cfg.rows
        wmat = np.zeros((kh * kw * P * R, n_out), np.int64)
        rows = src.chan_rows(cfg)
        for ky in range(kh):
            for kx in range(kw):
                wmat[(ky * kw + kx) * P * R + rows] = weight[:, :, ky, kx].T
        cmd = self._conv_gemm(li, geom, src.addr, wmat)
        out0 = self._requant(li, cmd.m, n_out, mult, bias, clamp)
        return OnChip(out0, cmd.m, n_out, (geom.n, geom.ho, geom.wo))

    def depthwise(
        self, src: OnChip, weight: np.ndarray, bias, mult, clamp, stride, padding, what="depthwise"
    ) -> OnChip:
        """Depthwise conv ``weight[C, 1, kh, kw]`` as one conv GEMM per activation plane whose
        weight tiles are diagonal (lane ``r`` of the plane feeds column ``r`` only), then one
        ``REQUANT`` per plane. Channels keep their plane; the output has ``ceil(rows/cols) *
        requant_subfolds`` planes per input plane (1 on a square array)."""
        cfg = self.cfg
        R = cfg.rows
        li = self.n_layers
        self.n_layers += 1
        weight = np.asarray(weight, np.int64)
        Cn, _, kh, kw = weight.shape
        if src.shape is None or Cn != src.N:
            raise ValueError(f"layer {li}: {what} weight {weight.shape} does not fit input {src}")
        mult = np.asarray(mult, np.float32).reshape(-1)
        bias = np.asarray(bias).reshape(-1)
        geom = self._geom(src, (kh, kw), stride, padding, 1)
        rows = src.chan_rows(cfg)
        P = src.n_planes(cfg)
        out_rows = np.zeros(Cn, np.int64)
        out0 = None
        for p in range(P):
            chans = np.nonzero(rows // R == p)[0]
            if not len(chans):
                continue
            lanes = rows[chans] % R
            wmat = np.zeros((kh * kw * R, R), np.int64)
            for ky in range(kh):
                for kx in range(kw):
                    wmat[(ky * kw + kx) * R + lanes, lanes] = weight[chans, 0, ky, kx]
            cmd = self._conv_gemm(li, geom, src.addr + p * src.M, wmat)
            pm = np.zeros(R, np.float32)
            pb = np.zeros(R, np.int64)
            pm[lanes], pb[lanes] = mult[chans], bias[chans]
            first = self._requant(li, cmd.m, R, pm, pb, clamp)
            if out0 is None:
                out0 = first
            base_plane = (first - out0) // cmd.m
            out_rows[chans] = base_plane * R + input_row(lanes, cfg)
        M = geom.n * geom.ho * geom.wo
        planes = (self.b.a_next - out0) // M
        return OnChip(
            out0, M, Cn, (geom.n, geom.ho, geom.wo), tuple(int(r) for r in out_rows), planes
        )

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

    def fuse_lines(
        self, src: OnChip, weight: np.ndarray, bias, mult, clamp, stride, padding
    ) -> OnChip:
        """FuSe 1xK (``weight[C, 1, 1, K]``) or Kx1 (``[C, 1, K, 1]``) depthwise conv in the
        array's FuSe mode, per activation plane: ``CONV`` geometry, ``Fuse(lines=1)`` reading
        the lines straight from the plane, ``Requant(lines=1)`` turning the line-major results
        into the next layer's layout. Channels keep their lane; one output plane per input
        plane."""
        from hw.accel import w_mem_lanes

        cfg, b = self.cfg, self.b
        R, C = cfg.rows, cfg.cols
        li = self.n_layers
        self.n_layers += 1
        weight = np.asarray(weight, np.int64)
        Cn, _, kh, kw = weight.shape
        if src.shape is None or Cn != src.N or 1 not in (kh, kw):
            raise ValueError(f"layer {li}: FuSe weight {weight.shape} does not fit input {src}")
        row = kh == 1
        K = kw if row else kh
        mult = np.asarray(mult, np.float32).reshape(-1)
        bias = np.asarray(bias).reshape(-1)
        geom = self._geom(src, (kh, kw), stride, padding, 1)
        n, h, w = src.shape
        length, pad = (w, geom.pl) if row else (h, geom.pt)
        J = length + 2 * pad - K + 1
        groups = n * (geom.ho if row else geom.wo)
        lanes_w = w_mem_lanes(cfg)
        rows = src.chan_rows(cfg)
        out_rows = np.zeros(Cn, np.int64)
        out0 = b.a_next
        M = n * geom.ho * geom.wo
        for p in range(src.n_planes(cfg)):
            chans = np.nonzero(rows // R == p)[0]
            if not len(chans):
                continue
            lanes = rows[chans] % R
            if geom != self.geom:
                b._place(geom, f"layer {li} CONV")
                self.geom = geom
            taps = np.zeros((lanes_w, K), np.int64)
            taps[lanes] = weight[chans, 0].reshape(len(chans), K)
            w0 = b.w_next
            for i in range(K):  # broadcast order: tap K-1 first
                b.prog.weight[w0 + i] = pack_lanes(taps[:, K - 1 - i], cfg.weight_width)
            fuse = Fuse(
                k=K, groups=groups, pfolds=ceil(J / C), a_addr=src.addr + p * src.M,
                w_addr=w0, acc_addr=0, lines=1,
            )  # fmt: skip
            try:
                check_line_fuse(fuse, geom, cfg)
            except ValueError as exc:
                raise ValueError(f"layer {li} FUSE: {exc}") from None
            b._place(fuse, f"layer {li} FUSE")
            pm = np.zeros(lanes_w, np.float32)
            pb = np.zeros(lanes_w, np.int64)
            pm[lanes], pb[lanes] = mult[chans], bias[chans]
            p0 = b.w_next
            for k, word in enumerate(_lane_param_block(pm, pb, cfg)):
                b.prog.weight[p0 + k] = word
            lo, hi = clamp
            rq = Requant(
                m=fuse.pfolds, folds=groups, a_addr=b.a_next, p_addr=p0, acc_addr=0, lo=lo,
                hi=hi, lines=1,
            )  # fmt: skip
            try:
                check_line_requant(rq, geom, cfg)
            except ValueError as exc:
                raise ValueError(f"layer {li} REQUANT: {exc}") from None
            b._place(rq, f"layer {li} REQUANT")
            out_rows[chans] = (b.a_next - out0) // M * R + lanes
            b.a_next += M
        planes = (b.a_next - out0) // M
        return OnChip(out0, M, Cn, (n, geom.ho, geom.wo), tuple(int(r) for r in out_rows), planes)

    def maxpool(self, src: OnChip, kernel, stride, padding) -> OnChip:
        """int8 max pooling on chip: one ``MAXPOOL`` per activation plane under a ``CONV``
        geometry (the channel layout is kept)."""
        cfg, b = self.cfg, self.b
        li = self.n_layers
        self.n_layers += 1
        geom = self._geom(src, kernel, stride, padding, 1)
        if geom != self.geom:
            b._place(geom, f"layer {li} CONV")
            self.geom = geom
        M = geom.n * geom.ho * geom.wo
        out0 = b.a_next
        P = src.n_planes(cfg)
        for p in range(P):
            cmd = MaxPool(
                m=M, out_addr=b.a_next, a_addr=src.addr + p * src.M, kh=geom.kh, kw=geom.kw
            )
            try:
                check_maxpool(cmd, geom, cfg)
            except ValueError as exc:
                raise ValueError(f"layer {li} MAXPOOL: {exc}") from None
            b._place(cmd, f"layer {li} MAXPOOL")
        return OnChip(out0, M, src.N, (geom.n, geom.ho, geom.wo), src.rows, P)

    def avgpool(self, src: OnChip, in_scale: float, out_scale: float) -> OnChip:
        """Global average pool: a depthwise ``h x w`` conv of ones (the int32 sum) and a
        ``REQUANT`` by ``sw.ref.quant.avgpool_multiplier`` (bias 0), exactly the golden's
        ``global_avgpool``. The map must fit the kernel fields (``h, w <= 15``)."""
        from sw.ref.quant import avgpool_multiplier

        n, h, w = src.shape
        if h > 15 or w > 15:
            raise ValueError(
                f"layer {self.n_layers}: global average pool over {h}x{w} pixels: the CONV "
                f"kernel fields hold at most 15x15"
            )
        ones = np.ones((src.N, 1, h, w), np.int64)
        mult = np.full(src.N, avgpool_multiplier(in_scale, out_scale, h * w), np.float32)
        bias = np.zeros(src.N, np.int64)
        return self.depthwise(src, ones, bias, mult, (-128, 127), (1, 1), (0, 0), "avgpool")

    def build(self) -> AccelProgram:
        return self.b.build()


def _lane_param_block(mult: np.ndarray, bias: np.ndarray, cfg: ArrayConfig) -> list[int]:
    """One parameter block over every weight lane (``Requant(lines=1)``: lane ``r`` = line
    ``r``): word ``j < 4`` holds byte ``j`` of each lane's float32 multiplier bits, word
    ``4 + j`` byte ``j`` of its int32 bias."""
    mb = multiplier_bits(np.asarray(mult, np.float32)).astype(np.int64)
    bb = np.asarray(bias).astype(np.int64) & 0xFFFFFFFF
    words = [pack_lanes((mb >> (8 * j)) & 0xFF, cfg.weight_width) for j in range(4)]
    return words + [pack_lanes((bb >> (8 * j)) & 0xFF, cfg.weight_width) for j in range(4)]


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
            words = pack_rows(full[k * R : (k + 1) * R, n * C : (n + 1) * C], cfg.weight_width)
            for r, word in enumerate(words):
                b.prog.weight[base + r] = word
