"""cocotb bench of ``fusesa_accel``'s host streams (``sim.accel_stream.StreamJob``).

Per job: push the ``load`` payloads (``valid`` low on random cycles), optionally start the
program and reset it part-way (recording the state after the reset) and push ``reload``, pulse
``start``, sleep until ``RisingEdge(done)`` (no per-cycle Python while the program runs), then
issue the read requests and collect ``rd_data`` with ``ready`` low on random cycles.

Inputs change on the falling edge; a transfer happens on the next rising edge when ``valid``
and ``ready`` are both high. ``ready`` of ``load``/``rd_req`` and ``valid``/``payload`` of
``rd_data`` come from registers only, so the values read at the falling edge decide the
transfer. A monitor coroutine samples every falling edge from the first job on (also while
the program runs, when the host coroutine sleeps) and records a stream ``ready`` while the
sequencer runs; it counts the running cycles it saw (``StreamResult.running_cycles``), so a
test can tell that it watched the run. The read loop records a stalled ``rd_data`` word that
changes or disappears before it is taken.

Environment: ``FUSESA_JOBS`` (pickle: list of jobs) and ``FUSESA_RESULTS`` (pickle written).
"""

from __future__ import annotations

import os
import pickle
import random

import cocotb
from cocotb.triggers import FallingEdge, RisingEdge, Timer, with_timeout

from hw import isa
from sim.accel_stream import StreamResult
from sim.memfiles import start_clock

PERIOD_NS = 10


class _Host:
    def __init__(self, dut, rng: random.Random):
        self.dut, self.rng = dut, rng
        self.violations: list[str] = []
        self.cycles = 0
        self.running_cycles = 0

    async def tick(self):
        await FallingEdge(self.dut.clk)
        self.cycles += 1

    async def monitor(self):
        """Every falling edge: no stream may be ready while the sequencer runs."""
        d = self.dut
        while True:
            await FallingEdge(d.clk)
            if int(d.running.value):
                self.running_cycles += 1
                for port in ("load", "rd_req"):
                    if int(getattr(d, f"{port}__ready").value):
                        self.violations.append(f"{port} ready while running (cycle {self.cycles})")

    async def push(self, payloads, valid_prob):
        d, i = self.dut, 0
        while i < len(payloads):
            valid = self.rng.random() < valid_prob
            d.load__valid.value = int(valid)
            d.load__payload.value = payloads[i] if valid else self.rng.getrandbits(64)
            took = valid and int(d.load__ready.value)
            await self.tick()
            i += took
        d.load__valid.value = 0

    async def read(self, addr, count, ready_prob, limit):
        d = self.dut
        d.rd_req__valid.value = 1
        d.rd_req__payload.value = isa.pack_read(addr, count)
        for _ in range(limit):
            ready = int(d.rd_req__ready.value)
            await self.tick()
            if ready:
                break
        d.rd_req__valid.value = 0
        words, held, idle = [], None, 0
        for _ in range(limit):
            valid = int(d.rd_data__valid.value)
            payload = int(d.rd_data__payload.value) if valid else None
            if held is not None and payload != held:
                self.violations.append(f"stalled rd_data word changed (cycle {self.cycles})")
            idle = 0 if valid else idle + 1
            if idle > 2:  # the read pipeline is two cycles deep: nothing more will come
                break
            ready = self.rng.random() < ready_prob
            d.rd_data__ready.value = int(ready)
            if valid and ready:
                words.append(payload)
            held = payload if valid and not ready else None
            await self.tick()
        d.rd_data__ready.value = 0
        return words

    async def start(self):
        self.dut.start.value = 1
        await self.tick()
        self.dut.start.value = 0


@cocotb.test()
async def run_stream_jobs(dut):
    with open(os.environ["FUSESA_JOBS"], "rb") as f:
        jobs = pickle.load(f)
    start_clock(dut, PERIOD_NS)
    for port in (
        "start",
        "act_we",
        "w_we",
        "cmd_we",
        "acc_raddr",
        "load__valid",
        "load__payload",
        "rd_req__valid",
        "rd_req__payload",
        "rd_data__ready",
    ):
        getattr(dut, port).value = 0
    # Warm-up: on Icarus the FSM's combinational outputs (``running``, ``done``, the streams'
    # ``ready``) stay X until the FSM state first changes (Yosys' ``always @*`` blocks are not
    # evaluated at time 0). Run a one-word HALT program through the plain ports once.
    dut.rst.value = 1
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    dut.cmd_we.value, dut.cmd_waddr.value, dut.cmd_wdata.value = 1, 0, isa.encode(isa.Halt())
    await FallingEdge(dut.clk)
    dut.cmd_we.value = 0
    dut.start.value = 1
    await FallingEdge(dut.clk)
    dut.start.value = 0
    for _ in range(3):
        await FallingEdge(dut.clk)
    results = []
    for job in jobs:
        dut.rst.value = 1  # every job starts from reset (memories keep their contents)
        for _ in range(2):
            await FallingEdge(dut.clk)
        dut.rst.value = 0
        # the bench top (``sim.runner.accel_tb_top``) registers ``rst`` and ``start``: the unit
        # leaves reset one cycle after the pin
        for _ in range(2):
            await FallingEdge(dut.clk)
        h = _Host(dut, random.Random(job.seed))
        watch = cocotb.start_soon(h.monitor())
        await h.push(job.loads, job.valid_prob)
        load_cycles = h.cycles
        after_reset = {}
        if job.reset_after is not None:
            await h.start()
            for _ in range(job.reset_after):
                await h.tick()
            after_reset["running_before"] = int(dut.running.value)
            dut.rst.value = 1
            await h.tick()
            await h.tick()
            dut.rst.value = 0
            # the bench top registers ``rst`` (the unit leaves reset a cycle after the pin), and
            # Icarus' cycle-based model (``sim.cyclenet``) updates outputs that depend on an
            # input combinationally (``ready`` on ``rst``) at the next edge: sample after two
            await h.tick()
            await h.tick()
            await Timer(1, "ns")  # let the write of rst settle before sampling
            for name in ("running", "done", "error", "host_error", "cnt_total", "cnt_busy"):
                after_reset[name] = int(getattr(dut, name).value)
            after_reset["load_ready"] = int(dut.load__ready.value)
            after_reset["rd_ready"] = int(dut.rd_req__ready.value)
            await h.push(job.reload, job.valid_prob)
        host_error = bool(int(dut.host_error.value))
        await h.start()
        if not int(dut.done.value):  # a refused start (host_error) is done at once
            await with_timeout(RisingEdge(dut.done), job.timeout_cycles * PERIOD_NS, "ns")
            await FallingEdge(dut.clk)
        total, busy, stall = (
            int(getattr(dut, f"cnt_{c}").value) for c in ("total", "busy", "stall")
        )
        error = bool(int(dut.error.value))
        c0 = h.cycles
        words = []
        for addr, count in job.reads:
            words += await h.read(addr, count, job.ready_prob, job.timeout_cycles)
        watch.cancel()
        results.append(
            StreamResult(
                name=job.name,
                words=words,
                total=total,
                busy=busy,
                stall=stall,
                error=error,
                host_error_before_start=host_error,
                host_error_end=bool(int(dut.host_error.value)),
                load_cycles=load_cycles,
                read_cycles=h.cycles - c0,
                after_reset=after_reset,
                violations=h.violations,
                running_cycles=h.running_cycles,
            )
        )
    with open(os.environ["FUSESA_RESULTS"], "wb") as f:
        pickle.dump(results, f)
