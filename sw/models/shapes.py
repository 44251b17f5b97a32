"""Shape-only execution of the model zoo, for fast FLOPs and latency tables.

The analytical latency model (SPEC section 4) and the op counter only need tensor *shapes*. A
model built on the ``meta`` device (``build_meta``) holds no weights; ``shape_only()`` then runs
its forward on a CPU input where every activation is a zero-stride stand-in (one element
expanded to the real shape): conv/linear output shapes come from their formulas, elementwise
ops from broadcasting, ``cat`` from summing, and in-place or shape-preserving ops (activations,
normalization, dropout) return their input. Hooks and op counters see exactly the calls and
shapes of a real run (the tests compare both), at a few milliseconds per model instead of
hundreds for real or ``meta`` execution.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from sw.models.zoo import build_model


def _pair(v: int | tuple[int, ...]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[-1]))


def _fake(shape: Sequence[int], like: torch.Tensor) -> torch.Tensor:
    # A zero-stride view of one element: the right shape at no memory or compute cost.
    return torch.zeros((), dtype=like.dtype, device=like.device).expand(*shape)


def _conv_shape(x: torch.Tensor, w: torch.Tensor, stride, padding, dilation) -> list[int]:
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    kh, kw = w.shape[2], w.shape[3]
    if isinstance(padding, str):
        if padding == "same":  # torch allows 'same' only with stride 1
            return [x.shape[0], w.shape[0], x.shape[2], x.shape[3]]
        ph = pw = 0
    else:
        ph, pw = _pair(padding)
    h = (x.shape[2] + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wd = (x.shape[3] + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    return [x.shape[0], w.shape[0], h, wd]


_UNARY = {F.relu, F.relu6, F.hardtanh, F.hardswish, F.hardsigmoid, F.sigmoid, F.silu, F.gelu}
_UNARY |= {F.dropout, F.batch_norm, F.layer_norm, F.group_norm, F.instance_norm, torch.sigmoid}
_UNARY |= {torch.relu, torch.relu_, torch.tanh, F.tanh}
_BINARY = {"add", "sub", "mul", "div", "true_divide", "__add__", "__radd__", "__iadd__"}
_BINARY |= {"__sub__", "__rsub__", "__isub__", "__mul__", "__rmul__", "__imul__"}
_BINARY |= {"__truediv__", "__rtruediv__", "__itruediv__", "add_", "mul_", "sub_", "div_"}


class _ShapeOnly(TorchFunctionMode):
    """Shape propagation with zero-stride stand-in tensors: weight ops by formula, elementwise
    ops by broadcasting, ``cat`` by summing; other ops (views, chunk, mean, pooling) run as is
    on the stand-ins, which is cheap."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is F.conv2d:
            full = list(args) + [None] * (7 - len(args))
            stride = kwargs.get("stride", full[3] if full[3] is not None else 1)
            padding = kwargs.get("padding", full[4] if full[4] is not None else 0)
            dilation = kwargs.get("dilation", full[5] if full[5] is not None else 1)
            return _fake(_conv_shape(args[0], args[1], stride, padding, dilation), args[0])
        if func is F.linear:
            x, w = args[0], args[1]
            return _fake([*x.shape[:-1], w.shape[0]], x)
        if func in _UNARY:
            return args[0]
        if getattr(func, "__name__", "") in _BINARY:
            tensors = [a for a in args if isinstance(a, torch.Tensor)]
            return _fake(torch.broadcast_shapes(*(t.shape for t in tensors)), tensors[0])
        if func is F.adaptive_avg_pool2d:
            x, size = args[0], args[1] if len(args) > 1 else kwargs["output_size"]
            oh, ow = _pair(size)
            return _fake([*x.shape[:-2], oh or x.shape[-2], ow or x.shape[-1]], x)
        if func is torch.cat:
            parts = list(args[0])
            dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
            shape = list(parts[0].shape)
            shape[dim] = sum(p.shape[dim] for p in parts)
            return _fake(shape, parts[0])
        return func(*args, **kwargs)


@contextmanager
def shape_only() -> Iterator[None]:
    """Run conv/linear/normalization as shape-only stand-ins (weights are never read)."""
    with _ShapeOnly():
        yield


def build_meta(network: str, variant: str = "base", num_classes: int = 1000) -> nn.Module:
    """``build_model`` on the ``meta`` device: exact structure and parameter count, no weights."""
    with torch.device("meta"):
        return build_model(network, variant, num_classes)


def is_meta(model: nn.Module) -> bool:
    """True when the model's parameters live on the ``meta`` device."""
    p = next(model.parameters(), None)
    return p is not None and p.is_meta
