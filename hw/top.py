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

FuSe mode (only when ``cfg.fuse``; ``mode`` = ``ArrayMode.FUSE``):

- ``mode`` is registered (a configuration register): it takes effect one cycle after it is
  set. Switch it only while the array is idle.
- ``in_data[r]`` enters row ``r`` directly (no skew: rows are independent lines in
  lock-step) and shifts right one PE per cycle; ``tap[r]`` is row ``r``'s broadcast tap.
- ``op`` (``FuseOp``) is decoded and **registered per row** (one control register per row
  of PEs, never one for the whole array), so it applies in the cycle *after* it is given.
  ``tap[r]`` is given **with the op**, also one cycle ahead: every PE registers its row's
  tap in its weight register, so the multiply-add path is the same as in GEMM mode. The
  host issues each op and its taps one cycle ahead of the data they belong to. HOLD and
  SHIFT cycles zero the taps (per row, at the top), whatever the host drives on ``tap``.
- In a ``SHIFT`` cycle the bottom row's accumulators are the output (``out_valid`` high,
  ``out_data`` = bottom row, sign-extended) while every row moves one down and the top row
  takes zeros. A fold's ``rows`` results leave bottom row first, one per SHIFT; after
  ``rows`` SHIFTs the whole array is clear.
- The swap tag is forced low. The shadow weights are untouched (a GEMM tile may be loaded
  during a FuSe job); the active weights hold taps, and every GEMM tile swaps in its own.

The cycle formula of a whole GEMM built on this is in ``sw.latency.rtl``.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from hw.array import SystolicArray
from hw.config import ArrayConfig
from hw.interfaces import PE_CONTROL_GEMM, ArrayMode, FuseOp, PeControl
from hw.skew import Skew

__all__ = ["ArrayTop", "REPLICATED_REGS"]

#: Yosys wire pattern of the per-row control registers: deliberate copies of one register
#: (same D input), which synthesis must not merge (DC: ``set_register_merging false``).
REPLICATED_REGS = "ctl_row*"


class ArrayTop(wiring.Component):
    def __init__(self, cfg: ArrayConfig) -> None:
        self.cfg = cfg
        ports = {
            "in_valid": In(1),
            "in_swap": In(1),
            "in_data": In(data.ArrayLayout(cfg.act_shape, cfg.rows)),
            "w_we": In(1),
            "w_row": In(max(1, ceil_log2(cfg.rows))),
            "w_data": In(data.ArrayLayout(cfg.weight_shape, cfg.cols)),
            "out_valid": Out(1),
            "out_data": Out(data.ArrayLayout(cfg.acc_shape, cfg.cols)),
        }
        if cfg.fuse:
            ports["mode"] = In(ArrayMode)
            ports["op"] = In(FuseOp)
            ports["tap"] = In(data.ArrayLayout(cfg.weight_shape, cfg.rows))
        super().__init__(ports)

    def elaborate(self, platform) -> Module:
        cfg = self.cfg
        m = Module()
        lane = data.StructLayout({"a": cfg.act_shape, "swap": 1})
        m.submodules.skew = skew = Skew(lane, list(range(cfg.rows)))
        m.submodules.mesh = mesh = SystolicArray(cfg)
        out_shape = signed(cfg.psum_width(cfg.rows - 1))
        m.submodules.deskew = deskew = Skew(out_shape, [cfg.cols - 1 - c for c in range(cfg.cols)])

        fuse = Signal()  # registered mode
        asel_rows = []
        if cfg.fuse:
            m.d.sync += fuse.eq(self.mode == ArrayMode.FUSE)
            # FuSe control (SPEC 3.3): rows run in lock-step, but every row has its own copy of
            # the registered mode and decoded op (``ctl_row<r>``), so no flop drives more than
            # one row of PEs; ``synth`` keeps these copies (``REPLICATED_REGS``) from being
            # merged back into one array-wide flop.
            is_fuse = self.mode == ArrayMode.FUSE
            op = self.op
            for r in range(cfg.rows):
                ctl_r = Signal(PeControl, init=PE_CONTROL_GEMM, name=f"ctl_row{r}")
                # column 0's activation mux gets its own copy of the mode flop: ``ctl_r.fuse``
                # also drives the row's tap muxes (``cols`` loads), which made its select late
                # enough to be the 64x64 critical path
                sel_r = Signal(name=f"ctl_row{r}_asel")
                m.d.sync += [
                    ctl_r.fuse.eq(is_fuse),
                    ctl_r.keep.eq(is_fuse & ((op == FuseOp.HOLD) | (op == FuseOp.ACC))),
                    ctl_r.take.eq(~is_fuse | (op == FuseOp.SHIFT)),
                    sel_r.eq(is_fuse),
                ]
                m.d.comb += mesh.ctl[r].eq(ctl_r)
                asel_rows.append(sel_r)
        gemm_valid = self.in_valid & ~fuse
        # Invalid cycles inject zeros, so idle rows never toggle the multipliers or swap tiles.
        for r in range(cfg.rows):
            m.d.comb += [
                skew.i[r].a.eq(Mux(gemm_valid, self.in_data[r], 0)),
                skew.i[r].swap.eq(gemm_valid & self.in_swap),
                mesh.swap_in[r].eq(skew.o[r].swap),
            ]
            if cfg.fuse:
                direct = Mux(self.in_valid, self.in_data[r], 0)
                # the row's own select flop (``ctl_row<r>_asel``), so neither the array-wide
                # ``fuse`` flop nor the row's PE control fans out to this mux
                m.d.comb += mesh.a_in[r].eq(Mux(asel_rows[r], direct, skew.o[r].a))
            else:
                m.d.comb += mesh.a_in[r].eq(skew.o[r].a)
        m.d.comb += [
            mesh.w_we.eq(self.w_we),
            mesh.w_row.eq(self.w_row),
            mesh.w_data.eq(self.w_data),
            deskew.i.eq(mesh.psum_out),
        ]

        valid = gemm_valid
        for k in range(cfg.latency):
            nxt = Signal(name=f"valid_d{k + 1}")
            m.d.sync += nxt.eq(valid)
            valid = nxt

        if not cfg.fuse:
            m.d.comb += [self.out_valid.eq(valid)]
            m.d.comb += [self.out_data[c].eq(deskew.o[c]) for c in range(cfg.cols)]
            return m

        # The taps are given with the op, one cycle ahead; each PE registers its row's tap
        # (``w_active``), so the multiplier sees a flop as in GEMM mode. Cycles without a
        # product (HOLD, SHIFT) load a zero tap.
        prod = is_fuse & ((op == FuseOp.FIRST) | (op == FuseOp.ACC))
        m.d.comb += [mesh.tap_in[r].eq(Mux(prod, self.tap[r], 0)) for r in range(cfg.rows)]
        shift = Signal()  # this cycle drains: the bottom row is the output
        m.d.sync += shift.eq(is_fuse & (op == FuseOp.SHIFT))

        # Mux expressions (not If/Else): Amaranth emits them as continuous assigns, which
        # 4-state simulators evaluate at time 0 even if no input ever changes.
        m.d.comb += self.out_valid.eq(Mux(fuse, shift, valid))
        m.d.comb += [
            self.out_data[c].eq(Mux(fuse, mesh.psum_out[c], deskew.o[c])) for c in range(cfg.cols)
        ]
        return m
