"""Paper-compatible analytical latency model (FuSeConv paper section IV, SPEC section 4).

Reproduces the authors' released model (iitm-sysdl/FuSeConv, ``analyticalLatencyModel.py``)
to the cycle: forward hooks on every ``nn.Conv2d`` and ``nn.Linear`` while the model runs one
input; H, W are the *padded* input dims; BN, activations, pooling, SE multiplies and residual
adds are free; layers add up. With X = array rows and Y = array columns:

* GEMM (dense or 1x1 conv; Linear as H=W=R=S=1): ``E=(H-R+Sh)//Sh``, ``F=(W-S+Sw)//Sw``,
  ``I=N*E*F`` (mapped on X), ``M`` filters (on Y), ``T=R*S*C``::

      (I//X)*(M//Y)*(T+X+Y-1) + [I%X>0]*(M//Y)*(T+I%X+Y-1)
        + [M%Y>0]*(I//X)*(T+X+M%Y-1) + [I%X>0 and M%Y>0]*(T+I%X+M%Y-1)

* KxK depthwise (both kernel dims > 1), on both hardware types: ``C * GEMM(C=1, M=1)``.
* 1xK depthwise on 'FuSe': ``ceil(ceil(N*H*C/X)/Sw * (Y+K) * ceil(W/Y))``; Kx1 swaps
  H<->W and Sh<->Sw. On 'Systolic' a 1-D depthwise layer costs ``C * GEMM(C=1, M=1)``.

Differences from the released code, none of which changes a reference number: the batch N of
``x`` is used (the released hooks always use N=1); a Linear fed more than one row (any leading
dims) is a GEMM with I = rows; unsupported layers raise ``ValueError`` naming the layer instead
of being skipped; the hooks are removed afterwards.

``mode="scalesim"`` costs GEMMs (and depthwise sub-GEMMs) with SCALE-Sim's WS closed form
instead (``sw.latency.scalesim``); FuSe 1-D layers keep the paper's FuSe formula there.
``mode="rtl"`` costs every layer with the exact cycle model of fusesa's own accelerator: each
layer one program on ``hw.accel`` (its commands + ``HALT``, as ``sim.run_layer`` runs it;
``sw.latency.rtl.accel_layer_program_cycles``: WS GEMM, per-channel baseline depthwise, FuSe
mode, plus the sequencer's per-command and per-program cycles). ``mode="rtl-array"`` keeps the
bare array's counts (``sw.latency.rtl.rtl_layer_cycles``, ``run_layer(..., backend="array")``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import torch
from torch import nn

from sw.latency.records import LatencyReport, LayerLatency, with_shares

HARDWARE: tuple[str, ...] = ("Systolic", "FuSe")
MODES: tuple[str, ...] = ("paper", "scalesim", "rtl", "rtl-array")


def _check_array(arr_x: int, arr_y: int) -> None:
    for label, v in (("row", arr_x), ("column", arr_y)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"Array {label} count must be a positive integer, not {v!r}")


def gemm_cycles(
    arr_x: int,
    arr_y: int,
    h: int,
    w: int,
    r: int,
    s: int,
    c: int,
    m: int,
    stride_h: int = 1,
    stride_w: int = 1,
    n: int = 1,
) -> int:
    """Paper GEMM cycles of a conv on a padded ``h x w`` input (see module docstring)."""
    e = (h - r + stride_h) // stride_h
    f = (w - s + stride_w) // stride_w
    i, t = n * e * f, r * s * c
    iq, ir = divmod(i, arr_x)
    mq, mr = divmod(m, arr_y)
    cycles = iq * mq * (t + arr_x + arr_y - 1)
    if ir:
        cycles += mq * (t + ir + arr_y - 1)
    if mr:
        cycles += iq * (t + arr_x + mr - 1)
    if ir and mr:
        cycles += t + ir + mr - 1
    return cycles


def fuse_row_cycles(
    arr_x: int, arr_y: int, h: int, w: int, k: int, c: int, stride_w: int = 1, n: int = 1
) -> int:
    """Paper FuSe cycles of a 1xK depthwise conv on a padded ``h x w`` input:
    ``ceil(ceil(N*H*C/X)/Sw * (Y+K) * ceil(W/Y))`` (integer-exact)."""
    lines = -(-(n * h * c) // arr_x)
    folds_w = -(-w // arr_y)
    return -(-(lines * (arr_y + k) * folds_w) // stride_w)


def depthwise_cycles(
    arr_x: int,
    arr_y: int,
    h: int,
    w: int,
    r: int,
    s: int,
    c: int,
    stride_h: int = 1,
    stride_w: int = 1,
    n: int = 1,
) -> int:
    """Depthwise conv on a WS array: one single-filter GEMM per channel, ``C * GEMM(C=1, M=1)``."""
    return c * gemm_cycles(arr_x, arr_y, h, w, r, s, 1, 1, stride_h, stride_w, n)


def classify_conv(name: str, conv: nn.Conv2d) -> str:
    """Mapping kind of a conv layer, or ``ValueError`` naming it when unsupported."""
    if tuple(conv.dilation) != (1, 1):
        raise ValueError(f"Layer {name!r}: dilated convolution {conv.dilation} is not supported")
    if isinstance(conv.padding, str) and conv.padding != "valid":
        raise ValueError(f"Layer {name!r}: padding={conv.padding!r} is not supported")
    if conv.groups == 1:
        return "pointwise" if tuple(conv.kernel_size) == (1, 1) else "conv"
    if conv.groups == conv.in_channels == conv.out_channels:
        kh, kw = conv.kernel_size
        if kh > 1 and kw > 1:
            return "depthwise"
        return "fuse_row" if kh == 1 else "fuse_col"
    raise ValueError(
        f"Layer {name!r}: grouped convolution (groups={conv.groups}, in={conv.in_channels}, "
        f"out={conv.out_channels}) is neither dense nor depthwise; not supported"
    )


def check_supported(model: nn.Module) -> None:
    """Raise ``ValueError`` naming the first layer the latency model cannot cost."""
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            classify_conv(name, m)
        elif isinstance(m, nn.modules.conv._ConvNd):
            raise ValueError(
                f"Layer {name!r}: {type(m).__name__} is not supported "
                "(only nn.Conv2d and nn.Linear are costed)"
            )


def _padded(conv: nn.Conv2d, h: int, w: int) -> tuple[int, int]:
    if isinstance(conv.padding, str):  # 'valid'
        return h, w
    ph, pw = conv.padding
    return h + 2 * ph, w + 2 * pw


def layer_cycles(
    layer: LayerLatency,
    arr_x: int,
    arr_y: int,
    hardware: str,
    mode: str = "paper",
    depthwise: str = "auto",
) -> int:
    """Cycles of one traced layer call (its ``cycles`` field is ignored) on an
    ``arr_x x arr_y`` array of type ``hardware`` in latency ``mode``. ``depthwise`` (modes
    ``rtl`` / ``rtl-array`` only): the depthwise mapping, ``sw.latency.rtl.DEPTHWISE_MAPPINGS``
    (``auto`` packs FuSe lines where that is faster; ``fuse`` is the one-line-per-row mapping)."""
    if mode == "rtl":
        from sw.latency.rtl import accel_layer_program_cycles

        return accel_layer_program_cycles(layer, arr_x, arr_y, hardware, depthwise)
    if mode == "rtl-array":
        from sw.latency.rtl import rtl_layer_cycles

        return rtl_layer_cycles(layer, arr_x, arr_y, hardware, depthwise)
    if depthwise != "auto":
        raise ValueError(
            f"depthwise mapping {depthwise!r} applies to latency modes rtl and rtl-array, "
            f"not {mode!r}"
        )
    if mode == "paper":
        gemm: Callable[..., int] = gemm_cycles
    else:
        from sw.latency.scalesim import scalesim_conv_cycles as gemm
    n, c, _, _ = layer.in_shape
    hp, wp = layer.padded_hw
    (kh, kw), (sh, sw) = layer.kernel, layer.stride
    kind = layer.kind
    if kind in ("conv", "pointwise", "linear"):
        return gemm(arr_x, arr_y, hp, wp, kh, kw, c, layer.out_channels, sh, sw, n)
    if kind == "fuse_row" and hardware == "FuSe":
        return fuse_row_cycles(arr_x, arr_y, hp, wp, kw, c, sw, n)
    if kind == "fuse_col" and hardware == "FuSe":
        # Kx1: the same array with lines read column-wise, so H<->W and Sh<->Sw swap.
        return fuse_row_cycles(arr_x, arr_y, wp, hp, kh, c, sh, n)
    # KxK depthwise on any array, and 1-D depthwise on the plain systolic array.
    return layer.out_channels * gemm(arr_x, arr_y, hp, wp, kh, kw, 1, 1, sh, sw, n)


def trace_layers(model: nn.Module, x: torch.Tensor | None = None) -> list[LayerLatency]:
    """Run ``model`` once on ``x`` and record every ``nn.Conv2d`` / ``nn.Linear`` call (shape,
    kind, kernel, stride; ``cycles`` 0). Default ``x``: a 1x3x224x224 zero image. A model on
    the ``meta`` device runs shape-only on a CPU input (``sw.models.shapes``)."""
    from sw.models.shapes import is_meta, shape_only

    check_supported(model)
    meta = is_meta(model)
    if x is None:
        x = torch.zeros(1, 3, 224, 224)
        if not meta:
            param = next(model.parameters(), None)
            x = x.to(param.device) if param is not None else x
    names = {m: n for n, m in model.named_modules()}
    records: list[LayerLatency] = []

    def hook(module: nn.Module, inputs: tuple[Any, ...], out: Any) -> None:
        name = names[module]
        inp = inputs[0]
        if isinstance(module, nn.Conv2d):
            n, c, h, w = (int(v) for v in inp.shape)
            rec = LayerLatency(
                name, classify_conv(name, module), (n, c, h, w), _padded(module, h, w),
                tuple(module.kernel_size), tuple(module.stride), module.out_channels, 0,
            )  # fmt: skip
        else:
            rows = inp.numel() // module.in_features
            shape = (rows, module.in_features, 1, 1)
            rec = LayerLatency(
                name, "linear", shape, (1, 1), (1, 1), (1, 1), module.out_features, 0
            )
        records.append(rec)

    handles = [
        m.register_forward_hook(hook)
        for m in model.modules()
        if isinstance(m, nn.Conv2d | nn.Linear)
    ]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            if meta and not x.is_meta:
                with shape_only():
                    model(x)
            else:
                model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return records


def cost_layers(
    layers: list[LayerLatency],
    arr_x: int = 64,
    arr_y: int = 64,
    hardware: str = "Systolic",
    mode: str = "paper",
    depthwise: str = "auto",
) -> LatencyReport:
    """Cost traced layers on one array: total and per-layer records with cycles and shares.
    Tracing once and costing many arrays is how ``fusesa sweep`` stays fast. ``depthwise``:
    see ``layer_cycles``."""
    _check_array(arr_x, arr_y)
    if hardware not in HARDWARE:
        raise ValueError(f"Hardware must be one of {HARDWARE}, not {hardware!r}")
    if mode not in MODES:
        raise ValueError(f"Latency mode must be one of {MODES}, not {mode!r}")
    costed = [
        replace(r, cycles=layer_cycles(r, arr_x, arr_y, hardware, mode, depthwise)) for r in layers
    ]
    total, costed = with_shares(costed)
    return LatencyReport(total, costed, arr_x, arr_y, hardware, mode)


def model_latency(
    model: nn.Module,
    x: torch.Tensor | None = None,
    arr_x: int = 64,
    arr_y: int = 64,
    hardware: str = "Systolic",
    mode: str = "paper",
    depthwise: str = "auto",
) -> LatencyReport:
    """Run ``model`` once on ``x`` (default: a 1x3x224x224 zero image) and cost every
    ``nn.Conv2d`` / ``nn.Linear`` call on an ``arr_x x arr_y`` array of type ``hardware``
    ('Systolic' or 'FuSe'). Returns the total and the per-layer records."""
    _check_array(arr_x, arr_y)
    if hardware not in HARDWARE:
        raise ValueError(f"Hardware must be one of {HARDWARE}, not {hardware!r}")
    if mode not in MODES:
        raise ValueError(f"Latency mode must be one of {MODES}, not {mode!r}")
    return cost_layers(trace_layers(model, x), arr_x, arr_y, hardware, mode, depthwise)


def getModelLatency(
    net: nn.Module,
    x: torch.Tensor,
    arrX: int = 8,
    arrY: int = 8,
    hardware: str = "Systolic",
) -> int:
    """The seed's entry point: total paper-mode cycles of ``net`` on input ``x`` on an
    ``arrX x arrY`` array of type ``hardware`` ('Systolic' or 'FuSe')."""
    return model_latency(net, x, arrX, arrY, hardware, "paper").total
