"""Array top: skew -> PE mesh -> de-skew, plus the output-valid delay line (SPEC 3.2).

Ports (all synchronous to ``clk``, ``rst`` synchronous active-high; in Verilog the array
ports are flat vectors, element ``i`` at bits ``[i*w +: w]``, two's complement):

- ``in_valid``, ``in_swap``, ``in_data[rows]``: one activation row ``X[m, 0..rows-1]`` per
  cycle, unskewed. ``in_swap`` marks the first row of a new tile: it makes the PEs switch to
  the shadow weights as that row passes (it is ignored when ``in_valid`` is low).
- ``w_we``, ``w_row``, ``w_data[cols]``: write one row of the shadow weight registers.
  Legal window for row ``r`` of tile ``f+1``: after the swap tag of tile ``f`` has passed
  PE(r, cols-1) (cycle ``S_f + r + cols - 1``, a write in that very cycle is fine) and before
  the tag of tile ``f+1`` reaches PE(r, 0) (cycle ``S_{f+1} + r``), where ``S_f`` is the cycle
  tile ``f``'s first row enters the top.
- ``out_valid``, ``out_data[cols]``: ``Y[m, 0..cols-1]`` (acc_width signed), aligned,
  ``rows + cols - 1`` cycles after row ``m`` entered (``ArrayConfig.latency``).

The cycle formula of a whole GEMM built on this is in ``sw.latency.rtl``.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from hw.array import SystolicArray
from hw.config import ArrayConfig
from hw.skew import Skew

__all__ = ["ArrayTop"]


class ArrayTop(wiring.Component):
    def __init__(self, cfg: ArrayConfig) -> None:
        self.cfg = cfg
        super().__init__(
            {
                "in_valid": In(1),
                "in_swap": In(1),
                "in_data": In(data.ArrayLayout(cfg.act_shape, cfg.rows)),
                "w_we": In(1),
                "w_row": In(max(1, ceil_log2(cfg.rows))),
                "w_data": In(data.ArrayLayout(cfg.weight_shape, cfg.cols)),
                "out_valid": Out(1),
                "out_data": Out(data.ArrayLayout(cfg.acc_shape, cfg.cols)),
            }
        )

    def elaborate(self, platform) -> Module:
        cfg = self.cfg
        m = Module()
        lane = data.StructLayout({"a": cfg.act_shape, "swap": 1})
        m.submodules.skew = skew = Skew(lane, list(range(cfg.rows)))
        m.submodules.mesh = mesh = SystolicArray(cfg)
        m.submodules.deskew = deskew = Skew(
            cfg.acc_shape, [cfg.cols - 1 - c for c in range(cfg.cols)]
        )

        # Invalid cycles inject zeros, so idle rows never toggle the multipliers or swap tiles.
        for r in range(cfg.rows):
            m.d.comb += [
                skew.i[r].a.eq(Mux(self.in_valid, self.in_data[r], 0)),
                skew.i[r].swap.eq(self.in_valid & self.in_swap),
                mesh.a_in[r].eq(skew.o[r].a),
                mesh.swap_in[r].eq(skew.o[r].swap),
            ]
        m.d.comb += [
            mesh.w_we.eq(self.w_we),
            mesh.w_row.eq(self.w_row),
            mesh.w_data.eq(self.w_data),
            deskew.i.eq(mesh.psum_out),
            self.out_data.eq(deskew.o),
        ]

        valid = self.in_valid
        for k in range(cfg.latency):
            nxt = Signal(name=f"valid_d{k + 1}")
            m.d.sync += nxt.eq(valid)
            valid = nxt
        m.d.comb += self.out_valid.eq(valid)
        return m
