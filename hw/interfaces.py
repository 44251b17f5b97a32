"""Enumerations shared by the array's blocks (SPEC 3.2, 3.3)."""

from __future__ import annotations

from amaranth.lib import data, enum

__all__ = ["ArrayMode", "FuseOp", "PeControl"]


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


#: Per-cycle control of every PE's psum register, decoded (and registered) once at the array
#: top from (ArrayMode, FuseOp) and fanned out: ``psum_out <= base + a * w`` with
#: ``base = zero ? 0 : keep ? psum_out : psum_in`` and ``w = bcast ? tap : w_stationary``.
#: Cycles without a product (HOLD, SHIFT) get a zero tap from the top, one AND per row bit
#: instead of a product gate in every PE.
PeControl = data.StructLayout({"bcast": 1, "keep": 1, "zero": 1})
