"""Compiler from GEMMs, FuSe lines and whole layers to accelerator programs
(``hw.accel.Accelerator``, ``hw.isa``).

``ProgramBuilder`` places each job's operands in the accelerator's memories (one after the
other, no reuse), emits one ``hw.isa.Gemm`` or ``hw.isa.Fuse`` command per job and a final
``Halt``, and returns an ``AccelProgram``: the encoded command words, the memory images (packed
lane words) and where each result lives. ``AccelProgram.outputs(acc_words)`` turns the
accumulator memory read back from the hardware into one array per job.

``compile_gemms(pairs, cfg)`` compiles a list of GEMMs. ``compile_layers(items, cfg)`` compiles
layers given as plain numpy (``LayerSpec`` + input), several back to back in one program:

- conv with ``groups=1`` (any kernel, stride, zero padding): the host lowers the input by
  im2col (``sw.ref.conv.im2col``) into the activation memory, one ``GEMM``
  (``M = N*Ho*Wo``, ``Kr = Cin*kh*kw``, ``N = Cout``); pointwise is the 1x1 case;
- ``Linear``: one ``GEMM`` (``M = batch``, ``Kr = in``, ``N = out``);
- depthwise, baseline (SPEC 3.4): one ``GEMM`` per channel (``Kr = kh*kw``, ``N = 1``);
- depthwise 1xK / Kx1 in FuSe mode: one ``FUSE`` command over all lines (Kx1 lines are the
  columns, transposed by the host; stride across lines by selecting lines, stride along them
  by keeping every ``s``-th stride-1 output, as ``sw.mapping.fuse``);
- depthwise 1xK / Kx1 in FuSe mode with line packing (``fuse-packed``, ``sw.mapping.pack``):
  the lines of each channel packed into pieces of ``cols`` positions, ``FUSE`` command(s)
  over the pieces (whole channels per command, at most 4095 line groups each).

``depthwise="auto"`` takes, per 1-D layer, whichever of ``fuse`` / ``fuse-packed`` the cycle
model (``sw.latency.rtl.fuse_conv_mapping``) says is faster (ties: ``fuse``).

A bias is added by the host after read-back (int64), as ``sim.run_layer`` does.

Layouts: ``hw.isa.Gemm`` and ``hw.isa.Fuse``. Anything that does not fit raises ``ValueError``
naming the job (or layer) and the ``ArrayConfig`` depth.

Memory sizing: ``unbounded(cfg)`` is ``cfg`` with every memory at the largest depth
``hw.isa`` addresses (``MAX_DEPTH``), so a program compiled against it checks only the field
ranges; ``AccelProgram.needs`` says how many words of each memory it uses, ``fit_memories``
grows a configuration's depths (to powers of two) until given programs fit and
``AccelProgram.retarget`` re-checks and re-encodes a program for it (``sim.run_layer`` does this:
a layer runs as one program whatever its size).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from math import ceil

import numpy as np

from hw.config import DEPTH_FIELDS, ArrayConfig
from hw.isa import Command, Fuse, Gemm, Halt, check_command, encode_program
from sw.latency.rtl import DEPTHWISE_MAPPINGS, fuse_conv_mapping
from sw.mapping.fuse import depthwise_lines, lines_to_output
from sw.mapping.gemm import pack_rows, unpack_rows
from sw.mapping.pack import LinePacking, command_channels, pack_depthwise, unpack_depthwise
from sw.ref.conv import im2col

__all__ = [
    "GemmPlacement",
    "FusePlacement",
    "AccelProgram",
    "ProgramBuilder",
    "LayerSpec",
    "LayerPlan",
    "compile_gemms",
    "compile_layers",
    "gemm_command",
    "fuse_command",
    "DEPTHWISE_MAPPINGS",
    "MAX_DEPTH",
    "unbounded",
    "fit_memories",
    "MEMORY_POLICIES",
    "check_memory_policy",
]

#: the deepest memory ``hw.isa``'s 20-bit address fields reach (= ``ArrayConfig``'s limit)
MAX_DEPTH = 1 << 20


#: how the simulation paths (``sim.run_layer``, ``run_layers``, ``run_network``) choose the
#: accelerator's memory depths:
#: ``"shared"`` (default): every memory at ``MAX_DEPTH`` (``unbounded``), whatever ``cfg`` says,
#: so ONE simulator build serves every layer and network on an array (the behavioural
#: ``fusesa_ram`` costs only simulator memory; cycles do not depend on depths);
#: ``"fit"``: grown to the next power of two that holds the programs (one build per set of
#: depths: what ran before, smaller simulator memory);
#: ``"given"``: ``cfg``'s depths as they are (a program that does not fit raises ``ValueError``).
MEMORY_POLICIES = ("shared", "fit", "given")


def check_memory_policy(memories: str) -> str:
    if memories not in MEMORY_POLICIES:
        raise ValueError(f"memories must be one of {MEMORY_POLICIES}, not {memories!r}")
    return memories


@dataclass(frozen=True)
class GemmPlacement:
    """Where one compiled GEMM's result sits: ``Y[M, N]`` from accumulator word ``acc_addr``."""

    M: int
    Kr: int
    N: int
    acc_addr: int

    def acc_words(self, cfg: ArrayConfig) -> int:
        return ceil(self.N / cfg.cols) * self.M


@dataclass(frozen=True)
class FusePlacement:
    """Where one compiled FUSE command's result sits: ``y[lines, positions]`` (stride 1)."""

    lines: int
    positions: int
    K: int
    acc_addr: int

    def folds(self, cfg: ArrayConfig) -> tuple[int, int]:
        return ceil(self.lines / cfg.rows), ceil(self.positions / cfg.cols)

    def acc_words(self, cfg: ArrayConfig) -> int:
        g, p = self.folds(cfg)
        return g * p * cfg.rows


Placement = GemmPlacement | FusePlacement


@dataclass
class AccelProgram:
    """A compiled program with its memory images (word address -> packed lane word)."""

    cfg: ArrayConfig
    commands: list[Command]
    words: list[int]
    act: dict[int, int] = field(default_factory=dict)
    weight: dict[int, int] = field(default_factory=dict)
    placements: list[Placement] = field(default_factory=list)
    layers: list[LayerPlan] = field(default_factory=list)
    act_words: int = 0  # activation words used (0 .. act_words - 1)
    weight_words: int = 0  # weight words used

    @property
    def needs(self) -> dict[str, int]:
        """Words of each memory the program uses, by ``ArrayConfig`` depth field."""
        return {
            "act_depth": self.act_words,
            "weight_depth": self.weight_words,
            "acc_depth": self.acc_words_used,
            "cmd_depth": len(self.commands),
        }

    def retarget(self, cfg: ArrayConfig) -> AccelProgram:
        """This program for ``cfg`` (same array, other memory depths): every command checked
        against ``cfg``'s depths and re-encoded (``ValueError`` naming the command and field
        if one does not fit)."""
        for f in ("rows", "cols", "act_width", "weight_width", "acc_width", "max_kernel", "fuse"):
            if getattr(cfg, f) != getattr(self.cfg, f):
                raise ValueError(
                    f"retarget changes only memory depths, not ArrayConfig.{f} "
                    f"({getattr(self.cfg, f)!r} -> {getattr(cfg, f)!r})"
                )
        return replace(self, cfg=cfg, words=encode_program(self.commands, cfg))

    @property
    def gemms(self) -> list[GemmPlacement]:
        return [p for p in self.placements if isinstance(p, GemmPlacement)]

    @property
    def acc_words_used(self) -> int:
        """Accumulator words to read back (``0 .. acc_words_used - 1``)."""
        return max((p.acc_addr + p.acc_words(self.cfg) for p in self.placements), default=0)

    def outputs(self, acc_words: list[int]) -> list[np.ndarray]:
        """The result of every job (int64), in command order, from accumulator words ``0 ..``."""
        cfg = self.cfg
        R, C = cfg.rows, cfg.cols
        if len(acc_words) < self.acc_words_used:
            raise ValueError(f"need {self.acc_words_used} accumulator words, got {len(acc_words)}")
        out = []
        for p in self.placements:
            words = acc_words[p.acc_addr : p.acc_addr + p.acc_words(cfg)]
            lanes = unpack_rows(words, C, cfg.acc_width)
            if isinstance(p, GemmPlacement):
                nf = ceil(p.N / C)
                y = lanes.reshape(nf, p.M, C).transpose(1, 0, 2).reshape(p.M, nf * C)
                out.append(y[:, : p.N])
                continue
            groups, pfolds = p.folds(cfg)
            # word (g, pf, i) holds line g*R + R-1-i at positions pf*C .. pf*C + C-1
            y = lanes.reshape(groups, pfolds, R, C)[:, :, ::-1, :]
            y = y.transpose(0, 2, 1, 3).reshape(groups * R, pfolds * C)
            out.append(np.ascontiguousarray(y[: p.lines, : p.positions]))
        return out

    def layer_outputs(self, acc_words: list[int]) -> list[np.ndarray]:
        """Every compiled layer's output (``compile_layers``), shaped like torch's."""
        outs = self.outputs(acc_words)
        return [plan.assemble(outs) for plan in self.layers]


def gemm_command(
    M: int, Kr: int, N: int, cfg: ArrayConfig, a_addr: int = 0, w_addr: int = 0, acc_addr: int = 0
) -> Gemm:
    """The ``Gemm`` command of ``X[M, Kr] @ W[Kr, N]`` with operands at the given words."""
    return Gemm(
        m=M,
        kfolds=ceil(Kr / cfg.rows),
        nfolds=ceil(N / cfg.cols),
        a_addr=a_addr,
        w_addr=w_addr,
        acc_addr=acc_addr,
    )


def fuse_command(
    lines: int,
    positions: int,
    K: int,
    cfg: ArrayConfig,
    a_addr: int = 0,
    w_addr: int = 0,
    acc_addr: int = 0,
) -> Fuse:
    """The ``Fuse`` command of ``lines`` 1-D correlations with ``positions`` outputs each."""
    return Fuse(
        k=K,
        groups=ceil(lines / cfg.rows),
        pfolds=ceil(positions / cfg.cols),
        a_addr=a_addr,
        w_addr=w_addr,
        acc_addr=acc_addr,
    )


def _check_range(what: str, name: str, a: np.ndarray, bits: int) -> None:
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if a.size and (a.min() < lo or a.max() > hi):
        raise ValueError(
            f"{what}: {name} holds values in [{a.min()}, {a.max()}], outside the "
            f"{bits}-bit range [{lo}, {hi}]"
        )


class ProgramBuilder:
    """Append GEMM and FUSE jobs; ``build()`` ends the program with ``Halt``. Operands are
    placed one after the other in each memory."""

    def __init__(self, cfg: ArrayConfig) -> None:
        self.cfg = cfg
        self.prog = AccelProgram(cfg, [], [])
        self.a_next = self.w_next = self.acc_next = 0

    def _place(self, cmd: Command, what: str) -> None:
        try:
            check_command(cmd, self.cfg)
        except ValueError as exc:
            raise ValueError(f"{what}: {exc}") from None
        if len(self.prog.commands) + 2 > self.cfg.cmd_depth:  # this one and the Halt
            raise ValueError(
                f"{what}: command {len(self.prog.commands)} plus Halt does not fit "
                f"ArrayConfig.cmd_depth={self.cfg.cmd_depth}"
            )
        self.prog.commands.append(cmd)
        act, wgt, acc = cmd.extents(self.cfg.rows, self.cfg.cols)
        self.a_next += act
        self.w_next += wgt
        self.acc_next += acc

    def gemm(self, x: np.ndarray, w: np.ndarray, what: str | None = None) -> int:
        """Add ``X[M, Kr] @ W[Kr, N]``; returns the job's index in ``outputs``."""
        cfg = self.cfg
        R, C = cfg.rows, cfg.cols
        what = what or f"GEMM {len(self.prog.placements)}"
        x = np.asarray(x, dtype=np.int64)
        w = np.asarray(w, dtype=np.int64)
        if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0] or 0 in x.shape + w.shape:
            raise ValueError(
                f"{what}: operands must be non-empty X[M, Kr] and W[Kr, N], "
                f"got {x.shape} and {w.shape}"
            )
        M, Kr = x.shape
        N = w.shape[1]
        _check_range(what, "X", x, cfg.act_width)
        _check_range(what, "W", w, cfg.weight_width)
        a0, w0, acc0 = self.a_next, self.w_next, self.acc_next
        cmd = gemm_command(M, Kr, N, cfg, a0, w0, acc0)
        self._place(cmd, f"{what} ({M}x{Kr} @ {Kr}x{N})")
        kf, nf = cmd.kfolds, cmd.nfolds
        xp = np.zeros((M, kf * R), dtype=np.int64)
        xp[:, :Kr] = x
        wp = np.zeros((kf * R, nf * C), dtype=np.int64)
        wp[:Kr, :N] = w
        act, weight = self.prog.act, self.prog.weight
        for k in range(kf):
            for r, word in enumerate(pack_rows(xp[:, k * R : (k + 1) * R], cfg.act_width)):
                act[a0 + k * M + r] = word
        for n in range(nf):
            for k in range(kf):
                base = w0 + (n * kf + k) * R
                block = wp[k * R : (k + 1) * R, n * C : (n + 1) * C]
                for r, word in enumerate(pack_rows(block, cfg.weight_width)):
                    weight[base + r] = word
        self.prog.placements.append(GemmPlacement(M, Kr, N, acc0))
        return len(self.prog.placements) - 1

    def fuse(self, lines: np.ndarray, taps: np.ndarray, what: str | None = None) -> int:
        """Add ``y[l, j] = sum_k lines[l, j+k] * taps[l, k]`` over every stride-1 ``j``;
        returns the job's index in ``outputs``."""
        cfg = self.cfg
        R, C = cfg.rows, cfg.cols
        what = what or f"FUSE {len(self.prog.placements)}"
        lines = np.asarray(lines, dtype=np.int64)
        taps = np.asarray(taps, dtype=np.int64)
        if lines.ndim != 2 or taps.ndim != 2 or lines.shape[0] != taps.shape[0] or not lines.size:
            raise ValueError(
                f"{what}: need non-empty lines[L, W] and taps[L, K], got {lines.shape} and "
                f"{taps.shape}"
            )
        L, width = lines.shape
        K = taps.shape[1]
        if not 1 <= K <= width:
            raise ValueError(f"{what}: kernel length {K} must be in 1..line length {width}")
        _check_range(what, "lines", lines, cfg.act_width)
        _check_range(what, "taps", taps, cfg.weight_width)
        J = width - K + 1
        a0, w0, acc0 = self.a_next, self.w_next, self.acc_next
        cmd = fuse_command(L, J, K, cfg, a0, w0, acc0)
        self._place(cmd, f"{what} ({L} lines x {J} positions, K={K})")
        groups, pfolds = cmd.groups, cmd.pfolds
        stride = pfolds * C + K - 1
        lp = np.zeros((groups * R, stride), dtype=np.int64)
        lp[:L, :width] = lines
        tp = np.zeros((groups * R, K), dtype=np.int64)
        tp[:L] = taps
        act, weight = self.prog.act, self.prog.weight
        for g in range(groups):
            blk = lp[g * R : (g + 1) * R]
            for j, word in enumerate(pack_rows(blk.T, cfg.act_width)):
                act[a0 + g * stride + j] = word
            # broadcast order: tap K-1 first
            taps_g = tp[g * R : (g + 1) * R, ::-1].T
            for i, word in enumerate(pack_rows(taps_g, cfg.weight_width)):
                weight[w0 + g * K + i] = word
        self.prog.placements.append(FusePlacement(L, J, K, acc0))
        return len(self.prog.placements) - 1

    def build(self) -> AccelProgram:
        self.prog.commands.append(Halt())
        self.prog.words = encode_program(self.prog.commands, self.cfg)
        self.prog.act_words, self.prog.weight_words = self.a_next, self.w_next
        return self.prog


def compile_gemms(pairs: list[tuple[np.ndarray, np.ndarray]], cfg: ArrayConfig) -> AccelProgram:
    """Compile ``[(X, W), ...]`` (integer arrays in the operand ranges) into one program."""
    b = ProgramBuilder(cfg)
    for i, (x, w) in enumerate(pairs):
        b.gemm(x, w, f"GEMM {i}")
    return b.build()


# -- layers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerSpec:
    """A conv or linear layer in plain numpy (integer values).

    ``weight``: conv ``[Cout, Cin/groups, kh, kw]`` or linear ``[out, in]`` (``linear=True``);
    ``bias``: ``[Cout]`` or ``None``; ``stride``/``padding``: pairs (zero padding).
    """

    weight: np.ndarray
    bias: np.ndarray | None = None
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    groups: int = 1
    linear: bool = False
    name: str = "layer"


@dataclass
class LayerPlan:
    """How a compiled layer's jobs become its output."""

    name: str
    mapping: str  # "gemm", "depthwise-baseline", "fuse" or "fuse-packed"
    jobs: list[int]  # indices into AccelProgram.outputs
    out_shape: tuple[int, ...]
    bias: np.ndarray | None = None
    stride_along: int = 1  # fuse: keep every s-th stride-1 position
    transposed: bool = False  # fuse: Kx1 (lines are columns)
    packing: LinePacking | None = None  # fuse-packed: the pieces' geometry

    def assemble(self, outs: list[np.ndarray]) -> np.ndarray:
        ys = [outs[j] for j in self.jobs]
        if self.mapping == "gemm" and len(self.out_shape) == 2:  # linear
            out = ys[0]
        elif self.mapping == "gemm":
            n, co, ho, wo = self.out_shape
            out = ys[0].reshape(n, ho, wo, co).transpose(0, 3, 1, 2)
        elif self.mapping == "depthwise-baseline":
            n, _, ho, wo = self.out_shape
            out = np.stack([y.reshape(n, ho, wo) for y in ys], axis=1)
        elif self.mapping == "fuse-packed":
            out = unpack_depthwise(
                np.concatenate(ys), self.packing, self.out_shape, self.transposed
            )
        else:
            out = lines_to_output(ys[0], self.stride_along, self.out_shape, self.transposed)
        if self.bias is not None:
            b = self.bias if out.ndim == 2 else self.bias[None, :, None, None]
            out = out + b
        return np.ascontiguousarray(out, dtype=np.int64)


def _depthwise_mapping(spec: LayerSpec, x: np.ndarray, cfg: ArrayConfig, depthwise: str) -> str:
    """``fuse``, ``fuse-packed`` or ``depthwise-baseline`` for a depthwise layer."""
    kh, kw = spec.weight.shape[2:]
    one_d = kh == 1 or kw == 1
    if depthwise == "baseline":
        return "depthwise-baseline"
    if depthwise in ("fuse", "fuse-packed"):
        if not one_d:
            raise ValueError(
                f"{spec.name}: FuSe mode runs 1xK or Kx1 depthwise kernels, not {kh}x{kw}"
            )
        if not cfg.fuse:
            raise ValueError(
                f"{spec.name}: array {cfg.name} was generated without the FuSe mode (fuse=False)"
            )
        if max(kh, kw) > cfg.max_kernel:
            raise ValueError(
                f"{spec.name}: kernel length {max(kh, kw)} exceeds the array's "
                f"max_kernel={cfg.max_kernel}"
            )
        return depthwise
    if not (one_d and cfg.fuse and max(kh, kw) <= cfg.max_kernel):
        return "depthwise-baseline"
    n, c, h, w = x.shape
    return fuse_conv_mapping(
        n, c, h, w, (kh, kw), tuple(spec.stride), tuple(spec.padding), cfg.rows, cfg.cols
    )


def _add_layer(b: ProgramBuilder, spec: LayerSpec, x: np.ndarray, depthwise: str) -> LayerPlan:
    cfg = b.cfg
    w = np.asarray(spec.weight, dtype=np.int64)
    x = np.asarray(x, dtype=np.int64)
    bias = None if spec.bias is None else np.asarray(spec.bias, dtype=np.int64)
    name = spec.name
    if spec.linear:
        if w.ndim != 2 or x.ndim != 2 or x.shape[1] != w.shape[1]:
            raise ValueError(
                f"{name}: linear needs x[B, {w.shape[-1]}] and W[out, in], got "
                f"{x.shape} and {w.shape}"
            )
        j = b.gemm(x, w.T, name)
        return LayerPlan(name, "gemm", [j], (x.shape[0], w.shape[0]), bias)
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(
            f"{name}: conv needs x[N, C, H, W] and W[O, I, kh, kw], got {x.shape} and {w.shape}"
        )
    n, c = x.shape[:2]
    kh, kw = w.shape[2:]
    stride, padding = tuple(spec.stride), tuple(spec.padding)
    if spec.groups == 1:
        if w.shape[1] != c:
            raise ValueError(f"{name}: weight expects {w.shape[1]} input channels, input has {c}")
        cols, (ho, wo) = im2col(x, (kh, kw), stride, padding)
        j = b.gemm(cols, w.reshape(w.shape[0], -1).T, f"{name} (im2col GEMM)")
        return LayerPlan(name, "gemm", [j], (n, w.shape[0], ho, wo), bias)
    if not (spec.groups == c == w.shape[0] and w.shape[1] == 1):
        raise ValueError(
            f"{name}: grouped convolution with groups={spec.groups} is neither standard "
            "(groups=1) nor depthwise (groups == in_channels == out_channels)"
        )
    mapping = _depthwise_mapping(spec, x, cfg, depthwise)
    if mapping == "fuse-packed":
        pieces, taps, pk, out_shape, transposed = pack_depthwise(x, w, stride, padding, cfg.cols)
        jobs, p0 = [], 0
        for i, chans in enumerate(command_channels(c, pk.pieces, cfg.rows)):
            p1 = p0 + chans * pk.pieces
            what = f"{name} (packed FuSe lines, command {i})"
            jobs.append(b.fuse(pieces[p0:p1], taps[p0:p1], what))
            p0 = p1
        along = stride[0] if transposed else stride[1]
        return LayerPlan(name, mapping, jobs, out_shape, bias, along, transposed, pk)
    if mapping == "fuse":
        lines, taps, out_shape, transposed = depthwise_lines(x, w, stride, padding)
        j = b.fuse(lines, taps, f"{name} (FuSe lines)")
        along = stride[0] if transposed else stride[1]
        return LayerPlan(name, "fuse", [j], out_shape, bias, along, transposed)
    jobs = []
    for ch in range(c):
        cols, (ho, wo) = im2col(x[:, ch : ch + 1], (kh, kw), stride, padding)
        jobs.append(b.gemm(cols, w[ch].reshape(1, -1).T, f"{name} channel {ch}"))
    return LayerPlan(name, "depthwise-baseline", jobs, (n, c, ho, wo), bias)


def compile_layers(
    items: list[tuple[LayerSpec, np.ndarray]], cfg: ArrayConfig, depthwise: str = "auto"
) -> AccelProgram:
    """Compile layers ``[(spec, input), ...]`` back to back into one program; the result's
    ``layers`` (``LayerPlan``) and ``layer_outputs`` give each layer's output. An item may be
    ``(spec, input, depthwise)`` to override ``depthwise`` for that layer.

    ``depthwise``: ``"auto"`` (FuSe for 1xK/Kx1 when the array has it, plain or packed by
    the cycle model, else baseline), ``"fuse"`` (require FuSe, one line per array row),
    ``"fuse-packed"`` (require FuSe, line packing) or ``"baseline"`` (one GEMM per channel)."""
    if depthwise not in DEPTHWISE_MAPPINGS:
        raise ValueError(
            f"depthwise mapping must be one of {DEPTHWISE_MAPPINGS}, not {depthwise!r}"
        )
    b = ProgramBuilder(cfg)
    plans = []
    for spec, x, *rest in items:  # an item may carry its own depthwise mapping
        dw = rest[0] if rest else depthwise
        if dw not in DEPTHWISE_MAPPINGS:
            raise ValueError(f"depthwise mapping must be one of {DEPTHWISE_MAPPINGS}, not {dw!r}")
        plans.append(_add_layer(b, spec, x, dw))
    prog = b.build()
    prog.layers = plans
    return prog


def unbounded(cfg: ArrayConfig) -> ArrayConfig:
    """``cfg`` with every memory at ``MAX_DEPTH`` words: compiling against it checks only the
    command fields (a program too big even for that raises ``ValueError``)."""
    return replace(cfg, **{f: MAX_DEPTH for f in DEPTH_FIELDS})


def fit_memories(cfg: ArrayConfig, programs: list[AccelProgram]) -> ArrayConfig:
    """``cfg`` with each memory depth kept if every program fits it, else grown to the next
    power of two that holds the largest need (at most ``MAX_DEPTH``)."""
    grown = {}
    for f in DEPTH_FIELDS:
        need = max((p.needs[f] for p in programs), default=0)
        have = getattr(cfg, f)
        if need > have:
            if need > MAX_DEPTH:
                raise ValueError(
                    f"a program needs {need} words of {f}; hw.isa addresses at most {MAX_DEPTH}"
                )
            grown[f] = max(have, 1 << (need - 1).bit_length())
    return replace(cfg, **grown) if grown else cfg
