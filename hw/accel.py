"""Accelerator top: ``ArrayTop`` + on-chip memories + a sequencer that runs a command program
(``hw.isa``) with no host involvement per cycle (SPEC 3.5).

::

    host write ports ──> cmd_mem ──> sequencer (FETCH, DECODE, RUN) ──┐
                         act_mem ──> streamer: one X row / cycle ──────┤
                         w_mem   ──> loader:   one W row / cycle ──────┼──> ArrayTop ──┐
    host read port  <──  acc_mem <── accumulate (row fold 0 overwrites, later add) <───┘

Memories (``amaranth.lib.memory.Memory``, depths from ``ArrayConfig``): ``act_mem`` words are
``rows`` activation lanes, ``w_mem`` words ``cols`` weight lanes, ``acc_mem`` words ``cols``
``acc_width`` lanes, ``cmd_mem`` words are ``hw.isa.WORD_BITS`` wide. Lane ``i`` sits at bits
``[i*w +: w]``. The host fills them through the ``*_we/_waddr/_wdata`` ports (or a simulator
backdoor) and reads results through ``acc_raddr``/``acc_rdata`` (one cycle latency), only while
the sequencer is not running.

Sequencer: a pulse on ``start`` (from idle, done or error) clears the counters and runs the
program from word 0. Per command: FETCH (1 cycle: read ``cmd_mem``), DECODE (1 cycle: latch and
check the fields), then RUN for ``GEMM``. ``HALT`` raises ``done``; a malformed command (unknown
opcode, reserved bits set, a zero count, or a range past a memory's depth) raises ``error`` and
``done`` and stops. RUN drives the array with exactly the schedule of ``sw.mapping.gemm``
(``B_0 = 0``, ``S_0 = 1``, ``B_{f+1} = max(B_f + rows, S_f + cols - 1)``,
``S_{f+1} = max(S_f + M, B_{f+1} + 1)``), issued one cycle ahead because the memories have a
one-cycle read latency, and ends in the cycle the last output is accumulated. So a GEMM command
costs ``2 + 1 + sw.latency.rtl.gemm_cycles(M, Kr, N, rows, cols)`` cycles and ``HALT`` 2
(``sw.latency.rtl.accel_program_cycles``).

Counters (``cnt_total``, ``cnt_busy``, ``cnt_stall``, 32 bits, frozen at done/error):
total = cycles in FETCH/DECODE/RUN; busy = cycles an activation row enters the array;
stall = RUN cycles without one (weight loads the array waits for, fill, drain). Hence
``total = busy + stall + 2 * commands executed``.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from hw import isa
from hw.config import ArrayConfig
from hw.interfaces import ArrayMode, FuseOp
from hw.top import ArrayTop

__all__ = ["Accelerator", "COUNTER_WIDTH", "CommandWord"]

COUNTER_WIDTH = 32

#: the command word as an Amaranth layout, built from ``hw.isa.FIELDS`` (one source of truth)
CommandWord = data.StructLayout({name: unsigned(w) for name, (_, w) in isa.FIELDS.items()})
assert all(CommandWord[name].offset == lo for name, (lo, _) in isa.FIELDS.items())
assert CommandWord.size == isa.WORD_BITS


def _abits(depth: int) -> int:
    return max(1, ceil_log2(depth))


class Accelerator(wiring.Component):
    def __init__(self, cfg: ArrayConfig) -> None:
        self.cfg = cfg
        super().__init__(
            {
                "start": In(1),
                "done": Out(1),
                "error": Out(1),
                "running": Out(1),
                "cnt_total": Out(COUNTER_WIDTH),
                "cnt_busy": Out(COUNTER_WIDTH),
                "cnt_stall": Out(COUNTER_WIDTH),
                "act_we": In(1),
                "act_waddr": In(_abits(cfg.act_depth)),
                "act_wdata": In(cfg.rows * cfg.act_width),
                "w_we": In(1),
                "w_waddr": In(_abits(cfg.weight_depth)),
                "w_wdata": In(cfg.cols * cfg.weight_width),
                "cmd_we": In(1),
                "cmd_waddr": In(_abits(cfg.cmd_depth)),
                "cmd_wdata": In(isa.WORD_BITS),
                "acc_raddr": In(_abits(cfg.acc_depth)),
                "acc_rdata": Out(cfg.cols * cfg.acc_width),
            }
        )

    def elaborate(self, platform) -> Module:
        cfg = self.cfg
        R, C = cfg.rows, cfg.cols
        m = Module()
        m.submodules.array = arr = ArrayTop(cfg)
        if cfg.fuse:
            m.d.comb += [arr.mode.eq(ArrayMode.GEMM), arr.op.eq(FuseOp.HOLD)]

        act_lanes = data.ArrayLayout(cfg.act_shape, R)
        w_lanes = data.ArrayLayout(cfg.weight_shape, C)
        acc_lanes = data.ArrayLayout(cfg.acc_shape, C)
        m.submodules.cmd_mem = cmd_mem = Memory(
            shape=unsigned(isa.WORD_BITS), depth=cfg.cmd_depth, init=[]
        )
        m.submodules.act_mem = act_mem = Memory(shape=act_lanes, depth=cfg.act_depth, init=[])
        m.submodules.w_mem = w_mem = Memory(shape=w_lanes, depth=cfg.weight_depth, init=[])
        m.submodules.acc_mem = acc_mem = Memory(shape=acc_lanes, depth=cfg.acc_depth, init=[])

        # host ports
        for mem, pfx in ((cmd_mem, "cmd"), (act_mem, "act"), (w_mem, "w")):
            wp = mem.write_port()
            m.d.comb += [
                wp.en.eq(getattr(self, f"{pfx}_we")),
                wp.addr.eq(getattr(self, f"{pfx}_waddr")),
                wp.data.eq(getattr(self, f"{pfx}_wdata")),
            ]
        host_rd = acc_mem.read_port()
        m.d.comb += [host_rd.addr.eq(self.acc_raddr), self.acc_rdata.eq(host_rd.data)]

        cmd_rd = cmd_mem.read_port()
        act_rd = act_mem.read_port()
        w_rd = w_mem.read_port()
        acc_wr = acc_mem.write_port()
        acc_rd = acc_mem.read_port(transparent_for=(acc_wr,))

        # -- decoded command registers ------------------------------------------------------
        word = data.View(CommandWord, cmd_rd.data)
        pc = Signal(_abits(cfg.cmd_depth) + 1)
        M = Signal(16)
        kfolds = Signal(12)
        nfolds = Signal(12)
        a_base = Signal(20)
        folds = Signal(24)  # kfolds * nfolds
        m.d.comb += cmd_rd.addr.eq(pc)

        # -- engines (issue timeline: one cycle ahead of the array) -------------------------
        run = Signal()
        # loader
        l_count = Signal(24)  # tiles whose weight load has started
        l_busy = Signal()  # writing rows 1..R-1 of a tile
        l_row = Signal(_abits(R))
        w_ptr = Signal(20)
        # streamer
        s_count = Signal(24)  # tiles whose activation stream has started
        s_busy = Signal()  # streaming rows 1..M-1 of a tile
        s_row = Signal(16)
        s_age = Signal(range(C))  # cycles since the latest tile started streaming (sat. C-1)
        a_ptr = Signal(20)
        s_kf = Signal(12)  # row fold of the next tile to stream
        s_abase = Signal(20)  # its first activation word
        # output side
        o_m = Signal(16)
        o_kf = Signal(12)
        o_nf = Signal(12)
        o_addr = Signal(20)
        o_rowbase = Signal(20)

        s_go = Signal()
        l_go = Signal()
        m.d.comb += s_go.eq(run & ~s_busy & (l_count > s_count))
        s_count_now = Signal.like(s_count)
        s_age_now = Signal.like(s_age)
        m.d.comb += [
            s_count_now.eq(s_count + s_go),
            s_age_now.eq(Mux(s_go, 0, s_age)),
            l_go.eq(
                run
                & ~l_busy
                & (l_count < folds)
                & ((l_count == 0) | ((s_count_now == l_count) & (s_age_now >= C - 1)))
            ),
        ]

        # loader: one weight row per cycle into the shadow registers
        w_issue = l_go | l_busy
        m.d.comb += w_rd.addr.eq(w_ptr)
        m.d.sync += [
            arr.w_we.eq(w_issue),
            arr.w_row.eq(Mux(l_go, 0, l_row)),
        ]
        m.d.comb += arr.w_data.eq(w_rd.data)
        with m.If(l_go):
            m.d.sync += [l_count.eq(l_count + 1), l_row.eq(1), l_busy.eq(R > 1)]
            m.d.sync += w_ptr.eq(w_ptr + 1)
        with m.Elif(l_busy):
            m.d.sync += [l_row.eq(l_row + 1), w_ptr.eq(w_ptr + 1)]
            with m.If(l_row == R - 1):
                m.d.sync += l_busy.eq(0)

        # streamer: one activation row per cycle, the first of a tile with the swap tag
        a_issue = s_go | s_busy
        m.d.comb += act_rd.addr.eq(Mux(s_go, s_abase, a_ptr))
        m.d.sync += [arr.in_valid.eq(a_issue), arr.in_swap.eq(s_go)]
        m.d.comb += arr.in_data.eq(act_rd.data)
        with m.If(s_go):
            m.d.sync += [
                s_count.eq(s_count + 1),
                s_row.eq(1),
                s_busy.eq(M != 1),
                a_ptr.eq(s_abase + 1),
                s_age.eq(min(1, C - 1)),
            ]
            with m.If(s_kf + 1 == kfolds):
                m.d.sync += [s_kf.eq(0), s_abase.eq(a_base)]
            with m.Else():
                m.d.sync += [s_kf.eq(s_kf + 1), s_abase.eq(s_abase + M)]
        with m.Else():
            with m.If(s_age != C - 1):
                m.d.sync += s_age.eq(s_age + 1)
            with m.If(s_busy):
                m.d.sync += [s_row.eq(s_row + 1), a_ptr.eq(a_ptr + 1)]
                with m.If(s_row == M - 1):
                    m.d.sync += s_busy.eq(0)

        # output side: row fold 0 overwrites, later row folds add (read-modify-write; the read
        # port is transparent, so back-to-back updates of one word see each other)
        o_next = Signal.like(o_addr)
        o_last_row = o_m == M - 1
        o_last_kf = o_kf == kfolds - 1
        last_out = Signal()
        m.d.comb += [
            o_next.eq(Mux(~o_last_row, o_addr + 1, Mux(~o_last_kf, o_rowbase, o_rowbase + M))),
            last_out.eq(arr.out_valid & o_last_row & o_last_kf & (o_nf == nfolds - 1)),
            acc_rd.addr.eq(Mux(arr.out_valid, o_next, o_addr)),
            acc_wr.addr.eq(o_addr),
            acc_wr.en.eq(run & arr.out_valid),
        ]
        for c in range(C):
            m.d.comb += acc_wr.data[c].eq(
                Mux(o_kf == 0, arr.out_data[c], acc_rd.data[c] + arr.out_data[c])
            )
        with m.If(run & arr.out_valid):
            m.d.sync += o_addr.eq(o_next)
            with m.If(~o_last_row):
                m.d.sync += o_m.eq(o_m + 1)
            with m.Else():
                m.d.sync += o_m.eq(0)
                with m.If(~o_last_kf):
                    m.d.sync += o_kf.eq(o_kf + 1)
                with m.Else():
                    m.d.sync += [o_kf.eq(0), o_nf.eq(o_nf + 1), o_rowbase.eq(o_rowbase + M)]

        # -- counters -------------------------------------------------------------------------
        counting = Signal()
        with m.If(counting):
            m.d.sync += self.cnt_total.eq(self.cnt_total + 1)
            with m.If(arr.in_valid):
                m.d.sync += self.cnt_busy.eq(self.cnt_busy + 1)
            with m.Elif(run):
                m.d.sync += self.cnt_stall.eq(self.cnt_stall + 1)

        # -- sequencer --------------------------------------------------------------------------
        act_end = Signal(40)
        w_end = Signal(40)
        acc_end = Signal(40)
        m.d.comb += [
            act_end.eq(word.a_addr + word.kfolds * word.m),
            w_end.eq(word.w_addr + word.kfolds * word.nfolds * R),
            acc_end.eq(word.acc_addr + word.nfolds * word.m),
        ]
        gemm_ok = (
            (word.flags == 0)
            & (word.reserved == 0)
            & (word.m != 0)
            & (word.kfolds != 0)
            & (word.nfolds != 0)
            & (act_end <= cfg.act_depth)
            & (w_end <= cfg.weight_depth)
            & (acc_end <= cfg.acc_depth)
        )
        halt_ok = word.as_value()[4:] == 0

        def restart():
            m.d.sync += [
                pc.eq(0),
                self.cnt_total.eq(0),
                self.cnt_busy.eq(0),
                self.cnt_stall.eq(0),
            ]

        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.start):
                    restart()
                    m.next = "FETCH"
            with m.State("FETCH"):
                m.d.comb += counting.eq(1)
                with m.If(pc >= cfg.cmd_depth):  # ran off the end of the command memory
                    m.next = "ERROR"
                with m.Else():
                    m.next = "DECODE"
            with m.State("DECODE"):
                m.d.comb += counting.eq(1)
                with m.If((word.op == isa.Op.HALT) & halt_ok):
                    m.next = "DONE"
                with m.Elif((word.op == isa.Op.GEMM) & gemm_ok):
                    m.d.sync += [
                        M.eq(word.m),
                        kfolds.eq(word.kfolds),
                        nfolds.eq(word.nfolds),
                        a_base.eq(word.a_addr),
                        folds.eq(word.kfolds * word.nfolds),
                        l_count.eq(0),
                        l_busy.eq(0),
                        w_ptr.eq(word.w_addr),
                        s_count.eq(0),
                        s_busy.eq(0),
                        s_age.eq(0),
                        s_kf.eq(0),
                        s_abase.eq(word.a_addr),
                        o_m.eq(0),
                        o_kf.eq(0),
                        o_nf.eq(0),
                        o_addr.eq(word.acc_addr),
                        o_rowbase.eq(word.acc_addr),
                    ]
                    m.next = "RUN"
                with m.Else():
                    m.next = "ERROR"
            with m.State("RUN"):
                m.d.comb += [counting.eq(1), run.eq(1)]
                with m.If(last_out):
                    m.d.sync += pc.eq(pc + 1)
                    m.next = "FETCH"
            with m.State("DONE"):
                m.d.comb += self.done.eq(1)
                with m.If(self.start):
                    restart()
                    m.next = "FETCH"
            with m.State("ERROR"):
                m.d.comb += [self.done.eq(1), self.error.eq(1)]
                with m.If(self.start):
                    restart()
                    m.next = "FETCH"
        m.d.comb += self.running.eq(counting)
        return m
