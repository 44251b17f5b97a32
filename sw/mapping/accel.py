"""Compiler from GEMMs to accelerator programs (``hw.accel.Accelerator``, ``hw.isa``).

``compile_gemms(pairs, cfg)`` places each GEMM's operands in the accelerator's memories (one
after the other, no reuse), emits one ``hw.isa.Gemm`` command per GEMM and a final ``Halt``,
and returns an ``AccelProgram``: the encoded command words, the memory images (packed lane
words) and where each result lives. ``AccelProgram.outputs(acc_words)`` turns the accumulator
memory read back from the hardware into the ``Y`` matrices.

Layouts (``hw.isa.Gemm``): activation word ``a + kf*M + i`` holds ``X[i, kf*R:(kf+1)*R]``
(zero-padded), weight word ``w + (nf*kfolds + kf)*R + r`` holds row ``r`` of the tile at row
fold ``kf`` and column fold ``nf`` (zero-padded), accumulator word ``acc + nf*M + i`` holds
``Y[i, nf*C:(nf+1)*C]``. Anything that does not fit raises ``ValueError`` naming the
``ArrayConfig`` depth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil

import numpy as np

from hw.config import ArrayConfig
from hw.isa import Command, Gemm, Halt, check_command, encode_program
from sw.mapping.gemm import pack_lanes, unpack_lanes

__all__ = ["GemmPlacement", "AccelProgram", "compile_gemms", "gemm_command"]


@dataclass(frozen=True)
class GemmPlacement:
    """Where one compiled GEMM's result sits: ``Y[M, N]`` from accumulator word ``acc_addr``."""

    M: int
    Kr: int
    N: int
    acc_addr: int


@dataclass
class AccelProgram:
    """A compiled program with its memory images (word address -> packed lane word)."""

    cfg: ArrayConfig
    commands: list[Command]
    words: list[int]
    act: dict[int, int] = field(default_factory=dict)
    weight: dict[int, int] = field(default_factory=dict)
    gemms: list[GemmPlacement] = field(default_factory=list)

    @property
    def acc_words_used(self) -> int:
        """Accumulator words to read back (``0 .. acc_words_used - 1``)."""
        ends = [g.acc_addr + ceil(g.N / self.cfg.cols) * g.M for g in self.gemms]
        return max(ends, default=0)

    def outputs(self, acc_words: list[int]) -> list[np.ndarray]:
        """``Y`` of every GEMM (int64) from the accumulator memory words ``0 ..``."""
        cfg = self.cfg
        if len(acc_words) < self.acc_words_used:
            raise ValueError(f"need {self.acc_words_used} accumulator words, got {len(acc_words)}")
        out = []
        for g in self.gemms:
            nf = ceil(g.N / cfg.cols)
            lanes = np.stack(
                [
                    unpack_lanes(acc_words[g.acc_addr + i], cfg.cols, cfg.acc_width)
                    for i in range(nf * g.M)
                ]
            )
            y = lanes.reshape(nf, g.M, cfg.cols).transpose(1, 0, 2).reshape(g.M, nf * cfg.cols)
            out.append(y[:, : g.N])
        return out


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


def compile_gemms(pairs: list[tuple[np.ndarray, np.ndarray]], cfg: ArrayConfig) -> AccelProgram:
    """Compile ``[(X, W), ...]`` (integer arrays in the operand ranges) into one program."""
    R, C = cfg.rows, cfg.cols
    cmds: list[Command] = []
    prog = AccelProgram(cfg, cmds, [])
    a_next = w_next = acc_next = 0
    for i, (x, w) in enumerate(pairs):
        x = np.asarray(x, dtype=np.int64)
        w = np.asarray(w, dtype=np.int64)
        if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0] or 0 in x.shape + w.shape:
            raise ValueError(
                f"GEMM {i}: operands must be non-empty X[M, Kr] and W[Kr, N], "
                f"got {x.shape} and {w.shape}"
            )
        M, Kr = x.shape
        N = w.shape[1]
        for name, a, bits in (("X", x, cfg.act_width), ("W", w, cfg.weight_width)):
            lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
            if a.min() < lo or a.max() > hi:
                raise ValueError(
                    f"GEMM {i}: {name} holds values in [{a.min()}, {a.max()}], outside the "
                    f"{bits}-bit range [{lo}, {hi}]"
                )
        cmd = gemm_command(M, Kr, N, cfg, a_next, w_next, acc_next)
        try:
            check_command(cmd, cfg)
        except ValueError as exc:
            raise ValueError(f"GEMM {i} ({M}x{Kr} @ {Kr}x{N}): {exc}") from None
        kf, nf = cmd.kfolds, cmd.nfolds
        xp = np.zeros((M, kf * R), dtype=np.int64)
        xp[:, :Kr] = x
        wp = np.zeros((kf * R, nf * C), dtype=np.int64)
        wp[:Kr, :N] = w
        cmds.append(cmd)
        for k in range(kf):
            for r in range(M):
                prog.act[a_next + k * M + r] = pack_lanes(xp[r, k * R : (k + 1) * R], cfg.act_width)
        for n in range(nf):
            for k in range(kf):
                base = w_next + (n * kf + k) * R
                for r in range(R):
                    prog.weight[base + r] = pack_lanes(
                        wp[k * R + r, n * C : (n + 1) * C], cfg.weight_width
                    )
        prog.gemms.append(GemmPlacement(M, Kr, N, acc_next))
        a_next += cmd.act_words(R)
        w_next += cmd.weight_words(R)
        acc_next += cmd.acc_words(R)
    cmds.append(Halt())
    prog.words = encode_program(cmds, cfg)
    return prog
