"""``run_layer``: run one PyTorch layer through the RTL and return its exact integer output
and the measured cycle count (SPEC section 5).

Supported (int8-range integer weights and inputs, float or integer tensors):

- ``nn.Conv2d`` with ``groups=1``, any kernel / stride / zero padding, ``dilation=1``:
  im2col GEMM on the weight-stationary array (``M = N*Ho*Wo``, ``Kr = C*kh*kw``,
  ``N = out_channels``); cycles = ``sw.latency.rtl.gemm_cycles(M, Kr, N, rows, cols)``.
- ``nn.Conv2d`` depthwise (``groups == in_channels == out_channels``):
  - 1xK or Kx1 kernels (``K <= cfg.max_kernel``) on an array with the FuSe mode run in FuSe
    mode (SPEC 3.3; Kx1 lines are read column-wise); cycles =
    ``sw.latency.rtl.fuse_conv_cycles(...)``;
  - otherwise (or with ``depthwise="baseline"``) the baseline mapping of SPEC 3.4, one
    single-column GEMM per channel (``Kr = kh*kw``, ``N = 1``), one after the other; cycles =
    ``C * gemm_cycles(N*Ho*Wo, kh*kw, 1, rows, cols)``.
- ``nn.Linear``: ``M = batch``, ``Kr = in_features``, ``N = out_features``.

A bias, if the layer has one, must hold integers too; it is added after the array (int64).
Anything else raises ``ValueError`` naming the layer.

Backends: ``backend="array"`` (the default) drives the bare array (``hw.top``) from cocotb with
the per-cycle schedules of ``sw.mapping``; the cycle counts above are that array's.
``backend="accel"`` compiles the layer into one program for the accelerator top (``hw.accel``,
``sw.mapping.accel.compile_layers``: im2col by the host into the activation memory, one GEMM
command, one GEMM command per channel for the baseline depthwise, one FUSE command for FuSe),
runs it with no per-cycle Python and reports ``cycles`` = the hardware counter ``cnt_total``,
which adds ``2 + 1`` cycles per command and ``2`` for ``HALT`` to the bare-array figures
(``sw.latency.rtl.accel_*``). The default stays ``"array"`` because SPEC 4's ``rtl`` latency
mode and the existing tests are defined on the bare array's counts, and Icarus runs the
accelerator top far slower than the bare array (``docs/accelerator.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hw.config import ArrayConfig
from sim.fuse import check_fuse_config, rtl_fuse
from sim.gemm import check_int_range, rtl_gemms
from sw.mapping.accel import LayerSpec
from sw.mapping.fuse import depthwise_lines, lines_to_output
from sw.ref.conv import im2col

__all__ = ["LayerResult", "run_layer"]


@dataclass
class LayerResult:
    output: np.ndarray  # int64, shaped like torch's output
    cycles: int  # measured RTL cycles (sum over the jobs the layer was mapped to)
    jobs: int  # how many array jobs (GEMMs or FuSe programs) the layer became
    mapping: str  # "gemm", "depthwise-baseline" or "fuse"


def _to_numpy(t) -> np.ndarray:
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def _bias(layer, name: str, cfg: ArrayConfig) -> np.ndarray | None:
    if getattr(layer, "bias", None) is None:
        return None
    return check_int_range(f"{name}.bias", _to_numpy(layer.bias), cfg.acc_width)


DEPTHWISE_MAPPINGS = ("auto", "fuse", "baseline")
BACKENDS = ("array", "accel")


def _run_accel(spec: LayerSpec, xs: np.ndarray, cfg, simulator: str, depthwise: str):
    from sim.accel import accel_layers

    run = accel_layers([(spec, xs)], cfg, simulator, depthwise)
    plan = run.program.layers[0]
    return LayerResult(run.outputs[0], run.cycles, len(plan.jobs), plan.mapping)


def run_layer(
    layer,
    x,
    cfg: ArrayConfig,
    simulator: str = "verilator",
    depthwise: str = "auto",
    backend: str = "array",
) -> LayerResult:
    """Run ``layer(x)`` on the RTL of ``cfg``; see the module docstring for what is supported.

    ``depthwise``: ``"auto"`` (FuSe mode for 1xK/Kx1 when the array has it, else baseline),
    ``"fuse"`` (require FuSe mode) or ``"baseline"`` (per-channel GEMMs).
    ``backend``: ``"array"`` (bare array, per-cycle schedule) or ``"accel"`` (one program on
    the accelerator top; cycles from its ``cnt_total`` counter).
    """
    if depthwise not in DEPTHWISE_MAPPINGS:
        raise ValueError(
            f"depthwise mapping must be one of {DEPTHWISE_MAPPINGS}, not {depthwise!r}"
        )
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
    import torch.nn as nn

    name = type(layer).__name__
    if isinstance(layer, nn.Linear):
        xs = check_int_range(f"{name} input", _to_numpy(x), cfg.act_width)
        if xs.ndim != 2 or xs.shape[1] != layer.in_features:
            raise ValueError(
                f"{name}({layer.in_features}->{layer.out_features}) needs input [B, {layer.in_features}], got {xs.shape}"
            )
        w = check_int_range(f"{name}.weight", _to_numpy(layer.weight), cfg.weight_width)
        if backend == "accel":
            spec = LayerSpec(w, _bias(layer, name, cfg), linear=True, name=name)
            return _run_accel(spec, xs, cfg, simulator, depthwise)
        res = rtl_gemms([(xs, w.T)], cfg, simulator)[0]
        out = res.output
        b = _bias(layer, name, cfg)
        if b is not None:
            out = out + b
        return LayerResult(out, res.cycles, 1, "gemm")
    if not isinstance(layer, nn.Conv2d):
        raise ValueError(f"run_layer supports nn.Conv2d and nn.Linear, not {name}")
    return _run_conv(layer, x, cfg, simulator, depthwise, backend)


def _run_conv(
    layer, x, cfg: ArrayConfig, simulator: str, depthwise: str, backend: str = "array"
) -> LayerResult:
    desc = repr(layer)
    if tuple(layer.dilation) != (1, 1):
        raise ValueError(f"{desc}: dilation {tuple(layer.dilation)} is not supported by the array")
    if isinstance(layer.padding, str):
        raise ValueError(
            f"{desc}: string padding {layer.padding!r} is not supported; give integers"
        )
    if layer.padding_mode != "zeros":
        raise ValueError(
            f"{desc}: padding_mode {layer.padding_mode!r} is not supported (zeros only)"
        )
    xs = check_int_range(f"{desc} input", _to_numpy(x), cfg.act_width)
    if xs.ndim == 3:
        xs = xs[None]
    if xs.ndim != 4 or xs.shape[1] != layer.in_channels:
        raise ValueError(f"{desc}: input must be [N, {layer.in_channels}, H, W], got {xs.shape}")
    w = check_int_range(f"{desc} weight", _to_numpy(layer.weight), cfg.weight_width)
    n = xs.shape[0]
    kh, kw = layer.kernel_size
    stride, padding, groups = tuple(layer.stride), tuple(layer.padding), layer.groups
    if backend == "accel":
        if groups != 1 and not groups == layer.in_channels == layer.out_channels:
            raise ValueError(
                f"{desc}: grouped convolution with groups={groups} is neither standard "
                "(groups=1) nor depthwise (groups == in_channels == out_channels)"
            )
        if groups != 1:
            _use_fuse(layer, cfg, depthwise)  # same checks and messages as the array backend
        spec = LayerSpec(w, _bias(layer, desc, cfg), stride, padding, groups, name=desc)
        return _run_accel(spec, xs, cfg, simulator, depthwise)
    if groups == 1:
        cols, (ho, wo) = im2col(xs, (kh, kw), stride, padding)
        res = rtl_gemms([(cols, w.reshape(w.shape[0], -1).T)], cfg, simulator)[0]
        out = res.output.reshape(n, ho, wo, -1).transpose(0, 3, 1, 2)
        cycles, jobs, mapping = res.cycles, 1, "gemm"
    elif groups == layer.in_channels == layer.out_channels and _use_fuse(layer, cfg, depthwise):
        lines, taps, out_shape, transposed = depthwise_lines(xs, w, stride, padding)
        res = rtl_fuse(lines, taps, cfg, simulator)
        along = stride[0] if transposed else stride[1]
        out = lines_to_output(res.output, along, out_shape, transposed)
        cycles, jobs, mapping = res.cycles, 1, "fuse"
    elif groups == layer.in_channels == layer.out_channels:
        pairs = []
        for c in range(groups):
            cols, (ho, wo) = im2col(xs[:, c : c + 1], (kh, kw), stride, padding)
            pairs.append((cols, w[c].reshape(1, -1).T))
        results = rtl_gemms(pairs, cfg, simulator)
        out = np.stack([r.output.reshape(n, ho, wo) for r in results], axis=1)
        cycles, jobs, mapping = sum(r.cycles for r in results), len(results), "depthwise-baseline"
    else:
        raise ValueError(
            f"{desc}: grouped convolution with groups={groups} is neither standard (groups=1) "
            "nor depthwise (groups == in_channels == out_channels)"
        )
    b = _bias(layer, desc, cfg)
    if b is not None:
        out = out + b[None, :, None, None]
    return LayerResult(np.ascontiguousarray(out), cycles, jobs, mapping)


def _use_fuse(layer, cfg: ArrayConfig, depthwise: str) -> bool:
    kh, kw = layer.kernel_size
    one_d = kh == 1 or kw == 1
    if depthwise == "baseline":
        return False
    if depthwise == "fuse":
        if not one_d:
            raise ValueError(
                f"{layer!r}: FuSe mode runs 1xK or Kx1 depthwise kernels, not {kh}x{kw}"
            )
        check_fuse_config(cfg, max(kh, kw), repr(layer))
        return True
    return one_d and cfg.fuse and max(kh, kw) <= cfg.max_kernel
