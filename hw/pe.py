"""Processing element: weight-stationary MAC with an optional FuSe 1-D mode (SPEC 3.2, 3.3).

GEMM mode. Two weight registers: ``w_active`` (used by the current tile) and ``w_shadow``
(written by the weight-load port while the current tile computes). A one-bit ``swap`` tag
travels with the activation that opens a new tile; when it reaches the PE, that product
already uses ``w_shadow`` and ``w_active`` takes its value, so consecutive tiles run back to
back (double-buffered weights)::

    w_use     = swap_in ? w_shadow : w_active
    psum_out <= psum_in + a_in * w_use      (registered, goes down)
    a_out    <= a_in ; swap_out <= swap_in  (registered, goes right)
    w_shadow <= w_data   if w_we            (a write in the swap cycle lands after the copy)

FuSe mode (only generated when ``cfg.fuse``): the weight operand comes from the row's
broadcast tap ``tap_in`` (the paper's DataEn mux) and ``psum_out`` is the PE's own
accumulator; the array-wide ``ctl`` (``hw.interfaces.PeControl``) picks::

    psum_out <= (zero ? 0 : keep ? psum_out : psum_in) + a_in * w
    w         = bcast ? tap_in : w_use

GEMM is ``keep=zero=bcast=0``; FuSe FIRST is ``zero``, ACC and HOLD are ``keep`` (HOLD with a
zero tap), SHIFT is neither (``psum_in`` with a zero tap: the drain).

``psum_width`` (default ``cfg.acc_width``) sizes the psum register: the array gives each row
just the width it needs (``ArrayConfig.psum_width``); ``psum_in`` may be narrower.
Latency: one cycle from (a_in, psum_in) to psum_out and a_out.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hw.config import ArrayConfig
from hw.interfaces import PeControl

__all__ = ["PE"]


class PE(wiring.Component):
    def __init__(
        self, cfg: ArrayConfig, psum_width: int | None = None, psum_in_width: int | None = None
    ) -> None:
        self.cfg = cfg
        self.psum_width = psum_width or cfg.acc_width
        ports = {
            "a_in": In(signed(cfg.act_width)),
            "swap_in": In(1),
            "psum_in": In(signed(psum_in_width or self.psum_width)),
            "w_we": In(1),
            "w_data": In(signed(cfg.weight_width)),
            "a_out": Out(signed(cfg.act_width)),
            "swap_out": Out(1),
            "psum_out": Out(signed(self.psum_width)),
        }
        if cfg.fuse:
            ports["tap_in"] = In(signed(cfg.weight_width))
            ports["ctl"] = In(PeControl)
        super().__init__(ports)

    def elaborate(self, platform) -> Module:
        cfg = self.cfg
        m = Module()
        w_active = Signal(signed(cfg.weight_width))
        w_shadow = Signal(signed(cfg.weight_width))
        w_use = Signal(signed(cfg.weight_width))
        product = Signal(signed(cfg.act_width + cfg.weight_width))
        m.d.comb += w_use.eq(Mux(self.swap_in, w_shadow, w_active))

        if cfg.fuse:
            ctl = self.ctl
            w_sel = Signal(signed(cfg.weight_width))
            base = Signal(signed(self.psum_width))
            m.d.comb += [
                w_sel.eq(Mux(ctl.bcast, self.tap_in, w_use)),
                product.eq(self.a_in * w_sel),
                base.eq(Mux(ctl.zero, 0, Mux(ctl.keep, self.psum_out, self.psum_in))),
            ]
        else:
            base = self.psum_in
            m.d.comb += product.eq(self.a_in * w_use)

        m.d.sync += [
            self.psum_out.eq(base + product),
            self.a_out.eq(self.a_in),
            self.swap_out.eq(self.swap_in),
        ]
        with m.If(self.swap_in):
            m.d.sync += w_active.eq(w_shadow)
        with m.If(self.w_we):
            m.d.sync += w_shadow.eq(self.w_data)
        return m
