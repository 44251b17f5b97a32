"""Accelerator top: ``ArrayTop`` + on-chip memories + a sequencer that runs a command program
(``hw.isa``) with no host involvement per cycle (SPEC 3.5).

::

    host write ports ──> cmd_mem ──> sequencer (FETCH, DECODE, RUN) ──┐
                         act_mem ──> streamer: one X row / cycle ──────┤
                         w_mem   ──> loader:   one W row / cycle ──────┼──> ArrayTop ──┐
    host read port  <──  acc_mem <── accumulate (row fold 0 overwrites, later add) <───┘

Memories (``hw.mem.Ram``: an Amaranth ``Memory``, or the Verilog model ``fusesa_ram`` in
generated Verilog; depths from ``ArrayConfig``): ``act_mem`` words are
``rows`` activation lanes, ``w_mem`` words ``cols`` weight lanes, ``acc_mem`` words ``cols``
``acc_width`` lanes, ``cmd_mem`` words are ``hw.isa.WORD_BITS`` wide. Lane ``i`` sits at bits
``[i*w +: w]``. The host fills them through the ``load`` stream (``amaranth.lib.stream``;
payload ``hw.isa.LOAD_FIELDS`` + data; range-checked: a bad word writes nothing and sets the
sticky ``host_error``) or the unchecked ``*_we/_waddr/_wdata`` ports (or a simulator
backdoor), and reads results through the ``rd_req`` (addr, count) / ``rd_data`` streams
(backpressure honoured, no word lost or duplicated) or ``acc_raddr``/``acc_rdata`` (one cycle
latency), only while the sequencer is not running (the streams enforce it: ``ready`` is low
while running). ``docs/accelerator.md`` "Host streams" has the handshake rules.

Sequencer: a pulse on ``start`` (from idle, done or error) clears the counters and runs the
program from word 0. Per command: FETCH (1 cycle: read ``cmd_mem``), DECODE (1 cycle: latch and
check the fields), then RUN for ``GEMM`` and ``FUSE``. ``HALT`` raises ``done``; a malformed command (unknown
opcode, reserved bits set, a zero count, or a range past a memory's depth) raises ``error`` and
``done`` and stops. RUN drives the array with exactly the schedule of ``sw.mapping.gemm``
(``B_0 = 0``, ``S_0 = 1``, ``B_{f+1} = max(B_f + rows, S_f + cols - 1)``,
``S_{f+1} = max(S_f + M, B_{f+1} + 1)``), issued one cycle ahead because the memories have a
one-cycle read latency, and ends in the cycle the last output is accumulated. So a GEMM command
costs ``2 + 1 + sw.latency.rtl.gemm_cycles(M, Kr, N, rows, cols)`` cycles and ``HALT`` 2
(``sw.latency.rtl.accel_program_cycles``).

``FUSE`` (only with ``cfg.fuse``) runs FuSe 1-D folds (``hw.isa.Fuse``) with exactly the
schedule of ``sw.mapping.fuse`` (fold period ``P = max(cols + K - 1, rows + K)``). The sequencer
owns the array's ``mode``: it sets FUSE in the command's DECODE cycle (one cycle before the
first op, as ``hw.top`` requires) and GEMM again once the last drained row is written, so GEMM
and FUSE commands follow each other freely. Fold ``f``'s first activation reaches the array in
RUN cycle ``2 + f*P`` (the tap read is issued two cycles before it applies: one for the memory,
one for the array's registered op); RUN ends with the last drained row, so a ``FUSE`` command
costs ``2 + 1 + sw.latency.rtl.fuse_cycles(L, J, K, rows, cols)`` cycles. Taps live in
``w_mem``, whose words are ``max(rows, cols)`` lanes wide on a FuSe array (``rows`` taps per
word; GEMM tiles use the low ``cols`` lanes).

Counters (``cnt_total``, ``cnt_busy``, ``cnt_stall``, 32 bits, frozen at done/error):
total = cycles in FETCH/DECODE/RUN; busy = cycles an activation row enters the array;
stall = RUN cycles without one (weight loads the array waits for, fill, drain). Hence
``total = busy + stall + 2 * commands executed``.
"""

from __future__ import annotations

from types import SimpleNamespace

from amaranth import Cat, Module, Mux, ResetSignal, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from hw import isa
from hw.config import ArrayConfig
from hw.interfaces import ArrayMode, FuseOp
from hw.mem import RAM_IMPLS, Ram
from hw.requant import OutputStage
from hw.resadd import ResidualAdd
from hw.top import ArrayTop

__all__ = [
    "Accelerator",
    "COUNTER_WIDTH",
    "CommandWord",
    "FuseWord",
    "RequantWord",
    "AddWord",
    "has_outstage",
    "ReadRequest",
    "load_payload",
    "w_mem_lanes",
]

COUNTER_WIDTH = 32

#: the command word as an Amaranth layout, built from ``hw.isa.FIELDS`` (one source of truth)
CommandWord = data.StructLayout({name: unsigned(w) for name, (_, w) in isa.FIELDS.items()})
assert all(CommandWord[name].offset == lo for name, (lo, _) in isa.FIELDS.items())
assert CommandWord.size == isa.WORD_BITS
FuseWord = data.StructLayout({name: unsigned(w) for name, (_, w) in isa.FUSE_FIELDS.items()})
assert all(FuseWord[name].offset == lo for name, (lo, _) in isa.FUSE_FIELDS.items())
RequantWord = data.StructLayout({name: unsigned(w) for name, (_, w) in isa.REQUANT_FIELDS.items()})
assert all(RequantWord[name].offset == lo for name, (lo, _) in isa.REQUANT_FIELDS.items())
assert RequantWord.size == isa.WORD_BITS
MaxPoolWord = data.StructLayout({name: unsigned(w) for name, (_, w) in isa.MAXPOOL_FIELDS.items()})
assert MaxPoolWord.size == isa.WORD_BITS
ConvWord = data.StructLayout({name: unsigned(w) for name, (_, w) in isa.CONV_FIELDS.items()})
assert all(ConvWord[name].offset == lo for name, (lo, _) in isa.CONV_FIELDS.items())
assert ConvWord.size == isa.WORD_BITS
AddWord = data.StructLayout({name: unsigned(w) for name, (_, w) in isa.ADD_FIELDS.items()})
assert all(AddWord[name].offset == lo for name, (lo, _) in isa.ADD_FIELDS.items())
assert AddWord.size == isa.WORD_BITS


def has_outstage(cfg: ArrayConfig) -> bool:
    """Whether ``cfg``'s accelerator has the output stage (``REQUANT``): int8 activations and
    weights of at least 8 bits (a parameter byte per weight lane) and an accumulator of at most
    32 bits (the golden's int32). Otherwise ``REQUANT`` is malformed."""
    return cfg.act_width == 8 and cfg.weight_width >= 8 and cfg.acc_width <= 32


#: ``rd_req`` stream payload, from ``hw.isa.READ_FIELDS``
ReadRequest = data.StructLayout({name: unsigned(w) for name, (_, w) in isa.READ_FIELDS.items()})
assert all(ReadRequest[name].offset == lo for name, (lo, _) in isa.READ_FIELDS.items())


def load_payload(cfg: ArrayConfig) -> data.StructLayout:
    """``load`` stream payload of ``cfg``: ``hw.isa.LOAD_FIELDS`` then ``data``."""
    fields = {name: unsigned(w) for name, (_, w) in isa.LOAD_FIELDS.items()}
    layout = data.StructLayout({**fields, "data": unsigned(isa.load_data_bits(cfg))})
    assert all(layout[name].offset == lo for name, (lo, _) in isa.LOAD_FIELDS.items())
    assert layout["data"].offset == isa.LOAD_DATA_LO
    return layout


def w_mem_lanes(cfg: ArrayConfig) -> int:
    """Lanes of a weight-memory word: ``cols`` (a GEMM tile row), or ``max(rows, cols)`` on a
    FuSe array (a FUSE tap word holds one tap per array row)."""
    return max(cfg.rows, cfg.cols) if cfg.fuse else cfg.cols


def _abits(depth: int) -> int:
    return max(1, ceil_log2(depth))


class Accelerator(wiring.Component):
    def __init__(self, cfg: ArrayConfig, ram: str = "amaranth") -> None:
        if ram not in RAM_IMPLS:
            raise ValueError(f"unknown RAM implementation {ram!r}; choose from {RAM_IMPLS}")
        self.cfg = cfg
        self.ram = ram
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
                "w_wdata": In(w_mem_lanes(cfg) * cfg.weight_width),
                "cmd_we": In(1),
                "cmd_waddr": In(_abits(cfg.cmd_depth)),
                "cmd_wdata": In(isa.WORD_BITS),
                "acc_raddr": In(_abits(cfg.acc_depth)),
                "acc_rdata": Out(cfg.cols * cfg.acc_width),
                "load": In(stream.Signature(load_payload(cfg))),
                "rd_req": In(stream.Signature(ReadRequest)),
                "rd_data": Out(stream.Signature(cfg.cols * cfg.acc_width)),
                "host_error": Out(1),
                # the program counter (command index): a bench snapshots ``cnt_total`` when it
                # changes, which gives every command's measured cycles (``sim.onechip``)
                "pc": Out(_abits(cfg.cmd_depth) + 1),
            }
        )

    def elaborate(self, platform) -> Module:
        cfg = self.cfg
        R, C = cfg.rows, cfg.cols
        m = Module()
        m.submodules.array = arr = ArrayTop(cfg)

        act_lanes = data.ArrayLayout(cfg.act_shape, R)
        w_lanes = data.ArrayLayout(cfg.weight_shape, w_mem_lanes(cfg))
        acc_lanes = data.ArrayLayout(cfg.acc_shape, C)
        impl = self.ram
        cmd_mem = Ram(shape=unsigned(isa.WORD_BITS), depth=cfg.cmd_depth, impl=impl, name="cmd")
        act_mem = Ram(shape=act_lanes, depth=cfg.act_depth, impl=impl, name="act")
        w_mem = Ram(shape=w_lanes, depth=cfg.weight_depth, impl=impl, name="w")
        acc_mem = Ram(shape=acc_lanes, depth=cfg.acc_depth, impl=impl, name="acc")

        # -- host side: plain write ports, the ``load`` stream, the read-back stream ---------
        # Both streams are served only while the sequencer is not running (``ready`` low
        # otherwise, and during reset). A load word is written iff its target is known, its
        # address is below that memory's depth and its data has no bits above the memory's
        # word; any other accepted word writes nothing and sets the sticky ``host_error``.
        host_ok = ~self.running & ~ResetSignal()
        lp = self.load.payload
        l_take = Signal()
        m.d.comb += [self.load.ready.eq(host_ok), l_take.eq(self.load.valid & host_ok)]
        load_ok = Signal()
        mem_wen = {}
        targets = (
            (cmd_mem, "cmd", isa.Target.CMD, cfg.cmd_depth, isa.WORD_BITS),
            (act_mem, "act", isa.Target.ACT, cfg.act_depth, R * cfg.act_width),
            (w_mem, "w", isa.Target.WEIGHT, cfg.weight_depth, w_lanes.size),
        )
        ok_terms = []
        # REQUANT's int8 results: the sequencer writes act_mem through the same port (the
        # host may not write while the sequencer runs)
        rq_we = Signal()
        rq_waddr = Signal(20)
        rq_wdata = Signal(R * cfg.act_width)
        seq_waddr = Signal(24)  # rq_waddr, or the line-mode REQUANT's output pointer
        seq_write = {"act": (rq_we, seq_waddr[:20], rq_wdata)}
        for mem, pfx, target, depth, bits in targets:
            ok = (lp.target == target) & (lp.addr < depth)
            if bits < len(lp.data):
                ok = ok & (lp.data[bits:] == 0)
            sw = Signal(name=f"load_{pfx}")
            m.d.comb += sw.eq(l_take & ok)
            ok_terms.append(ok)
            wp = mem.write_port()
            h_addr = Mux(sw, lp.addr, getattr(self, f"{pfx}_waddr"))
            h_data = Mux(sw, lp.data[:bits], getattr(self, f"{pfx}_wdata"))
            h_en = getattr(self, f"{pfx}_we") | sw
            if pfx in seq_write:
                s_en, s_addr, s_data = seq_write[pfx]
                h_en = h_en | s_en
                h_addr = Mux(s_en, s_addr, h_addr)
                h_data = Mux(s_en, s_data, h_data)
            m.d.comb += [wp.en.eq(h_en), wp.addr.eq(h_addr), wp.data.eq(h_data)]
            mem_wen[pfx] = wp.en
        m.d.comb += load_ok.eq(ok_terms[0] | ok_terms[1] | ok_terms[2])

        # read-back: ``rd_req`` (addr, count) -> ``count`` words on ``rd_data``. The read port
        # is enabled only when the output register is free or being taken, so a stalled word
        # stays on ``rd_data.payload`` (the port's own register) until ``ready``.
        host_rd = acc_mem.read_port()
        rq = self.rd_req.payload
        rd_left = Signal(len(rq.count))
        rd_ptr = Signal(len(rq.addr))
        rd_valid = Signal()
        rd_busy = Signal()
        rd_en = Signal()
        rq_take = Signal()
        rq_ok = Signal()
        m.d.comb += [
            rd_busy.eq((rd_left != 0) | rd_valid),
            # not in a ``start`` cycle either: the read-back must not overlap the run
            self.rd_req.ready.eq(host_ok & (rd_left == 0) & ~self.start),
            rq_take.eq(self.rd_req.valid & self.rd_req.ready),
            rq_ok.eq(rq.addr + rq.count <= cfg.acc_depth),
            rd_en.eq(~rd_valid | self.rd_data.ready),
            host_rd.en.eq(rd_en),
            host_rd.addr.eq(Mux(rd_left != 0, rd_ptr, self.acc_raddr)),
            self.acc_rdata.eq(host_rd.data),
            self.rd_data.payload.eq(host_rd.data),
            self.rd_data.valid.eq(rd_valid),
        ]
        with m.If(rd_en):
            m.d.sync += rd_valid.eq(rd_left != 0)
            with m.If(rd_left != 0):
                m.d.sync += [rd_left.eq(rd_left - 1), rd_ptr.eq(rd_ptr + 1)]
        with m.If(rq_take & rq_ok):  # only when rd_left == 0: no clash with the above
            m.d.sync += [rd_left.eq(rq.count), rd_ptr.eq(rq.addr)]
        host_bad = Signal()
        m.d.comb += host_bad.eq((l_take & ~load_ok) | (rq_take & ~rq_ok))

        cmd_rd = cmd_mem.read_port()
        act_rd = act_mem.read_port()
        w_rd = w_mem.read_port()
        acc_wr = acc_mem.write_port()
        acc_rd = acc_mem.read_port(transparent_for=(acc_wr,))
        for mem, name in (
            (cmd_mem, "cmd_mem"),
            (act_mem, "act_mem"),
            (w_mem, "w_mem"),
            (acc_mem, "acc_mem"),
        ):
            mem.attach(m, name)

        # -- decoded command registers ------------------------------------------------------
        word = data.View(CommandWord, cmd_rd.data)
        fword = data.View(FuseWord, cmd_rd.data)
        qword = data.View(RequantWord, cmd_rd.data)
        pc = Signal(_abits(cfg.cmd_depth) + 1)
        M = Signal(16)
        kfolds = Signal(12)
        nfolds = Signal(12)
        a_base = Signal(20)
        folds = Signal(24)  # kfolds * nfolds
        m.d.comb += [cmd_rd.addr.eq(pc), self.pc.eq(pc)]

        # -- engines (issue timeline: one cycle ahead of the array) -------------------------
        run = Signal()  # RUN state of any command
        fmode = Signal()  # the command in RUN is a FUSE (drives the array's ``mode``)
        qmode = Signal()  # the command in RUN is a REQUANT
        lqm = Signal()  # ... in line mode (``Requant(lines=1)``)
        pmode = Signal()  # the command in RUN is a MAXPOOL
        mp_we = Signal()  # MAXPOOL writes an output word this cycle
        mp_word = Signal(R * cfg.act_width)
        mp_out = Signal(24)  # its address
        mp_addr = Signal(24)  # MAXPOOL's activation read address
        mp_rd = Signal()
        amode = Signal()  # the command in RUN is an ADD
        grun = Signal()  # GEMM engines enabled
        m.d.comb += grun.eq(run & ~fmode & ~qmode & ~amode)

        # -- output stage engine (REQUANT commands) -------------------------------------------
        # Per channel fold f, from RUN cycle b_f = f*(PARAM_WORDS + S*m): PARAM_WORDS cycles
        # read the fold's parameter block from w_mem (byte j of every lane's multiplier or
        # bias per word), then S*m cycles read accumulator words (m rows, each S times for
        # the S sub-folds of rows lanes). A read's data enters the output stage one cycle
        # later; its int8 result is written to act_mem OUTSTAGE_LATENCY cycles after that, at
        # consecutive addresses from a_addr. RUN ends with the last write.
        S = isa.requant_subfolds(R, C)
        SL = min(R, C)  # stage lanes
        PW = isa.PARAM_WORDS
        q_m = Signal(16)
        q_folds = Signal(12)
        q_lo = Signal(signed(8))
        q_hi = Signal(signed(8))
        q_active = Signal()  # reads left to issue
        q_ph = Signal(range(PW + 1))  # 0..PW-1 parameter reads, PW: streaming
        q_f = Signal(12)
        q_s = Signal(range(S))
        q_i = Signal(16)
        q_pbase = Signal(24)  # first parameter word of fold f
        q_abase = Signal(24)  # first accumulator word of fold f
        q_left = Signal(40)  # act words still to write
        q_pv = Signal()  # a parameter word arrives this cycle
        q_pidx = Signal(range(PW))
        q_av = Signal()  # an accumulator word arrives this cycle
        q_as = Signal(range(S))  # its sub-fold
        NL = w_mem_lanes(cfg)  # parameter lanes: max(rows, cols) on a FuSe array (per line)
        q_mult = [Signal(32, name=f"q_mult{c}") for c in range(NL)]
        q_bias = [Signal(32, name=f"q_bias{c}") for c in range(NL)]
        qrun = Signal()
        arun = Signal()
        q_pread = Signal()
        q_aread = Signal()
        m.d.comb += [
            qrun.eq(run & qmode),
            arun.eq(run & amode),
            q_pread.eq((qrun | arun) & q_active & (q_ph < PW)),
            q_aread.eq(qrun & ~lqm & q_active & (q_ph == PW)),
        ]
        m.d.sync += [
            q_pv.eq(q_pread),
            q_pidx.eq(q_ph[: len(q_pidx)]),
            q_av.eq(q_aread),
            q_as.eq(q_s),
        ]
        with m.If(q_pread):
            m.d.sync += q_ph.eq(q_ph + 1)
        with m.If(q_aread):
            with m.If(q_i != q_m - 1):
                m.d.sync += q_i.eq(q_i + 1)
            with m.Else():
                m.d.sync += q_i.eq(0)
                with m.If(q_s != S - 1):
                    m.d.sync += q_s.eq(q_s + 1)
                with m.Else():
                    m.d.sync += [
                        q_s.eq(0),
                        q_ph.eq(0),
                        q_f.eq(q_f + 1),
                        q_pbase.eq(q_pbase + PW),
                        q_abase.eq(q_abase + q_m),
                    ]
                    with m.If(q_f == q_folds - 1):
                        m.d.sync += q_active.eq(0)
        # parameter bytes into the per-lane registers
        with m.If(q_pv):
            for c in range(NL):
                lane = w_rd.data.as_value()[c * cfg.weight_width :][:8]
                for j in range(PW):
                    reg = q_mult[c] if j < 4 else q_bias[c]
                    b = j % 4
                    with m.If(q_pidx == j):
                        m.d.sync += reg[8 * b : 8 * b + 8].eq(lane)
        # ADD: after the parameter block (multipliers m_a, m_b in lane 0 of q_mult / q_bias),
        # two activation reads per output word, a then b; b's data enters the adder together
        # with a's (held one cycle); the result is written RESADD_LATENCY cycles later.
        d_n = Signal(20)
        d_i = Signal(20)
        d_half = Signal()  # 0: read a, 1: read b
        d_abase = Signal(20)
        d_bbase = Signal(20)
        d_read = Signal()
        d_ava = Signal()  # a's word arrives
        d_avb = Signal()  # b's word arrives
        d_hold = Signal.like(act_rd.data)
        d_aaddr = Signal(24)
        m.d.comb += [
            d_read.eq(arun & q_active & (q_ph == PW)),
            d_aaddr.eq(Mux(d_half, d_bbase, d_abase) + d_i),
        ]
        m.d.sync += [d_ava.eq(d_read & ~d_half), d_avb.eq(d_read & d_half)]
        with m.If(d_ava):
            m.d.sync += d_hold.eq(act_rd.data)
        with m.If(d_read):
            m.d.sync += d_half.eq(~d_half)
            with m.If(d_half):
                m.d.sync += d_i.eq(d_i + 1)
                with m.If(d_i == d_n - 1):
                    m.d.sync += q_active.eq(0)
        # REQUANT line mode (``Requant(lines=1)``, issue 18): the corner turn after a
        # line-addressed FUSE. Fold ``f`` (``R`` accumulator words: line ``R-1-i`` at ``C``
        # positions) is read in cycles ``f*LQ_P .. f*LQ_P + R*S - 1`` after the parameters
        # (``LQ_P = max(R*S, C)``; word ``i``, sub-fold ``s``; all lanes of line ``R-1-i``
        # take its multiplier and bias). The output stage's results land ``1 + L`` cycles
        # after each read in one of two ``R x C`` buffers (fold parity); ``C`` cycles after
        # the fold's last landing write one activation word per position (the lines' int8
        # results, column 0 of the shifting buffer), only for kept positions
        # ``j = k*stride``, ``k < O``. Write phases never overlap (``LQ_P >= C``) and a
        # buffer is refilled only after its write phase (``2*LQ_P + 1 > R*S + C``).
        L = isa.OUTSTAGE_LATENCY
        LQ_P = max(R * S, C)
        lq_t = Signal(range(LQ_P))  # read phase within the fold period
        lq_rleft = Signal(28)  # folds still to read
        lq_rb = Signal()  # buffer of the fold being read
        lq_g = Signal(12)  # write side: group
        lq_pf = Signal(16)  # write side: position fold in the group
        lq_go = Signal(12)  # group within the image
        lq_Ogrp = Signal(12)  # groups per image
        lq_gstep = Signal(12)  # output words from one group to the next
        lq_howo = Signal(24)
        lq_sl = Signal(3)  # stride along the line
        lq_ostride = Signal(12)  # output words from one kept position to the next
        lq_Opos = Signal(12)  # outputs per line
        lq_img = Signal(24)
        lq_gout = Signal(24)
        lq_optr = Signal(24)
        lq_j = Signal(16)
        lq_keep = Signal(16)
        lq_oj = Signal(12)
        lq_wact = Signal()  # a write phase is running
        lq_wc = Signal(range(C))
        lq_wb = Signal()  # its buffer
        lq_rd = Signal()
        lq_wr = Signal()
        lq_we = Signal()
        lq_last = Signal()
        lq_buf = [
            [[Signal(8, name=f"lq_buf{b}_{r}_{c}") for c in range(C)] for r in range(R)]
            for b in range(2)
        ]
        lq_pv = [Signal(name=f"lq_pv{k}") for k in range(L + 1)]
        lq_pline = [Signal(range(R), name=f"lq_pline{k}") for k in range(L + 1)]
        lq_ps = [Signal(range(S), name=f"lq_ps{k}") for k in range(L + 1)]
        lq_pb = [Signal(name=f"lq_pb{k}") for k in range(L + 1)]
        lq_plast = [Signal(name=f"lq_plast{k}") for k in range(L + 1)]
        lq_rbusy = Signal()
        lq_wend = Signal()
        m.d.comb += [
            lq_rbusy.eq(qrun & lqm & (q_ph == PW) & (lq_rleft != 0)),
            lq_rd.eq(lq_rbusy & (lq_t < R * S)),
            lq_wr.eq(qrun & lqm & lq_wact),
            lq_we.eq(lq_wr & (lq_j == lq_keep) & (lq_oj < lq_Opos)),
            lq_wend.eq(lq_wr & (lq_wc == C - 1)),
            lq_last.eq(lq_wend & (lq_g == q_folds - 1) & (lq_pf == q_m - 1)),
        ]
        m.d.sync += [
            lq_pv[0].eq(lq_rd),
            lq_pline[0].eq(R - 1 - q_i),
            lq_ps[0].eq(q_s),
            lq_pb[0].eq(lq_rb),
            lq_plast[0].eq((q_i == R - 1) & (q_s == S - 1)),
        ]
        for k in range(1, L + 1):
            m.d.sync += [
                lq_pv[k].eq(lq_pv[k - 1]),
                lq_pline[k].eq(lq_pline[k - 1]),
                lq_ps[k].eq(lq_ps[k - 1]),
                lq_pb[k].eq(lq_pb[k - 1]),
                lq_plast[k].eq(lq_plast[k - 1]),
            ]
        # read side
        with m.If(lq_rd):
            with m.If(q_s != S - 1):
                m.d.sync += q_s.eq(q_s + 1)
            with m.Else():
                m.d.sync += [q_s.eq(0), q_i.eq(q_i + 1)]
        with m.If(lq_rbusy):
            with m.If(lq_t != LQ_P - 1):
                m.d.sync += lq_t.eq(lq_t + 1)
            with m.Else():  # fold read: the next one
                m.d.sync += [
                    lq_t.eq(0),
                    q_i.eq(0),
                    q_s.eq(0),
                    q_abase.eq(q_abase + R),
                    lq_rb.eq(~lq_rb),
                    lq_rleft.eq(lq_rleft - 1),
                ]
        # write side: a fold's last landing starts its write phase in the next cycle
        with m.If(qrun & lqm & lq_pv[L] & lq_plast[L]):
            m.d.sync += [lq_wact.eq(1), lq_wc.eq(0), lq_wb.eq(lq_pb[L])]
        with m.Elif(lq_wend):
            m.d.sync += lq_wact.eq(0)
        with m.Elif(lq_wr):
            m.d.sync += lq_wc.eq(lq_wc + 1)
        with m.If(lq_wr):
            m.d.sync += lq_j.eq(lq_j + 1)
            for b in range(2):
                with m.If(lq_wb == b):
                    for r in range(R):
                        for c in range(C - 1):
                            m.d.sync += lq_buf[b][r][c].eq(lq_buf[b][r][c + 1])
            with m.If(lq_we):
                m.d.sync += [
                    lq_keep.eq(lq_keep + lq_sl),
                    lq_oj.eq(lq_oj + 1),
                    lq_optr.eq(lq_optr + lq_ostride),
                ]
        with m.If(lq_wend):  # fold written
            with m.If(lq_pf != q_m - 1):
                m.d.sync += lq_pf.eq(lq_pf + 1)
            with m.Else():  # group done: the next group's first output word
                m.d.sync += [lq_pf.eq(0), lq_g.eq(lq_g + 1), lq_j.eq(0), lq_keep.eq(0)]
                m.d.sync += lq_oj.eq(0)
                with m.If(lq_go != lq_Ogrp - 1):
                    m.d.sync += [
                        lq_go.eq(lq_go + 1),
                        lq_gout.eq(lq_gout + lq_gstep),
                        lq_optr.eq(lq_gout + lq_gstep),
                    ]
                with m.Else():
                    m.d.sync += [
                        lq_go.eq(0),
                        lq_img.eq(lq_img + lq_howo),
                        lq_gout.eq(lq_img + lq_howo),
                        lq_optr.eq(lq_img + lq_howo),
                    ]
        m.d.comb += seq_waddr.eq(Mux(lqm, lq_optr, Mux(pmode, mp_out, rq_waddr)))
        q_last = Signal()
        m.d.comb += q_last.eq(Mux(lqm, lq_last, (qrun | arun) & rq_we & (q_left == 1)))
        if has_outstage(cfg):
            m.submodules.outstage = ost = OutputStage(SL, cfg.acc_width)
            m.d.comb += [ost.i_valid.eq(q_av | lq_pv[0]), ost.lo.eq(q_lo), ost.hi.eq(q_hi)]
            lmult = Signal(32)
            lbias = Signal(32)
            with m.Switch(lq_pline[0]):
                for r in range(R):
                    with m.Case(r):
                        m.d.comb += [lmult.eq(q_mult[r]), lbias.eq(q_bias[r])]
            for r in range(SL):
                with m.Switch(Mux(lqm, lq_ps[0], q_as)):
                    for sub in range(S):
                        c = sub * R + r
                        with m.Case(sub):
                            if c < C:
                                m.d.comb += [
                                    ost.acc[r].eq(acc_rd.data[c]),
                                    ost.bias[r].eq(Mux(lqm, lbias, q_bias[c])),
                                    ost.mult[r].eq(Mux(lqm, lmult, q_mult[c])),
                                ]
            # line mode: stage results into the buffer row of their line
            with m.If(lq_pv[L]):
                for b in range(2):
                    for r in range(R):
                        for sub in range(S):
                            hit = (lq_pb[L] == b) & (lq_pline[L] == r) & (lq_ps[L] == sub)
                            with m.If(hit):
                                for lane in range(SL):
                                    c = sub * R + lane
                                    if c < C:
                                        m.d.sync += lq_buf[b][r][c].eq(ost.out[lane])
            m.submodules.resadd = radd = ResidualAdd(R)
            m.d.comb += [
                radd.i_valid.eq(d_avb),
                radd.a.eq(d_hold),
                radd.b.eq(act_rd.data),
                radd.ma.eq(q_mult[0]),
                radd.mb.eq(q_bias[0]),
                radd.lo.eq(q_lo),
                radd.hi.eq(q_hi),
                rq_we.eq((qrun & ~lqm & ost.o_valid) | (arun & radd.o_valid) | lq_we | mp_we),
                # REQUANT: lanes >= min(rows, cols) stay 0
                rq_wdata.eq(
                    Mux(
                        lqm,
                        Mux(
                            lq_wb,
                            Cat(*(lq_buf[1][r][0] for r in range(R))),
                            Cat(*(lq_buf[0][r][0] for r in range(R))),
                        ),
                        Mux(
                            pmode,
                            mp_word,
                            Mux(amode, radd.out.as_value(), ost.out.as_value()),
                        ),
                    )
                ),
            ]
        with m.If(rq_we):
            m.d.sync += [rq_waddr.eq(rq_waddr + 1), q_left.eq(q_left - 1)]
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
        m.d.comb += s_go.eq(grun & ~s_busy & (l_count > s_count))
        s_count_now = Signal.like(s_count)
        s_age_now = Signal.like(s_age)
        m.d.comb += [
            s_count_now.eq(s_count + s_go),
            s_age_now.eq(Mux(s_go, 0, s_age)),
            l_go.eq(
                grun
                & ~l_busy
                & (l_count < folds)
                & ((l_count == 0) | ((s_count_now == l_count) & (s_age_now >= C - 1)))
            ),
        ]

        # loader: one weight row per cycle into the shadow registers
        w_issue = l_go | l_busy
        m.d.sync += [
            arr.w_we.eq(w_issue),
            arr.w_row.eq(Mux(l_go, 0, l_row)),
        ]
        m.d.comb += arr.w_data.as_value().eq(w_rd.data.as_value()[: C * cfg.weight_width])
        with m.If(l_go):
            m.d.sync += [l_count.eq(l_count + 1), l_row.eq(1), l_busy.eq(R > 1)]
            m.d.sync += w_ptr.eq(w_ptr + 1)
        with m.Elif(l_busy):
            m.d.sync += [l_row.eq(l_row + 1), w_ptr.eq(w_ptr + 1)]
            with m.If(l_row == R - 1):
                m.d.sync += l_busy.eq(0)

        # streamer: one activation row per cycle, the first of a tile with the swap tag
        a_issue = s_go | s_busy
        # conv addressing (``Gemm(conv=1)``, ``hw.isa.ConvCfg``): row i = (n, oy, ox) of row
        # fold kf = (ky, kx, p) reads plane p at (y, x) = (oy*sh + ky - pt, ox*sw + kx - pl),
        # zero outside the map. All coordinates are kept incrementally: ``nt_*`` describe the
        # next tile to stream (advanced at ``s_go``), ``ct_*`` the current one, ``r_*`` the
        # next row. ``cur_*`` are the coordinates of the row issued this cycle.
        cv = SimpleNamespace(
            **{
                k: Signal(w, name=f"cv_{k}")
                for k, w in (
                    ("set", 1),
                    ("n", 12),
                    ("h", 12),
                    ("w", 12),
                    ("ho", 12),
                    ("wo", 12),
                    ("kw", 4),
                    ("sh", 3),
                    ("sw", 3),
                    ("cfolds", 12),
                    ("plane", 20),
                    ("mconv", 40),
                    ("kconv", 24),
                )
            }
        )
        cv_hw = Signal(24)  # H*W
        cv_howo = Signal(24)  # Ho*Wo
        cv_khkw = Signal(8)  # kh*kw
        cv_nhw = Signal(36)  # N*H*W before the range check (CONV setup, below)
        cv_nho = Signal(24)  # N*Ho: line groups of a 1xK FuSe layer
        cv_nwo = Signal(24)  # N*Wo: ... of a Kx1 one
        cv_step = Signal(2)  # CONV setup cycle
        cv_kh = Signal(4)
        cv_shw = Signal(signed(18))  # sh*W
        cv_ptw = Signal(signed(18))  # -pt*W
        cv_pt = Signal(signed(6))
        cv_pl = Signal(signed(6))
        cmode = Signal()  # the GEMM in RUN reads with conv addressing
        CW = 28  # signed coordinate/offset width: |(y)*W| < 2**25
        nt_cf = Signal(12)
        nt_kx = Signal(4)
        nt_cfbase = Signal(24)
        nt_x0 = Signal(signed(CW))  # kx - pl
        nt_y0 = Signal(signed(CW))  # ky - pt
        nt_yoff0 = Signal(signed(CW))  # (ky - pt)*W
        ct_x0 = Signal(signed(CW))
        ct_y0 = Signal(signed(CW))
        ct_yoff0 = Signal(signed(CW))
        r_ox = Signal(12)
        r_oy = Signal(12)
        r_x = Signal(signed(CW))
        r_y = Signal(signed(CW))
        r_yoff = Signal(signed(CW))
        r_base = Signal(24)  # plane base + n*H*W
        cur = {
            k: Signal.like(v, name=f"cur_{k}")
            for k, v in (
                ("ox", r_ox),
                ("oy", r_oy),
                ("x", r_x),
                ("y", r_y),
                ("yoff", r_yoff),
                ("base", r_base),
                ("x0", ct_x0),
                ("y0", ct_y0),
                ("yoff0", ct_yoff0),
            )
        }
        with m.If(s_go):
            m.d.comb += [
                cur["ox"].eq(0),
                cur["oy"].eq(0),
                cur["x"].eq(nt_x0),
                cur["y"].eq(nt_y0),
                cur["yoff"].eq(nt_yoff0),
                cur["base"].eq(nt_cfbase),
                cur["x0"].eq(nt_x0),
                cur["y0"].eq(nt_y0),
                cur["yoff0"].eq(nt_yoff0),
            ]
        with m.Else():
            m.d.comb += [
                cur["ox"].eq(r_ox),
                cur["oy"].eq(r_oy),
                cur["x"].eq(r_x),
                cur["y"].eq(r_y),
                cur["yoff"].eq(r_yoff),
                cur["base"].eq(r_base),
                cur["x0"].eq(ct_x0),
                cur["y0"].eq(ct_y0),
                cur["yoff0"].eq(ct_yoff0),
            ]
        c_addr = Signal(signed(CW + 2))
        c_in = Signal()  # (y, x) inside the map
        c_in_d = Signal(init=1)  # ... for the data arriving this cycle
        m.d.comb += [
            c_addr.eq(cur["base"] + cur["yoff"] + cur["x"]),
            c_in.eq((cur["y"] >= 0) & (cur["y"] < cv.h) & (cur["x"] >= 0) & (cur["x"] < cv.w)),
        ]
        c_in_next = Signal()
        m.d.sync += c_in_d.eq(c_in_next)
        with m.If(cmode & a_issue):
            with m.If(cur["ox"] != cv.wo - 1):
                m.d.sync += [r_ox.eq(cur["ox"] + 1), r_x.eq(cur["x"] + cv.sw)]
                m.d.sync += [r_oy.eq(cur["oy"]), r_y.eq(cur["y"]), r_yoff.eq(cur["yoff"])]
                m.d.sync += r_base.eq(cur["base"])
            with m.Else():
                m.d.sync += [r_ox.eq(0), r_x.eq(cur["x0"])]
                with m.If(cur["oy"] != cv.ho - 1):
                    m.d.sync += [
                        r_oy.eq(cur["oy"] + 1),
                        r_y.eq(cur["y"] + cv.sh),
                        r_yoff.eq(cur["yoff"] + cv_shw),
                        r_base.eq(cur["base"]),
                    ]
                with m.Else():  # next image
                    m.d.sync += [
                        r_oy.eq(0),
                        r_y.eq(cur["y0"]),
                        r_yoff.eq(cur["yoff0"]),
                        r_base.eq(cur["base"] + cv_hw),
                    ]
        with m.If(cmode & s_go):
            m.d.sync += [ct_x0.eq(nt_x0), ct_y0.eq(nt_y0), ct_yoff0.eq(nt_yoff0)]
            with m.If(s_kf == kfolds - 1):  # back to row fold 0 (next column fold)
                m.d.sync += [
                    nt_cf.eq(0),
                    nt_kx.eq(0),
                    nt_cfbase.eq(a_base),
                    nt_x0.eq(-cv_pl),
                    nt_y0.eq(-cv_pt),
                    nt_yoff0.eq(cv_ptw),
                ]
            with m.Elif(nt_cf != cv.cfolds - 1):
                m.d.sync += [nt_cf.eq(nt_cf + 1), nt_cfbase.eq(nt_cfbase + cv.plane)]
            with m.Else():
                m.d.sync += [nt_cf.eq(0), nt_cfbase.eq(a_base)]
                with m.If(nt_kx != cv.kw - 1):
                    m.d.sync += [nt_kx.eq(nt_kx + 1), nt_x0.eq(nt_x0 + 1)]
                with m.Else():
                    m.d.sync += [
                        nt_kx.eq(0),
                        nt_x0.eq(-cv_pl),
                        nt_y0.eq(nt_y0 + 1),
                        nt_yoff0.eq(nt_yoff0 + cv.w),
                    ]
        g_aaddr = Mux(cmode, c_addr[:24], Mux(s_go, s_abase, a_ptr))
        m.d.sync += arr.in_swap.eq(s_go)
        m.d.comb += arr.in_data.eq(Mux(c_in_d, act_rd.data.as_value(), 0))
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
            acc_rd.addr.eq(Mux(qmode, q_abase + q_i, Mux(arr.out_valid, o_next, o_addr))),
        ]
        with m.If(grun & arr.out_valid):
            m.d.sync += o_addr.eq(o_next)
            with m.If(~o_last_row):
                m.d.sync += o_m.eq(o_m + 1)
            with m.Else():
                m.d.sync += o_m.eq(0)
                with m.If(~o_last_kf):
                    m.d.sync += o_kf.eq(o_kf + 1)
                with m.Else():
                    m.d.sync += [o_kf.eq(0), o_nf.eq(o_nf + 1), o_rowbase.eq(o_rowbase + M)]

        # -- FuSe engine (FUSE commands) ------------------------------------------------------
        # Phase ``ph`` counts 0 .. P-1 per fold from RUN cycle ``f*P``. Issue times (the array
        # sees a read's data one cycle later, and an op/tap one cycle after that):
        #   taps:   ph = C-1 .. C+K-2 (tap K-1-i at ph = C-1+i; FIRST, then ACC)
        #   stream: ph = 1 starts span = C+K-1 reads, walking the receptive field downwards
        #   drain:  R SHIFTs right after the last tap (they overlap the next fold's stream,
        #           never its taps, because P >= R + K)
        Kmax = cfg.max_kernel
        f_k = Signal(range(Kmax + 1))
        f_period = Signal(range(max(C + Kmax - 1, R + Kmax) + 1))
        f_groups = Signal(12)
        f_pfolds = Signal(12)
        f_gstride = Signal(24)  # act words per line group: pfolds*C + K - 1
        f_active = Signal()  # folds left to issue
        f_ph = Signal.like(f_period)
        f_g = Signal(12)
        f_pf = Signal(12)
        f_gbase = Signal(24)  # first act word of the current line group
        f_abase = Signal(24)  # first act word of the current fold's receptive field
        f_wbase = Signal(20)  # first tap word of the current line group
        fs_ptr = Signal(24)
        fs_left = Signal(range(C + Kmax))
        d_left = Signal(range(R + 1))
        fo_addr = Signal(20)
        fo_left = Signal(40)  # drained rows still to write

        # line addressing (``Fuse(lines=1)``, issue 18): the lines are read straight from a
        # feature map with the ``CONV`` geometry in force. A group is the ``rows`` channels of
        # one activation plane along one image row (1xK: kh == 1) or column (Kx1); element
        # ``u`` of the lines (``u = j - pad``) is word ``group base + u*est`` (``est`` = 1 or
        # W), zero outside ``0 <= u < len``. Taps are the same for every group.
        flin = Signal()  # the FUSE in RUN reads lines from the feature map
        fl_est = Signal(12)  # element stride: 1 (rows) or W (columns)
        fl_ce = Signal(signed(CW))  # C*est: one position fold further
        fl_se = Signal(signed(CW))  # (C-2+K)*est: last element of a fold's receptive field
        fl_pe = Signal(signed(CW))  # -pad*est: element 0 of a group
        fl_pad = Signal(signed(6))
        fl_pad_neg = Signal(signed(7))
        m.d.comb += fl_pad_neg.eq(-fl_pad)
        fl_len = Signal(13)  # W (rows) or H (columns)
        fl_gstep = Signal(24)  # sh*W (rows) or sw (columns): one group further
        fl_O = Signal(12)  # groups per image: Ho (rows) or Wo (columns)
        fl_go = Signal(12)
        fl_ibase = Signal(24)  # first word of the current image in the plane
        f_u0 = Signal(signed(CW))  # element index u of the current fold's position 0
        f_uaddr0 = Signal(signed(CW))  # u0 * est
        fs_u = Signal(signed(CW))  # element index of the next streamed read
        fl_su = Signal(signed(CW))
        fl_saddr = Signal(signed(CW + 2))
        f_cur_u = Signal(signed(CW))
        f_in = Signal()  # the FUSE read issued this cycle is inside the map

        frun = Signal()
        f_aaddr = Signal(24)
        f_start = Signal()
        f_tap = Signal()
        f_op = Signal(FuseOp)
        m.d.comb += [
            frun.eq(run & fmode),
            f_start.eq(frun & f_active & (f_ph == 1)),
            f_tap.eq(frun & f_active & (f_ph >= C - 1) & (f_ph < C - 1 + f_k)),
            fl_su.eq(f_u0 + (C - 2) + f_k),
            fl_saddr.eq(f_gbase + f_uaddr0 + fl_se),
            f_aaddr.eq(Mux(f_start, Mux(flin, fl_saddr[:24], f_abase + C - 2 + f_k), fs_ptr)),
            f_cur_u.eq(Mux(f_start, fl_su, fs_u)),
            f_in.eq((f_cur_u >= 0) & (f_cur_u < fl_len)),
        ]
        with m.If(f_tap):
            m.d.comb += f_op.eq(Mux(f_ph == C - 1, FuseOp.FIRST, FuseOp.ACC))
            with m.If(f_ph == C - 2 + f_k):
                m.d.sync += d_left.eq(R)
        with m.Elif(frun & (d_left != 0)):
            m.d.comb += f_op.eq(FuseOp.SHIFT)
            m.d.sync += d_left.eq(d_left - 1)
        with m.Else():
            m.d.comb += f_op.eq(FuseOp.HOLD)
        with m.If(f_start):
            m.d.sync += [
                fs_ptr.eq(Mux(flin, fl_saddr[:24] - fl_est, f_abase + C - 3 + f_k)),
                fs_left.eq(C - 2 + f_k),
                fs_u.eq(fl_su - 1),
            ]
        with m.Elif(fs_left != 0):
            m.d.sync += [
                fs_ptr.eq(fs_ptr - Mux(flin, fl_est, 1)),
                fs_left.eq(fs_left - 1),
                fs_u.eq(fs_u - 1),
            ]
        f_issue = f_start | (frun & (fs_left != 0))
        with m.If(frun & f_active):
            with m.If(f_ph == f_period - 1):
                m.d.sync += f_ph.eq(0)
                with m.If(f_pf == f_pfolds - 1):
                    m.d.sync += [
                        f_pf.eq(0),
                        f_g.eq(f_g + 1),
                        f_u0.eq(fl_pad_neg),
                        f_uaddr0.eq(fl_pe),
                    ]
                    with m.If(~flin):
                        m.d.sync += [
                            f_gbase.eq(f_gbase + f_gstride),
                            f_abase.eq(f_gbase + f_gstride),
                            f_wbase.eq(f_wbase + f_k),
                        ]
                    with m.Elif(fl_go != fl_O - 1):
                        m.d.sync += [fl_go.eq(fl_go + 1), f_gbase.eq(f_gbase + fl_gstep)]
                    with m.Else():  # next image
                        m.d.sync += [
                            fl_go.eq(0),
                            fl_ibase.eq(fl_ibase + cv_hw),
                            f_gbase.eq(fl_ibase + cv_hw),
                        ]
                    with m.If(f_g == f_groups - 1):
                        m.d.sync += f_active.eq(0)
                with m.Else():
                    m.d.sync += [
                        f_pf.eq(f_pf + 1),
                        f_abase.eq(f_abase + C),
                        f_u0.eq(f_u0 + C),
                        f_uaddr0.eq(f_uaddr0 + fl_ce),
                    ]
            with m.Else():
                m.d.sync += f_ph.eq(f_ph + 1)
        m.d.comb += c_in_next.eq(Mux(cmode, c_in, Mux(flin, f_in, 1)))
        f_last_out = Signal()
        m.d.comb += f_last_out.eq(frun & arr.out_valid & (fo_left == 1))
        with m.If(frun & arr.out_valid):
            m.d.sync += [fo_addr.eq(fo_addr + 1), fo_left.eq(fo_left - 1)]

        # -- MAXPOOL engine (issue 18) ----------------------------------------------------------
        # Under the CONV geometry in force: per output pixel (n, oy, ox) (outer) and tap
        # (ky, kx) (inner) one activation read per cycle at (y, x) = (oy*sh - pt + ky,
        # ox*sw - pl + kx) of the plane at ``a_addr`` (-128 outside the map: padding never
        # wins); the lane-wise running max is written to ``out_addr + pixel`` in the cycle
        # the last tap's data arrives. RUN: ``m*kh*kw + 1`` cycles.
        mp_kh = Signal(4)
        mp_ky = Signal(4)
        mp_kx = Signal(4)
        mp_ox = Signal(12)
        mp_oy = Signal(12)
        mp_x0 = Signal(signed(CW))
        mp_y0 = Signal(signed(CW))
        mp_yoff0 = Signal(signed(CW))
        mp_x = Signal(signed(CW))
        mp_y = Signal(signed(CW))
        mp_off = Signal(signed(CW))
        mp_nbase = Signal(24)
        mp_left = Signal(20)  # pixels whose reads are still to issue
        mp_wleft = Signal(20)  # pixels still to write
        mp_sum = Signal(signed(CW + 2))
        mp_in = Signal()
        mp_first = Signal()
        mp_last = Signal()
        mp_v_d = Signal()
        mp_in_d = Signal()
        mp_first_d = Signal()
        mp_last_d = Signal()
        mp_max = [Signal(signed(cfg.act_width), name=f"mp_max{r}") for r in range(R)]
        mp_end = Signal()
        m.d.comb += [
            mp_rd.eq(run & pmode & (mp_left != 0)),
            mp_sum.eq(mp_nbase + mp_yoff0 + mp_x0 + mp_off),
            mp_addr.eq(mp_sum[:24]),
            mp_in.eq((mp_y >= 0) & (mp_y < cv.h) & (mp_x >= 0) & (mp_x < cv.w)),
            mp_first.eq((mp_ky == 0) & (mp_kx == 0)),
            mp_last.eq((mp_ky == mp_kh - 1) & (mp_kx == cv.kw - 1)),
        ]
        m.d.sync += [
            mp_v_d.eq(mp_rd),
            mp_in_d.eq(mp_in),
            mp_first_d.eq(mp_first),
            mp_last_d.eq(mp_last),
        ]
        mp_new = []
        for r in range(R):
            lane = act_rd.data.as_value()[r * cfg.act_width :][: cfg.act_width].as_signed()
            eff = Mux(mp_in_d, lane, -(1 << (cfg.act_width - 1)))
            new = Signal(signed(cfg.act_width), name=f"mp_new{r}")
            m.d.comb += new.eq(Mux(mp_first_d | (eff > mp_max[r]), eff, mp_max[r]))
            mp_new.append(new)
            with m.If(mp_v_d):
                m.d.sync += mp_max[r].eq(new)
        m.d.comb += [
            mp_word.eq(Cat(*mp_new)),
            mp_we.eq(run & pmode & mp_v_d & mp_last_d),
            mp_end.eq(mp_we & (mp_wleft == 1)),
        ]
        with m.If(mp_we):
            m.d.sync += [mp_out.eq(mp_out + 1), mp_wleft.eq(mp_wleft - 1)]
        with m.If(mp_rd):
            with m.If(mp_kx != cv.kw - 1):
                m.d.sync += [mp_kx.eq(mp_kx + 1), mp_x.eq(mp_x + 1), mp_off.eq(mp_off + 1)]
            with m.Elif(mp_ky != mp_kh - 1):
                m.d.sync += [
                    mp_kx.eq(0),
                    mp_x.eq(mp_x0),
                    mp_ky.eq(mp_ky + 1),
                    mp_y.eq(mp_y + 1),
                    mp_off.eq(mp_off + cv.w - (cv.kw - 1)),
                ]
            with m.Else():  # pixel done: the next pixel's first tap
                m.d.sync += [mp_kx.eq(0), mp_ky.eq(0), mp_off.eq(0), mp_left.eq(mp_left - 1)]
                with m.If(mp_ox != cv.wo - 1):
                    m.d.sync += [
                        mp_ox.eq(mp_ox + 1),
                        mp_x0.eq(mp_x0 + cv.sw),
                        mp_x.eq(mp_x0 + cv.sw),
                        mp_y.eq(mp_y0),
                    ]
                with m.Else():
                    m.d.sync += [mp_ox.eq(0), mp_x0.eq(-cv_pl), mp_x.eq(-cv_pl)]
                    with m.If(mp_oy != cv.ho - 1):
                        m.d.sync += [
                            mp_oy.eq(mp_oy + 1),
                            mp_y0.eq(mp_y0 + cv.sh),
                            mp_y.eq(mp_y0 + cv.sh),
                            mp_yoff0.eq(mp_yoff0 + cv_shw),
                        ]
                    with m.Else():
                        m.d.sync += [
                            mp_oy.eq(0),
                            mp_y0.eq(-cv_pt),
                            mp_y.eq(-cv_pt),
                            mp_yoff0.eq(cv_ptw),
                            mp_nbase.eq(mp_nbase + cv_hw),
                        ]

        # -- shared datapath: memories -> array -> accumulator memory ------------------------
        m.d.comb += [
            act_rd.addr.eq(Mux(pmode, mp_addr, Mux(amode, d_aaddr, Mux(fmode, f_aaddr, g_aaddr)))),
            w_rd.addr.eq(
                Mux(qmode | amode, q_pbase + q_ph, Mux(fmode, f_wbase + f_ph - (C - 1), w_ptr))
            ),
            acc_wr.addr.eq(Mux(fmode, fo_addr, o_addr)),
            acc_wr.en.eq(run & arr.out_valid),
        ]
        m.d.sync += arr.in_valid.eq(Mux(fmode, f_issue, a_issue))
        for c in range(C):
            m.d.comb += acc_wr.data[c].eq(
                Mux(fmode | (o_kf == 0), arr.out_data[c], acc_rd.data[c] + arr.out_data[c])
            )
        if cfg.fuse:
            m.d.comb += [
                arr.mode.eq(Mux(fmode, ArrayMode.FUSE, ArrayMode.GEMM)),
                arr.tap.as_value().eq(w_rd.data.as_value()[: R * cfg.weight_width]),
            ]
            m.d.sync += arr.op.eq(f_op)

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
        f_act_end = Signal(48)
        f_w_end = Signal(40)
        f_acc_end = Signal(48)
        m.d.comb += [
            f_act_end.eq(fword.a_addr + fword.groups * (fword.pfolds * C + fword.k - 1)),
            f_w_end.eq(fword.w_addr + fword.groups * fword.k),
            f_acc_end.eq(fword.acc_addr + fword.groups * fword.pfolds * R),
        ]
        fuse_ok = (
            (fword.reserved == 0)
            & (fword.k != 0)
            & (fword.k <= Kmax)
            & (fword.groups != 0)
            & (fword.pfolds != 0)
            & (f_acc_end <= cfg.acc_depth)
        )
        fuse_plain_ok = (
            (fword.flags == 0) & (f_act_end <= cfg.act_depth) & (f_w_end <= cfg.weight_depth)
        )
        # line addressing: a 1xK (kh == 1) or Kx1 (kw == 1) geometry with no padding across
        # the lines, K == k, one group per image row (column) and image, the plane in memory
        g_row = cv_kh == 1
        fuse_line_ok = (
            (fword.flags == 1)
            & cv.set
            & (g_row | (cv.kw == 1))
            & Mux(g_row, (cv_pt == 0) & (fword.k == cv.kw), (cv_pl == 0) & (fword.k == cv_kh))
            & (fword.groups == Mux(g_row, cv_nho, cv_nwo))
            & (fword.a_addr + cv.plane <= cfg.act_depth)
            & (fword.w_addr + fword.k <= cfg.weight_depth)
        )
        if not cfg.fuse:  # no FuSe mode: FUSE is a malformed opcode
            fuse_ok = fuse_ok & 0
        if not has_outstage(cfg):  # line addressing comes with the output stage
            fuse_line_ok = fuse_line_ok & 0
        gemm_ok = (
            (word.reserved == 0)
            & (word.m != 0)
            & (word.kfolds != 0)
            & (word.nfolds != 0)
            & (w_end <= cfg.weight_depth)
            & (acc_end <= cfg.acc_depth)
        )
        gemm_plain_ok = (word.flags == 0) & (act_end <= cfg.act_depth)
        q_act_end = Signal(48)
        q_w_end = Signal(40)
        q_acc_end = Signal(40)
        m.d.comb += [
            q_act_end.eq(qword.a_addr + qword.folds * S * qword.m),
            q_w_end.eq(qword.p_addr + qword.folds * PW),
            q_acc_end.eq(qword.acc_addr + qword.folds * qword.m),
        ]
        requant_ok = (
            (qword.reserved == 0)
            & (qword.zero == 0)
            & (qword.m != 0)
            & (qword.folds != 0)
            & (qword.lo.as_signed() <= qword.hi.as_signed())
        )
        requant_plain_ok = (
            (qword.flags == 0)
            & (q_act_end <= cfg.act_depth)
            & (q_w_end <= cfg.weight_depth)
            & (q_acc_end <= cfg.acc_depth)
        )
        # line mode: the geometry of the FUSE before it; folds = its groups, m = its
        # position folds; one parameter block (a lane per line); the output plane in memory
        requant_line_ok = (
            (qword.flags == 1)
            & cv.set
            & (g_row | (cv.kw == 1))
            & (qword.folds == Mux(g_row, cv_nho, cv_nwo))
            & (qword.a_addr + cv.mconv <= cfg.act_depth)
            & (qword.p_addr + PW <= cfg.weight_depth)
            & (qword.acc_addr + qword.folds * qword.m * R <= cfg.acc_depth)
        )
        if not has_outstage(cfg):  # no output stage: REQUANT is a malformed opcode
            requant_ok = requant_ok & 0
        if not (has_outstage(cfg) and cfg.fuse):  # line mode follows a FUSE
            requant_line_ok = requant_line_ok & 0
        aword = data.View(AddWord, cmd_rd.data)
        add_ok = (
            (aword.flags == 0)
            & (aword.reserved == 0)
            & (aword.n != 0)
            & (aword.lo.as_signed() <= aword.hi.as_signed())
            & (aword.a_addr + aword.n <= cfg.act_depth)
            & (aword.b_addr + aword.n <= cfg.act_depth)
            & (aword.out_addr + aword.n <= cfg.act_depth)
            & (aword.p_addr + PW <= cfg.weight_depth)
        )
        if not has_outstage(cfg):  # no residual adder either
            add_ok = add_ok & 0
        cword = data.View(ConvWord, cmd_rd.data)
        conv_ok = (
            (cword.flags == 0)
            & (cword.reserved == 0)
            & (cword.n != 0)
            & (cword.h != 0)
            & (cword.w != 0)
            & (cword.ho != 0)
            & (cword.wo != 0)
            & (cword.kh != 0)
            & (cword.kw != 0)
            & (cword.sh != 0)
            & (cword.sw != 0)
            & (cword.cfolds != 0)
        )  # N*H*W < 2**20 is checked in the CONV setup states
        cv_act = Signal(40)  # activation words a conv GEMM may read: cfolds * plane
        conv_gemm_ok = (
            (word.flags == 1)
            & cv.set
            & (word.m == cv.mconv)
            & (word.kfolds == cv.kconv)
            & (word.a_addr + cv_act <= cfg.act_depth)
        )
        if not has_outstage(cfg):  # conv addressing comes with the output stage
            conv_ok = conv_ok & 0
            conv_gemm_ok = conv_gemm_ok & 0
        pword = data.View(MaxPoolWord, cmd_rd.data)
        maxpool_ok = (
            (pword.flags == 0)
            & (pword.reserved == 0)
            & (pword.m != 0)
            & cv.set
            & (pword.m == cv.mconv)
            & (pword.kh == cv_kh)
            & (pword.kw == cv.kw)
            & (pword.a_addr + cv.plane <= cfg.act_depth)
            & (pword.out_addr + pword.m <= cfg.act_depth)
        )
        if not has_outstage(cfg):
            maxpool_ok = maxpool_ok & 0
        halt_ok = word.as_value()[4:] == 0

        # ``start`` waits for a read-back in flight (so acc_mem never changes under it); a
        # start with ``host_error`` pending (or a rejected host word in the same cycle) does
        # not run the program: it goes to ERROR (``done``, ``error``) and clears the flag.
        start_go = Signal()
        m.d.comb += start_go.eq(self.start & ~rd_busy)
        with m.If(start_go):
            m.d.sync += self.host_error.eq(0)
        with m.Elif(host_bad):
            m.d.sync += self.host_error.eq(1)

        def restart():
            m.d.sync += [
                pc.eq(0),
                cv.set.eq(0),  # a conv GEMM needs a CONV of this run
                self.cnt_total.eq(0),
                self.cnt_busy.eq(0),
                self.cnt_stall.eq(0),
            ]
            with m.If(self.host_error | host_bad):
                m.next = "ERROR"
            with m.Else():
                m.next = "FETCH"

        decode = Signal()
        with m.FSM():
            with m.State("IDLE"):
                with m.If(start_go):
                    restart()
            with m.State("FETCH"):
                m.d.comb += counting.eq(1)
                with m.If(pc >= cfg.cmd_depth):  # ran off the end of the command memory
                    m.next = "ERROR"
                with m.Else():
                    m.next = "DECODE"
            with m.State("DECODE"):
                m.d.comb += [counting.eq(1), decode.eq(1)]
                with m.If((word.op == isa.Op.HALT) & halt_ok):
                    m.next = "DONE"
                with m.Elif((pword.op == isa.Op.MAXPOOL) & maxpool_ok):
                    m.d.sync += [
                        pmode.eq(1),
                        mp_kh.eq(cv_kh),
                        mp_ky.eq(0),
                        mp_kx.eq(0),
                        mp_ox.eq(0),
                        mp_oy.eq(0),
                        mp_x0.eq(-cv_pl),
                        mp_y0.eq(-cv_pt),
                        mp_yoff0.eq(cv_ptw),
                        mp_x.eq(-cv_pl),
                        mp_y.eq(-cv_pt),
                        mp_off.eq(0),
                        mp_nbase.eq(pword.a_addr),
                        mp_left.eq(pword.m),
                        mp_wleft.eq(pword.m),
                        mp_out.eq(pword.out_addr),
                    ]
                    m.next = "RUN"
                with m.Elif((cword.op == isa.Op.CONV) & conv_ok):
                    m.d.sync += [
                        cv.set.eq(0),  # until the setup states have checked the geometry
                        cv.n.eq(cword.n),
                        cv.h.eq(cword.h),
                        cv.w.eq(cword.w),
                        cv.ho.eq(cword.ho),
                        cv.wo.eq(cword.wo),
                        cv.kw.eq(cword.kw),
                        cv_kh.eq(cword.kh),
                        cv.sh.eq(cword.sh),
                        cv.sw.eq(cword.sw),
                        cv.cfolds.eq(cword.cfolds),
                        cv_pt.eq(cword.pt),
                        cv_pl.eq(cword.pl),
                    ]
                    m.d.sync += cv_step.eq(0)
                    m.next = "CONV"
                with m.Elif((word.op == isa.Op.GEMM) & gemm_ok & (gemm_plain_ok | conv_gemm_ok)):
                    m.d.sync += [
                        cmode.eq(word.flags[0]),
                        nt_cf.eq(0),
                        nt_kx.eq(0),
                        nt_cfbase.eq(word.a_addr),
                        nt_x0.eq(-cv_pl),
                        nt_y0.eq(-cv_pt),
                        nt_yoff0.eq(cv_ptw),
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
                with m.Elif((fword.op == isa.Op.FUSE) & fuse_ok & (fuse_plain_ok | fuse_line_ok)):
                    k = fword.k[: len(f_k)]
                    est = Mux(g_row, 1, cv.w)
                    pad = Mux(g_row, cv_pl, cv_pt)
                    m.d.sync += [
                        flin.eq(fword.flags[0]),
                        fl_est.eq(est),
                        fl_ce.eq(est * C),
                        fl_se.eq(est * (k + (C - 2))),
                        fl_pe.eq(-(pad * est)),
                        fl_pad.eq(pad),
                        fl_len.eq(Mux(g_row, cv.w, cv.h)),
                        fl_gstep.eq(Mux(g_row, cv_shw, cv.sw)),
                        fl_O.eq(Mux(g_row, cv.ho, cv.wo)),
                        fl_go.eq(0),
                        fl_ibase.eq(fword.a_addr),
                        f_u0.eq(-pad),
                        f_uaddr0.eq(-(pad * est)),
                        fmode.eq(1),
                        f_k.eq(k),
                        f_period.eq(k + C - 1 if C - 1 >= R else k + R),
                        f_groups.eq(fword.groups),
                        f_pfolds.eq(fword.pfolds),
                        f_gstride.eq(fword.pfolds * C + k - 1),
                        f_active.eq(1),
                        f_ph.eq(0),
                        f_g.eq(0),
                        f_pf.eq(0),
                        f_gbase.eq(fword.a_addr),
                        f_abase.eq(fword.a_addr),
                        f_wbase.eq(fword.w_addr),
                        fs_left.eq(0),
                        d_left.eq(0),
                        fo_addr.eq(fword.acc_addr),
                        fo_left.eq(fword.groups * fword.pfolds * R),
                    ]
                    m.next = "RUN"
                with m.Elif(
                    (qword.op == isa.Op.REQUANT) & requant_ok & (requant_plain_ok | requant_line_ok)
                ):
                    howo = cv_howo
                    m.d.sync += [
                        # line mode only with the FuSe mode: without it ``lqm`` is a constant 0
                        # and synthesis drops the corner-turn buffer and its control
                        lqm.eq(qword.flags[0] if cfg.fuse else 0),
                        lq_t.eq(0),
                        lq_rleft.eq(qword.folds * qword.m),
                        lq_rb.eq(0),
                        lq_wact.eq(0),
                        lq_g.eq(0),
                        lq_pf.eq(0),
                        lq_go.eq(0),
                        lq_Ogrp.eq(Mux(g_row, cv.ho, cv.wo)),
                        lq_gstep.eq(Mux(g_row, cv.wo, 1)),
                        lq_howo.eq(howo),
                        lq_sl.eq(Mux(g_row, cv.sw, cv.sh)),
                        lq_ostride.eq(Mux(g_row, 1, cv.wo)),
                        lq_Opos.eq(Mux(g_row, cv.wo, cv.ho)),
                        lq_img.eq(qword.a_addr),
                        lq_gout.eq(qword.a_addr),
                        lq_optr.eq(qword.a_addr),
                        lq_j.eq(0),
                        lq_keep.eq(0),
                        lq_oj.eq(0),
                        qmode.eq(1),
                        q_m.eq(qword.m),
                        q_folds.eq(qword.folds),
                        q_lo.eq(qword.lo),
                        q_hi.eq(qword.hi),
                        q_active.eq(1),
                        q_ph.eq(0),
                        q_f.eq(0),
                        q_s.eq(0),
                        q_i.eq(0),
                        q_pbase.eq(qword.p_addr),
                        q_abase.eq(qword.acc_addr),
                        q_left.eq(qword.folds * S * qword.m),
                        rq_waddr.eq(qword.a_addr),
                    ]
                    m.next = "RUN"
                with m.Elif((aword.op == isa.Op.ADD) & add_ok):
                    m.d.sync += [
                        amode.eq(1),
                        q_lo.eq(aword.lo),
                        q_hi.eq(aword.hi),
                        q_active.eq(1),
                        q_ph.eq(0),
                        q_pbase.eq(aword.p_addr),
                        d_n.eq(aword.n),
                        d_i.eq(0),
                        d_half.eq(0),
                        d_abase.eq(aword.a_addr),
                        d_bbase.eq(aword.b_addr),
                        q_left.eq(aword.n),
                        rq_waddr.eq(aword.out_addr),
                    ]
                    m.next = "RUN"
                with m.Else():
                    m.next = "ERROR"
            # CONV setup (``isa.CONV_SETUP_CYCLES`` cycles, ``cv_step``): the geometry's products,
            # one multiplier deep per cycle from registers (in DECODE they set the clock: 84 MHz at 16x16)
            with m.State("CONV"):
                m.d.comb += counting.eq(1)
                m.d.sync += cv_step.eq(cv_step + 1)
                with m.Switch(cv_step):
                    with m.Case(0):
                        m.d.sync += [
                            cv_hw.eq(cv.h * cv.w),
                            cv_howo.eq(cv.ho * cv.wo),
                            cv_khkw.eq(cv_kh * cv.kw),
                            cv_shw.eq(cv.sh * cv.w),
                            cv_ptw.eq(-(cv_pt.as_unsigned() * cv.w)),
                            cv_nho.eq(cv.n * cv.ho),
                            cv_nwo.eq(cv.n * cv.wo),
                        ]
                    with m.Case(1):
                        m.d.sync += [
                            cv_nhw.eq(cv.n * cv_hw),
                            cv.mconv.eq(cv.n * cv_howo),
                            cv.kconv.eq(cv_khkw * cv.cfolds),
                        ]
                    with m.Default():
                        with m.If(cv_nhw < (1 << 20)):  # a plane fits the 20-bit addresses
                            m.d.sync += [
                                cv.set.eq(1),
                                cv.plane.eq(cv_nhw[:20]),
                                cv_act.eq(cv.cfolds * cv_nhw[:20]),
                                pc.eq(pc + 1),
                            ]
                            m.next = "FETCH"
                        with m.Else():
                            m.next = "ERROR"
            with m.State("RUN"):
                m.d.comb += [counting.eq(1), run.eq(1)]
                with m.If(
                    Mux(pmode, mp_end, Mux(qmode | amode, q_last, Mux(fmode, f_last_out, last_out)))
                ):
                    m.d.sync += [
                        pc.eq(pc + 1),
                        fmode.eq(0),
                        qmode.eq(0),
                        amode.eq(0),
                        cmode.eq(0),
                        flin.eq(0),
                        lqm.eq(0),
                        pmode.eq(0),
                    ]
                    m.next = "FETCH"
            with m.State("DONE"):
                m.d.comb += self.done.eq(1)
                with m.If(start_go):
                    restart()
            with m.State("ERROR"):
                m.d.comb += [self.done.eq(1), self.error.eq(1)]
                with m.If(start_go):
                    restart()
        m.d.comb += self.running.eq(counting)

        # -- observation points for the proof harnesses (tests/formal), not ports ------------
        f_waddr = Signal(24)
        m.d.comb += f_waddr.eq(f_wbase + f_ph - (C - 1))
        self.probe = SimpleNamespace(
            decode=decode,  # DECODE state: ``word`` is the fetched command
            word=cmd_rd.data,
            run=run,
            fmode=fmode,
            pc=pc,
            # sequencer reads whose data is used, with their unwrapped addresses
            act_read=Mux(
                pmode,
                mp_rd & mp_in,
                Mux(
                    amode,
                    d_read,
                    Mux(fmode, f_issue & (~flin | f_in), a_issue & (~cmode | c_in)) & run,
                ),
            ),
            act_raddr=Mux(pmode, mp_addr, Mux(amode, d_aaddr, Mux(fmode, f_aaddr, g_aaddr))),
            w_read=Mux(qmode | amode, q_pread, Mux(fmode, f_tap, w_issue) & run),
            w_raddr=Mux(qmode | amode, q_pbase + q_ph, Mux(fmode, f_waddr, w_ptr)),
            act_write=rq_we,
            act_waddr=seq_waddr,
            qmode=qmode,
            acc_write=acc_wr.en,
            acc_waddr=Mux(fmode, fo_addr, o_addr),
            # memory write enables (host ports and streams included)
            cmd_wen=mem_wen["cmd"],
            act_wen=mem_wen["act"],
            w_wen=mem_wen["w"],
            rd_busy=rd_busy,
            start_go=start_go,
            mems=dict(cmd=cmd_mem, act=act_mem, w=w_mem, acc=acc_mem),
        )
        return m
