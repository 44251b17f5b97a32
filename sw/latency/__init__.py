"""Analytical latency models (SPEC section 4): ``paper`` mode reproduces the FuSeConv authors'
model to the cycle (``getModelLatency``, the seed's API), ``scalesim`` mode uses SCALE-Sim's WS
closed form, ``rtl`` / ``rtl-array`` our own accelerator / bare array exactly; all return
per-layer records (``model_latency``). The RTL-exact formulas live in ``sw.latency.rtl`` and are
imported from there directly.

The names below are loaded on first use, so ``import sw.latency.rtl`` (the simulator benches
do) does not import torch.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "sw.latency.paper": (
        "HARDWARE",
        "MODES",
        "check_supported",
        "classify_conv",
        "cost_layers",
        "depthwise_cycles",
        "fuse_row_cycles",
        "gemm_cycles",
        "getModelLatency",
        "layer_cycles",
        "model_latency",
        "trace_layers",
    ),
    "sw.latency.records": ("LatencyReport", "LayerLatency", "write_csv"),
    "sw.latency.scalesim": ("scalesim_conv_cycles", "scalesim_gemm_cycles"),
}
_WHERE = {name: mod for mod, names in _EXPORTS.items() for name in names}

_SUBMODULES = ("paper", "records", "rtl", "scalesim", "table", "timing")

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"sw.latency.{name}")
    mod = _WHERE.get(name)
    if mod is None:
        raise AttributeError(f"module 'sw.latency' has no attribute {name!r}")
    value = getattr(importlib.import_module(mod), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
