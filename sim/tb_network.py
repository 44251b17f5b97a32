"""cocotb bench: a whole quantized network through ``fusesa_accel`` (``hw.accel``) in one
simulator process (``sim.network.run_network``, docs/inference.md).

The test walks the network itself. Per conv/linear layer: compile a one-layer program
(``sw.mapping.accel.compile_layers``), load it in bulk (``sim.accel_bench.load_images``:
``$readmemh`` through the bench top), pulse ``start``,
sleep until ``RisingEdge(done)``, read the counters and the accumulators back
(``read_accumulators``), compare them exactly with the golden's ``accumulate`` of the same
input, requantize with the golden's ``requantize``. Other layers run in the golden executor on
the host. One JSON line per layer goes to the job's progress file as soon as the layer is done.

Environment: ``FUSESA_JOBS`` (pickle: ``[sim.network.NetworkJob]``) and ``FUSESA_RESULTS``
(pickle written: one dict with the output, the layer records and timings).
"""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import sys
import time
import types

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, RisingEdge, with_timeout


def _bare_package(name: str) -> None:
    """Register package ``name`` without running its ``__init__``, so that importing one of
    its numpy-only modules does not import torch: ``sw.export`` and ``sw.latency`` import torch
    in their ``__init__``, and inside the simulator process ``import torch`` takes about 10 s
    (1.5 s in a plain interpreter). The bench needs only ``sw.export.qnet`` (the records the
    job unpickles) and ``sw.latency.rtl``."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    mod = types.ModuleType(name)
    mod.__path__ = list(spec.submodule_search_locations)
    mod.__spec__, mod.__package__, mod.__file__ = spec, name, spec.origin
    sys.modules[name] = mod


_bare_package("sw.export")
_bare_package("sw.latency")

from sim.accel_bench import bring_up, dump_acc, load_images  # noqa: E402
from sim.network import (  # noqa: E402  (after the package stubs)
    LayerRun,
    diff_summary,
    layer_macs,
    layer_model_cycles,
)
from sw.mapping.accel import LayerSpec, compile_layers  # noqa: E402

PERIOD_NS = 10


async def read_accumulators(dut, n: int, cfg) -> np.ndarray:
    """Accumulator words ``0 .. n-1`` as int64 lanes ``[n, cols]`` (lane ``i`` = bits
    ``[i*acc_width +: acc_width]``, two's complement)."""
    lanes, width = cfg.cols, cfg.acc_width
    if n == 0:
        return np.zeros((0, lanes), np.int64)
    words = await dump_acc(dut, n)
    if width not in (8, 16, 32, 64):  # generic path: one Python int per word
        from sw.mapping.gemm import unpack_lanes

        return np.stack([unpack_lanes(w, lanes, width) for w in words])
    nbytes = lanes * width // 8
    raw = b"".join(w.to_bytes(nbytes, "little") for w in words)
    return np.frombuffer(raw, f"<i{width // 8}").reshape(n, lanes).astype(np.int64)


def layer_output(prog, lanes: np.ndarray) -> np.ndarray:
    """The compiled layer's output (bias added) from the accumulator lanes: the word layouts
    of ``AccelProgram.outputs`` (docs/accelerator.md), vectorized, then ``LayerPlan.assemble``.
    """
    from sw.mapping.accel import FusePlacement

    cfg = prog.cfg
    R, C = cfg.rows, cfg.cols
    outs = []
    for p in prog.placements:
        w = lanes[p.acc_addr : p.acc_addr + p.acc_words(cfg)]
        if isinstance(p, FusePlacement):
            groups, pfolds = p.folds(cfg)
            # word (g, pf, i) holds line g*R + R-1-i at positions pf*C .. pf*C + C-1
            y = w.reshape(groups, pfolds, R, C)[:, :, ::-1, :]
            y = y.transpose(0, 2, 1, 3).reshape(groups * R, pfolds * C)
            outs.append(y[: p.lines, : p.positions])
        else:  # GEMM: word nf*M + i holds Y[i, nf*C:(nf+1)*C]
            nf = -(-p.N // C)
            outs.append(w.reshape(nf, p.M, C).transpose(1, 0, 2).reshape(p.M, nf * C)[:, : p.N])
    (plan,) = prog.layers
    return plan.assemble(outs)


def _spec(layer) -> LayerSpec:
    if layer.kind.value == "linear":
        return LayerSpec(layer.weight, layer.bias, linear=True, name=layer.name)
    return LayerSpec(
        layer.weight,
        layer.bias,
        tuple(layer.stride),
        tuple(layer.padding),
        layer.groups,
        name=layer.name,
    )


async def _run_layer(dut, layer, golden_layer, x, job, cfg) -> tuple[LayerRun, np.ndarray]:
    t0 = time.perf_counter()
    prog = compile_layers([(_spec(layer), x)], cfg, job.depthwise)
    (plan,) = prog.layers
    t1 = time.perf_counter()
    words = await load_images(dut, prog.act, prog.weight, prog.words)
    t2 = time.perf_counter()
    in_shape = tuple(x.shape[1:])
    model = layer_model_cycles(layer, in_shape, x.shape[0], cfg, plan.mapping)
    dut.start.value = 1
    await FallingEdge(dut.clk)
    dut.start.value = 0
    await with_timeout(RisingEdge(dut.done), (4 * model + 1000) * PERIOD_NS, "ns")
    await FallingEdge(dut.clk)
    t3 = time.perf_counter()
    n_acc = prog.acc_words_used
    lanes = await read_accumulators(dut, n_acc, cfg)
    t4 = time.perf_counter()
    acc = layer_output(prog, lanes)
    want = golden_layer.accumulate(x)
    mism, maxd, text = diff_summary(acc, want)
    t5 = time.perf_counter()
    rec = LayerRun(
        name=layer.name,
        kind=layer.op,
        out_shape=tuple(acc.shape),
        accel=True,
        mapping=plan.mapping,
        cycles=int(dut.cnt_total.value),
        model_cycles=model,
        busy=int(dut.cnt_busy.value),
        stall=int(dut.cnt_stall.value),
        macs=layer_macs(layer, in_shape, x.shape[0]),
        pes=cfg.pes,
        commands=len(prog.commands) - 1,
        exact=mism == 0,
        mismatches=mism,
        max_abs_diff=maxd,
        diff=text,
        error=bool(int(dut.error.value)),
        words={
            "act": len(prog.act),
            "weight": len(prog.weight),
            "cmd": len(prog.words),
            "acc": n_acc,
            "loaded": words,
        },
        seconds={
            "compile": t1 - t0,
            "load": t2 - t1,
            "run": t3 - t2,
            "read": t4 - t3,
            "check": t5 - t4,
        },
    )
    if rec.error and rec.exact:
        rec.exact, rec.diff = False, "accelerator raised error"
    return rec, acc


@cocotb.test()
async def run_network(dut):
    with open(os.environ["FUSESA_JOBS"], "rb") as f:
        (job,) = pickle.load(f)
    from sw.export.qnet import INPUT

    cfg = job.cfg
    await bring_up(dut, PERIOD_NS)

    qnet, golden = job.qnet, job.golden
    env: dict[str, np.ndarray] = {INPUT: job.x_q}
    last_use = {t: i for i, layer in enumerate(qnet.layers) for t in layer.inputs}
    records: list[LayerRun] = []
    stopped_at = None
    progress = open(job.progress_path, "a") if job.progress_path else None
    t_start = time.perf_counter()
    host_s = 0.0
    for i, layer in enumerate(qnet.layers):
        xs = [env[t] for t in layer.inputs]
        on_rtl = layer.kind.value in ("conv", "linear")
        if job.only_layer and layer.name != job.only_layer:
            env[layer.name] = layer.forward(xs)  # waves of one layer: the rest on the host
            continue
        if on_rtl:
            rec, acc = await _run_layer(dut, layer, golden.layer(layer.name), xs[0], job, cfg)
            th = time.perf_counter()
            env[layer.name] = layer.requantize(acc)
            rec.seconds["requantize"] = time.perf_counter() - th
        else:
            th = time.perf_counter()
            env[layer.name] = layer.forward(xs)
            dt = time.perf_counter() - th
            host_s += dt
            rec = LayerRun(
                layer.name,
                getattr(layer, "op", layer.kind.value),
                tuple(env[layer.name].shape),
                seconds={"host": dt},
            )
        records.append(rec)
        if progress is not None:
            progress.write(json.dumps(rec.to_dict()) + "\n")
            progress.flush()
        for t in layer.inputs:  # free tensors nobody reads any more
            if last_use.get(t) == i and t != qnet.output:
                env.pop(t, None)
        if job.only_layer:
            break
        if not rec.exact and stopped_at is None:
            stopped_at = layer.name
            if not job.keep_going:
                break
    if progress is not None:
        progress.close()
    out = env.get(qnet.output) if stopped_at is None or job.keep_going else None
    seconds = {"in_simulator": time.perf_counter() - t_start, "host_ops": host_s}
    for key in ("compile", "load", "run", "read", "check", "requantize"):
        seconds[key] = sum(r.seconds.get(key, 0.0) for r in records)
    with open(os.environ["FUSESA_RESULTS"], "wb") as f:
        pickle.dump(
            [
                {
                    "output": out if out is not None else np.zeros((0,), np.int8),
                    "layers": [r.to_dict() for r in records],
                    "stopped_at": stopped_at,
                    "seconds": seconds,
                }
            ],
            f,
        )
