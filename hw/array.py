"""The rows x cols mesh of PEs in weight-stationary GEMM mode (SPEC 3.2).

Dataflow (one fold computes ``Y[M x cols] = X[M x rows] @ W[rows x cols]``)::

             w_data[0..cols-1] + w_row  (row-addressed write into the shadow weights)
                 |        |        |
    a[0] ----> PE(0,0)->PE(0,1)->PE(0,2) -->      activations (+ swap tag) move right
                 |        |        |              one PE per cycle
    a[1] ----> PE(1,0)->PE(1,1)->PE(1,2) -->
                 |        |        |              partial sums move down
    a[2] ----> PE(2,0)->PE(2,1)->PE(2,2) -->      one PE per cycle
                 v        v        v
              psum[0]  psum[1]  psum[2]           column results (still skewed)

Row ``r`` of the skewed input carries ``X[m, r]`` at cycle ``m + r``; it meets the partial sum
of the same ``m`` coming down column ``c`` at PE(r, c) in cycle ``m + r + c``, so column ``c``
emits ``Y[m, c]`` at cycle ``m + rows + c``. Latency through the mesh: ``rows + c`` cycles.

FuSe mode (SPEC 3.3, ``cfg.fuse``)::

    tap[0] ==+========+========+====    per-row broadcast bus (tap + row control, registered)
    x[0] --> PE(0,0)->PE(0,1)->PE(0,2)   the line streams in reversed, one PE per cycle
    tap[1] ==+========+========+====
    x[1] --> PE(1,0)->PE(1,1)->PE(1,2)   rows are independent lines, in lock-step
                 |        |        |
                 v        v        v     after the last tap, SHIFT drains the
              out[0]   out[1]   out[2]   accumulators down the psum chain, bottom row first

PE(r, c) accumulates output position ``c`` of line ``r``: with the line streamed reversed,
at tap ``k`` it holds ``x[c + k]`` while its weight register holds ``w[k]`` (the bus carried it
one cycle earlier; registering the tap in the PE keeps the FuSe mux off the multiply-add path,
and the row's control register drives only that row).
"""

from __future__ import annotations

from amaranth import Const, Module, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from hw.config import ArrayConfig
from hw.interfaces import PeControl
from hw.pe import PE

__all__ = ["SystolicArray"]


class SystolicArray(wiring.Component):
    def __init__(self, cfg: ArrayConfig) -> None:
        self.cfg = cfg
        ports = {
            "a_in": In(data.ArrayLayout(cfg.act_shape, cfg.rows)),
            "swap_in": In(data.ArrayLayout(1, cfg.rows)),
            "w_we": In(1),
            "w_row": In(max(1, ceil_log2(cfg.rows))),
            "w_data": In(data.ArrayLayout(cfg.weight_shape, cfg.cols)),
            "psum_out": Out(data.ArrayLayout(signed(cfg.psum_width(cfg.rows - 1)), cfg.cols)),
        }
        if cfg.fuse:
            ports["tap_in"] = In(data.ArrayLayout(cfg.weight_shape, cfg.rows))
            ports["ctl"] = In(data.ArrayLayout(PeControl, cfg.rows))
        super().__init__(ports)

    def elaborate(self, platform) -> Module:
        cfg = self.cfg
        m = Module()
        widths = [cfg.psum_width(r) for r in range(cfg.rows)]
        pes = [
            [PE(cfg, widths[r], widths[r - 1] if r else None) for _ in range(cfg.cols)]
            for r in range(cfg.rows)
        ]
        for r in range(cfg.rows):
            for c in range(cfg.cols):
                pe = pes[r][c]
                m.submodules[f"pe_{r}_{c}"] = pe
                if c == 0:
                    m.d.comb += [pe.a_in.eq(self.a_in[r]), pe.swap_in.eq(self.swap_in[r])]
                else:
                    left = pes[r][c - 1]
                    m.d.comb += [pe.a_in.eq(left.a_out), pe.swap_in.eq(left.swap_out)]
                if r == 0:
                    m.d.comb += pe.psum_in.eq(Const(0, signed(widths[0])))
                else:
                    m.d.comb += pe.psum_in.eq(pes[r - 1][c].psum_out)
                m.d.comb += [
                    pe.w_we.eq(self.w_we & (self.w_row == r)),
                    pe.w_data.eq(self.w_data[c]),
                ]
                if cfg.fuse:  # the row's broadcast bus and the row's own control register
                    m.d.comb += [pe.tap_in.eq(self.tap_in[r]), pe.ctl.eq(self.ctl[r])]
        for c in range(cfg.cols):
            m.d.comb += self.psum_out[c].eq(pes[cfg.rows - 1][c].psum_out)
        return m
