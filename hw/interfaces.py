"""Enumerations shared by the array's blocks (SPEC 3.2, 3.3)."""

from __future__ import annotations

from amaranth.lib import data, enum

__all__ = ["ArrayMode", "FuseOp", "PeControl", "PE_CONTROL_GEMM"]


class ArrayMode(enum.Enum, shape=1):
    """Runtime mode of the array."""

    GEMM = 0  #: weight-stationary GEMM: skewed activations, stationary weights, psums flow down
    FUSE = 1  #: FuSe 1-D: lock-step rows, per-row broadcast taps, output-stationary PEs


class FuseOp(enum.Enum, shape=2):
    """What every PE's accumulator does this cycle in FuSe mode (all rows in lock-step)."""

    HOLD = 0  #: keep the value (stream-in cycles before the first tap)
    FIRST = 1  #: acc <= a * tap (tap 0; replaces a clear cycle)
    ACC = 2  #: acc <= acc + a * tap
    SHIFT = 3  #: acc <= acc of the PE above (drain one row down; bottom row -> output)


#: Per-cycle control of the PEs of one row, decoded from (ArrayMode, FuseOp) and registered
#: **per row** at the array top, so each control flop drives one row (``cols`` PEs), never the
#: whole array. In a PE: ``psum_out <= (keep ? psum_out : 0) | (take ? psum_in : 0) + a * w``
#: and, when ``fuse``, ``w_active <= tap`` (the row's broadcast tap, registered in the PE).
#: GEMM mode is ``fuse=0, keep=0, take=1`` (the register's reset value). Cycles without a
#: product (HOLD, SHIFT) get a zero tap from the top: one AND per row bit, not per PE.
PeControl = data.StructLayout({"fuse": 1, "keep": 1, "take": 1})

#: Reset (and GEMM-mode) value of a row's ``PeControl`` register.
PE_CONTROL_GEMM = {"fuse": 0, "keep": 0, "take": 1}
