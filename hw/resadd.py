"""Residual add with the golden's float32 rescaling, ``lanes`` lanes per cycle (issue 18).

Per lane, bit-exactly ``sw.ref.quant.add_requant``::

    y = clamp(sat8(rne(float32(float32(a * m_a) + float32(b * m_b)))), lo, hi)

for int8 ``a``, ``b`` and float32 multipliers ``m_a``, ``m_b`` (IEEE-754 bits; normal, with
``2**-100 <= |m| < 2**100``: ``sw.ref.outstage.add_multipliers_bits`` checks it). Integer
logic only, step for step ``sw.ref.outstage.add_int``::

    in ─> [1] |a| * mantissa(m_a), |b| * mantissa(m_b)     (8 x 24 bits, exact)
          [2] normalise each (log shifter), round half to even to 24 bits -> (sign, P, E)
          [3] order by magnitude, align the smaller mantissa (shift right by the exponent
              difference, capped at 27, with guard, round and sticky bits)
          [4] add or subtract (28 bits), normalise (one right or up to 26 left)
          [5] round half to even to 24 bits -> Ps * 2**Es
          [6] rne(Ps / 2**-Es), saturate, sign, clamp to [lo, hi]        ─> out

A float32 adder with guard, round and sticky bits rounds exactly as IEEE-754 does; the tests
compare with numpy's float32 on every ``(a, b)`` pair for hundreds of multiplier pairs.
Latency ``hw.isa.RESADD_LATENCY = 6`` cycles, one word per cycle.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from hw.isa import RESADD_LATENCY

__all__ = ["ResidualAdd", "LATENCY"]

LATENCY = RESADD_LATENCY
_ZERO_EXP = -1000  # exponent of a zero product: never the larger operand


class ResidualAdd(wiring.Component):
    """``lanes`` parallel residual adders with shared multipliers and clamp."""

    def __init__(self, lanes: int) -> None:
        if isinstance(lanes, bool) or not isinstance(lanes, int) or lanes < 1:
            self._MustUse__silence = True
            raise ValueError(f"Lane count must be a positive integer, not {lanes!r}")
        self.lanes = lanes
        super().__init__(
            {
                "i_valid": In(1),
                "a": In(data.ArrayLayout(signed(8), lanes)),
                "b": In(data.ArrayLayout(signed(8), lanes)),
                "ma": In(32),
                "mb": In(32),
                "lo": In(signed(8)),
                "hi": In(signed(8)),
                "o_valid": Out(1),
                "out": Out(data.ArrayLayout(signed(8), lanes)),
            }
        )

    def elaborate(self, platform) -> Module:
        m = Module()
        valid = [Signal(name=f"v{i}") for i in range(1, LATENCY)]
        lo = [Signal(signed(8), name=f"lo{i}") for i in range(1, LATENCY)]
        hi = [Signal(signed(8), name=f"hi{i}") for i in range(1, LATENCY)]
        m.d.sync += [valid[0].eq(self.i_valid), lo[0].eq(self.lo), hi[0].eq(self.hi)]
        for i in range(1, LATENCY - 1):
            m.d.sync += [valid[i].eq(valid[i - 1]), lo[i].eq(lo[i - 1]), hi[i].eq(hi[i - 1])]
        m.d.sync += self.o_valid.eq(valid[-1])
        for ln in range(self.lanes):
            y = self._lane(m, ln, self.a[ln], self.b[ln], lo[-1], hi[-1])
            m.d.sync += self.out[ln].eq(y)
        return m

    def _lane(self, m: Module, ln: int, a, b, lo, hi):
        def reg(shape, name):
            return Signal(shape, name=f"l{ln}_{name}")

        # [1] exact products of the magnitudes with the multipliers' mantissas
        prods = []
        for tag, x, mult in (("a", a, self.ma), ("b", b, self.mb)):
            s1, q1, e1 = reg(1, f"s1{tag}"), reg(32, f"q1{tag}"), reg(8, f"e1{tag}")
            mag = Mux(x < 0, -x, x)[:8]
            m.d.sync += [
                s1.eq((x < 0) ^ mult[31]),
                q1.eq(mag * (mult[:23] | (1 << 23))),
                e1.eq(mult[23:31]),
            ]
            prods.append((tag, s1, q1, e1))

        # [2] normalise each product, round half to even to 24 bits
        ops = []
        for tag, s1, q1, e1 in prods:
            x, lz = q1, 0
            for step in (16, 8, 4, 2, 1):
                top_zero = x[32 - step :] == 0
                nx = Signal(32, name=f"l{ln}_{tag}n{step}")
                nlz = Signal(6, name=f"l{ln}_{tag}lz{step}")
                m.d.comb += [
                    nx.eq(Mux(top_zero, (x << step)[:32], x)),
                    nlz.eq(Mux(top_zero, lz + step, lz)),
                ]
                x, lz = nx, nlz
            keep = x[8:]
            rnd = Signal(25, name=f"l{ln}_{tag}rnd")
            m.d.comb += rnd.eq(keep + (x[7] & ((x[:7] != 0) | keep[0])))
            s2, p2, e2 = reg(1, f"s2{tag}"), reg(24, f"p2{tag}"), reg(signed(12), f"e2{tag}")
            m.d.sync += [
                s2.eq(s1),
                p2.eq(Mux(rnd[24], rnd[1:], rnd[:24])),
                e2.eq(Mux(q1 == 0, _ZERO_EXP, e1 - 150 + 8 - lz + rnd[24])),
            ]
            ops.append((s2, p2, e2))
        (sa, pa, ea), (sb, pb, eb) = ops

        # [3] order by magnitude, align the smaller with guard/round/sticky
        swap = (eb > ea) | ((eb == ea) & (pb > pa))
        ex = Mux(swap, eb, ea)
        ey = Mux(swap, ea, eb)
        diff = Signal(signed(13), name=f"l{ln}_diff")
        m.d.comb += diff.eq(ex - ey)
        d = Signal(5, name=f"l{ln}_d")
        m.d.comb += d.eq(Mux(diff > 27, 27, diff[:5]))
        yfull = Signal(27, name=f"l{ln}_yfull")
        m.d.comb += yfull.eq(Mux(swap, pa, pb) << 3)
        ysh = Signal(27, name=f"l{ln}_ysh")
        m.d.comb += ysh.eq(yfull >> d)
        sticky = ((ysh << d)[:27]) != yfull
        sx3, sub3, x3, y3, e3 = (
            reg(1, "sx3"),
            reg(1, "sub3"),
            reg(27, "x3"),
            reg(27, "y3"),
            reg(signed(12), "e3"),
        )
        m.d.sync += [
            sx3.eq(Mux(swap, sb, sa)),
            sub3.eq(sa ^ sb),
            x3.eq(Mux(swap, pb, pa) << 3),
            y3.eq(ysh | sticky),
            e3.eq(ex),
        ]

        # [4] add or subtract, normalise to bit 26
        z = Signal(28, name=f"l{ln}_z")
        m.d.comb += z.eq(Mux(sub3, x3 - y3, x3 + y3))
        xz, lz = z[:27], 0
        for step in (16, 8, 4, 2, 1):
            top_zero = xz[27 - step :] == 0
            nx = Signal(27, name=f"l{ln}_zn{step}")
            nlz = Signal(6, name=f"l{ln}_zlz{step}")
            m.d.comb += [
                nx.eq(Mux(top_zero, (xz << step)[:27], xz)),
                nlz.eq(Mux(top_zero, lz + step, lz)),
            ]
            xz, lz = nx, nlz
        sx4, z4, e4, nz4 = reg(1, "sx4"), reg(27, "z4"), reg(signed(12), "e4"), reg(1, "nz4")
        m.d.sync += [
            sx4.eq(sx3),
            z4.eq(Mux(z[27], z[1:28] | z[0], xz)),
            e4.eq(Mux(z[27], e3 + 1, e3 - lz)),
            nz4.eq(z != 0),
        ]

        # [5] round half to even to 24 bits
        keep = z4[3:]
        rnd = Signal(25, name=f"l{ln}_srnd")
        m.d.comb += rnd.eq(keep + (z4[2] & ((z4[:2] != 0) | keep[0])))
        sx5, ps5, sh5, nz5 = reg(1, "sx5"), reg(24, "ps5"), reg(signed(13), "sh5"), reg(1, "nz5")
        m.d.sync += [
            sx5.eq(sx4),
            ps5.eq(Mux(rnd[24], rnd[1:], rnd[:24])),
            sh5.eq(-(e4 + rnd[24])),
            nz5.eq(nz4),
        ]

        # [6] round to integer, saturate, sign, clamp (as hw.requant's last stage)
        amt = Signal(5, name=f"l{ln}_amt")
        m.d.comb += amt.eq(Mux(sh5 < 16, 15, Mux(sh5 > 25, 24, sh5 - 1)))
        t = Signal(10, name=f"l{ln}_t")
        m.d.comb += t.eq(ps5 >> amt)
        st = ((t << amt)[:24]) != ps5
        ip = t[1:]
        r = Signal(10, name=f"l{ln}_r")
        m.d.comb += r.eq(ip + (t[0] & (st | ip[0])))
        mag = Signal(10, name=f"l{ln}_mag")
        m.d.comb += mag.eq(Mux(~nz5, 0, Mux(sh5 <= 15, 256, Mux(sh5 >= 26, 0, r))))
        yv = Signal(signed(11), name=f"l{ln}_y")
        m.d.comb += yv.eq(Mux(sx5, -mag, mag))
        y = Signal(signed(8), name=f"l{ln}_yc")
        m.d.comb += y.eq(Mux(yv < lo, lo, Mux(yv > hi, hi, yv)))
        return y
