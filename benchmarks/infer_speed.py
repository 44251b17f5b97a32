"""Speed of whole-network RTL inference (``fusesa infer``, ``sim.run_network``): MobileNetV2-
FuSe-Half (width 1.0, 1000 classes, random weights, one N(0,1) image) on the accelerator in
Verilator, per array size and resolution.

Each configuration runs ``fusesa infer`` in a fresh process and prints: wall time of the whole
command (quantization, build, simulation, checks), the build's share (and whether it was
fresh), simulated cycles (measured, every layer bit-exact and equal to the model), simulated
cycles per second of the start -> done runs, the backdoor load / read-back / host compile
times, and the peak RSS of the command and its simulator child (``wait4``).

Usage: python benchmarks/infer_speed.py [--arrays 8x8 16x16] [--res 32 64] [--fresh]
       python benchmarks/infer_speed.py --arrays 16x16 --res 224 --fresh   # the issue's goal
       python benchmarks/infer_speed.py --arrays 16x16 --res 224 --fresh --one-program
``--one-program`` runs ``fusesa infer`` as it runs by default since issue 18 (the whole network
as ONE accelerator program, ``sim.onechip``); without it, ``fusesa infer --per-layer``.

``--fresh`` deletes each configuration's cached simulator build first (under ``FUSESA_BUILD``)
and turns ccache off for the command (``CCACHE_DISABLE=1``), so the wall time includes a cold
Verilator build: Amaranth -> Verilog, Verilation and every C++ file compiled. With one program
the build runs in a child process from the start of the command (``sim.runner.BackgroundBuild``)
and overlaps the host's work; ``build s`` is the build's own time and ``wait s`` what the
command waited for it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_one(
    array: str, res: int, sim: str, fresh: bool, variant: str, one_program: bool = False
) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        cmd = [sys.executable, "-m", "fusesa", "infer", "--net", "mobilenet_v2"]
        cmd += ["--variant", variant, "--array", array, "--resolution", str(res)]
        cmd += ["--sim", sim, "--seed", "0", "--quiet", "--json", str(out)]
        if not one_program:
            cmd.append("--per-layer")
        if fresh:
            _drop_build(array, res, sim, variant, one_program)
        t0 = time.perf_counter()
        env = dict(os.environ, CCACHE_DISABLE="1") if fresh else None
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        text = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        if status != 0 or not out.exists():
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{text[-3000:]}")
        (run,) = json.loads(out.read_text())["runs"]
    s = run["seconds"]
    row = {
        "array": array,
        "res": res,
        "wall": wall,
        "build": s["build"],
        "fresh": bool(s["build_fresh"]),
        "cycles": run["cycles"],
        "cps": run["cycles"] / s["run"],
        "run": s["run"],
        "load": s["load"],
        "compile": s["compile"],
        "sim_proc": s["simulator_process"],
        "rss_mb": usage.ru_maxrss / 1024,
    }
    if one_program:  # the activation dump is part of the simulator process
        return row | {
            "exact": run["exact"] and run["cycles"] == run["model_cycles"],
            "wait": s["build_waited"],
            "read": 0.0,
            "check": s["golden"] + s["check"],
            "layers": len(run["layers"]),
        }
    return row | {
        "exact": run["exact"] and run["cycles_match"],
        "read": s["read"],
        "check": s["check"],
        "layers": sum(1 for r in run["layers"] if r["accel"]),
    }


def _drop_build(array: str, res: int, sim: str, variant: str, one_program: bool = False) -> None:
    """Delete the cached build this configuration will use (depths depend on the network)."""
    import torch

    from hw.config import ArrayConfig
    from sim.network import memory_config
    from sim.runner import BUILD_ROOT
    from sw.export import quantize_network
    from sw.latency.table import parse_array
    from sw.models.zoo import build_model

    r, c = parse_array(array)
    if one_program:
        from sw.mapping.accel import unbounded

        cfg = unbounded(ArrayConfig(r, c))
        shutil.rmtree(BUILD_ROOT / "sim" / sim / cfg.accel_name, ignore_errors=True)
        return
    torch.manual_seed(0)
    model = build_model("mobilenet_v2", variant, 1000).eval()
    qnet = quantize_network(model, torch.randn(1, 3, res, res))  # shapes only
    cfg = memory_config(qnet, ArrayConfig(r, c))
    shutil.rmtree(BUILD_ROOT / "sim" / sim / cfg.accel_name, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arrays", nargs="+", default=["8x8", "16x16"])
    ap.add_argument("--res", nargs="+", type=int, default=[32, 64])
    ap.add_argument("--sim", default="verilator")
    ap.add_argument("--variant", default="half")
    ap.add_argument("--fresh", action="store_true", help="rebuild the simulator first")
    ap.add_argument("--one-program", action="store_true", help="the whole network as one program")
    args = ap.parse_args()
    print(
        f"{'array':>6s} {'res':>4s} {'wall s':>7s} {'build s':>8s} {'wait s':>6s} {'cycles':>9s} "
        f"{'exact':>5s} {'k cyc/s':>8s} {'run s':>6s} {'load s':>6s} {'read s':>6s} "
        f"{'compile s':>9s} {'check s':>7s} {'peak RSS MB':>11s}"
    )
    for array in args.arrays:
        for res in args.res:
            r = run_one(array, res, args.sim, args.fresh, args.variant, args.one_program)
            build = f"{r['build']:.1f}{'' if r['fresh'] else ' c'}"
            print(
                f"{array:>6s} {res:4d} {r['wall']:7.1f} {build:>8s} "
                f"{r.get('wait', r['build']):6.1f} {r['cycles']:9d} "
                f"{'yes' if r['exact'] else 'NO':>5s} {r['cps'] / 1e3:8.0f} {r['run']:6.1f} "
                f"{r['load']:6.1f} {r['read']:6.1f} {r['compile']:9.1f} {r['check']:7.1f} "
                f"{r['rss_mb']:11.0f}",
                flush=True,
            )
    print("(build column: 'c' = cached build, 0 s)")


if __name__ == "__main__":
    main()
