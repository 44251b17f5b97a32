"""``run_layer``: run one PyTorch layer through the RTL and return its exact integer output
and the measured cycle count (SPEC section 5).

By default (``backend="accel"``) the layer runs on the accelerator top (``hw.accel``): it is
compiled into ONE program (``sw.mapping.accel.compile_layers``: the layer's commands + ``HALT``),
the memories are loaded in bulk, the program runs with no per-cycle Python, and ``cycles`` is
the hardware counter ``cnt_total`` (``LayerResult.busy`` / ``.stall``: the other two counters).
``sw.latency`` mode ``rtl`` predicts it exactly (``sw.latency.rtl.accel_layer_program_cycles``).

Supported (int8-range integer weights and inputs, float or integer tensors); ``R x C`` array:

- ``nn.Conv2d`` with ``groups=1``, any kernel / stride / zero padding, ``dilation=1``: the host
  lowers the input by im2col into the activation memory, one ``GEMM`` command
  (``M = N*Ho*Wo``, ``Kr = C*kh*kw``, ``N = out_channels``); cycles =
  ``accel_gemm_cycles(M, Kr, N, R, C) + 2`` = ``2 + 1 + gemm_cycles(...) + 2``. Pointwise is the
  1x1 case.
- ``nn.Conv2d`` depthwise (``groups == in_channels == out_channels``):
  - 1xK or Kx1 kernels (``K <= cfg.max_kernel``) on an array with the FuSe mode run as one
    ``FUSE`` command (SPEC 3.3; Kx1 lines are the image's columns, transposed by the host);
    cycles = ``accel_fuse_conv_cycles(...) + 2`` = ``2 + 1 + fuse_conv_cycles(...) + 2``;
  - otherwise (or with ``depthwise="baseline"``) the baseline mapping of SPEC 3.4, one
    single-column ``GEMM`` command per channel (``Kr = kh*kw``, ``N = 1``), one after the
    other; cycles = ``Ch * (3 + gemm_cycles(N*Ho*Wo, kh*kw, 1, R, C)) + 2``.
- ``nn.Linear``: one ``GEMM`` command, ``M = batch``, ``Kr = in_features``,
  ``N = out_features``.

A bias, if the layer has one, must hold integers too; it is added after read-back (int64).
Anything else raises ``ValueError`` naming the layer.

Memories: a layer always runs as one program. By default (``memories="shared"``) the
accelerator is built with every memory at the command set's full range (``2**20`` words,
``sw.mapping.accel.unbounded``) whatever ``cfg``'s depths say, so every layer of any size on
one array runs on ONE simulator build (the memories are behavioural models: they cost only
simulator memory, see docs/accelerator.md; cycles do not depend on depths).
``memories="fit"`` grows ``cfg``'s depths to the next power of two that holds the layer (a build
per distinct set of depths, smaller simulator memory), ``memories="given"`` keeps them (a layer
that does not fit raises ``ValueError``). ``LayerResult.config`` is the configuration that ran.
A layer too big even for ``2**20`` words (or with more than 65535 GEMM rows ``M``) raises
``ValueError`` naming the command field.

``run_layers([(layer, x), ...], cfg, ...)`` runs several layers, each as its own program (so
each result's cycles are that layer's, as ``run_layer`` gives them), in ONE simulator process.

``backend="array"`` drives the bare array (``hw.top``) from cocotb with the per-cycle schedules
of ``sw.mapping`` instead (Python every clock cycle: far slower on big layers); its cycle
counts are the array's alone, ``sw.latency`` mode ``rtl-array``: ``gemm_cycles(...)``,
``fuse_conv_cycles(...)``, ``Ch * gemm_cycles(N*Ho*Wo, kh*kw, 1, R, C)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hw.config import ArrayConfig
from sim.fuse import check_fuse_config, rtl_fuse
from sim.gemm import check_int_range, rtl_gemms
from sw.latency.rtl import fuse_conv_mapping
from sw.mapping.accel import (
    DEPTHWISE_MAPPINGS,
    LayerSpec,
    check_memory_policy,
    compile_layers,
    fit_memories,
    unbounded,
)
from sw.mapping.fuse import depthwise_lines, lines_to_output
from sw.mapping.pack import pack_depthwise, unpack_depthwise
from sw.ref.conv import im2col

__all__ = ["LayerResult", "run_layer", "run_layers", "BACKENDS"]


@dataclass
class LayerResult:
    output: np.ndarray  # int64, shaped like torch's output
    cycles: int  # measured RTL cycles (accel: cnt_total of the layer's program)
    jobs: int  # how many commands / array jobs (GEMMs or FuSe programs) the layer became
    mapping: str  # "gemm", "depthwise-baseline", "fuse" or "fuse-packed"
    busy: int | None = None  # accel: cnt_busy (cycles an activation row entered the array)
    stall: int | None = None  # accel: cnt_stall
    config: ArrayConfig | None = None  # the configuration that ran (accel: its memory depths)


def _to_numpy(t) -> np.ndarray:
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def _bias(layer, name: str, cfg: ArrayConfig) -> np.ndarray | None:
    if getattr(layer, "bias", None) is None:
        return None
    return check_int_range(f"{name}.bias", _to_numpy(layer.bias), cfg.acc_width)


BACKENDS = ("accel", "array")


def _check_options(depthwise: str, backend: str) -> None:
    if depthwise not in DEPTHWISE_MAPPINGS:
        raise ValueError(
            f"depthwise mapping must be one of {DEPTHWISE_MAPPINGS}, not {depthwise!r}"
        )
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")


def _layer_spec(layer, x, cfg: ArrayConfig, depthwise: str) -> tuple[LayerSpec, np.ndarray]:
    """Check ``layer`` and ``x`` (every error names the layer) and return them as numpy:
    the ``LayerSpec`` (``name`` = the layer's repr) and the integer input."""
    import torch.nn as nn

    name = type(layer).__name__
    if isinstance(layer, nn.Linear):
        xs = check_int_range(f"{name} input", _to_numpy(x), cfg.act_width)
        if xs.ndim != 2 or xs.shape[1] != layer.in_features:
            raise ValueError(
                f"{name}({layer.in_features}->{layer.out_features}) needs input "
                f"[B, {layer.in_features}], got {xs.shape}"
            )
        w = check_int_range(f"{name}.weight", _to_numpy(layer.weight), cfg.weight_width)
        return LayerSpec(w, _bias(layer, name, cfg), linear=True, name=name), xs
    if not isinstance(layer, nn.Conv2d):
        raise ValueError(f"run_layer supports nn.Conv2d and nn.Linear, not {name}")
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
    groups = layer.groups
    if groups != 1 and not groups == layer.in_channels == layer.out_channels:
        raise ValueError(
            f"{desc}: grouped convolution with groups={groups} is neither standard (groups=1) "
            "nor depthwise (groups == in_channels == out_channels)"
        )
    if groups != 1:
        _use_fuse(layer, cfg, depthwise)  # raises if depthwise="fuse" cannot run
    bias = _bias(layer, desc, cfg)
    spec = LayerSpec(w, bias, tuple(layer.stride), tuple(layer.padding), groups, name=desc)
    return spec, xs


def run_layer(
    layer,
    x,
    cfg: ArrayConfig,
    simulator: str = "verilator",
    depthwise: str = "auto",
    backend: str = "accel",
    *,
    memories: str = "shared",
) -> LayerResult:
    """Run ``layer(x)`` on the RTL of ``cfg``; see the module docstring for what is supported.

    ``depthwise``: ``"auto"`` (FuSe mode for 1xK/Kx1 when the array has it, plain or with
    line packing, whichever ``sw.latency.rtl.fuse_conv_mapping`` says is faster; else
    baseline), ``"fuse"`` (require FuSe mode, one line per array row), ``"fuse-packed"``
    (require FuSe mode, line packing, ``sw.mapping.pack``) or ``"baseline"`` (per-channel
    GEMMs).
    ``backend``: ``"accel"`` (the default: one program on the accelerator top, cycles from its
    ``cnt_total`` counter) or ``"array"`` (bare array, per-cycle schedule from Python).
    ``memories``: ``"shared"`` (one build per array), ``"fit"`` or ``"given"`` (module docstring).
    """
    return run_layers([(layer, x)], cfg, simulator, depthwise, backend, memories=memories)[0]


def run_layers(
    items,
    cfg: ArrayConfig,
    simulator: str = "verilator",
    depthwise: str = "auto",
    backend: str = "accel",
    *,
    memories: str = "shared",
) -> list[LayerResult]:
    """``[run_layer(layer, x, ...) for layer, x in items]``, with the same results; on the
    accelerator every layer is still its own program, but all of them run in ONE simulator
    process (on one build, chosen by ``memories``). An item may be ``(layer, x, depthwise)``
    to override ``depthwise`` for that layer."""
    _check_options(depthwise, backend)
    check_memory_policy(memories)
    checked = []
    for item in items:
        layer, x, *rest = item
        dw = rest[0] if rest else depthwise
        _check_options(dw, backend)
        checked.append((*_layer_spec(layer, x, cfg, dw), dw))
    if backend == "array":
        return [_run_array(spec, xs, cfg, simulator, dw) for spec, xs, dw in checked]
    return _run_accel(checked, cfg, simulator, memories)


def _run_accel(checked, cfg: ArrayConfig, simulator: str, memories: str) -> list[LayerResult]:
    from sim.accel import job_of, run_programs

    progs = []
    for spec, xs, depthwise in checked:
        try:
            progs.append(compile_layers([(spec, xs)], unbounded(cfg), depthwise))
        except ValueError as exc:
            raise ValueError(
                f"{exc} (the layer does not fit one accelerator program even with the "
                f"largest memories; run_layer(..., backend='array') runs it on the bare array)"
            ) from None
    if not progs:
        return []
    if memories == "shared":
        fitted = unbounded(cfg)
    elif memories == "fit":
        fitted = fit_memories(cfg, progs)
    else:
        fitted = cfg
    progs = [p.retarget(fitted) for p in progs]
    jobs = [job_of(p, p.layers[0].name[:60]) for p in progs]
    results = run_programs(jobs, fitted, simulator)
    out = []
    for prog, res in zip(progs, results, strict=True):
        if res.error:
            raise RuntimeError(f"accelerator raised error on a compiled program ({res.name})")
        plan = prog.layers[0]
        (y,) = prog.layer_outputs(res.acc)
        out.append(
            LayerResult(y, res.total, len(plan.jobs), plan.mapping, res.busy, res.stall, fitted)
        )
    return out


def _run_array(
    spec: LayerSpec, xs: np.ndarray, cfg: ArrayConfig, simulator: str, depthwise: str
) -> LayerResult:
    w, bias = spec.weight, spec.bias
    if spec.linear:
        res = rtl_gemms([(xs, w.T)], cfg, simulator)[0]
        out = res.output if bias is None else res.output + bias
        return LayerResult(out, res.cycles, 1, "gemm", config=cfg)
    n = xs.shape[0]
    kh, kw = w.shape[2:]
    stride, padding, groups = spec.stride, spec.padding, spec.groups
    if groups == 1:
        cols, (ho, wo) = im2col(xs, (kh, kw), stride, padding)
        res = rtl_gemms([(cols, w.reshape(w.shape[0], -1).T)], cfg, simulator)[0]
        out = res.output.reshape(n, ho, wo, -1).transpose(0, 3, 1, 2)
        cycles, jobs, mapping = res.cycles, 1, "gemm"
    elif (mapping := _fuse_mapping(spec, xs, cfg, depthwise)) == "fuse-packed":
        pieces, taps, pk, out_shape, transposed = pack_depthwise(xs, w, stride, padding, cfg.cols)
        res = rtl_fuse(pieces, taps, cfg, simulator)
        out = unpack_depthwise(res.output, pk, out_shape, transposed)
        cycles, jobs = res.cycles, 1
    elif mapping == "fuse":
        lines, taps, out_shape, transposed = depthwise_lines(xs, w, stride, padding)
        res = rtl_fuse(lines, taps, cfg, simulator)
        along = stride[0] if transposed else stride[1]
        out = lines_to_output(res.output, along, out_shape, transposed)
        cycles, jobs = res.cycles, 1
    else:
        pairs = []
        for c in range(groups):
            cols, (ho, wo) = im2col(xs[:, c : c + 1], (kh, kw), stride, padding)
            pairs.append((cols, w[c].reshape(1, -1).T))
        results = rtl_gemms(pairs, cfg, simulator)
        out = np.stack([r.output.reshape(n, ho, wo) for r in results], axis=1)
        cycles, jobs, mapping = sum(r.cycles for r in results), len(results), "depthwise-baseline"
    if bias is not None:
        out = out + bias[None, :, None, None]
    return LayerResult(np.ascontiguousarray(out), cycles, jobs, mapping, config=cfg)


def _fuse_mapping(spec: LayerSpec, xs: np.ndarray, cfg: ArrayConfig, depthwise: str) -> str:
    """``fuse``, ``fuse-packed`` or ``depthwise-baseline``: what ``compile_layers`` chooses
    (the bare array runs the same mapping as the accelerator)."""
    if not _use_fuse_shape(spec.weight.shape[2:], spec.name, cfg, depthwise):
        return "depthwise-baseline"
    if depthwise in ("fuse", "fuse-packed"):
        return depthwise
    n, c, h, w = xs.shape
    return fuse_conv_mapping(
        n, c, h, w, tuple(spec.weight.shape[2:]), spec.stride, spec.padding, cfg.rows, cfg.cols
    )


def _use_fuse(layer, cfg: ArrayConfig, depthwise: str) -> bool:
    return _use_fuse_shape(tuple(layer.kernel_size), repr(layer), cfg, depthwise)


def _use_fuse_shape(kernel, what: str, cfg: ArrayConfig, depthwise: str) -> bool:
    kh, kw = kernel
    one_d = kh == 1 or kw == 1
    if depthwise == "baseline":
        return False
    if depthwise in ("fuse", "fuse-packed"):
        if not one_d:
            raise ValueError(f"{what}: FuSe mode runs 1xK or Kx1 depthwise kernels, not {kh}x{kw}")
        check_fuse_config(cfg, max(kh, kw), what)
        return True
    return one_d and cfg.fuse and max(kh, kw) <= cfg.max_kernel
