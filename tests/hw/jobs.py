"""Job-stream driver of ``ArrayTop`` in the Amaranth simulator with protocol-legal garbage.

``run_jobs(cfg, jobs, rng)`` lays GEMM and FuSe jobs out back to back (random legal idle gaps;
a mode switch waits until the previous job's last output), fills every don't-care input with
random values (taps in HOLD/SHIFT issue cycles and in GEMM mode, ``in_data``/``in_swap`` when
``in_valid`` is low, ``w_data``/``w_row`` when ``w_we`` is low, ``op`` in GEMM mode, shadow
writes during FuSe jobs and idle gaps), checks the pin stream with ``sim.protocol`` and returns,
per job, the assembled result and the measured cycles (first command to last valid output,
inclusive) so tests compare them with numpy and ``sw.latency.rtl``. A job with ``abort_at``
is cut after that many cycles by a reset pulse; its outputs are not checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from amaranth import Module, ResetInserter, Signal
from amaranth.sim import Simulator

from hw.config import ArrayConfig
from hw.top import ArrayTop
from sim.protocol import PinTrace, check_trace
from sw.latency.rtl import fuse_cycles, gemm_cycles
from sw.mapping.fuse import assemble_fuse_output, fuse_program
from sw.mapping.gemm import assemble_gemm_output, gemm_program

__all__ = ["Job", "gemm_job", "fuse_job", "run_jobs", "random_operands"]

HOLD, FIRST, ACC, SHIFT = 0, 1, 2, 3


def random_operands(rng, shape, width, extreme_p=0.25):
    """Uniform signed values, or (with probability ``extreme_p``) only the extremes."""
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    if rng.random() < extreme_p:
        return rng.choice([lo, hi], size=shape).astype(np.int64)
    return rng.integers(lo, hi + 1, size=shape).astype(np.int64)


@dataclass
class Job:
    kind: str  # "gemm" | "fuse"
    prog: object
    golden: np.ndarray
    model_cycles: int
    abort_at: int | None = None
    start: int = 0  # absolute cycle of the job's first driven cycle (FuSe: the mode cycle)
    result: np.ndarray | None = None
    cycles: int | None = None
    outputs: list = field(default_factory=list)

    @property
    def lead(self) -> int:
        return 1 if self.kind == "fuse" else 0

    @property
    def length(self) -> int:
        """Cycles from ``start`` to the last valid output, inclusive."""
        return self.lead + self.model_cycles


def gemm_job(cfg: ArrayConfig, x, w, abort_at=None) -> Job:
    prog = gemm_program(x, w, cfg.rows, cfg.cols)
    golden = np.asarray(x, np.int64) @ np.asarray(w, np.int64)
    cyc = gemm_cycles(x.shape[0], x.shape[1], w.shape[1], cfg.rows, cfg.cols)
    return Job("gemm", prog, golden, cyc, abort_at)


def fuse_job(cfg: ArrayConfig, lines, taps, abort_at=None) -> Job:
    prog = fuse_program(lines, taps, cfg.rows, cfg.cols)
    golden = np.stack([np.correlate(lines[i], taps[i], "valid") for i in range(len(lines))])
    cyc = fuse_cycles(len(lines), prog.n_out, taps.shape[1], cfg.rows, cfg.cols)
    return Job("fuse", prog, golden, cyc, abort_at)


def _layout(cfg, jobs, rng, garbage, max_gap):
    """Absolute per-cycle pins for the whole job list."""
    t = 0
    for j in jobs:
        j.start = t
        end = j.start + (j.abort_at if j.abort_at is not None else j.length)
        t = end + (2 if j.abort_at is not None else 0) + int(rng.integers(0, max_gap + 1))
    T = t + cfg.latency + 4
    A, W = cfg.act_width, cfg.weight_width
    wrow_bits = max(1, (cfg.rows - 1).bit_length())

    def rnd(shape, width):
        if not garbage:
            return np.zeros(shape, np.int64)
        return rng.integers(-(1 << (width - 1)), 1 << (width - 1), size=shape)

    p = {
        "in_valid": np.zeros(T, np.int64),
        "in_swap": rnd(T, 2) & 1,
        "in_data": rnd((T, cfg.rows), A),
        "w_we": np.zeros(T, np.int64),
        "w_row": (rnd(T, wrow_bits + 1) & ((1 << wrow_bits) - 1)),
        "w_data": rnd((T, cfg.cols), W),
        "mode": np.zeros(T, np.int64),
        "op": rnd(T, 3) & 3,  # don't-care while mode is GEMM
        "tap": rnd((T, cfg.rows), W),
        "rst": np.zeros(T, np.int64),
    }
    mode = 0
    for j in jobs:
        n = j.abort_at if j.abort_at is not None else j.length
        prog = j.prog
        if j.kind == "gemm":
            mode = 0
            p["mode"][j.start :] = 0
            for u in range(min(prog.cycles_driven, n)):
                t = j.start + u
                p["in_valid"][t] = prog.in_valid[u]
                if prog.in_valid[u]:
                    p["in_swap"][t] = prog.in_swap[u]
                    p["in_data"][t] = prog.in_data[u]
                p["w_we"][t] = prog.w_we[u]
                if prog.w_we[u]:
                    p["w_row"][t] = prog.w_row[u]
                    p["w_data"][t] = prog.w_data[u]
        else:
            mode = 1
            p["mode"][j.start :] = 1
            p["op"][j.start :] = HOLD  # idle FuSe cycles issue HOLD
            if garbage:  # shadow writes are allowed during FuSe (they are overwritten later)
                p["w_we"][j.start : j.start + n] = rng.integers(0, 2, n)
                p["w_row"][j.start : j.start + n] = rng.integers(0, cfg.rows, n)
            # outside the stream windows in_valid is don't-care in FuSe mode too (the row
            # holds zero taps then; the formal fold proof allows the same)
            if garbage:
                p["in_valid"][j.start + 1 : j.start + n] = rng.integers(0, 2, n - 1)
                # always in the first FuSe cycle: the PEs' weight registers still hold the
                # last GEMM tile there (the first HOLD loads zero taps one cycle later)
                if n >= 2:
                    p["in_valid"][j.start + 1] = 1
            for u in range(min(prog.cycles_driven, n - 1)):
                t = j.start + 1 + u
                if prog.in_valid[u]:
                    p["in_valid"][t] = 1
                    p["in_data"][t] = prog.in_data[u]
                p["op"][t] = prog.op[u]
                if prog.op[u] in (FIRST, ACC):
                    p["tap"][t] = prog.tap[u]
        if j.abort_at is not None:
            a = j.start + j.abort_at
            p["rst"][a : a + 2] = 1
            p["mode"][a:] = mode  # held through the reset
    del mode
    # the previous FuSe job's mode is held in the gap before a GEMM job starts; in a gap in
    # FuSe mode ops must stay HOLD (set above); writes in gaps are legal garbage
    if garbage:
        busy = np.zeros(T, bool)
        for j in jobs:
            if j.kind == "gemm":
                busy[j.start : j.start + (j.abort_at or j.length)] = True
        idle = ~busy & (p["rst"] == 0) & (p["w_we"] == 0)
        extra = idle & (rng.random(T) < 0.3)
        p["w_we"][extra] = 1
        p["w_row"][extra] = rng.integers(0, cfg.rows, int(extra.sum()))
    return p, T


def _check_protocol(cfg, p, jobs):
    """The recorded pins obey the protocol (segments between resets are checked apart)."""
    cuts = [0] + [int(i) + 1 for i in np.flatnonzero(np.diff(p["rst"]) == -1)] + [len(p["rst"])]
    for a, b in zip(cuts, cuts[1:], strict=False):
        seg = {k: v[a:b] for k, v in p.items()}
        keep = seg["rst"] == 0
        # cycles of an aborted job before its reset are not checked for drain completeness
        last_abort = [j for j in jobs if j.abort_at is not None and a <= j.start + j.abort_at < b]
        end = (last_abort[0].start + last_abort[0].abort_at - a) if last_abort else b - a
        tr = PinTrace(
            seg["in_valid"][:end],
            seg["in_swap"][:end],
            seg["w_we"][:end],
            seg["w_row"][:end],
            seg["mode"][:end],
            seg["op"][:end],
            seg["tap"][:end],
        )
        del keep
        if cfg.fuse:
            check_trace(tr, cfg.rows, cfg.cols)
        else:
            tr.mode = tr.op = tr.tap = None
            check_trace(tr, cfg.rows, cfg.cols)


def run_jobs(cfg: ArrayConfig, jobs: list[Job], rng, garbage=True, max_gap=3, top=ArrayTop):
    p, T = _layout(cfg, jobs, rng, garbage, max_gap)
    _check_protocol(cfg, p, jobs)
    dut = top(cfg)
    rst = Signal()
    m = Module()
    m.submodules.dut = ResetInserter(rst)(dut)
    outs = []

    async def bench(ctx):
        for t in range(T):
            if ctx.get(dut.out_valid):
                outs.append((t, [ctx.get(dut.out_data[c]) for c in range(cfg.cols)]))
            ctx.set(rst, int(p["rst"][t]))
            ctx.set(dut.in_valid, int(p["in_valid"][t]))
            ctx.set(dut.in_swap, int(p["in_swap"][t]))
            ctx.set(dut.w_we, int(p["w_we"][t]))
            ctx.set(dut.w_row, int(p["w_row"][t]))
            for r in range(cfg.rows):
                ctx.set(dut.in_data[r], int(p["in_data"][t, r]))
            for c in range(cfg.cols):
                ctx.set(dut.w_data[c], int(p["w_data"][t, c]))
            if cfg.fuse:
                ctx.set(dut.mode, int(p["mode"][t]))
                ctx.set(dut.op, int(p["op"][t]))
                for r in range(cfg.rows):
                    ctx.set(dut.tap[r], int(p["tap"][t, r]))
            await ctx.tick()

    sim = Simulator(m)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()

    bounds = [j.start for j in jobs] + [T]
    for j, end in zip(jobs, bounds[1:], strict=True):
        mine = [(t, v) for t, v in outs if j.start <= t < end]
        j.outputs = mine
        if j.abort_at is not None:
            late = [t for t, _ in mine if t > j.start + j.abort_at]  # read before the edge
            assert not late, f"outputs after the reset of an aborted job at cycles {late}"
            continue
        n = j.prog.n_outputs
        assert len(mine) == n, (
            f"{j.kind} job at cycle {j.start}: {len(mine)} outputs, expected {n}"
            f" (at cycles {[t for t, _ in mine]})"
        )
        data = np.array([v for _, v in mine], np.int64)
        j.cycles = mine[-1][0] - j.start - j.lead + 1
        if j.kind == "gemm":
            j.result = assemble_gemm_output(j.prog, data)
        else:
            j.result = assemble_fuse_output(j.prog, data)
    return jobs


def random_config(rng, rows=None, cols=None, fuse=None) -> ArrayConfig:
    """A random legal config: 1..6 x 1..6, operand widths 2..8, max_kernel 1..7, accumulator
    between its minimum and a few bits more (the narrowest legal one is the interesting one)."""
    rows = int(rng.integers(1, 7)) if rows is None else rows
    cols = int(rng.integers(1, 7)) if cols is None else cols
    a, w = (int(v) for v in rng.integers(2, 9, 2))
    k = int(rng.integers(1, 8))
    fuse = bool(rng.random() < 0.85) if fuse is None else fuse
    probe = ArrayConfig(rows, cols, a, w, 64, k, fuse)
    acc = min(64, probe.min_acc_width + int(rng.choice([0, 0, 1, 3])))
    return ArrayConfig(rows, cols, a, w, acc, k, fuse)


def random_jobs(cfg: ArrayConfig, rng, n: int, kinds=("gemm", "fuse")) -> list[Job]:
    """``n`` random GEMM / FuSe jobs sized around the array (folds in both directions)."""
    jobs = []
    for _ in range(n):
        kind = kinds[int(rng.integers(len(kinds)))] if cfg.fuse else "gemm"
        if kind == "gemm":
            M = int(rng.integers(1, 2 * max(cfg.rows, cfg.cols) + 2))
            Kr = int(rng.integers(1, 2 * cfg.rows + 2))
            N = int(rng.integers(1, 2 * cfg.cols + 2))
            x = random_operands(rng, (M, Kr), cfg.act_width)
            w = random_operands(rng, (Kr, N), cfg.weight_width)
            jobs.append(gemm_job(cfg, x, w))
        else:
            K = int(rng.integers(1, cfg.max_kernel + 1))
            L = int(rng.integers(1, 2 * cfg.rows + 2))
            width = K - 1 + int(rng.integers(1, 2 * cfg.cols + 2))
            lines = random_operands(rng, (L, width), cfg.act_width)
            taps = random_operands(rng, (L, K), cfg.weight_width)
            jobs.append(fuse_job(cfg, lines, taps))
    return jobs


def check_jobs(jobs: list[Job]) -> None:
    """Every finished job bit-exact against numpy and cycle-exact against the RTL model."""
    for i, j in enumerate(jobs):
        if j.abort_at is not None:
            continue
        np.testing.assert_array_equal(j.result, j.golden, err_msg=f"job {i} ({j.kind})")
        assert j.cycles == j.model_cycles, (
            f"job {i} ({j.kind}): measured {j.cycles} cycles, sw.latency.rtl says {j.model_cycles}"
        )


def fuzz_case(seed: int, n_jobs: int = 3) -> tuple[ArrayConfig, list[Job]]:
    """One reproducible random case (config, jobs, optionally a mid-job reset), run and
    checked; raises on any mismatch."""
    rng = np.random.default_rng(seed)
    cfg = random_config(rng)
    jobs = random_jobs(cfg, rng, n_jobs)
    if rng.random() < 0.2:
        victim = jobs[int(rng.integers(len(jobs) - 1))] if len(jobs) > 1 else None
        if victim is not None:
            victim.abort_at = int(rng.integers(2, victim.length + 1))
    run_jobs(cfg, jobs, rng, garbage=True, max_gap=int(rng.integers(0, 4)))
    check_jobs(jobs)
    return cfg, jobs
