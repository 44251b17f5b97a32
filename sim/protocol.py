"""Protocol checker of ``hw.top.ArrayTop``'s input stream (the contract in its docstring).

``check_trace(trace, rows, cols)`` walks the per-cycle pin values a host drives (``PinTrace``:
the arrays ``GemmProgram``/``FuseProgram`` hold, or pins recorded from a simulation) and
raises ``ProtocolError`` naming the cycle and the rule on the first violation:

- ``W-ROW``: a weight write to a row the array does not have.
- ``W-WINDOW``: a weight write to row ``r`` while a swap tag is inside row ``r`` (it reached
  PE(r, 0) at ``S + r`` and passes PE(r, cols-1) at ``S + r + cols - 1``; a write in that last
  cycle is fine): the tile would run with a mix of old and new weights.
- ``W-TILE`` (``writes_per_tile=True``, the mappers' one-write-per-row-per-tile programs): the
  ``n``-th write to row ``r`` must land in tile ``n``'s window: after tile ``n-1``'s tag has
  left the row and before tile ``n``'s tag reaches PE(r, 0).
- ``G-NOTILE``: an activation row in GEMM mode before any swap tag since reset / since the last
  FuSe job (the active weights then hold taps or stale values).
- ``M-BUSY``: ``mode`` changed while GEMM rows are in flight (a row entering in cycle ``t``
  leaves at ``t + rows + cols - 1``) or while FuSe accumulators are not drained.
- ``F-ORDER``: FuSe op order: ACC without a FIRST of the same fold, a FIRST before the previous
  fold drained (``rows`` SHIFTs after its last tap), a SHIFT with nothing to drain.
- ``F-GEMM`` (``strict=True``): a non-HOLD op or a non-zero tap issued while ``mode`` is GEMM.
  The RTL ignores them (they are don't-care), so only clean programs are checked for this.

Ops and taps apply one cycle after they are issued, ``mode`` too (``hw/top.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PinTrace", "ProtocolError", "check_trace", "trace_of_gemm", "trace_of_fuse"]

HOLD, FIRST, ACC, SHIFT = 0, 1, 2, 3
GEMM_MODE, FUSE_MODE = 0, 1


class ProtocolError(ValueError):
    """A violation of ArrayTop's input protocol at ``cycle`` (rule name ``rule``)."""

    def __init__(self, cycle: int, rule: str, message: str) -> None:
        self.cycle, self.rule = cycle, rule
        super().__init__(f"cycle {cycle}: [{rule}] {message}")


@dataclass
class PinTrace:
    """Per-cycle input pins of ArrayTop (``mode``/``op``/``tap`` only for FuSe builds)."""

    in_valid: np.ndarray
    in_swap: np.ndarray
    w_we: np.ndarray
    w_row: np.ndarray
    mode: np.ndarray | None = None
    op: np.ndarray | None = None
    tap: np.ndarray | None = None  # [T, rows]

    def __len__(self) -> int:
        return len(self.in_valid)

    @staticmethod
    def concat(traces: list[PinTrace]) -> PinTrace:
        def cat(name):
            parts = [getattr(t, name) for t in traces]
            return None if any(p is None for p in parts) else np.concatenate(parts)

        return PinTrace(
            *(cat(n) for n in ("in_valid", "in_swap", "w_we", "w_row", "mode", "op", "tap"))
        )


def trace_of_gemm(prog, fuse: bool = False) -> PinTrace:
    """The pins a ``GemmProgram`` drives (mode GEMM, op HOLD, zero taps on a FuSe build)."""
    T = prog.cycles_driven
    extra = (
        (np.zeros(T, np.int64), np.zeros(T, np.int64), np.zeros((T, prog.rows), np.int64))
        if fuse
        else (None, None, None)
    )
    return PinTrace(prog.in_valid, prog.in_swap, prog.w_we, prog.w_row, *extra)


def trace_of_fuse(prog, lead: int = 1) -> PinTrace:
    """The pins of a ``FuseProgram`` preceded by ``lead`` cycles that set the mode."""
    T = prog.cycles_driven + lead
    z = np.zeros(T, np.int64)
    op = np.concatenate([np.zeros(lead, np.int64), prog.op])
    tap = np.concatenate([np.zeros((lead, prog.rows), np.int64), prog.tap])
    in_valid = np.concatenate([np.zeros(lead, np.int64), prog.in_valid])
    return PinTrace(in_valid, z, z, z, np.full(T, FUSE_MODE), op, tap)


def check_trace(
    trace: PinTrace, rows: int, cols: int, *, strict: bool = False, writes_per_tile: bool = False
) -> None:
    """Raise ``ProtocolError`` on the first violation of the ArrayTop protocol in ``trace``."""
    T = len(trace)
    latency = rows + cols - 1
    in_valid = np.asarray(trace.in_valid).astype(bool)
    in_swap = np.asarray(trace.in_swap).astype(bool)
    w_we = np.asarray(trace.w_we).astype(bool)
    w_row = np.asarray(trace.w_row).astype(np.int64)
    mode = np.zeros(T, np.int64) if trace.mode is None else np.asarray(trace.mode).astype(np.int64)
    op = np.zeros(T, np.int64) if trace.op is None else np.asarray(trace.op).astype(np.int64)
    tap = None if trace.tap is None else np.asarray(trace.tap)
    eff = np.concatenate([[GEMM_MODE], mode[:-1]])  # the registered mode of each cycle

    # swap tags that really enter (valid, in GEMM mode) and the tiles they open
    swaps = [t for t in range(T) if in_valid[t] and in_swap[t] and eff[t] == GEMM_MODE]

    # -- weight port ---------------------------------------------------------------------
    written = [0] * rows
    for t in np.flatnonzero(w_we):
        t, r = int(t), int(w_row[t])
        if not 0 <= r < rows:
            raise ProtocolError(
                t, "W-ROW", f"weight write to row {r}, the array has rows 0..{rows - 1}"
            )
        for s in swaps:
            if s + r <= t < s + r + cols - 1:
                raise ProtocolError(
                    t,
                    "W-WINDOW",
                    f"weight write to row {r} while the swap tag of the tile started in cycle "
                    f"{s} crosses that row (cycles {s + r}..{s + r + cols - 2}); writes to row "
                    f"{r} are legal from cycle {s + r + cols - 1}",
                )
        if writes_per_tile:
            n = written[r]
            written[r] += 1
            lo = swaps[n - 1] + r + cols - 1 if 0 < n <= len(swaps) else None
            hi = swaps[n] + r if n < len(swaps) else None
            if (
                (lo is not None and t < lo)
                or (hi is not None and t >= hi)
                or (n > len(swaps) and swaps)
            ):
                raise ProtocolError(
                    t,
                    "W-TILE",
                    f"write #{n} to row {r} belongs to tile {n}, whose legal window for row "
                    f"{r} is cycles {lo if lo is not None else 0}.."
                    f"{hi - 1 if hi is not None else 'end'}",
                )

    # -- modes, GEMM tiles and FuSe op order -------------------------------------------------
    gemm_busy_until = -1  # last cycle a GEMM row in flight leaves the array
    tile_open = False
    pending = 0  # FuSe rows not yet drained
    live = False  # a FuSe fold is accumulating (FIRST seen, taps may follow)
    for t in range(T):
        if t > 0 and mode[t] != mode[t - 1]:
            if gemm_busy_until >= t:
                raise ProtocolError(
                    t,
                    "M-BUSY",
                    f"mode changed while GEMM rows are in flight (until cycle {gemm_busy_until})",
                )
            if live or pending:
                raise ProtocolError(
                    t, "M-BUSY", "mode changed before the FuSe accumulators were drained"
                )
        if eff[t] == GEMM_MODE and in_valid[t]:
            if in_swap[t]:
                tile_open = True
            elif not tile_open:
                raise ProtocolError(
                    t, "G-NOTILE", "activation row before any swap tag (no weights swapped in)"
                )
            gemm_busy_until = t + latency
        if mode[t] == GEMM_MODE:
            if strict and (op[t] != HOLD or (tap is not None and np.any(tap[t] != 0))):
                raise ProtocolError(t, "F-GEMM", f"op {int(op[t])} / taps issued in GEMM mode")
            continue
        tile_open = False  # after FuSe the active weights hold taps
        o = int(op[t])
        if o == FIRST:
            if pending or live:
                raise ProtocolError(t, "F-ORDER", "FIRST before the previous fold was drained")
            live = True
        elif o == ACC:
            if not live:
                raise ProtocolError(t, "F-ORDER", "ACC without a FIRST of the same fold")
        elif o == SHIFT:
            if live:
                live, pending = False, rows
            if pending == 0:
                raise ProtocolError(t, "F-ORDER", "SHIFT with nothing to drain")
            pending -= 1
