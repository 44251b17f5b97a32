"""Skew and de-skew: per-lane delay lines that turn a row-parallel stream into the diagonal
wavefront of a systolic array and back (SPEC 3.2).

``Skew(shape, delays)`` has ``len(delays)`` lanes; lane ``i`` is delayed by ``delays[i]``
register stages (0 = a wire). The array uses ``delays = [0, 1, ..., rows-1]`` on the
activation side and ``[cols-1, ..., 1, 0]`` on the result side, so every column's result of
one activation row leaves in the same cycle.
"""

from __future__ import annotations

from collections.abc import Sequence

from amaranth import Module, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["Skew"]


class Skew(wiring.Component):
    def __init__(self, shape, delays: Sequence[int]) -> None:
        delays = list(delays)
        if not delays:
            raise ValueError("Skew needs at least one lane")
        for i, d in enumerate(delays):
            if not isinstance(d, int) or d < 0:
                raise ValueError(f"Skew delay of lane {i} must be a non-negative int, not {d!r}")
        self.delays = delays
        self.lane_shape = shape
        layout = data.ArrayLayout(shape, len(delays))
        super().__init__({"i": In(layout), "o": Out(layout)})

    def elaborate(self, platform) -> Module:
        m = Module()
        for lane, delay in enumerate(self.delays):
            stage = self.i[lane]
            for k in range(delay):
                nxt = Signal(self.lane_shape, name=f"lane{lane}_d{k + 1}")
                m.d.sync += nxt.eq(stage)
                stage = nxt
            m.d.comb += self.o[lane].eq(stage)
        return m
