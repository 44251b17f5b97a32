"""``rtl_gemm``: run integer GEMMs through the generated array on a simulator (the RTL half
of the golden pair ``sw.ref.gemm_ref`` / ``rtl_gemm``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hw.config import ArrayConfig
from sim.records import ArrayJob, ArrayResult
from sim.runner import run_bench
from sw.mapping.gemm import GemmProgram, assemble_gemm_output, gemm_program, unpack_lanes

__all__ = ["GemmResult", "gemm_job", "rtl_gemm", "rtl_gemms", "check_int_range"]


@dataclass
class GemmResult:
    output: np.ndarray  # int64 [M, N]
    cycles: int  # first command to last valid output, inclusive (measured)


def check_int_range(name: str, a: np.ndarray, bits: int) -> np.ndarray:
    """Return ``a`` as int64, or raise if it holds non-integers or values outside ``bits``."""
    arr = np.asarray(a)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise ValueError(f"{name} must hold integer values (quantize it first)")
    elif arr.dtype.kind not in "iub":
        raise ValueError(f"{name} must be numeric, not {arr.dtype}")
    arr = arr.astype(np.int64)
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if arr.size and (arr.min() < lo or arr.max() > hi):
        raise ValueError(
            f"{name} holds values in [{arr.min()}, {arr.max()}], outside the {bits}-bit range [{lo}, {hi}]"
        )
    return arr


GEMM_PORTS = ("in_valid", "in_swap", "in_data", "w_we", "w_row", "w_data")


def gemm_job(name: str, prog: GemmProgram, cfg: ArrayConfig) -> ArrayJob:
    """The ``sim.tb_array`` job that replays GEMM tile program ``prog``."""
    return ArrayJob(
        name=name,
        ports=GEMM_PORTS,
        static={"mode": 0} if cfg.fuse else {},
        commands=prog.packed(cfg.act_width, cfg.weight_width),
        n_outputs=prog.n_outputs,
        timeout_cycles=2 * prog.cycles_driven + 4 * cfg.latency + 64,
        drain_cycles=cfg.latency + 2,
    )


def rtl_gemms(
    pairs: list[tuple[np.ndarray, np.ndarray]], cfg: ArrayConfig, simulator: str = "verilator"
) -> list[GemmResult]:
    """Run several GEMMs ``x @ w`` back to back in one simulator process."""
    progs, jobs = [], []
    for i, (x, w) in enumerate(pairs):
        x = check_int_range(f"GEMM {i} activations", x, cfg.act_width)
        w = check_int_range(f"GEMM {i} weights", w, cfg.weight_width)
        prog = gemm_program(x, w, cfg.rows, cfg.cols)
        progs.append(prog)
        jobs.append(gemm_job(f"gemm{i}_{x.shape[0]}x{x.shape[1]}x{w.shape[1]}", prog, cfg))
    results: list[ArrayResult] = run_bench(cfg, simulator, "sim.tb_array", jobs)
    out = []
    for prog, res in zip(progs, results, strict=True):
        words = [word for _, word in res.outputs]
        lanes = np.stack([unpack_lanes(wd, cfg.cols, cfg.acc_width) for wd in words])
        cycles = res.outputs[-1][0] + 1
        out.append(GemmResult(assemble_gemm_output(prog, lanes), cycles))
    return out


def rtl_gemm(
    x: np.ndarray, w: np.ndarray, cfg: ArrayConfig, simulator: str = "verilator"
) -> GemmResult:
    """Run ``x[M, Kr] @ w[Kr, N]`` (int8-range integers) through the RTL."""
    return rtl_gemms([(x, w)], cfg, simulator)[0]
