"""Build and run the plain C++ Verilator harness (``harness.cpp``) on the accelerator RTL that
``sim.runner`` builds for the cocotb bench: same Verilog, same bench top (image files loaded
by ``$readmemh``), same ``.vlt`` public list, same Verilator options. ``run_raw(job, cfg)`` runs one ``sim.accel.AccelJob`` and returns an
``AccelResult`` (``load_seconds`` 0: the harness times only start -> done)."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from hw.config import ArrayConfig
from sim.accel import AccelJob, AccelResult
from sim.memfiles import read_dump, write_image
from sim.runner import (
    ACCEL_DUMP_FILE,
    ACCEL_LOAD_FILES,
    ACCEL_TB_TOP,
    BUILD_ROOT,
    _write_if_changed,
    accel_tb_top,
    accel_tb_vlt,
    accel_verilator_args,
    build,
    prepare_env,
)

HERE = Path(__file__).resolve().parent


@dataclass
class RawBuild:
    exe: Path
    seconds: float
    fresh: bool


def build_raw(cfg: ArrayConfig, jobs: int = 2, cold: bool = False) -> RawBuild:
    """Compile the harness against ``cfg``'s accelerator (cached unless ``cold``)."""
    prepare_env("verilator")
    info = build(cfg, "verilator", design="accel")  # writes rtl/ and the .vlt
    rtl = info.build_dir / "rtl"
    out = BUILD_ROOT / "harness" / cfg.accel_name
    exe = out / "harness"
    if cold:
        shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    # the cocotb build's bench top clocks itself; the harness drives ``clk`` from C++, so it
    # gets the same bench top with ``clk`` as a port (same RTL, same public set otherwise)
    tb = accel_tb_top(rtl / "fusesa_accel.v", "fusesa_accel", internal_clock=False)
    _write_if_changed(out / f"{ACCEL_TB_TOP}.v", tb)
    _write_if_changed(out / "tb_public.vlt", accel_tb_vlt(tb))
    srcs = [rtl / "fusesa_accel.v", out / f"{ACCEL_TB_TOP}.v", out / "tb_public.vlt"]
    srcs.append(HERE / "harness.cpp")
    if exe.exists() and all(exe.stat().st_mtime >= s.stat().st_mtime for s in srcs):
        return RawBuild(exe, 0.0, False)
    cmd = [
        "verilator",
        "--cc",
        "--exe",
        "--build",
        "-j",
        str(jobs),
        "-Wno-fatal",
        "-Wno-WIDTHEXPAND",
        "-Wno-WIDTHTRUNC",
        *accel_verilator_args(),
        "--top-module",
        ACCEL_TB_TOP,
        "-Mdir",
        str(out / "obj"),
        "-o",
        str(exe),
        *map(str, srcs),
    ]
    t0 = time.perf_counter()
    log = out / "build.log"
    with open(log, "w") as fh:
        res = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT)
    if res.returncode != 0:
        raise RuntimeError(f"harness build failed; see {log}")
    return RawBuild(exe, time.perf_counter() - t0, True)


def run_raw(job: AccelJob, cfg: ArrayConfig) -> AccelResult:
    """Run ``job`` on the raw harness; the result has the same fields as the cocotb run's."""
    rb = build_raw(cfg)
    d = BUILD_ROOT / "harness" / cfg.accel_name / "run"
    d.mkdir(parents=True, exist_ok=True)
    images = (job.act, job.weight, dict(enumerate(job.cmd)))
    for fname, image in zip(ACCEL_LOAD_FILES.values(), images, strict=True):
        write_image(d / fname, image)
    (d / ACCEL_DUMP_FILE).unlink(missing_ok=True)
    res = subprocess.run(
        [str(rb.exe), str(d), str(job.acc_words), str(job.timeout_cycles)],
        capture_output=True,
        text=True,
    )
    if res.returncode != 0:
        raise RuntimeError(f"harness run failed: {res.stderr}")
    acc = read_dump(d / ACCEL_DUMP_FILE, job.acc_words) if job.acc_words else []
    total, busy, stall, error, secs = (d / "counters.txt").read_text().split()
    return AccelResult(
        name=job.name,
        acc=acc,
        total=int(total),
        busy=int(busy),
        stall=int(stall),
        error=bool(int(error)),
        load_seconds=0.0,
        run_seconds=float(secs),
    )
