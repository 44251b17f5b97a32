"""cocotb bench of the accelerator (``hw.accel.Accelerator``, inside the bench top
``fusesa_accel_tb`` of ``sim.runner.accel_tb_top``): runs whole programs with no per-cycle
Python.

Per job (``sim.accel.AccelJob``): write the activation, weight and command images as
``$readmemh`` files and pulse the bench top's ``load_<mem>`` inputs (the simulator loads each
memory in one system task, no clock edges), pulse ``start``, sleep until ``RisingEdge(done)``
(one callback for the whole run; the clock toggles in the GPI layer, not in Python), then read
the counters and ``error``, pulse ``dump_acc`` and read the accumulator words back from the
``$writememh`` file into a ``sim.accel.AccelResult``. With ``trace_pc`` a watcher records
``cnt_total`` at every program-counter change (per-command measured cycles).

Environment: ``FUSESA_JOBS`` (pickle: list of jobs) and ``FUSESA_RESULTS`` (pickle written).
"""

from __future__ import annotations

import os
import pickle
import time

import cocotb
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge, with_timeout

from sim.accel import AccelResult
from sim.accel_bench import bring_up, dump_acc, dump_act, load_images

PERIOD_NS = 10


async def _watch_pc(dut, trace: list[tuple[int, int]]) -> None:
    """Record ``(pc, cnt_total)`` after every program-counter change (one callback per
    command, not per cycle)."""
    while True:
        await dut.pc.value_change
        await ReadOnly()  # the counters of the same clock edge have settled
        trace.append((int(dut.pc.value), int(dut.cnt_total.value)))


@cocotb.test()
async def run_programs(dut):
    with open(os.environ["FUSESA_JOBS"], "rb") as f:
        jobs = pickle.load(f)
    await bring_up(dut, PERIOD_NS)

    results = []
    for job in jobs:
        t0 = time.perf_counter()
        await load_images(dut, job.act, job.weight, job.cmd)
        load_s = time.perf_counter() - t0
        trace: list[tuple[int, int]] = []
        watcher = cocotb.start_soon(_watch_pc(dut, trace)) if job.trace_pc else None
        dut.start.value = 1
        await FallingEdge(dut.clk)
        dut.start.value = 0
        t1 = time.perf_counter()
        await with_timeout(RisingEdge(dut.done), (job.timeout_cycles + 2) * PERIOD_NS, "ns")
        if watcher is not None:
            watcher.cancel()
        run_s = time.perf_counter() - t1
        await FallingEdge(dut.clk)
        t2 = time.perf_counter()
        acc = await dump_acc(dut, job.acc_words)
        act = await dump_act(dut, job.act_words)
        results.append(
            AccelResult(
                name=job.name,
                acc=acc,
                act=act,
                pc_trace=trace,
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
