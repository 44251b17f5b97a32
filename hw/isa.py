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
    "encode",
    "decode",
    "encode_program",
    "check_command",
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


class Op(enum.IntEnum):
    """Opcodes (4 bits). Any other value is malformed: the sequencer raises ``error``."""

    HALT = 0  #: stop: raise ``done``, freeze the counters
    GEMM = 1  #: one whole WS GEMM, tiled and double-buffered by the sequencer


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
    """

    op: Op = Op.GEMM
    m: int = 1
    kfolds: int = 1
    nfolds: int = 1
    a_addr: int = 0
    w_addr: int = 0
    acc_addr: int = 0

    # extents in each memory (words), used by the range checks
    def act_words(self, rows: int) -> int:
        return self.kfolds * self.m

    def weight_words(self, rows: int) -> int:
        return self.kfolds * self.nfolds * rows

    def acc_words(self, rows: int) -> int:
        return self.nfolds * self.m


_RECORDS: dict[Op, type[Command]] = {Op.HALT: Halt, Op.GEMM: Gemm}


def _check_field(cmd: str, name: str, value: Any, lo: int = 0) -> int:
    _, width = FIELDS[name]
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
        for f in ("a_addr", "w_addr", "acc_addr"):
            _check_field(name, f, getattr(cmd, f))
        if cfg is not None:
            extents = (
                ("a_addr", cmd.a_addr, cmd.act_words(cfg.rows), "act_depth", cfg.act_depth),
                (
                    "w_addr",
                    cmd.w_addr,
                    cmd.weight_words(cfg.rows),
                    "weight_depth",
                    cfg.weight_depth,
                ),
                ("acc_addr", cmd.acc_addr, cmd.acc_words(cfg.rows), "acc_depth", cfg.acc_depth),
            )
            for field, base, words, depth_name, depth in extents:
                if base + words > depth:
                    raise ValueError(
                        f"{name}.{field}={base} + {words} words runs past the memory "
                        f"(ArrayConfig.{depth_name}={depth})"
                    )


def encode(cmd: Command, cfg: Any | None = None) -> int:
    """The 128-bit word of ``cmd`` (validated first, see ``check_command``)."""
    check_command(cmd, cfg)
    word = 0
    for name, value in cmd.fields().items():
        lo, _ = FIELDS[name]
        word |= value << lo
    return word


def decode(word: int) -> Command:
    """The record of a 128-bit word; ``ValueError`` for an unknown opcode or set reserved bits."""
    if isinstance(word, bool) or not isinstance(word, int) or not 0 <= word < (1 << WORD_BITS):
        raise ValueError(f"command word must be a {WORD_BITS}-bit unsigned integer, not {word!r}")
    raw = {name: (word >> lo) & ((1 << w) - 1) for name, (lo, w) in FIELDS.items()}
    try:
        op = Op(raw["op"])
    except ValueError:
        raise ValueError(f"command word {word:#x}: unknown opcode op={raw['op']}") from None
    for name in ("flags", "reserved"):
        if raw[name]:
            raise ValueError(f"command word {word:#x}: {name} bits must be 0, not {raw[name]:#x}")
    rec = _RECORDS[op]
    names = [f.name for f in fields(rec) if f.name != "op"]
    extra = [n for n in FIELDS if n not in names and n not in ("op", "flags", "reserved")]
    for name in extra:
        if raw[name]:
            raise ValueError(f"command word {word:#x}: {op.name} must have {name}=0")
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
    for i, cmd in enumerate(cmds):
        try:
            out.append(encode(cmd, cfg))
        except ValueError as exc:
            raise ValueError(f"command {i}: {exc}") from None
    return out
