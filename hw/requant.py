"""Output stage: bias add, float32-exact requantization and clamp, ``lanes`` lanes per cycle
(issue 18, SPEC 3.5 "output stage").

Per lane, bit-exactly the golden's (ONNX ``QLinearConv``) formula::

    y = clamp(saturate_int8(rne(float32(float32(acc + bias) * m))), lo, hi)

with integer logic only (no floating-point unit): ``sw.ref.outstage`` documents the steps and
why its shortcuts are exact, and is the same computation in numpy. ``m`` arrives as the IEEE-754
bits of a float32 (``sw.ref.outstage.multiplier_bits``), ``lo``/``hi`` as int8 (ReLU:
``(0, 127)``, ReLU6: ``(0, min(127, rne(6/s_out)))``, none: ``(-128, 127)``).

Pipeline (one register after each stage, a new word every cycle, no stall)::

    in ─> [1] v = acc + bias (33 bits), sign, |v|
          [2] normalise |v| (log shifter, leading zeros lz), keep 24 bits, round half to even
              -> float32(|v|) = ma * 2**(9 - lz)
          [3] Q = ma * mantissa(m) (25 x 24 bits, exact) as two 25 x 12 partial products,
          [4] their sum
          [5] keep the top 24 bits of Q, round half to even -> Pm * 2**-sh
          [6] rne(Pm / 2**sh), saturate, sign, clamp to [lo, hi]           ─> out

Latency: ``LATENCY = hw.isa.OUTSTAGE_LATENCY = 6`` cycles from ``i_valid`` to ``o_valid``
(one register per stage); throughput one word per cycle.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from hw.isa import OUTSTAGE_LATENCY

__all__ = ["OutputStage", "LATENCY", "BIAS_WIDTH", "MULT_WIDTH"]

LATENCY = OUTSTAGE_LATENCY
BIAS_WIDTH = 32
MULT_WIDTH = 32
_VB = 33  # |acc + bias| < 2**32 fits 33 bits; the int -> float32 step normalises 33 bits


class OutputStage(wiring.Component):
    """``lanes`` parallel requantizers with a shared clamp; ``acc_width`` <= 32 (the golden's
    accumulator is int32)."""

    def __init__(self, lanes: int, acc_width: int = 32) -> None:
        if isinstance(lanes, bool) or not isinstance(lanes, int) or lanes < 1:
            self._MustUse__silence = True  # never elaborated: no "unused" warning
            raise ValueError(f"Lane count must be a positive integer, not {lanes!r}")
        if (
            isinstance(acc_width, bool)
            or not isinstance(acc_width, int)
            or not 2 <= acc_width <= 32
        ):
            self._MustUse__silence = True
            raise ValueError(f"acc_width must be an integer in 2..32, not {acc_width!r}")
        self.lanes = lanes
        self.acc_width = acc_width
        super().__init__(
            {
                "i_valid": In(1),
                "acc": In(data.ArrayLayout(signed(acc_width), lanes)),
                "bias": In(data.ArrayLayout(signed(BIAS_WIDTH), lanes)),
                "mult": In(data.ArrayLayout(unsigned(MULT_WIDTH), lanes)),
                "lo": In(signed(8)),
                "hi": In(signed(8)),
                "o_valid": Out(1),
                "out": Out(data.ArrayLayout(signed(8), lanes)),
            }
        )

    def elaborate(self, platform) -> Module:
        m = Module()
        n = self.lanes

        # control and clamp bounds travel with the data
        valid = [Signal(name=f"v{i}") for i in range(1, LATENCY)]
        lo = [Signal(signed(8), name=f"lo{i}") for i in range(1, LATENCY)]
        hi = [Signal(signed(8), name=f"hi{i}") for i in range(1, LATENCY)]
        m.d.sync += [valid[0].eq(self.i_valid), lo[0].eq(self.lo), hi[0].eq(self.hi)]
        for i in range(1, LATENCY - 1):
            m.d.sync += [valid[i].eq(valid[i - 1]), lo[i].eq(lo[i - 1]), hi[i].eq(hi[i - 1])]
        m.d.sync += self.o_valid.eq(valid[-1])

        for ln in range(n):
            y = self._lane(m, ln, self.acc[ln], self.bias[ln], self.mult[ln], lo[-1], hi[-1])
            m.d.sync += self.out[ln].eq(y)
        return m

    @staticmethod
    def _lane(m: Module, ln: int, acc, bias, mult, lo, hi):
        def reg(shape, name):
            return Signal(shape, name=f"l{ln}_{name}")

        # the multiplier's fields; they ride along the pipeline
        sm1, em1, mm1 = reg(1, "sm1"), reg(8, "em1"), reg(24, "mm1")
        m.d.sync += [sm1.eq(mult[31]), em1.eq(mult[23:31]), mm1.eq(mult[:23] | (1 << 23))]

        # [1] bias add, sign, magnitude
        v = Signal(signed(_VB), name=f"l{ln}_v")
        m.d.comb += v.eq(acc + bias)
        s1, a1 = reg(1, "s1"), reg(_VB, "a1")
        m.d.sync += [s1.eq(v < 0), a1.eq(Mux(v < 0, -v, v)[:_VB])]

        # [2] normalise (log shifter), keep 24 bits, round half to even
        x, lz = a1, 0
        for step in (32, 16, 8, 4, 2, 1):
            top_zero = x[_VB - step :] == 0
            nx = Signal(_VB, name=f"l{ln}_n{step}")
            nlz = Signal(7, name=f"l{ln}_lz{step}")
            m.d.comb += [
                nx.eq(Mux(top_zero, (x << step)[:_VB], x)),
                nlz.eq(Mux(top_zero, lz + step, lz)),
            ]
            x, lz = nx, nlz
        keep = x[_VB - 24 :]
        rb = x[_VB - 25]
        st = x[: _VB - 25] != 0
        s2, z2, ma2, lz2 = reg(1, "s2"), reg(1, "z2"), reg(25, "ma2"), reg(7, "lz2")
        sm2, em2, mm2 = reg(1, "sm2"), reg(8, "em2"), reg(24, "mm2")
        m.d.sync += [
            s2.eq(s1 ^ sm1),
            z2.eq((a1 == 0) | (em1 == 0)),  # zero operand or zero/subnormal multiplier
            ma2.eq(keep + (rb & (st | keep[0]))),
            lz2.eq(lz),
            sm2.eq(sm1),
            em2.eq(em1),
            mm2.eq(mm1),
        ]

        # [3a] partial products of the exact mantissa product, [3b] their sum:
        # q = ma * mm, 2**46 <= q < 2**48. Split in two 25 x 12 products so no stage holds a
        # whole 25 x 24 multiplier (on osu018 that stage took 8.2 ns, the split one 6.4 ns;
        # a three-way split measured no better: the adders dominate)
        s3a, z3a, lz3a, em3a = reg(1, "s3a"), reg(1, "z3a"), reg(7, "lz3a"), reg(8, "em3a")
        plo, phi = reg(37, "plo"), reg(37, "phi")
        m.d.sync += [
            s3a.eq(s2),
            z3a.eq(z2),
            lz3a.eq(lz2),
            em3a.eq(em2),
            plo.eq(ma2 * mm2[:12]),
            phi.eq(ma2 * mm2[12:]),
        ]
        s3, z3, q3, lz3, em3 = (
            reg(1, "s3"),
            reg(1, "z3"),
            reg(48, "q3"),
            reg(7, "lz3"),
            reg(8, "em3"),
        )
        m.d.sync += [
            s3.eq(s3a),
            z3.eq(z3a),
            q3.eq((plo + (phi << 12))[:48]),
            lz3.eq(lz3a),
            em3.eq(em3a),
        ]

        # [4] float32 product rounding to 24 significant bits; P = pm * 2**-sh
        hi_bit = q3[47]
        pk = Mux(hi_bit, q3[24:48], q3[23:47])
        prb = Mux(hi_bit, q3[23], q3[22])
        pst = Mux(hi_bit, q3[:23] != 0, q3[:22] != 0)
        s4, z4, pm4 = reg(1, "s4"), reg(1, "z4"), reg(25, "pm4")
        sh4, sat4 = reg(signed(11), "sh4"), reg(1, "sat4")
        # sh = -(em - 150 + (_VB - 24) - lz + d) = 141 + lz - em - d  (d = 24 or 23)
        m.d.sync += [
            s4.eq(s3),
            z4.eq(z3),
            pm4.eq(pk + (prb & (pst | pk[0]))),
            sh4.eq(150 - (_VB - 24) + lz3 - em3 - Mux(hi_bit, 24, 23)),
            sat4.eq(em3 == 255),  # inf/NaN multiplier (never compiled): saturate
        ]

        # [5] round to integer, saturate, sign, clamp
        amt = Signal(5, name=f"l{ln}_amt")  # sh - 1 within 15..24
        m.d.comb += amt.eq(Mux(sh4 < 16, 15, Mux(sh4 > 25, 24, sh4 - 1)))
        t = Signal(10, name=f"l{ln}_t")  # integer part * 2 + round bit (<= 2**10)
        m.d.comb += t.eq(pm4 >> amt)
        sticky = ((t << amt)[:25]) != pm4
        ip = t[1:]
        r = Signal(10, name=f"l{ln}_r")
        m.d.comb += r.eq(ip + (t[0] & (sticky | ip[0])))
        mag = Signal(10, name=f"l{ln}_mag")
        m.d.comb += mag.eq(Mux(z4, 0, Mux(sat4 | (sh4 <= 15), 256, Mux(sh4 >= 26, 0, r))))
        yv = Signal(signed(11), name=f"l{ln}_y")
        m.d.comb += yv.eq(Mux(s4, -mag, mag))
        y = Signal(signed(8), name=f"l{ln}_yc")
        m.d.comb += y.eq(Mux(yv < lo, lo, Mux(yv > hi, hi, yv)))
        return y
