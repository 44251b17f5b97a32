"""Processing element of the weight-stationary systolic array (SPEC 3.2).

One PE holds two weight registers: ``w_active`` (used for the products of the current tile)
and ``w_shadow`` (written by the weight-load port while the current tile computes). A one-bit
``swap`` tag travels with the activation that opens a new tile; when it reaches the PE, that
product already uses ``w_shadow`` and ``w_active`` takes its value, so consecutive tiles run
back to back with no drain bubble (double-buffered weights).

Per cycle::

    w_use     = swap_in ? w_shadow : w_active
    psum_out <= psum_in + a_in * w_use      (registered, goes down)
    a_out    <= a_in ; swap_out <= swap_in  (registered, goes right)
    w_shadow <= w_data   if w_we            (a write in the swap cycle lands after the copy)

Latency: one cycle from (a_in, psum_in) to psum_out and a_out.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hw.config import ArrayConfig

__all__ = ["PE"]


class PE(wiring.Component):
    def __init__(self, cfg: ArrayConfig) -> None:
        self.cfg = cfg
        super().__init__(
            {
                "a_in": In(signed(cfg.act_width)),
                "swap_in": In(1),
                "psum_in": In(signed(cfg.acc_width)),
                "w_we": In(1),
                "w_data": In(signed(cfg.weight_width)),
                "a_out": Out(signed(cfg.act_width)),
                "swap_out": Out(1),
                "psum_out": Out(signed(cfg.acc_width)),
            }
        )

    def elaborate(self, platform) -> Module:
        cfg = self.cfg
        m = Module()
        w_active = Signal(signed(cfg.weight_width))
        w_shadow = Signal(signed(cfg.weight_width))
        w_use = Signal(signed(cfg.weight_width))
        product = Signal(signed(cfg.act_width + cfg.weight_width))

        m.d.comb += [
            w_use.eq(Mux(self.swap_in, w_shadow, w_active)),
            product.eq(self.a_in * w_use),
        ]
        m.d.sync += [
            self.psum_out.eq(self.psum_in + product),
            self.a_out.eq(self.a_in),
            self.swap_out.eq(self.swap_in),
        ]
        with m.If(self.swap_in):
            m.d.sync += w_active.eq(w_shadow)
        with m.If(self.w_we):
            m.d.sync += w_shadow.eq(self.w_data)
        return m
