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

FuSe mode (only generated when ``cfg.fuse``): the PE's own ``psum_out`` register is the
accumulator and the row's broadcast tap is the weight operand (the paper's DataEn mux). The
tap is **registered into ``w_active``** (given one cycle ahead, like the op), so the
multiplier sees exactly the operand path of the plain PE and the FuSe mux sits in front of a
flop, off the multiply-add path. The row's registered control ``ctl``
(``hw.interfaces.PeControl``) picks::

    w_active <= tap_in                        if ctl.fuse (else the GEMM swap above)
    psum_out <= (keep ? psum_out : 0) | (take ? psum_in : 0)  +  a_in * w_use

GEMM is ``fuse=keep=0, take=1``; FuSe FIRST is ``keep=take=0``, ACC and HOLD are ``keep``
(HOLD with a zero tap), SHIFT is ``take`` (``psum_in`` with a zero tap: the drain). In FuSe
mode ``swap_in`` is low (the top forces it), so ``w_use`` is ``w_active``, i.e. the tap.

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
        m.d.comb += product.eq(self.a_in * w_use)
        if cfg.fuse:
            ctl = self.ctl
            base = Signal(signed(self.psum_width))
            # AND-OR of two row-decoded selects (one AOI per bit) instead of a mux chain.
            m.d.comb += base.eq(Mux(ctl.keep, self.psum_out, 0) | Mux(ctl.take, self.psum_in, 0))
            with m.If(ctl.fuse):
                m.d.sync += w_active.eq(self.tap_in)
            with m.Elif(self.swap_in):
                m.d.sync += w_active.eq(w_shadow)
        else:
            base = self.psum_in
            with m.If(self.swap_in):
                m.d.sync += w_active.eq(w_shadow)

        m.d.sync += [
            self.psum_out.eq(base + product),
            self.a_out.eq(self.a_in),
            self.swap_out.eq(self.swap_in),
        ]
        with m.If(self.w_we):
            m.d.sync += w_shadow.eq(self.w_data)
        return m
