"""Analytical latency models (SPEC section 4): ``paper`` mode reproduces the FuSeConv authors'
model to the cycle (``getModelLatency``, the seed's API), ``scalesim`` mode uses SCALE-Sim's WS
closed form; both return per-layer records (``model_latency``). The RTL-exact model lives in
``sw.latency.rtl`` and is imported from there directly.
"""

from sw.latency.paper import (
    HARDWARE,
    MODES,
    check_supported,
    classify_conv,
    cost_layers,
    depthwise_cycles,
    fuse_row_cycles,
    gemm_cycles,
    getModelLatency,
    layer_cycles,
    model_latency,
    trace_layers,
)
from sw.latency.records import LatencyReport, LayerLatency, write_csv
from sw.latency.scalesim import scalesim_conv_cycles, scalesim_gemm_cycles

__all__ = [
    "HARDWARE",
    "MODES",
    "LatencyReport",
    "LayerLatency",
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
    "scalesim_conv_cycles",
    "scalesim_gemm_cycles",
    "write_csv",
]
