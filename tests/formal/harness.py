"""Proof harnesses (Amaranth ``Assert``/``Assume``) around the array's RTL.

Every reference here is written from the documented contract (``hw/pe.py``, ``hw/top.py``,
``sw/mapping/fuse.py`` docstrings), not from the RTL: the PE harness decodes an abstract op
(GEMM/FIRST/ACC/HOLD/SHIFT) with its own table and states what the accumulator must hold; the
fold harness computes the 1-D correlation of symbolic data; the miter compares two builds.

- ``PeHarness``: one PE (plain or FuSe build), every input free each cycle (ops restricted to
  the legal ``PeControl`` codes, swap low in FuSe ops, as the top guarantees).
- ``GemmMiter``: ``ArrayTop(fuse=True)`` with mode held at GEMM and ``op``/``tap`` free against
  ``ArrayTop(fuse=False)``, all other inputs shared and free: outputs equal every cycle.
- ``FuseFoldHarness``: the fixed schedule of ``sw.mapping.fuse.fuse_program`` with symbolic
  lines and taps; garbage on ``tap`` in HOLD/SHIFT issue cycles, on ``in_valid``/``in_data``
  outside the stream windows, on ``in_swap`` and the weight port always.
"""

from __future__ import annotations

import numpy as np
from amaranth import Module, ResetSignal, Signal, signed
from amaranth.hdl import Assert, Assume, Cover
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In
from amaranth.utils import ceil_log2

from hw.config import ArrayConfig
from hw.interfaces import ArrayMode, FuseOp
from hw.pe import PE
from hw.top import ArrayTop
from sw.mapping.fuse import FUSE_OPS, fuse_program

__all__ = ["PeHarness", "GemmMiter", "FuseFoldHarness", "fold_schedule"]

# abstract PE ops of the harness and their documented PeControl codes (fuse, keep, take)
GEMM, FIRST, ACC, HOLD, SHIFT = range(5)
_CODES = {GEMM: (0, 0, 1), FIRST: (1, 0, 0), ACC: (1, 1, 0), HOLD: (1, 1, 0), SHIFT: (1, 0, 1)}


class PeHarness(wiring.Component):
    """One PE against the op semantics of ``hw/pe.py``'s docstring."""

    def __init__(self, cfg: ArrayConfig, psum_width: int | None = None, psum_in_width=None):
        self.cfg = cfg
        self.dut = PE(cfg, psum_width, psum_in_width)
        self.width = self.dut.psum_width
        ports = {
            "a_in": In(signed(cfg.act_width)),
            "swap_in": In(1),
            "psum_in": In(signed(psum_in_width or self.width)),
            "w_we": In(1),
            "w_data": In(signed(cfg.weight_width)),
            "op": In(3),
            "tap_in": In(signed(cfg.weight_width)),
        }
        super().__init__(ports)

    def elaborate(self, platform) -> Module:
        cfg, dut = self.cfg, self.dut
        m = Module()
        m.submodules.dut = dut
        m.d.comb += [
            dut.a_in.eq(self.a_in),
            dut.swap_in.eq(self.swap_in),
            dut.psum_in.eq(self.psum_in),
            dut.w_we.eq(self.w_we),
            dut.w_data.eq(self.w_data),
        ]
        if cfg.fuse:
            m.d.comb += Assume(self.op <= SHIFT)
            m.d.comb += Assume((self.op == GEMM) | ~self.swap_in)  # the top forces swap low
            m.d.comb += dut.tap_in.eq(self.tap_in)
            for op, (fuse, keep, take) in _CODES.items():
                with m.If(self.op == op):
                    m.d.comb += [
                        dut.ctl.fuse.eq(fuse),
                        dut.ctl.keep.eq(keep),
                        dut.ctl.take.eq(take),
                    ]
        else:
            m.d.comb += Assume(self.op == GEMM)

        # reference state: the last written shadow weight, the weight of the current tile (or
        # the last registered tap), and the expected outputs
        shadow = Signal(signed(cfg.weight_width))
        weight = Signal(signed(cfg.weight_width))
        acc = Signal(signed(self.width))
        a_prev = Signal(signed(cfg.act_width))
        swap_prev = Signal()
        w = Signal(signed(cfg.weight_width))
        m.d.comb += w.eq(weight)
        with m.If((self.op == GEMM) & self.swap_in):
            m.d.comb += w.eq(shadow)
        with m.If(self.w_we):
            m.d.sync += shadow.eq(self.w_data)
        with m.If(self.op == GEMM):
            m.d.sync += acc.eq(self.psum_in + self.a_in * w)
            with m.If(self.swap_in):
                m.d.sync += weight.eq(shadow)
        with m.Else():
            m.d.sync += weight.eq(self.tap_in)
            with m.If(self.op == FIRST):
                m.d.sync += acc.eq(self.a_in * w)
            with m.Elif((self.op == ACC) | (self.op == HOLD)):
                m.d.sync += acc.eq(acc + self.a_in * w)
            with m.Else():
                m.d.sync += acc.eq(self.psum_in + self.a_in * w)
        m.d.sync += [a_prev.eq(self.a_in), swap_prev.eq(self.swap_in)]
        m.d.comb += [
            Assert(dut.psum_out == acc, "psum_out"),
            Assert(dut.a_out == a_prev, "a_out"),
            Assert(dut.swap_out == swap_prev, "swap_out"),
            # reachability (``run_cover``): the assumptions leave accumulations and swaps
            Cover(dut.psum_out != 0, "psum_out nonzero"),
            Cover(dut.swap_out, "swap_out"),
        ]
        if cfg.fuse:
            was_first, first_acc = Signal(), Signal()
            m.d.sync += [was_first.eq(self.op == FIRST), first_acc.eq(was_first & (self.op == ACC))]
            m.d.comb += Cover(first_acc & (dut.psum_out != 0), "FIRST then ACC")
        return m


def _top_inputs(cfg: ArrayConfig) -> dict:
    return {
        "in_valid": In(1),
        "in_swap": In(1),
        "in_data": In(data.ArrayLayout(cfg.act_shape, cfg.rows)),
        "w_we": In(1),
        "w_row": In(max(1, ceil_log2(cfg.rows))),
        "w_data": In(data.ArrayLayout(cfg.weight_shape, cfg.cols)),
    }


class GemmMiter(wiring.Component):
    """FuSe build in GEMM mode == plain build, cycle for cycle, for any inputs."""

    def __init__(self, cfg: ArrayConfig) -> None:
        import dataclasses

        self.fuse_cfg = dataclasses.replace(cfg, fuse=True)
        self.plain_cfg = dataclasses.replace(cfg, fuse=False)
        ports = _top_inputs(cfg)
        ports["op"] = In(FuseOp)
        ports["tap"] = In(data.ArrayLayout(cfg.weight_shape, cfg.rows))
        super().__init__(ports)

    def elaborate(self, platform) -> Module:
        m = Module()
        m.submodules.a = a = ArrayTop(self.fuse_cfg)
        m.submodules.b = b = ArrayTop(self.plain_cfg)
        for name in _top_inputs(self.fuse_cfg):
            m.d.comb += [
                getattr(a, name).eq(getattr(self, name)),
                getattr(b, name).eq(getattr(self, name)),
            ]
        m.d.comb += [a.mode.eq(ArrayMode.GEMM), a.op.eq(self.op), a.tap.eq(self.tap)]
        m.d.comb += Assert(a.out_valid == b.out_valid, "out_valid")
        for c in range(self.fuse_cfg.cols):
            m.d.comb += Assert(a.out_data[c] == b.out_data[c], f"out_data[{c}]")
        # reachability: a result with data leaves both builds (the last column after the
        # longest skew)
        last = self.fuse_cfg.cols - 1
        m.d.comb += Cover(a.out_valid & (a.out_data[last] != 0), "out_valid")
        return m


def fold_schedule(rows: int, cols: int, K: int, folds: int):
    """The ``fuse_program`` of ``rows`` lines with ``folds`` position folds, with every data
    element and tap replaced by a unique id (line ``r`` element ``i`` -> ``1 + r*1000 + i``,
    tap ``k`` of line ``r`` -> ``-(1 + r*1000 + k)``), so the harness can put symbols there."""
    width = folds * cols + K - 1
    lines = np.array([[1 + r * 1000 + i for i in range(width)] for r in range(rows)])
    taps = np.array([[-(1 + r * 1000 + k) for k in range(K)] for r in range(rows)])
    return fuse_program(lines, taps, rows, cols), lines, taps


class FuseFoldHarness(wiring.Component):
    """``folds`` FuSe folds of ``rows`` lines on a ``rows x cols`` array compute the 1-D
    correlation of symbolic lines and taps, whatever the host drives in don't-care cycles."""

    def __init__(self, cfg: ArrayConfig, K: int, folds: int = 1) -> None:
        assert cfg.fuse and K <= cfg.max_kernel
        self.cfg, self.K = cfg, K
        self.prog, self.ids, self.tap_ids = fold_schedule(cfg.rows, cfg.cols, K, folds)
        width = self.ids.shape[1]
        ports = _top_inputs(cfg)
        ports["tap"] = In(data.ArrayLayout(cfg.weight_shape, cfg.rows))
        ports["x"] = In(data.ArrayLayout(data.ArrayLayout(cfg.act_shape, width), cfg.rows))
        ports["k"] = In(data.ArrayLayout(data.ArrayLayout(cfg.weight_shape, K), cfg.rows))
        super().__init__(ports)

    @property
    def depth(self) -> int:
        """Mode cycle + program + the last output + two idle cycles (no spurious output)."""
        return 1 + self.prog.cycles_driven + 1 + 2

    def expected(self):
        """Per harness step: None or (row of the lines, first position) of the output."""
        prog, rows = self.prog, self.cfg.rows
        period = max(prog.cols + prog.K - 1, rows + prog.K)
        span = prog.cols + prog.K - 1
        out = {}
        for f, (l0, j0) in enumerate(prog.folds):
            start = 1 + f * period
            for i in range(rows):  # SHIFT i is issued at start+span-1+i; valid one cycle later
                out[1 + start + span + i] = (l0 + rows - 1 - i, j0)
        return out

    def elaborate(self, platform) -> Module:
        cfg, prog, K = self.cfg, self.prog, self.K
        m = Module()
        m.submodules.dut = dut = ArrayTop(cfg)
        m.d.comb += Assume(~ResetSignal())
        step = Signal(range(self.depth + 2))
        with m.If(step < self.depth + 1):
            m.d.sync += step.eq(step + 1)
        # symbolic data and taps: free in the first cycle, constant afterwards
        x_prev = Signal.like(self.x)
        k_prev = Signal.like(self.k)
        m.d.sync += [x_prev.eq(self.x), k_prev.eq(self.k)]
        with m.If(step != 0):
            m.d.comb += [Assume(self.x.as_value() == x_prev.as_value())]
            m.d.comb += [Assume(self.k.as_value() == k_prev.as_value())]

        def sym(ident: int):
            r, i = divmod(abs(int(ident)) - 1, 1000)
            return self.x[r][i] if ident > 0 else self.k[r][i]

        # free inputs straight through (the weight port and swap tag are don't-care in FuSe)
        m.d.comb += [
            dut.in_swap.eq(self.in_swap),
            dut.w_we.eq(self.w_we),
            dut.w_row.eq(self.w_row),
            dut.w_data.eq(self.w_data),
            dut.mode.eq(ArrayMode.FUSE),
            dut.op.eq(FuseOp.HOLD),
            dut.in_valid.eq(self.in_valid),
        ]
        for r in range(cfg.rows):
            m.d.comb += [dut.in_data[r].eq(self.in_data[r]), dut.tap[r].eq(self.tap[r])]
        for t in range(prog.cycles_driven):
            with m.If(step == t + 1):  # step 0 sets the mode
                m.d.comb += dut.op.eq(FuseOp(int(prog.op[t])))
                if prog.in_valid[t]:
                    m.d.comb += dut.in_valid.eq(1)
                    m.d.comb += [
                        dut.in_data[r].eq(sym(prog.in_data[t, r])) for r in range(cfg.rows)
                    ]
                if prog.op[t] in (FUSE_OPS["FIRST"], FUSE_OPS["ACC"]):
                    m.d.comb += [dut.tap[r].eq(sym(prog.tap[t, r])) for r in range(cfg.rows)]

        expected = self.expected()
        for s in range(self.depth + 1):
            with m.If(step == s):
                if s not in expected:
                    m.d.comb += Assert(~dut.out_valid, f"no output at step {s}")
                    continue
                line, j0 = expected[s]
                m.d.comb += Assert(dut.out_valid, f"output at step {s}")
                for c in range(cfg.cols):
                    y = sum(self.x[line][j0 + c + k] * self.k[line][k] for k in range(K))
                    m.d.comb += Assert(dut.out_data[c] == y, f"y[{line}][{j0 + c}] at step {s}")
        # reachability: the assumptions (no reset, constant symbols) leave the outputs
        last = max(self.expected())
        m.d.comb += Cover((step == last) & dut.out_valid & (dut.out_data[0] != 0), "out_valid")
        return m
