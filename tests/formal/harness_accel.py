"""Proof harness (Amaranth ``Assert``) around the accelerator top ``hw.accel.Accelerator``.

The solver drives every host input freely each cycle: ``rst``, ``start``, the ``load`` stream
(so it writes any command program, activations and weights it likes), ``rd_req`` and
``rd_data.ready``. The plain write ports are tied off (the ``load`` stream is the only writer,
so every memory write is accounted for). Observation points come from ``Accelerator.probe``
(unwrapped addresses of the sequencer's memory accesses, the DECODE state, the fetched word).

Everything the harness checks against is written here from ``docs/accelerator.md``, not taken
from the RTL: the malformed-command rules, the RUN length of a command (the cycle formulas),
the ``load`` acceptance rule and the stream handshake rules.

Properties (each an ``Assert``, checked every cycle up to the BMC depth):

1. ``act_addr``/``w_addr``/``acc_addr``: every activation or weight read whose data the
   sequencer uses and every accumulator write has an address below the memory's depth
   (the accumulator's read-modify-write reads the word it writes);
2. ``acc_in_run``: the accumulator is written only in RUN, never while a read-back is in
   flight;
3. ``malformed``: a word the reference rules call malformed, in DECODE, leads to ERROR
   (``error`` and ``done`` high) in the next cycle; ``wellformed``: any other word leads to
   DONE (``HALT``) or RUN (``GEMM``/``FUSE``), without ``error``;
4. ``error_quiet``: while ``error`` is high nothing is written to the accumulator;
5. ``run_length``: RUN of an accepted command lasts exactly ``1 + gemm_cycles`` (GEMM) or
   ``1 + fuse_cycles`` (FUSE) cycles (``sw.latency.rtl``'s documented formulas, written out
   here symbolically); hence ``done_bound``: ``running`` never lasts longer than
   ``cmd_depth * (2 + max RUN) + 1`` cycles after ``start`` (a program either halts, errs or
   runs off ``cmd_depth``);
6. ``load_write``: a memory is written only by an accepted ``load`` word with that target, an
   address below its depth and no data bits above its word; ``load_refused``: ``load`` and
   ``rd_req`` are never ready while running;
7. ``rd_hold``/``rd_count``: a stalled ``rd_data`` word stays valid and unchanged until taken;
   the words delivered never exceed the words requested (no duplicate), and when the
   read-back goes idle every requested word was delivered (none lost).
"""

from __future__ import annotations

from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.hdl import Assert, Cover
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In
from amaranth.utils import ceil_log2

from hw import isa
from hw.accel import Accelerator, load_payload
from hw.config import ArrayConfig
from sw.latency.rtl import fuse_cycles, gemm_cycles

__all__ = ["AccelFuseHarness", "AccelHarness", "max_run_cycles", "done_bound"]


def max_run_cycles(cfg: ArrayConfig) -> int:
    """Longest RUN of any well-formed command on ``cfg`` (``1 +`` the documented formulas),
    by enumerating every legal field combination (addresses at 0 leave the most room)."""
    R, C = cfg.rows, cfg.cols
    best = 0
    for m in range(1, cfg.act_depth + 1):
        for kf in range(1, cfg.act_depth // m + 1):
            for nf in range(1, cfg.acc_depth // m + 1):
                if kf * nf * R <= cfg.weight_depth:
                    best = max(best, 1 + gemm_cycles(m, kf * R, nf * C, R, C))
    if cfg.fuse:
        for k in range(1, cfg.max_kernel + 1):
            for g in range(1, cfg.weight_depth // k + 1):
                for pf in range(1, cfg.acc_depth // (g * R) + 1):
                    if g * (pf * C + k - 1) <= cfg.act_depth:
                        best = max(best, 1 + fuse_cycles(g * R, pf * C, k, R, C))
    return best


def done_bound(cfg: ArrayConfig) -> int:
    """Most cycles ``running`` can stay high after a ``start``."""
    return cfg.cmd_depth * (2 + max_run_cycles(cfg)) + 1


#: free low bits of each command / address field (the rest: zeros and a free top bit)
SMALL_BITS = 3


def _sparse(free_lo, free_top, width):
    """A ``width``-bit value: free low bits, zeros, a free top bit (``small`` or ``huge``)."""
    lo = free_lo[: min(len(free_lo), width)]
    if width <= len(lo) + 1:
        return Cat(lo, free_top)[:width]
    return Cat(lo, Const(0, width - len(lo) - 1), free_top)


class AccelHarness(wiring.Component):
    """``sparse=True`` (the default) draws every command field and load address as free low
    ``SMALL_BITS`` bits plus a free top bit (zeros between), which reaches every check of the
    decoder (zero, in range, just past the depth, overflowing) at a fraction of the solver
    cost of fully free 128-bit words; ``op`` and ``flags`` stay fully free."""

    def __init__(self, cfg: ArrayConfig, sparse: bool = True, bound: int | None = None) -> None:
        self.cfg, self.sparse = cfg, sparse
        #: the ``done_bound`` asserted (default: ``done_bound(cfg)``; tests lower it to show
        #: that the assertion can fail at the proof's depth)
        self.bound = done_bound(cfg) if bound is None else bound
        self.dut = Accelerator(cfg)
        self.dut._MustUse__silence = True  # elaborated inside ``elaborate``, not as a submodule
        nf = len(isa.FIELDS)
        super().__init__(
            {
                "start": In(1),
                "load_valid": In(1),
                "load_payload": In(load_payload(cfg)),
                "lo_bits": In(SMALL_BITS * (nf + 1)),
                "top_bits": In(nf + 1),
                "rq_valid": In(1),
                "rq_payload": In(self.dut.rd_req.payload.shape()),
                "rd_ready": In(1),
            }
        )

    def elaborate(self, platform) -> Module:
        cfg, dut = self.cfg, self.dut
        R, C = cfg.rows, cfg.cols
        m = Module()
        m.submodules.dut = dut.elaborate(platform)  # elaborated here so ``dut.probe`` exists
        p = dut.probe
        m.d.comb += [
            dut.start.eq(self.start),
            dut.load.valid.eq(self.load_valid),
            dut.load.payload.eq(self._payload()),
            dut.rd_req.valid.eq(self.rq_valid),
            dut.rd_req.payload.eq(self.rq_payload),
            dut.rd_data.ready.eq(self.rd_ready),
        ]  # the plain write ports stay 0; ``acc_raddr`` 0

        def check(cond, name):
            m.d.comb += Assert(cond, name)

        # 1, 2 -- addresses of used accesses; accumulator writes only in RUN
        check(~p.act_read | (p.act_raddr < cfg.act_depth), "act_addr")
        check(~p.w_read | (p.w_raddr < cfg.weight_depth), "w_addr")
        check(~p.acc_write | (p.acc_waddr < cfg.acc_depth), "acc_addr")
        check(~p.acc_write | (p.run & ~p.rd_busy), "acc_in_run")

        # 3 -- the reference malformed-command rules (docs/accelerator.md)
        word = p.word

        def f(name):
            lo, width = isa.FIELDS[name]
            return word[lo : lo + width]

        def g(name):
            lo, width = isa.FUSE_FIELDS[name]
            return word[lo : lo + width]

        op, flags, reserved = f("op"), f("flags"), f("reserved")
        clean = (flags == 0) & (reserved == 0)
        gemm_ok = (
            (op == isa.Op.GEMM)
            & clean
            & (f("m") != 0)
            & (f("kfolds") != 0)
            & (f("nfolds") != 0)
            & (f("a_addr") + f("kfolds") * f("m") <= cfg.act_depth)
            & (f("w_addr") + f("kfolds") * f("nfolds") * R <= cfg.weight_depth)
            & (f("acc_addr") + f("nfolds") * f("m") <= cfg.acc_depth)
        )
        fuse_ok = (
            (op == isa.Op.FUSE)
            & clean
            & (g("k") >= 1)
            & (g("k") <= cfg.max_kernel)
            & (g("groups") != 0)
            & (g("pfolds") != 0)
            & (g("a_addr") + g("groups") * (g("pfolds") * C + g("k") - 1) <= cfg.act_depth)
            & (g("w_addr") + g("groups") * g("k") <= cfg.weight_depth)
            & (g("acc_addr") + g("groups") * g("pfolds") * R <= cfg.acc_depth)
        )
        if not cfg.fuse:
            fuse_ok = fuse_ok & 0
        halt_ok = (op == isa.Op.HALT) & (word[4:] == 0)
        malformed = ~(halt_ok | gemm_ok | fuse_ok)

        after_bad = Signal()  # the previous cycle was DECODE of a malformed word
        after_run = Signal()  # ... of a GEMM/FUSE word
        after_halt = Signal()
        m.d.sync += [
            after_bad.eq(p.decode & malformed),
            after_run.eq(p.decode & (gemm_ok | fuse_ok)),
            after_halt.eq(p.decode & halt_ok),
        ]
        check(~after_bad | (dut.error & dut.done & ~dut.running), "malformed")
        check(~after_run | (p.run & ~dut.error), "wellformed")
        check(~after_halt | (dut.done & ~dut.error & ~dut.running), "wellformed")
        # 4
        check(~dut.error | ~p.acc_write, "error_quiet")

        # 5 -- RUN length from the documented formulas (fields are small once accepted)
        nb = max(ceil_log2(max(cfg.act_depth, cfg.weight_depth, cfg.acc_depth) + 1), 1)

        def small(v):
            return v[:nb]

        gm, gkf, gnf = small(f("m")), small(f("kfolds")), small(f("nfolds"))
        gemm_len = 1 + (gkf * gnf - 1) * _max(_max(gm, R), C) + gm + R + C
        fk, fg, fpf = small(g("k")), small(g("groups")), small(g("pfolds"))
        fuse_len = 1 + (fg * fpf - 1) * _max(C + fk - 1, R + fk) + C + fk + R
        left = Signal(16)
        exp_next = Signal()
        chk_next = Signal()
        with m.If(p.decode):
            m.d.sync += left.eq(Mux(op == isa.Op.FUSE, fuse_len, gemm_len))
        with m.Elif(p.run):
            m.d.sync += left.eq(left - 1)
        m.d.sync += [exp_next.eq(p.run & (left > 1)), chk_next.eq(p.run)]
        check(~p.run | (left != 0), "run_length")
        check(~chk_next | (p.run == exp_next), "run_length")
        bound = self.bound
        since = Signal(range(max(bound, done_bound(cfg)) + 2))
        with m.If(p.start_go):
            m.d.sync += since.eq(0)
        with m.Elif(dut.running & (since <= bound)):
            m.d.sync += since.eq(since + 1)
        check(~dut.running | (since < bound), "done_bound")

        # 6 -- memory writes only from accepted, well-formed load words
        lp = dut.load.payload
        took = self.load_valid & dut.load.ready
        widths = {
            "cmd": (isa.Target.CMD, cfg.cmd_depth, isa.WORD_BITS),
            "act": (isa.Target.ACT, cfg.act_depth, R * cfg.act_width),
            "w": (isa.Target.WEIGHT, cfg.weight_depth, len(dut.w_wdata)),
        }
        for name, (target, depth, bits) in widths.items():
            legal = took & (lp.target == target) & (lp.addr < depth)
            if bits < len(lp.data):
                legal = legal & (lp.data[bits:] == 0)
            check(getattr(p, f"{name}_wen") == legal, "load_write")
        check(~dut.running | ~dut.load.ready, "load_refused")
        check(~dut.running | ~dut.rd_req.ready, "load_refused")

        # 7 -- read-back handshake and word count
        stalled = Signal()
        held = Signal.like(dut.rd_data.payload)
        m.d.sync += [
            stalled.eq(dut.rd_data.valid & ~self.rd_ready),
            held.eq(dut.rd_data.payload),
        ]
        check(~stalled | (dut.rd_data.valid & (dut.rd_data.payload == held)), "rd_hold")
        owed = Signal(24)
        rq = self.rq_payload
        asked = self.rq_valid & dut.rd_req.ready & (rq.addr + rq.count <= cfg.acc_depth)
        given = dut.rd_data.valid & self.rd_ready
        m.d.sync += owed.eq(owed + Mux(asked, rq.count, 0) - given)
        check(~given | (owed != 0), "rd_count")
        check(p.rd_busy | (owed == 0), "rd_count")

        # reachability (``run_cover``): each state and event the properties talk about
        def cover(cond, name):
            m.d.comb += Cover(cond, name)

        cover(p.run, "RUN")
        cover(p.acc_write, "out_valid")  # an array result written in RUN
        cover(dut.done & ~dut.error, "done")
        cover(dut.error, "error")
        cover(given, "rd_data")
        if cfg.fuse:
            cover(p.acc_write & p.fmode, "FUSE out_valid")
        # the longest run: ``running`` in its last allowed cycle (one more fails done_bound)
        cover(dut.running & (since == done_bound(cfg) - 1), "done_bound reached")
        return m


def _payload_of(h):
    """The ``load`` payload the harness drives (see ``AccelHarness`` for ``sparse``)."""
    if not h.sparse:
        return h.load_payload
    cfg, S = h.cfg, SMALL_BITS
    lo = [h.lo_bits[i * S : (i + 1) * S] for i in range(len(isa.FIELDS) + 1)]
    top = h.top_bits
    fields = []
    for i, (name, (_, width)) in enumerate(isa.FIELDS.items()):
        if name in ("op", "flags"):
            fields.append(h.load_payload.data[isa.FIELDS[name][0] : isa.FIELDS[name][0] + width])
        else:
            fields.append(_sparse(lo[i], top[i], width))
    word = Cat(*fields)
    bits = len(h.load_payload.data)
    # activation/weight data: a word's worth of free bits, zeros, a free top bit (too wide)
    free = h.load_payload.data
    small = max(cfg.rows * cfg.act_width, h.dut_w_bits)
    data = Mux(free[-1] & (h.load_payload.target != isa.Target.CMD), 1 << (bits - 1), 0)
    data = data | Mux(h.load_payload.target == isa.Target.CMD, word, free[:small])
    addr = _sparse(lo[-1], top[-1], isa.LOAD_FIELDS["addr"][1])
    return Cat(h.load_payload.target, addr, data)


AccelHarness._payload = _payload_of
AccelHarness.dut_w_bits = property(lambda h: len(h.dut.w_wdata))


def _max(a, b):
    return Mux(a > b, a, b)


class AccelFuseHarness(wiring.Component):
    """One ``FUSE`` command (then ``HALT``) on a FuSe accelerator, with symbolic lines and taps.

    The harness writes the memory images of ``docs/accelerator.md`` ("FUSE", the layout of
    ``hw.isa.Fuse``) through the plain write ports: activation word ``j`` = element ``j`` of
    every line (lane ``r`` = line ``r``), weight word ``i`` = tap ``K-1-i``, the command words
    ``FUSE(k=K, groups, pfolds)`` and ``HALT``; pulses ``start``; then asserts

    - ``done`` exactly ``total`` cycles after the start cycle (``3 + fuse_cycles`` for the
      FUSE and 2 for the HALT, the formula written out here), not before, without ``error``,
      and ``cnt_total == total``;
    - every accumulator word, read back through ``acc_raddr``/``acc_rdata``, equals the 1-D
      correlation ``y[l, j] = sum_k line[l, j+k] * tap[l, k]`` of the symbols (word
      ``f*rows + i`` = line ``g*rows + rows-1-i``, positions ``pf*cols ..``).

    Lines and taps are free in step 0 and constant afterwards; ``rst`` is held low. Covers:
    RUN (``running``), a result written (``FUSE out_valid``: the first accumulator word
    nonzero), ``done``. (``error`` cannot occur with this fixed, well-formed program; the
    free-input harness covers it.)"""

    def __init__(self, cfg: ArrayConfig, K: int, groups: int = 1, pfolds: int = 1) -> None:
        assert cfg.fuse and 1 <= K <= cfg.max_kernel and cfg.cmd_depth >= 2
        R, C = cfg.rows, cfg.cols
        self.cfg, self.K, self.groups, self.pfolds = cfg, K, groups, pfolds
        self.W = pfolds * C + K - 1  # activation words per line group
        self.folds = groups * pfolds
        assert groups * self.W <= cfg.act_depth and groups * K <= cfg.weight_depth
        assert self.folds * R <= cfg.acc_depth
        period = max(C + K - 1, R + K)
        run = (self.folds - 1) * period + C + K + R  # sw.latency.rtl.fuse_cycles, written out
        self.total = 2 + 1 + run + 2  # FETCH, DECODE, RUN(1 + run); HALT: FETCH, DECODE
        self.start_step = max(groups * self.W, groups * K, 2)  # after the last image word
        self.done_step = self.start_step + 1 + self.total
        self.depth = self.done_step + self.folds * R + 1  # then read every result word
        act, w = data.ArrayLayout(cfg.act_shape, R), data.ArrayLayout(cfg.weight_shape, K)
        super().__init__(
            {
                "x": In(data.ArrayLayout(data.ArrayLayout(act, self.W), groups)),
                "k": In(data.ArrayLayout(data.ArrayLayout(w, R), groups)),
            }
        )

    def elaborate(self, platform) -> Module:
        from amaranth import ResetSignal
        from amaranth.hdl import Assume

        cfg, K = self.cfg, self.K
        R, C = cfg.rows, cfg.cols
        m = Module()
        m.submodules.dut = dut = Accelerator(cfg)
        m.d.comb += Assume(~ResetSignal())
        step = Signal(range(self.depth + 2))
        with m.If(step <= self.depth):
            m.d.sync += step.eq(step + 1)
        x_prev, k_prev = Signal.like(self.x), Signal.like(self.k)
        m.d.sync += [x_prev.eq(self.x), k_prev.eq(self.k)]
        with m.If(step != 0):
            m.d.comb += [
                Assume(self.x.as_value() == x_prev.as_value()),
                Assume(self.k.as_value() == k_prev.as_value()),
            ]

        # memory images through the plain write ports
        words = [
            isa.encode(isa.Fuse(k=K, groups=self.groups, pfolds=self.pfolds)),
            isa.encode(isa.Halt()),
        ]
        ww = len(dut.w_wdata)
        for t in range(self.start_step + 1):
            with m.If(step == t):
                if t < len(words):
                    m.d.comb += [dut.cmd_we.eq(1), dut.cmd_waddr.eq(t), dut.cmd_wdata.eq(words[t])]
                if t < self.groups * self.W:
                    g, j = divmod(t, self.W)
                    m.d.comb += [
                        dut.act_we.eq(1),
                        dut.act_waddr.eq(t),
                        dut.act_wdata.eq(self.x[g][j].as_value()),
                    ]
                if t < self.groups * K:
                    g, i = divmod(t, K)
                    lanes = Cat(*(self.k[g][r][K - 1 - i] for r in range(R)))
                    m.d.comb += [dut.w_we.eq(1), dut.w_waddr.eq(t), dut.w_wdata.eq(lanes[:ww])]
                if t == self.start_step:
                    m.d.comb += dut.start.eq(1)

        def check(cond, name):
            m.d.comb += Assert(cond, name)

        for s in range(self.start_step + 1, self.done_step):
            with m.If(step == s):
                check(~dut.done, f"no done at step {s}")
        with m.If(step == self.done_step):
            check(dut.done & ~dut.error, "done")
            check(dut.cnt_total == self.total, "cnt_total")
        aw = cfg.acc_width
        for word in range(self.folds * R):
            f, i = divmod(word, R)
            g, pf = divmod(f, self.pfolds)
            line = R - 1 - i
            with m.If(step == self.done_step + word):
                m.d.comb += dut.acc_raddr.eq(word)
            with m.If(step == self.done_step + word + 1):
                for c in range(C):
                    j = pf * C + c
                    y = sum(self.x[g][j + k][line] * self.k[g][line][k] for k in range(K))
                    got = dut.acc_rdata[c * aw : (c + 1) * aw].as_signed()
                    check(got == y, f"y[{g * R + line}][{j}]")
        m.d.comb += [
            Cover(dut.running, "RUN"),
            Cover((step == self.done_step + 1) & (dut.acc_rdata != 0), "FUSE out_valid"),
            Cover(dut.done, "done"),
        ]
        return m
