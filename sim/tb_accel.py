"""cocotb bench of ``fusesa_accel`` (``hw.accel.Accelerator``): runs whole programs with no
per-cycle Python.

Per job (``sim.accel.AccelJob``): write the activation, weight and command images straight
into the memories (simulator backdoor, no clock edges), pulse ``start``, sleep until
``RisingEdge(done)`` (one callback for the whole run), then read the counters, ``error`` and
the accumulator memory back (backdoor again) into a ``sim.accel.AccelResult``.

Environment: ``FUSESA_JOBS`` (pickle: list of jobs) and ``FUSESA_RESULTS`` (pickle written).
"""

from __future__ import annotations

import os
import pickle
import time

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge, with_timeout

from sim.accel import AccelResult

PERIOD_NS = 10


@cocotb.test()
async def run_programs(dut):
    with open(os.environ["FUSESA_JOBS"], "rb") as f:
        jobs = pickle.load(f)
    Clock(dut.clk, PERIOD_NS, unit="ns").start()
    for port in ("start", "act_we", "w_we", "cmd_we", "acc_raddr"):
        getattr(dut, port).value = 0
    dut.rst.value = 1
    for _ in range(2):
        await FallingEdge(dut.clk)
    dut.rst.value = 0
    await FallingEdge(dut.clk)

    results = []
    for job in jobs:
        t0 = time.perf_counter()
        for mem, image in ((dut.act_mem.mem, job.act), (dut.w_mem.mem, job.weight)):
            for addr, word in image.items():
                mem[addr].value = word
        for addr, word in enumerate(job.cmd):
            dut.cmd_mem.mem[addr].value = word
        await FallingEdge(dut.clk)
        load_s = time.perf_counter() - t0
        dut.start.value = 1
        await FallingEdge(dut.clk)
        dut.start.value = 0
        t1 = time.perf_counter()
        await with_timeout(RisingEdge(dut.done), job.timeout_cycles * PERIOD_NS, "ns")
        run_s = time.perf_counter() - t1
        await FallingEdge(dut.clk)
        t2 = time.perf_counter()
        acc = [int(dut.acc_mem.mem[a].value) for a in range(job.acc_words)]
        results.append(
            AccelResult(
                name=job.name,
                acc=acc,
                total=int(dut.cnt_total.value),
                busy=int(dut.cnt_busy.value),
                stall=int(dut.cnt_stall.value),
                error=bool(int(dut.error.value)),
                load_seconds=load_s + time.perf_counter() - t2,
                run_seconds=run_s,
            )
        )
    with open(os.environ["FUSESA_RESULTS"], "wb") as f:
        pickle.dump(results, f)
