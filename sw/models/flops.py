"""Operation counter reproducing the ``pthflops`` package the FuSeConv authors used for the
FLOPs column of the paper's Table I (SPEC section 6).

``pthflops`` cannot produce that column on torch 2.13: its JIT mode (which the seed table used,
on a torch 1.x of 2020) calls the removed ``torch.onnx._optimize_trace``, and its FX mode
crashes on any graph node returning a tuple (``x.chunk`` in every FuSe-Half block). This module
re-implements both rule sets on a single forward pass:

``rules="seed"`` -- pthflops JIT mode (counts on the ONNX graph), which reproduces the table:
    conv: ``(C_in/groups * kh * kw + [bias]) * out.numel()``; batch norm: ``2 * numel``;
    ReLU (module or functional): ``2 * numel``; ReLU6/hardtanh, sigmoid, div, mean: 0;
    linear: ``in_features * out.numel()`` (bias not counted); tensor add/mul: ``numel`` of the
    first tensor operand; global/adaptive average pool: ``input.numel()``; average pool:
    ``kh*kw * out.numel()``; max pool: ``(kh*kw - 1) * out.numel()``.
``rules="fx"`` -- pthflops 0.4.2 FX mode (``count_ops(..., mode="fx")``), kept to check this
    counter against the real package on the models it can trace: only ``torch.nn`` leaf modules
    are costed (conv with bias ``C_out * spatial``; ``nn.ReLU`` modules but not ``F.relu``;
    linear ``in.numel() * out_features + [out_features]``; adaptive pool ``H*W * out.numel()``),
    plus ``add``/``mul`` calls outside leaf modules: ``out.numel() * n_args``.

The counter runs the model once under a ``TorchFunctionMode`` (seeing every functional call,
including those inside ``nn`` modules) and forward hooks (module-level rules).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

RULES = ("seed", "fx")

_ADD_MUL = {"__add__", "__radd__", "__iadd__", "add", "add_", "__mul__", "__rmul__", "__imul__"}
_ADD_MUL |= {"mul", "mul_"}
_FX_ADD_MUL = {"__add__", "__radd__", "add", "__mul__", "__rmul__", "mul"}


@dataclass
class FlopsReport:
    """Total operation count and the per-op contributions ``(op, count)`` in execution order."""

    total: int = 0
    ops: list[tuple[str, int]] = field(default_factory=list)

    def add(self, name: str, count: int) -> None:
        if count:
            self.total += count
            self.ops.append((name, count))


def _pair(v: Any) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _first_tensor(args: tuple[Any, ...]) -> torch.Tensor | None:
    return next((a for a in args if isinstance(a, torch.Tensor)), None)


def _seed_rule(name: str, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> int:
    """pthflops JIT (ONNX) rules, on functional calls."""
    if not isinstance(out, torch.Tensor):
        return 0
    if name == "conv2d":
        x, w = args[0], args[1]
        bias = args[2] if len(args) > 2 else kwargs.get("bias")
        groups = args[6] if len(args) > 6 else kwargs.get("groups", 1)
        per_output = x.shape[1] * w.shape[2] * w.shape[3] // groups + (bias is not None)
        return per_output * out.numel()
    if name == "batch_norm":
        return 2 * out.numel()
    if name in ("relu", "relu_"):
        return 2 * out.numel()
    if name == "linear":
        return args[0].shape[-1] * out.numel()
    if name in _ADD_MUL:
        first = _first_tensor(args)
        return first.numel() if first is not None else 0
    if name == "adaptive_avg_pool2d":
        return args[0].numel()
    if name == "avg_pool2d":
        kh, kw = _pair(args[1] if len(args) > 1 else kwargs["kernel_size"])
        return kh * kw * out.numel()
    if name in ("max_pool2d", "_max_pool2d", "max_pool2d_with_indices"):
        kh, kw = _pair(args[1] if len(args) > 1 else kwargs["kernel_size"])
        return (kh * kw - 1) * out.numel()
    return 0


def _fx_module_rule(module: nn.Module, inputs: tuple[Any, ...], out: Any) -> int:
    """pthflops 0.4.2 FX rules, on ``torch.nn`` leaf modules."""
    if not isinstance(out, torch.Tensor):
        return 0
    if isinstance(module, nn.modules.conv._ConvNd):
        spatial = out.shape[0] * math.prod(out.shape[2:])
        macs = math.prod(module.kernel_size) * module.in_channels * module.out_channels
        macs //= module.groups
        bias = module.out_channels * spatial if module.bias is not None else 0
        return macs * spatial + bias
    if isinstance(module, nn.ReLU):
        return 2 * out.numel()
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        return 2 * out.numel()
    if isinstance(module, nn.modules.pooling._MaxPoolNd):
        k = module.kernel_size
        k = [k] * (out.dim() - 2) if isinstance(k, int) else k
        return (math.prod(k) - 1) * out.numel()
    if isinstance(module, nn.modules.pooling._AvgPoolNd):
        k = module.kernel_size
        k = [k] * (out.dim() - 2) if isinstance(k, int) else k
        return math.prod(k) * out.numel()
    if isinstance(module, nn.modules.pooling._AdaptiveAvgPoolNd):
        x = inputs[0]
        return x.shape[-2] * x.shape[-1] * out.numel()
    if isinstance(module, nn.Linear):
        bias = out.shape[-1] if module.bias is not None else 0
        return inputs[0].numel() * out.shape[-1] + bias
    return 0


def _is_fx_leaf(module: nn.Module) -> bool:
    # torch.fx's default tracer treats torch.nn modules (except containers) as opaque leaves.
    mod = type(module).__module__
    return (mod.startswith("torch.nn") or mod.startswith("torch.ao.nn")) and not isinstance(
        module, nn.Sequential
    )


class _Counter(TorchFunctionMode):
    def __init__(self, rules: str, report: FlopsReport) -> None:
        super().__init__()
        self.rules = rules
        self.report = report
        self.leaf_depth = 0  # > 0 while inside a torch.nn leaf module (fx rules)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        name = getattr(func, "__name__", "")
        if self.rules == "seed":
            self.report.add(name, _seed_rule(name, args, kwargs, out))
        elif self.leaf_depth == 0 and name in _FX_ADD_MUL and isinstance(out, torch.Tensor):
            self.report.add(name, out.numel() * len(args))
        return out


def count_flops(model: nn.Module, x: torch.Tensor, rules: str = "seed") -> FlopsReport:
    """Count operations of one forward pass of ``model`` on ``x`` with the pthflops rules
    ``rules`` (``"seed"``: the paper table's JIT rules; ``"fx"``: pthflops 0.4.2 FX mode).

    The model is run in eval mode and restored to its previous mode afterwards. A model on the
    ``meta`` device with a CPU ``x`` runs shape-only (``sw.models.shapes``)."""
    if rules not in RULES:
        raise ValueError(f"FLOPs rules must be one of {RULES}, not {rules!r}")
    report = FlopsReport()
    counter = _Counter(rules, report)
    handles = []
    if rules == "fx":
        names = {m: n for n, m in model.named_modules()}

        def pre(module: nn.Module, inputs: tuple[Any, ...]) -> None:
            counter.leaf_depth += 1

        def post(module: nn.Module, inputs: tuple[Any, ...], out: Any) -> None:
            counter.leaf_depth -= 1
            if counter.leaf_depth == 0:
                report.add(
                    names.get(module, type(module).__name__), _fx_module_rule(module, inputs, out)
                )

        for m in model.modules():
            if _is_fx_leaf(m):
                handles.append(m.register_forward_pre_hook(pre))
                handles.append(m.register_forward_hook(post))
    from sw.models.shapes import is_meta, shape_only

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            if is_meta(model) and not x.is_meta:
                # Shape-only run: the counter sees the same calls and shapes as a real run.
                with shape_only(), counter:
                    model(x)
            else:
                with counter:
                    model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return report
