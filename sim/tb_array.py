"""cocotb bench of ``fusesa_array`` (hw.top.ArrayTop): replays GEMM tile programs.

Driver, monitor and checker are kept apart: this bench only drives the per-cycle commands of
each job (made by ``sw.mapping``) and records every valid output word with the cycle it was
seen in. Assembling and checking against the golden happens in pytest (``sim.gemm``).

Timing convention: at the falling edge inside cycle ``t`` the monitor samples the registered
outputs of cycle ``t`` and the driver applies the inputs of cycle ``t`` (sampled by the rising
edge that ends it). Cycle 0 of a job is its first command.

Jobs and results are ``sim.records.ArrayJob`` / ``ArrayResult``.

Environment: ``FUSESA_JOBS`` (pickle: list of jobs) and ``FUSESA_RESULTS`` (pickle written).
"""

from __future__ import annotations

import os
import pickle

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

from sim.records import ArrayJob, ArrayResult

#: every input of ``fusesa_array`` (the FuSe ones exist only when the array has the mode)
INPUTS = ("in_valid", "in_swap", "in_data", "w_we", "w_row", "w_data", "mode", "op", "tap")


@cocotb.test()
async def replay_jobs(dut):
    with open(os.environ["FUSESA_JOBS"], "rb") as f:
        jobs: list[ArrayJob] = pickle.load(f)
    Clock(dut.clk, 10, unit="ns", impl="gpi").start()
    all_ports = sorted(
        {p for job in jobs for p in job.ports} | {p for job in jobs for p in job.static}
    )
    for p in all_ports:
        getattr(dut, p).value = 0
    dut.rst.value = 1
    for _ in range(3):
        await FallingEdge(dut.clk)
    dut.rst.value = 0
    await FallingEdge(dut.clk)

    results = []
    out_valid, out_data = dut.out_valid, dut.out_data
    for job in jobs:
        for p, v in job.static.items():
            getattr(dut, p).value = v
        await FallingEdge(dut.clk)  # static settings (e.g. the registered mode) take effect
        handles = [getattr(dut, p) for p in job.ports]
        idle = (0,) * len(handles)
        commands = job.commands
        n_expected = job.n_outputs
        limit = job.timeout_cycles
        outs: list[tuple[int, int]] = []
        prev = idle
        t = 0
        while len(outs) < n_expected:
            if t >= limit:
                raise AssertionError(
                    f"job {job.name}: only {len(outs)} of {n_expected} outputs after {t} cycles"
                )
            if int(out_valid.value):
                outs.append((t, int(out_data.value)))
            cmd = commands[t] if t < len(commands) else idle
            for h, v, p in zip(handles, cmd, prev, strict=True):
                if v != p:
                    h.value = v
            prev = cmd
            t += 1
            await FallingEdge(dut.clk)
        for h in handles:
            h.value = 0
        # Idle until the pipeline is empty, so the next job starts from a quiet array.
        for _ in range(job.drain_cycles):
            if int(out_valid.value):
                raise AssertionError(f"job {job.name}: unexpected extra output after the last one")
            await FallingEdge(dut.clk)
        results.append(ArrayResult(job.name, outs))
    with open(os.environ["FUSESA_RESULTS"], "wb") as f:
        pickle.dump(results, f)
