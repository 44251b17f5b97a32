"""cocotb bench of the accelerator (``hw.accel.Accelerator``, inside the bench top
``fusesa_accel_tb`` of ``sim.runner.accel_tb_top``): runs whole programs with no per-cycle
Python.

Per job (``sim.accel.AccelJob``): write the activation, weight and command images as
``$readmemh`` files and pulse the bench top's ``load_<mem>`` inputs (the simulator loads each
memory in one system task, no clock edges), pulse ``start``, sleep until ``RisingEdge(done)``
(one callback for the whole run; the clock toggles in the GPI layer, not in Python), then read
the counters and ``error``, pulse ``dump_acc`` and read the accumulator words back from the
``$writememh`` file into a ``sim.accel.AccelResult``.

Environment: ``FUSESA_JOBS`` (pickle: list of jobs) and ``FUSESA_RESULTS`` (pickle written).
"""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

import cocotb
from cocotb.triggers import FallingEdge, RisingEdge, with_timeout

from sim.accel import AccelResult
from sim.memfiles import read_dump, start_clock, write_image
from sim.runner import ACCEL_DUMP_FILE, ACCEL_LOAD_FILES

PERIOD_NS = 10


@cocotb.test()
async def run_programs(dut):
    with open(os.environ["FUSESA_JOBS"], "rb") as f:
        jobs = pickle.load(f)
    # the clock toggles in the GPI layer (C++), not in a Python task: no Python per cycle
    start_clock(dut, PERIOD_NS)
    loads = [getattr(dut, f"load_{mem}") for mem in ACCEL_LOAD_FILES]
    # every input driven (the host streams idle: an X ``valid`` on Icarus would make the
    # read-back look busy, and ``start`` is ignored while a read-back is in flight)
    idle = ("load__valid", "load__payload", "rd_req__valid", "rd_req__payload", "rd_data__ready")
    for port in ("start", "act_we", "w_we", "cmd_we", "acc_raddr", "dump_acc", "dump_n", *idle):
        getattr(dut, port).value = 0
    for h in loads:
        h.value = 0
    dut.rst.value = 1
    for _ in range(2):
        await FallingEdge(dut.clk)
    dut.rst.value = 0
    for _ in range(2):  # the bench top registers rst and start
        await FallingEdge(dut.clk)

    results = []
    for job in jobs:
        t0 = time.perf_counter()
        images = (job.act, job.weight, dict(enumerate(job.cmd)))
        for fname, image, h in zip(ACCEL_LOAD_FILES.values(), images, loads, strict=True):
            if image:
                write_image(Path(fname), image)
                h.value = 1
        await FallingEdge(dut.clk)
        for h in loads:
            h.value = 0
        load_s = time.perf_counter() - t0
        dut.start.value = 1
        await FallingEdge(dut.clk)
        dut.start.value = 0
        t1 = time.perf_counter()
        await with_timeout(RisingEdge(dut.done), (job.timeout_cycles + 2) * PERIOD_NS, "ns")
        run_s = time.perf_counter() - t1
        await FallingEdge(dut.clk)
        t2 = time.perf_counter()
        acc: list[int] = []
        if job.acc_words:
            dump = Path(ACCEL_DUMP_FILE)
            dump.unlink(missing_ok=True)
            dut.dump_n.value = job.acc_words
            dut.dump_acc.value = 1
            await FallingEdge(dut.clk)
            dut.dump_acc.value = 0
            acc = read_dump(dump, job.acc_words)
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
