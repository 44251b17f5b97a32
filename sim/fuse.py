"""``rtl_fuse``: run 1-D depthwise lines through the array's FuSe mode on a simulator."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hw.config import ArrayConfig
from sim.gemm import check_int_range
from sim.records import ArrayJob, ArrayResult
from sim.runner import run_bench
from sw.mapping.fuse import FuseProgram, assemble_fuse_output, fuse_program
from sw.mapping.gemm import unpack_lanes

__all__ = ["FuseResult", "rtl_fuse", "FUSE_PORTS"]

FUSE_PORTS = ("in_valid", "in_data", "tap", "op")
FUSE_MODE = 1  # hw.interfaces.ArrayMode.FUSE


@dataclass
class FuseResult:
    output: np.ndarray  # int64 [lines, stride-1 positions]
    cycles: int  # first command to last valid output, inclusive (measured)


def fuse_job(name: str, prog: FuseProgram, cfg: ArrayConfig) -> ArrayJob:
    """The ``sim.tb_array`` job that replays FuSe program ``prog``."""
    return ArrayJob(
        name=name,
        ports=FUSE_PORTS,
        static={"mode": FUSE_MODE},
        commands=prog.packed(cfg.act_width, cfg.weight_width),
        n_outputs=prog.n_outputs,
        timeout_cycles=prog.cycles_driven + cfg.rows + 64,
        drain_cycles=cfg.rows + 2,
    )


def check_fuse_config(cfg: ArrayConfig, K: int, what: str) -> None:
    if not cfg.fuse:
        raise ValueError(
            f"{what}: array {cfg.name} was generated without the FuSe mode (fuse=False)"
        )
    if K > cfg.max_kernel:
        raise ValueError(
            f"{what}: kernel length {K} exceeds the array's max_kernel={cfg.max_kernel}"
        )


def rtl_fuse(
    lines: np.ndarray, taps: np.ndarray, cfg: ArrayConfig, simulator: str = "verilator"
) -> FuseResult:
    """``y[l, j] = sum_k lines[l, j+k] * taps[l, k]`` for every stride-1 position, in RTL."""
    lines = check_int_range("FuSe lines", lines, cfg.act_width)
    taps = check_int_range("FuSe taps", taps, cfg.weight_width)
    check_fuse_config(cfg, taps.shape[-1] if taps.ndim == 2 else 0, "rtl_fuse")
    prog = fuse_program(lines, taps, cfg.rows, cfg.cols)
    res: ArrayResult = run_bench(
        cfg,
        simulator,
        "sim.tb_array",
        [fuse_job(f"fuse_{lines.shape[0]}x{lines.shape[1]}k{taps.shape[1]}", prog, cfg)],
    )[0]
    words = [w for _, w in res.outputs]
    lanes = np.stack([unpack_lanes(w, cfg.cols, cfg.acc_width) for w in words])
    return FuseResult(assemble_fuse_output(prog, lanes), res.outputs[-1][0] + 1)
