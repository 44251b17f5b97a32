"""Baseline depthwise vs FuSe on the same RTL, for one depthwise layer of a real network
(issue: FuSe mode in RTL, item 6; paper section IV's per-layer comparison).

``compare_depthwise`` takes the ``index``-th KxK depthwise conv of MobileNetV2 (baseline) and
the matching 1xK + Kx1 pair of MobileNetV2-FuSe-Half (``C/2`` channels each), scales channels
and input size down so RTL simulation stays short, runs both on each array size through
``sim.run_layers`` (baseline: one single-column GEMM per channel; FuSe: FuSe mode), checks the
integer outputs against torch, and returns measured cycles, RTL-model cycles and the paper
model's cycles for the same scaled layers.

``backend="accel"`` (the default, as ``run_layer``): each layer is one program on the
accelerator top, the three layers of one array size run in one simulator process, measured =
``cnt_total``, model = ``sw.latency`` mode ``rtl`` (``accel_*_cycles + 2``).
``backend="array"``: the bare array, model = mode ``rtl-array``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from hw.config import ArrayConfig
from sim.layers import BACKENDS, run_layers
from sw.latency.rtl import (
    ACCEL_COMMAND_OVERHEAD,
    accel_depthwise_baseline_cycles,
    accel_fuse_conv_cycles,
    depthwise_baseline_cycles,
    fuse_conv_cycles,
)

__all__ = ["DepthwiseComparison", "compare_depthwise", "mobilenet_v2_depthwise"]


@dataclass
class DepthwiseComparison:
    array: str
    layer: str
    baseline_measured: int
    baseline_model: int
    baseline_paper: int
    fuse_measured: int
    fuse_model: int
    fuse_paper: int
    outputs_exact: bool
    sim_seconds: float
    backend: str = "accel"
    baseline_exact: bool = False  # baseline output == torch's depthwise conv
    fuse_exact: bool = False  # both FuSe branches == torch's 1xK / Kx1 convs
    config: ArrayConfig | None = None  # the accelerator configuration that ran

    @property
    def speedup(self) -> float:
        return self.baseline_measured / self.fuse_measured

    @property
    def paper_speedup(self) -> float:
        return self.baseline_paper / self.fuse_paper

    def to_dict(self) -> dict:
        d = asdict(self)
        d["config"] = None if self.config is None else self.config.to_dict()
        d["speedup"] = self.speedup
        d["paper_speedup"] = self.paper_speedup
        return d


def mobilenet_v2_depthwise(index: int):
    """(baseline KxK conv, (row conv, col conv), input HxW) of MobileNetV2's ``index``-th
    depthwise layer, taken from the model zoo (traced on a 224x224 input)."""
    import torch

    from sw.latency.paper import trace_layers
    from sw.models import MobileNetV2, MobileNetV2FuSeHalf

    def depthwise(model, kinds):
        layers = {n: m for n, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)}
        traced = [t for t in trace_layers(model) if t.kind in kinds]
        return [(layers[t.name], t) for t in traced]

    base = depthwise(MobileNetV2(), ("depthwise",))
    if not 0 <= index < len(base):
        raise ValueError(f"MobileNetV2 has depthwise layers 0..{len(base) - 1}, not {index!r}")
    fuse = depthwise(MobileNetV2FuSeHalf(), ("fuse_row", "fuse_col"))
    rows = [f for f in fuse if f[1].kind == "fuse_row"]
    cols = [f for f in fuse if f[1].kind == "fuse_col"]
    conv, t = base[index]
    return conv, (rows[index][0], cols[index][0]), tuple(t.in_shape[2:]), t.name


def _scaled(conv, channels: int):
    import torch

    k, s, p = conv.kernel_size, conv.stride, conv.padding
    return torch.nn.Conv2d(channels, channels, k, stride=s, padding=p, groups=channels, bias=False)


def _int8_(conv, gen) -> None:
    import torch

    with torch.no_grad():
        conv.weight.copy_(torch.randint(-128, 128, conv.weight.shape, generator=gen).float())


def _torch_int(conv, x) -> np.ndarray:
    import torch.nn.functional as F

    y = F.conv2d(x.double(), conv.weight.double(), None, conv.stride, conv.padding, 1, conv.groups)
    return y.detach().numpy().astype(np.int64)


def _paper(conv, x, rows: int, cols: int, hardware: str) -> int:
    import torch

    from sw.latency.paper import layer_cycles, trace_layers

    (t,) = trace_layers(torch.nn.Sequential(conv), x)
    return layer_cycles(t, rows, cols, hardware)


def compare_depthwise(
    arrays: list[tuple[int, int]],
    index: int = 3,
    channels: int | None = 32,
    size: int | None = 28,
    simulator: str = "verilator",
    seed: int = 0,
    progress=print,
    backend: str = "accel",
) -> list[DepthwiseComparison]:
    import torch

    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
    if backend == "accel":
        halt = ACCEL_COMMAND_OVERHEAD
        baseline_model, fuse_model = accel_depthwise_baseline_cycles, accel_fuse_conv_cycles
    else:
        halt = 0
        baseline_model, fuse_model = depthwise_baseline_cycles, fuse_conv_cycles
    base_full, (row_full, col_full), (h0, w0), name = mobilenet_v2_depthwise(index)
    channels = base_full.in_channels if channels is None else channels  # None: the layer's own
    size = h0 if size is None else size
    if channels < 2 or channels % 2:
        raise ValueError(
            f"channels must be an even number >= 2 (Half splits them), not {channels!r}"
        )
    if size < 3:
        raise ValueError(f"size must be at least 3, not {size!r}")
    gen = torch.Generator().manual_seed(seed)
    base = _scaled(base_full, channels)
    row, col = _scaled(row_full, channels // 2), _scaled(col_full, channels // 2)
    for conv in (base, row, col):
        _int8_(conv, gen)
    x = torch.randint(-128, 128, (1, channels, size, size), generator=gen).float()
    xr, xc = x[:, : channels // 2], x[:, channels // 2 :]
    k = base.kernel_size
    label = (
        f"MobileNetV2 {name}: {base_full.in_channels}ch {h0}x{w0} {k[0]}x{k[1]} s{base.stride[0]}"
    )
    if (channels, size) != (base_full.in_channels, h0):
        label += f" -> scaled {channels}ch {size}x{size}"
    out = []
    for rows_, cols_ in arrays:
        cfg = ArrayConfig(rows=rows_, cols=cols_)
        progress(
            f"[fuse-report] {rows_}x{cols_} ({backend}): baseline depthwise ({channels} channel "
            f"GEMMs), FuSe Half (1x{k[1]} + {k[0]}x1 on {channels // 2} channels each) ..."
        )
        t0 = time.perf_counter()
        items = [(base, x, "baseline"), (row, xr, "fuse"), (col, xc, "fuse")]
        rb, rr, rc = run_layers(items, cfg, simulator, backend=backend)
        secs = time.perf_counter() - t0
        base_exact = np.array_equal(rb.output, _torch_int(base, x))
        fuse_exact = np.array_equal(rr.output, _torch_int(row, xr)) and np.array_equal(
            rc.output, _torch_int(col, xc)
        )
        exact = base_exact and fuse_exact
        shape = dict(n=1, h=size, w=size)
        b_model = halt + baseline_model(
            ch=channels,
            kernel=k,
            stride=base.stride,
            padding=base.padding,
            rows=rows_,
            cols=cols_,
            **shape,
        )
        f_model = sum(
            halt
            + fuse_model(
                ch=channels // 2,
                kernel=c.kernel_size,
                stride=c.stride,
                padding=c.padding,
                rows=rows_,
                cols=cols_,
                **shape,
            )
            for c in (row, col)
        )
        out.append(
            DepthwiseComparison(
                array=f"{rows_}x{cols_}",
                layer=label,
                baseline_measured=rb.cycles,
                baseline_model=b_model,
                baseline_paper=_paper(base, x, rows_, cols_, "Systolic"),
                fuse_measured=rr.cycles + rc.cycles,
                fuse_model=f_model,
                fuse_paper=_paper(row, xr, rows_, cols_, "FuSe")
                + _paper(col, xc, rows_, cols_, "FuSe"),
                outputs_exact=exact,
                sim_seconds=secs,
                backend=backend,
                baseline_exact=bool(base_exact),
                fuse_exact=bool(fuse_exact),
                config=rb.config,
            )
        )
    return out
