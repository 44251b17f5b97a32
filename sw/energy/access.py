"""Memory accesses of one accelerator command (``hw.isa``), counted from the sequencer's
schedule in ``hw.accel`` (issue 20). Only accesses whose data is used are counted (an SRAM
macro would be enabled for exactly these; the simulation model's read ports are always on).

Per command (``R x C`` array, ``S = requant_subfolds(R, C)``, ``PW = PARAM_WORDS``):

============  =========  =========  =======  =============  ========  =========
command       cmd read   act read   w read   acc read       acc write act write
============  =========  =========  =======  =============  ========  =========
GEMM          1          T*m        T*R      (kf-1)*nf*m    T*m       0
FUSE          1          F*(C+k-1)  F*k      0              F*R       0
REQUANT       1          0          fo*PW    fo*S*m         0         fo*S*m
ADD           1          2*n        PW       0              0         n
HALT          1          0          0        0              0         0
============  =========  =========  =======  =============  ========  =========

with ``T = kf*nf`` GEMM tiles (``kfolds``, ``nfolds``): each tile streams its ``m``
activation rows and loads its ``R`` weight rows, and every output row is written once per
tile; tiles of row fold ``kf > 0`` add to the word (read-modify-write: one accumulator read
each). ``F = groups*pfolds`` FuSe folds: each streams its receptive field (``C + k - 1``
activation words), broadcasts ``k`` taps (one weight word each: taps are re-read per position
fold) and drains ``R`` rows. ``fo = folds`` output-stage folds: ``PW`` parameter words, then
``S*m`` accumulator reads and as many int8 activation writes. ``ADD``: the parameter block,
then ``a`` and ``b`` per output word, one write each. Every command is fetched once from
``cmd_mem`` (FETCH).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from hw.isa import PARAM_WORDS, Add, Command, Fuse, Gemm, Halt, Requant, requant_subfolds

__all__ = ["ACCESS_KINDS", "Accesses", "command_accesses", "program_accesses"]

#: (memory, read/write) counted; keys of ``Accesses.as_dict``
ACCESS_KINDS = (
    "cmd_read",
    "cmd_write",
    "act_read",
    "act_write",
    "w_read",
    "w_write",
    "acc_read",
    "acc_write",
)


@dataclass
class Accesses:
    """Word accesses per memory (reads and writes)."""

    cmd_read: int = 0
    cmd_write: int = 0
    act_read: int = 0
    act_write: int = 0
    w_read: int = 0
    w_write: int = 0
    acc_read: int = 0
    acc_write: int = 0

    def __add__(self, other: Accesses) -> Accesses:
        return Accesses(**{k: getattr(self, k) + getattr(other, k) for k in ACCESS_KINDS})

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def command_accesses(cmd: Command, rows: int, cols: int) -> Accesses:
    """The sequencer's used memory accesses while running ``cmd`` (see the module table)."""
    for name, v in (("rows", rows), ("cols", cols)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer, not {v!r}")
    if isinstance(cmd, Gemm):
        tiles = cmd.kfolds * cmd.nfolds
        return Accesses(
            cmd_read=1,
            act_read=tiles * cmd.m,
            w_read=tiles * rows,
            acc_read=(cmd.kfolds - 1) * cmd.nfolds * cmd.m,
            acc_write=tiles * cmd.m,
        )
    if isinstance(cmd, Fuse):
        folds = cmd.groups * cmd.pfolds
        return Accesses(
            cmd_read=1,
            act_read=folds * (cols + cmd.k - 1),
            w_read=folds * cmd.k,
            acc_write=folds * rows,
        )
    if isinstance(cmd, Requant):
        words = cmd.folds * requant_subfolds(rows, cols) * cmd.m
        return Accesses(cmd_read=1, w_read=cmd.folds * PARAM_WORDS, acc_read=words, act_write=words)
    if isinstance(cmd, Add):
        return Accesses(cmd_read=1, act_read=2 * cmd.n, w_read=PARAM_WORDS, act_write=cmd.n)
    if isinstance(cmd, Halt):
        return Accesses(cmd_read=1)
    raise ValueError(f"not an accelerator command record: {cmd!r}")


def program_accesses(cmds: list[Command], rows: int, cols: int) -> Accesses:
    """Sum of ``command_accesses`` over a program (its ``Halt`` included if present)."""
    total = Accesses()
    for cmd in cmds:
        total = total + command_accesses(cmd, rows, cols)
    return total
