"""What one DSE task computes: pure functions of a small JSON-able spec, so that a task can run
on any worker, be retried, and be cached by the hash of its spec (``task_key``).

Two kinds of task:

- ``latency``: one network design (a zoo variant or a greedy selection) on one array size:
  cycles in the space's latency mode (``sw.latency``; ``rtl`` = fusesa's accelerator top,
  exact), the baseline's cycles on the same array, parameters, FLOPs (the table's counter), the
  chosen blocks of a selection, and the largest memory need of any layer run as one program on
  the accelerator (``layer_memory_words``).
- ``synth``: one array (the base or the FuSe array of one size) through
  ``synth.flow.synth_variant``, the flow of ``fusesa synth`` (Yosys + OpenSTA on osu018): area,
  cells, Fmax, power (SAIF activity of a GEMM stream, and of a FuSe layer on the FuSe array).

The key of a task is the SHA-256 of its spec plus a fingerprint of the source files its result
depends on (``sw/latency``, ``sw/models`` for latency; ``hw/``, ``synth/`` for synthesis), so an
edit to the cost model or the generator invalidates the cache instead of serving stale numbers.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from functools import cache
from math import ceil
from pathlib import Path
from typing import Any

__all__ = [
    "task_key",
    "run_task",
    "latency_task",
    "synth_task",
    "layer_memory_words",
    "FORMAT",
]

#: bump when a task's result layout changes
FORMAT = 1
_ROOT = Path(__file__).resolve().parent.parent
_SOURCES = {
    "latency": ("sw/latency", "sw/models", "sw/ref/conv.py", "dse/evaluate.py"),
    "synth": ("hw", "synth", "dse/evaluate.py"),
}


@cache
def code_fingerprint(kind: str) -> str:
    """SHA-256 (16 hex digits) of the Python sources a ``kind`` task's result depends on."""
    h = hashlib.sha256()
    for rel in _SOURCES[kind]:
        p = _ROOT / rel
        files = sorted(p.rglob("*.py")) if p.is_dir() else [p]
        for f in files:
            h.update(str(f.relative_to(_ROOT)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def task_key(spec: dict[str, Any]) -> str:
    """``<kind>-<hash>``: the cache key of a task spec (spec + format + code fingerprint)."""
    doc = {"spec": spec, "format": FORMAT, "code": code_fingerprint(spec["kind"])}
    digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:20]
    return f"{spec['kind']}-{digest}"


def run_task(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one task spec on this process (what a Dask worker calls)."""
    import os
    import socket

    kind = spec.get("kind")
    if kind == "latency":
        out = latency_task(spec)
    elif kind == "synth":
        out = synth_task(spec)
    else:
        raise ValueError(f"Unknown DSE task kind {kind!r}")
    out["host"] = f"{socket.gethostname()}:{os.getpid()}"
    return out


def layer_memory_words(layer, rows: int, cols: int, hardware: str) -> dict[str, int]:
    """Words of each accelerator memory a traced layer (``LayerLatency``) uses when compiled
    alone into one program as ``sw.mapping.accel.compile_layers`` does (operands placed one
    after the other; ``hw.isa.Gemm`` / ``hw.isa.Fuse`` extents; the program's ``HALT``
    counted in ``cmd_depth``)."""
    n, c, _, _ = layer.in_shape
    hp, wp = layer.padded_hw
    (kh, kw), (sh, sw) = layer.kernel, layer.stride
    ho, wo = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    kind = layer.kind

    def gemm(m: int, kr: int, nn: int) -> tuple[int, int, int]:
        kf, nf = ceil(kr / rows), ceil(nn / cols)
        return kf * m, kf * nf * rows, nf * m

    def fuse(lines: int, positions: int, k: int) -> tuple[int, int, int]:
        g, pf = ceil(lines / rows), ceil(positions / cols)
        return g * (pf * cols + k - 1), g * k, g * pf * rows

    packed = None
    if kind in ("fuse_row", "fuse_col") and hardware == "FuSe":
        from sw.latency.rtl import fuse_conv_mapping, packed_fuse_commands

        h, w_in = layer.in_shape[2:]
        pad = ((hp - h) // 2, (wp - w_in) // 2)
        geom = (n, c, h, w_in, (kh, kw), (sh, sw), pad, rows, cols)
        if fuse_conv_mapping(*geom) == "fuse-packed":  # line packing (issue 22), as "auto"
            packed = [fuse(lines, pos, k) for lines, pos, k in packed_fuse_commands(*geom)]
    if packed is not None:
        (a, w, acc), cmds = (sum(e[i] for e in packed) for i in range(3)), len(packed)
    elif kind in ("conv", "pointwise", "linear"):
        (a, w, acc), cmds = gemm(n * ho * wo, kh * kw * c, layer.out_channels), 1
    elif kind == "fuse_row" and hardware == "FuSe":
        (a, w, acc), cmds = fuse(n * c * ((hp - 1) // sh + 1), wp - kw + 1, kw), 1
    elif kind == "fuse_col" and hardware == "FuSe":
        (a, w, acc), cmds = fuse(n * c * ((wp - 1) // sw + 1), hp - kh + 1, kh), 1
    else:  # baseline depthwise: one single-column GEMM per channel
        a, w, acc = gemm(n * ho * wo, kh * kw, 1)
        cmds = layer.out_channels
        a, w, acc = a * cmds, w * cmds, acc * cmds
    return {"act_depth": a, "weight_depth": w, "acc_depth": acc, "cmd_depth": cmds + 1}


def _memory_need(layers, rows: int, cols: int, hardware: str) -> dict[str, Any]:
    """Largest per-layer need of each memory, in words and KiB (word = lanes x width)."""
    from hw.config import ArrayConfig

    cfg = ArrayConfig(rows=rows, cols=cols)
    word_bits = {
        "act_depth": rows * cfg.act_width,
        "weight_depth": cols * cfg.weight_width,
        "acc_depth": cols * cfg.acc_width,
    }
    need = {k: 0 for k in ("act_depth", "weight_depth", "acc_depth", "cmd_depth")}
    worst = {}
    for layer in layers:
        for k, v in layer_memory_words(layer, rows, cols, hardware).items():
            if v > need[k]:
                need[k], worst[k] = v, layer.name
    out: dict[str, Any] = {f"mem_{k.removesuffix('_depth')}_words": v for k, v in need.items()}
    for k, bits in word_bits.items():
        out[f"mem_{k.removesuffix('_depth')}_kib"] = round(need[k] * bits / 8 / 1024, 3)
    out["mem_worst_layers"] = worst
    return out


def _design_model(network: str, design: str | dict[str, Any], rows: int, cols: int, mode: str):
    """(layers, hardware, params, flops, selection facts) of one design."""
    import torch

    from sw.latency.paper import trace_layers
    from sw.latency.table import trace_model
    from sw.models.flops import count_flops
    from sw.models.select import greedy_select
    from sw.models.zoo import build_with_plan, default_hardware

    if isinstance(design, str):
        t = trace_model(network, design)
        return list(t.layers), default_hardware(design), t.params, t.flops, {}
    variant = design["variant"]
    budget_cycles = design.get("budget_cycles")
    if design.get("budget_percent") is not None:
        from sw.latency.table import zoo_latency

        base = zoo_latency(network, "base", rows, cols, "Systolic", mode).total
        budget_cycles = int(base * design["budget_percent"] / 100)
    sel = greedy_select(
        network,
        variant,
        fraction=design.get("fraction"),
        budget_cycles=budget_cycles,
        arr_x=rows,
        arr_y=cols,
        mode=mode,
        budget_params=design.get("budget_params"),
    )
    with torch.device("meta"):
        model = build_with_plan(network, sel.plan)
    layers = trace_layers(model)
    flops = count_flops(model, torch.zeros(1, 3, 224, 224)).total
    params = sum(p.numel() for p in model.parameters())
    facts = {
        "chosen_blocks": [i + 1 for i in sel.chosen],
        "n_blocks": len(sel.plan),
        "predicted_cycles": sel.cycles,
        "budget_cycles": budget_cycles,
    }
    return layers, "FuSe", params, flops, facts


def latency_task(spec: dict[str, Any]) -> dict[str, Any]:
    """Cycles, baseline cycles, params, FLOPs and memory need of one design on one array."""
    from sw.latency.paper import cost_layers
    from sw.latency.table import zoo_latency

    network, design = spec["network"], spec["design"]
    rows, cols, mode = spec["rows"], spec["cols"], spec["mode"]
    try:
        layers, hardware, params, flops, facts = _design_model(network, design, rows, cols, mode)
    except ValueError as exc:  # e.g. a budget no selection meets: a result, not a crash
        return {"error": str(exc)}
    rep = cost_layers(layers, rows, cols, hardware, mode)
    base = zoo_latency(network, "base", rows, cols, "Systolic", mode).total
    out = {
        "hardware": hardware,
        "cycles": rep.total,
        "base_cycles": base,
        "speedup": round(base / rep.total, 6),
        "params": params,
        "flops": flops,
        "cycles_by_kind": rep.by_kind(),
        **facts,
        **_memory_need(layers, rows, cols, hardware),
    }
    if "predicted_cycles" in out and out["predicted_cycles"] != rep.total:
        # the greedy's additive prediction must equal the costed model (sw.models.select)
        raise RuntimeError(
            f"{network} {design}: selection predicted {out['predicted_cycles']} cycles, "
            f"the model costs {rep.total}"
        )
    return out


def _compact_variant(v: dict[str, Any]) -> dict[str, Any]:
    power = v.get("power", {})
    return {
        "area_um2": v["synth"]["area_um2"],
        "cells": v["synth"]["cells"],
        "flops": v["synth"]["flops"],
        "fmax_mhz": v["timing"]["fmax_mhz"],
        "wns_ns": v["timing"]["wns_ns"],
        "power_gemm_w": power.get("gemm", {}).get("total_w"),
        "power_fuse_w": power.get("fuse", {}).get("total_w"),
    }


def synth_task(spec: dict[str, Any]) -> dict[str, Any]:
    """Synthesize one array (``spec["fuse"]``: the FuSe array, else the base array) with
    ``synth.flow.synth_variant``, as ``fusesa synth`` does for each of its two arrays; the
    compact numbers + the full report entry. Work files go to a temporary directory on the
    worker, removed afterwards."""
    from hw.config import ArrayConfig
    from synth.flow import synth_variant
    from synth.report import FLOW
    from synth.tools import find_liberty, find_sta, find_yosys, sta_version, yosys_version

    if spec.get("library", "osu018") != "osu018":
        raise ValueError(f"The synthesis flow has only the osu018 library, not {spec['library']!r}")
    cfg = ArrayConfig(
        rows=spec["rows"], cols=spec["cols"], fuse=spec["fuse"], acc_width=spec["acc_width"]
    )
    yosys = find_yosys()
    find_sta()
    work = Path(tempfile.mkdtemp(prefix="fusesa-dse-synth-"))
    t0 = time.perf_counter()
    try:
        entry = synth_variant(
            cfg, work, spec["period_ns"], spec["method"], spec["power"], progress=False
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        **_compact_variant(entry),
        "period_ns": spec["period_ns"],
        "method": spec["method"],
        "flow": FLOW,
        "tools": {
            "yosys": yosys_version(tuple(yosys)),
            "sta": sta_version(),
            "liberty": str(find_liberty()),
        },
        "seconds": round(time.perf_counter() - t0, 1),
        "report": entry,
    }
