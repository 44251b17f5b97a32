"""Host streams of the accelerator top in the Amaranth simulator: programs and operands pushed
through ``load`` with random input gaps, results read back through ``rd_req``/``rd_data``
with random backpressure; outputs == numpy, counters == ``sw.latency.rtl``, nothing lost or
duplicated; streams refused while running; out-of-range loads, reads and malformed commands
rejected without touching memory; reset in the middle of a program then an exact rerun."""

from __future__ import annotations

import random

import numpy as np
import pytest
from amaranth import ClockDomain, Module
from amaranth.sim import Simulator

from hw import isa
from hw.accel import Accelerator
from hw.config import ArrayConfig
from sim.accel_stream import program_loads
from sw.latency.rtl import (
    ACCEL_COMMAND_OVERHEAD,
    accel_fuse_cycles,
    accel_gemm_cycles,
    accel_program_cycles,
    gemm_folds,
)
from sw.mapping.accel import ProgramBuilder, compile_gemms
from sw.ref import gemm_ref
from tests.hw.test_accel_fuse import lines_ref

# depths that are not powers of two, so an out-of-range address still fits the port width
ODD = dict(act_depth=200, weight_depth=100, acc_depth=120, cmd_depth=12)


class Host:
    """A scripted host on the streams, with a handshake monitor: every call advances the
    clock; ``self.cycle`` counts cycles since the bench began."""

    def __init__(self, ctx, dut, cd, rng: random.Random):
        self.ctx, self.dut, self.cd, self.rng = ctx, dut, cd, rng
        self.cycle = 0

    async def tick(self):
        ctx, dut = self.ctx, self.dut
        if ctx.get(dut.running):  # the streams are refused while the sequencer runs
            assert not ctx.get(dut.load.ready) and not ctx.get(dut.rd_req.ready)
        await ctx.tick()
        self.cycle += 1

    async def push(self, payloads, valid_prob=1.0):
        """Push ``payloads`` through ``load`` (valid high with probability ``valid_prob``)."""
        ctx, dut = self.ctx, self.dut
        i = 0
        while i < len(payloads):
            valid = self.rng.random() < valid_prob
            ctx.set(dut.load.valid, valid)
            ctx.set(dut.load.payload.as_value(), payloads[i] if valid else self.rng.getrandbits(64))
            took = valid and ctx.get(dut.load.ready)
            await self.tick()
            i += took
        ctx.set(dut.load.valid, 0)

    async def read(self, addr, count, ready_prob=1.0, limit=10_000):
        """Request ``count`` words from ``addr``; collect every ``rd_data`` transfer until
        the read-back is idle again. A stalled word must stay put until taken."""
        ctx, dut = self.ctx, self.dut
        ctx.set(dut.rd_req.valid, 1)
        ctx.set(dut.rd_req.payload.as_value(), isa.pack_read(addr, count))
        for _ in range(limit):
            if ctx.get(dut.rd_req.ready):
                break
            await self.tick()
        else:
            raise AssertionError("rd_req never ready")
        await self.tick()
        ctx.set(dut.rd_req.valid, 0)
        words, held = [], None
        for _ in range(limit):
            valid = ctx.get(dut.rd_data.valid)
            if held is not None:  # stalled last cycle: same word still offered
                assert valid and ctx.get(dut.rd_data.payload) == held
            if not valid and not ctx.get(self.dut.probe.rd_busy):
                break
            ready = self.rng.random() < ready_prob
            ctx.set(dut.rd_data.ready, ready)
            if valid and ready:
                words.append(ctx.get(dut.rd_data.payload))
            held = ctx.get(dut.rd_data.payload) if valid and not ready else None
            await self.tick()
        else:
            raise AssertionError("read-back did not finish")
        ctx.set(dut.rd_data.ready, 0)
        return words

    async def start(self):
        self.ctx.set(self.dut.start, 1)
        await self.tick()
        self.ctx.set(self.dut.start, 0)

    async def run(self, limit=50_000):
        """Pulse start, wait for done; returns (error, counters, cycles start -> done)."""
        await self.start()
        n = 0
        while not self.ctx.get(self.dut.done):
            assert n < limit, "no done"
            await self.tick()
            n += 1
        return bool(self.ctx.get(self.dut.error)), self.counters(), n

    def counters(self):
        d = self.dut
        return tuple(self.ctx.get(c) for c in (d.cnt_total, d.cnt_busy, d.cnt_stall))

    def mem(self, name):
        """Contents of memory ``name`` as packed ints (lane ``i`` at bits ``[i*w +: w]``)."""
        mem = self.dut.probe.mems[name]
        vals = [self.ctx.get(mem.data[i]) for i in range(mem.depth)]
        return [v.as_bits() if hasattr(v, "as_bits") else int(v) for v in vals]

    async def reset(self, cycles=2):
        self.ctx.set(self.cd.rst, 1)
        for _ in range(cycles):
            await self.tick()
        self.ctx.set(self.cd.rst, 0)


def simulate(cfg, script, seed=0):
    """Run ``async script(host)`` against a fresh accelerator; returns its return value."""
    dut = Accelerator(cfg)
    top = Module()
    top.domains.sync = cd = ClockDomain("sync")
    top.submodules.dut = dut
    sim = Simulator(top)
    sim.add_clock(1e-6, domain="sync")
    out = {}

    async def bench(ctx):
        out["value"] = await script(Host(ctx, dut, cd, random.Random(seed)))

    sim.add_testbench(bench)
    sim.run()
    return out["value"]


def gemm_case(rows, cols, seed, depths=ODD):
    cfg = ArrayConfig(rows=rows, cols=cols, **depths)
    rng = np.random.default_rng(seed)
    shapes = [(3, 2 * rows + 1, cols + 1), (5, rows, 2 * cols - 1), (1, 1, 1)]
    pairs = [
        (rng.integers(-128, 128, (M, K)), rng.integers(-128, 128, (K, N))) for M, K, N in shapes
    ]
    return cfg, shapes, pairs, compile_gemms(pairs, cfg)


def check_gemms(prog, words, pairs, shapes, counters, cfg):
    for y, (x, w) in zip(prog.outputs(words), pairs, strict=True):
        np.testing.assert_array_equal(y, gemm_ref(x, w))
    total, busy, stall = counters
    assert total == accel_program_cycles(shapes, cfg.rows, cfg.cols)
    assert busy == sum(M * gemm_folds(K, N, cfg.rows, cfg.cols) for M, K, N in shapes)
    assert total == busy + stall + ACCEL_COMMAND_OVERHEAD * (len(shapes) + 1)


@pytest.mark.parametrize(
    "array, valid_prob, ready_prob, seed",
    [((2, 2), 1.0, 1.0, 1), ((2, 2), 0.4, 0.3, 2), ((3, 5), 0.6, 0.5, 3), ((1, 1), 0.3, 0.7, 4)],
    ids=["2x2-clean", "2x2-gaps", "3x5-gaps", "1x1-gaps"],
)
def test_stream_gemm_program_exact(array, valid_prob, ready_prob, seed):
    cfg, shapes, pairs, prog = gemm_case(*array, seed)
    loads = program_loads(prog)
    n = prog.acc_words_used

    async def script(h):
        c0 = h.cycle
        await h.push(loads, valid_prob)
        load_cycles = h.cycle - c0
        assert not h.ctx.get(h.dut.host_error)
        error, counters, run = await h.run()
        c1 = h.cycle
        words = await h.read(0, n, ready_prob)
        return load_cycles, error, counters, run, words, h.cycle - c1

    load_cycles, error, counters, run, words, read_cycles = simulate(cfg, script, seed)
    assert not error
    assert len(words) == n  # nothing lost or duplicated: exact count, exact values below
    check_gemms(prog, words, pairs, shapes, counters, cfg)
    assert run == counters[0]
    if valid_prob == 1.0 and ready_prob == 1.0:  # documented timing: one word per cycle
        assert load_cycles == len(loads)
        assert read_cycles == 1 + 1 + n  # request cycle, read latency, one word per cycle


def test_stream_fuse_and_gemm_program_exact():
    cfg = ArrayConfig(rows=2, cols=3, max_kernel=5, **ODD)
    rng = np.random.default_rng(11)
    b = ProgramBuilder(cfg)
    lines, taps = rng.integers(-128, 128, (3, 9)), rng.integers(-128, 128, (3, 4))
    x, w = rng.integers(-128, 128, (4, 5)), rng.integers(-128, 128, (5, 4))
    b.fuse(lines, taps)
    b.gemm(x, w)
    prog = b.build()

    async def script(h):
        await h.push(program_loads(prog), 0.5)
        error, counters, _ = await h.run()
        return error, counters, await h.read(0, prog.acc_words_used, 0.5)

    error, (total, _, _), words = simulate(cfg, script, 5)
    assert not error
    y_fuse, y_gemm = prog.outputs(words)
    np.testing.assert_array_equal(y_fuse, lines_ref(lines, taps))
    np.testing.assert_array_equal(y_gemm, gemm_ref(x, w))
    assert total == (
        accel_fuse_cycles(3, 6, 4, 2, 3) + accel_gemm_cycles(4, 5, 4, 2, 3) + ACCEL_COMMAND_OVERHEAD
    )


def test_stream_partial_reads_in_any_order():
    """Several read requests (reverse order, overlapping, single words) return exactly the
    words asked for."""
    cfg, shapes, pairs, prog = gemm_case(2, 2, 7)
    n = prog.acc_words_used

    async def script(h):
        await h.push(program_loads(prog))
        _, counters, _ = await h.run()
        full = await h.read(0, n)
        parts = [(n - 3, 3), (0, 1), (2, 4), (n - 1, 1), (5, 0)]
        return counters, full, [(a, c, await h.read(a, c, 0.5)) for a, c in parts]

    counters, full, parts = simulate(cfg, script, 7)
    check_gemms(prog, full, pairs, shapes, counters, cfg)
    for a, c, words in parts:
        assert words == full[a : a + c]


def test_streams_refused_while_running():
    """While the sequencer runs, ``load`` and ``rd_req`` keep ``ready`` low (checked every
    cycle by the monitor), a word offered all the time is not written, and the run is exact."""
    cfg, shapes, pairs, prog = gemm_case(2, 2, 8)
    junk = isa.pack_load(isa.Target.ACT, 0, 0x7F7F, cfg)

    async def script(h):
        await h.push(program_loads(prog))
        act_before = h.mem("act")
        await h.start()  # from the first running cycle on, offer a word on both streams
        h.ctx.set(h.dut.load.valid, 1)
        h.ctx.set(h.dut.load.payload.as_value(), junk)
        h.ctx.set(h.dut.rd_req.valid, 1)
        h.ctx.set(h.dut.rd_req.payload.as_value(), isa.pack_read(0, 1))
        refused = 0
        while h.ctx.get(h.dut.running):
            refused += not h.ctx.get(h.dut.load.ready)
            await h.tick()
        h.ctx.set(h.dut.load.valid, 0)
        h.ctx.set(h.dut.rd_req.valid, 0)
        assert h.mem("act") == act_before
        return refused, h.counters(), await h.read(0, prog.acc_words_used)

    refused, counters, words = simulate(cfg, script)
    assert refused == counters[0]  # every running cycle (FETCH .. the last RUN cycle)
    check_gemms(prog, words, pairs, shapes, counters, cfg)


def _bad_loads(cfg):
    abits = {"cmd": 4, "act": 8, "w": 7}  # port widths of ODD
    wide = 1 << (cfg.rows * cfg.act_width)  # a bit above an act word
    return {
        "cmd-addr-depth": isa.pack_load(isa.Target.CMD, cfg.cmd_depth, 1),
        "act-addr-depth": isa.pack_load(isa.Target.ACT, cfg.act_depth, 0x55),
        "act-addr-wraps": isa.pack_load(isa.Target.ACT, 1 << abits["act"], 0x55),
        "w-addr-depth": isa.pack_load(isa.Target.WEIGHT, cfg.weight_depth, 0x55),
        "w-addr-far": isa.pack_load(isa.Target.WEIGHT, (1 << 20) - 1, 0x55),
        "unknown-target": isa.pack_load(3, 0, 0x55),
        "act-data-too-wide": isa.pack_load(isa.Target.ACT, 0, wide | 0x55),
    }


@pytest.mark.parametrize("case", sorted(_bad_loads(ArrayConfig(2, 2, **ODD))))
def test_bad_load_is_rejected_and_blocks_one_start(case):
    cfg, shapes, pairs, prog = gemm_case(2, 2, 9)
    bad = _bad_loads(cfg)[case]

    async def script(h):
        await h.push(program_loads(prog))
        before = {k: h.mem(k) for k in ("cmd", "act", "w")}
        await h.push([bad])
        flagged = h.ctx.get(h.dut.host_error)
        after = {k: h.mem(k) for k in ("cmd", "act", "w")}
        refused = await h.run()  # the pending host error turns this start into ERROR
        cleared = h.ctx.get(h.dut.host_error)
        rerun = await h.run()
        return flagged, before, after, refused, cleared, rerun, await h.read(0, 40)

    flagged, before, after, refused, cleared, rerun, words = simulate(cfg, script)
    assert flagged
    assert after == before  # nothing written, nothing wrapped
    assert refused == (True, (0, 0, 0), 0)  # error at once, no cycle run
    assert not cleared
    error, counters, _ = rerun
    assert not error
    check_gemms(prog, words, pairs, shapes, counters, cfg)


def test_good_loads_do_not_set_host_error():
    """Control for the test above: words at the last address of each memory are accepted."""
    cfg = ArrayConfig(2, 2, **ODD)
    good = [
        isa.pack_load(isa.Target.CMD, cfg.cmd_depth - 1, (1 << 128) - 1),
        isa.pack_load(isa.Target.ACT, cfg.act_depth - 1, 0xFFFF),
        isa.pack_load(isa.Target.WEIGHT, cfg.weight_depth - 1, 0xABCD),
    ]

    async def script(h):
        await h.push(good)
        return h.ctx.get(h.dut.host_error), h.mem("cmd")[-1], h.mem("act")[-1], h.mem("w")[-1]

    assert simulate(cfg, script) == (0, (1 << 128) - 1, 0xFFFF, 0xABCD)


@pytest.mark.parametrize("addr, count, bad", [(115, 6, True), (0, 121, True), (119, 1, False)])
def test_read_request_range(addr, count, bad):
    cfg, _, _, prog = gemm_case(2, 2, 10)

    async def script(h):
        await h.push(program_loads(prog))
        await h.run()
        words = await h.read(addr, count)
        return h.ctx.get(h.dut.host_error), words

    err, words = simulate(cfg, script)
    assert bool(err) == bad
    assert len(words) == (0 if bad else count)


def test_start_waits_for_read_back():
    """``start`` during a read-back in flight is ignored (acc_mem must not change under it)."""
    cfg, shapes, pairs, prog = gemm_case(2, 2, 12)

    async def script(h):
        await h.push(program_loads(prog))
        await h.run()
        h.ctx.set(h.dut.rd_req.valid, 1)
        h.ctx.set(h.dut.rd_req.payload.as_value(), isa.pack_read(0, 4))
        await h.tick()
        h.ctx.set(h.dut.rd_req.valid, 0)
        await h.start()  # ready held low: the read-back is stalled
        ignored = not h.ctx.get(h.dut.running) and h.ctx.get(h.dut.done)
        h.ctx.set(h.dut.rd_data.ready, 1)
        while h.ctx.get(h.dut.probe.rd_busy):
            await h.tick()
        h.ctx.set(h.dut.rd_data.ready, 0)
        error, counters, _ = await h.run()
        return ignored, error, counters

    ignored, error, counters = simulate(cfg, script)
    assert ignored
    assert not error and counters[0] == accel_program_cycles(shapes, 2, 2)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_reset_mid_program_then_exact_rerun(seed):
    """Reset at a random cycle of a running program: afterwards the unit is idle (no done,
    no error, counters 0, streams ready); a rerun, without and with reloading, is exact."""
    cfg, shapes, pairs, prog = gemm_case(2, 3, 20 + seed)
    total = accel_program_cycles(shapes, 2, 3)
    at = random.Random(seed).randrange(3, total - 2)
    loads = program_loads(prog)

    async def script(h):
        await h.push(loads)
        await h.start()
        for _ in range(at):
            await h.tick()
        assert h.ctx.get(h.dut.running)
        await h.reset()
        state = dict(
            running=h.ctx.get(h.dut.running),
            done=h.ctx.get(h.dut.done),
            error=h.ctx.get(h.dut.error),
            counters=h.counters(),
            load_ready=h.ctx.get(h.dut.load.ready),
            rd_ready=h.ctx.get(h.dut.rd_req.ready),
        )
        e1, c1, _ = await h.run()
        w1 = await h.read(0, prog.acc_words_used, 0.5)
        await h.reset()
        await h.push(loads, 0.5)
        e2, c2, _ = await h.run()
        w2 = await h.read(0, prog.acc_words_used, 0.5)
        return state, (e1, c1, w1), (e2, c2, w2)

    state, *reruns = simulate(cfg, script, seed)
    assert state == dict(running=0, done=0, error=0, counters=(0, 0, 0), load_ready=1, rd_ready=1)
    for error, counters, words in reruns:
        assert not error
        check_gemms(prog, words, pairs, shapes, counters, cfg)


def test_malformed_command_via_stream_leaves_memory_untouched():
    """A good GEMM, then a GEMM word whose weight range overruns ``weight_depth`` but whose
    accumulator range overlaps the first result: ``error`` is raised in its DECODE, and no
    memory changes after the first command's results."""
    cfg = ArrayConfig(2, 2, **ODD)
    rng = np.random.default_rng(13)
    x, w = rng.integers(-128, 128, (4, 3)), rng.integers(-128, 128, (3, 2))
    prog = compile_gemms([(x, w)], cfg)
    bad = isa.Gemm(m=4, kfolds=2, nfolds=1, w_addr=cfg.weight_depth - 3, acc_addr=0)
    with pytest.raises(ValueError, match="w_addr"):
        isa.check_command(bad, cfg)
    words = prog.words[:-1] + [isa.encode(bad), isa.encode(isa.Halt())]
    loads = program_loads(prog)[: -len(prog.words)]
    loads += [isa.pack_load(isa.Target.CMD, a, v) for a, v in enumerate(words)]
    good_total = accel_program_cycles([(4, 3, 2)], 2, 2)  # the GEMM + the bad word's 2

    async def script(h):
        await h.push(loads, 0.5)
        before = {k: h.mem(k) for k in ("cmd", "act", "w")}
        await h.start()
        acc_after_good = None
        while not h.ctx.get(h.dut.done):
            if h.ctx.get(h.dut.cnt_total) == good_total - 2:  # FETCH of the bad word
                acc_after_good = h.mem("acc")
            await h.tick()
        error, counters = h.ctx.get(h.dut.error), h.counters()
        for _ in range(5):  # stays in error, writes nothing
            await h.tick()
        after = {k: h.mem(k) for k in ("cmd", "act", "w", "acc")}
        return before, acc_after_good, error, counters, after

    before, acc_good, error, (total, _, _), after = simulate(cfg, script, 3)
    assert error and total == good_total
    assert acc_good is not None and after.pop("acc") == acc_good
    assert after == before
    np.testing.assert_array_equal(prog.outputs(acc_good)[0], gemm_ref(x, w))
