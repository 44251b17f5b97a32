"""``accel_gemm``: integer GEMMs on the accelerator top (``hw.accel``) in a simulator, with the
cycle count read from its hardware counters (the RTL half of ``sw.ref.gemm_ref`` /
``accel_gemm``).

Jobs and results are typed (``AccelJob``, ``AccelResult``); the bench is ``sim.tb_accel``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hw.config import ArrayConfig
from sim.gemm import check_int_range
from sim.runner import run_bench
from sw.latency.rtl import fuse_cycles, gemm_cycles
from sw.mapping.accel import (
    AccelProgram,
    FusePlacement,
    LayerSpec,
    compile_gemms,
    compile_layers,
)

__all__ = [
    "AccelJob",
    "AccelResult",
    "AccelRun",
    "LayersRun",
    "accel_gemm",
    "accel_gemms",
    "accel_layers",
    "run_programs",
]


@dataclass
class AccelJob:
    """One program run: memory images (word address -> packed word), command words, how many
    accumulator words to read back, and a timeout."""

    name: str
    act: dict[int, int]
    weight: dict[int, int]
    cmd: list[int]
    acc_words: int
    timeout_cycles: int
    act_words: int = 0  # activation words to read back after the run (int8 tensors)
    trace_pc: bool = False  # snapshot cnt_total whenever the program counter changes


@dataclass
class AccelResult:
    """What the bench reads back after ``done``: accumulator words and the counters."""

    name: str
    acc: list[int]
    total: int
    busy: int
    stall: int
    error: bool
    act: list[int] = field(default_factory=list)  # the job's ``act_words`` words
    #: with ``trace_pc``: ``(pc, cnt_total)`` right after each program-counter change: when
    #: ``pc`` becomes ``k``, ``cnt_total`` is the cycles of commands ``0 .. k-1``
    pc_trace: list[tuple[int, int]] = field(default_factory=list)
    load_seconds: float = 0.0  # backdoor load + read-back wall time
    run_seconds: float = 0.0  # start -> done wall time


@dataclass
class AccelRun:
    """``accel_gemms``'s answer: outputs, the counters, and the raw bench result."""

    outputs: list[np.ndarray]
    cycles: int  # cnt_total
    busy: int
    stall: int
    result: AccelResult = field(repr=False)


@dataclass
class LayersRun:
    """``accel_layers``'s answer: one output per layer, the counters, the program."""

    outputs: list[np.ndarray]
    cycles: int  # cnt_total of the whole program
    busy: int
    stall: int
    program: AccelProgram = field(repr=False)
    result: AccelResult = field(repr=False)


def _job_cycles(p, rows: int, cols: int) -> int:
    if isinstance(p, FusePlacement):
        return fuse_cycles(p.lines, p.positions, p.K, rows, cols)
    return gemm_cycles(p.M, p.Kr, p.N, rows, cols)


def job_of(prog: AccelProgram, name: str) -> AccelJob:
    R, C = prog.cfg.rows, prog.cfg.cols
    timeout = 4 * sum(_job_cycles(p, R, C) + 8 for p in prog.placements)
    return AccelJob(name, prog.act, prog.weight, prog.words, prog.acc_words_used, timeout + 64)


def run_programs(
    jobs: list[AccelJob], cfg: ArrayConfig, simulator: str = "verilator"
) -> list[AccelResult]:
    """Run several programs back to back in one simulator process."""
    return run_bench(cfg, simulator, "sim.tb_accel", jobs, design="accel")


def accel_gemms(
    pairs: list[tuple[np.ndarray, np.ndarray]], cfg: ArrayConfig, simulator: str = "verilator"
) -> AccelRun:
    """Run ``[(X, W), ...]`` as one accelerator program (one GEMM command each)."""
    checked = [
        (
            check_int_range(f"GEMM {i} activations", x, cfg.act_width),
            check_int_range(f"GEMM {i} weights", w, cfg.weight_width),
        )
        for i, (x, w) in enumerate(pairs)
    ]
    prog = compile_gemms(checked, cfg)
    (res,) = run_programs([job_of(prog, f"{len(pairs)}gemms")], cfg, simulator)
    if res.error:
        raise RuntimeError(f"accelerator raised error on a compiled program ({res.name})")
    return AccelRun(prog.outputs(res.acc), res.total, res.busy, res.stall, res)


def accel_gemm(
    x: np.ndarray, w: np.ndarray, cfg: ArrayConfig, simulator: str = "verilator"
) -> tuple[np.ndarray, int]:
    """``(Y, cycles)`` of ``x[M, Kr] @ w[Kr, N]`` on the accelerator; cycles = ``cnt_total``."""
    run = accel_gemms([(x, w)], cfg, simulator)
    return run.outputs[0], run.cycles


def accel_layers(
    items: list[tuple[LayerSpec, np.ndarray]],
    cfg: ArrayConfig,
    simulator: str = "verilator",
    depthwise: str = "auto",
) -> LayersRun:
    """Run layers ``[(spec, input), ...]`` back to back as one accelerator program
    (``sw.mapping.accel.compile_layers``); cycles = ``cnt_total`` of the whole program."""
    prog = compile_layers(items, cfg, depthwise)
    name = "+".join(plan.name for plan in prog.layers)[:60]
    (res,) = run_programs([job_of(prog, name)], cfg, simulator)
    if res.error:
        raise RuntimeError(f"accelerator raised error on a compiled program ({name})")
    return LayersRun(prog.layer_outputs(res.acc), res.total, res.busy, res.stall, prog, res)
