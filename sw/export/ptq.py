"""Post-training int8 quantization of a zoo network (issue 10, SPEC section 5).

``quantize_network(model, calib)`` traces the model with ``torch.fx``, folds every BatchNorm
into the conv before it, fuses ReLU/ReLU6 into the producing conv/linear/add as a clamp, and
calibrates one symmetric per-tensor activation scale per tensor on ``calib``:

* activations: ``s = max|x| / 127`` over the calibration batch (max-abs calibration), zero
  point 0, int8 range [-128, 127] (post-ReLU tensors use [0, 127]);
* weights: per output channel ``s_w[c] = max|w[c]| / 127``, values in [-127, 127];
* bias: int32 ``round_half_even(b / (s_in * s_w[c]))``;
* FuSe concat: both branches are requantized to the concat's single scale (the max of the
  branches' ranges), so the concat copies int8 values.

MobileNetV3 (hard-swish, hard-sigmoid, squeeze-and-excite multiply) is rejected with a
``ValueError`` naming the op: there is no integer implementation of those here.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn

from sw.export.qnet import (
    INPUT,
    QAdd,
    QAvgPool,
    QClamp,
    QConcat,
    QConv,
    QFlatten,
    QLayer,
    QLinear,
    QMaxPool,
    QSlice,
    QuantizedNetwork,
)
from sw.models.common import Hsigmoid, Hswish, SqueezeExcite
from sw.ref import quant as qref

__all__ = ["quantize_network", "set_bn_statistics", "compare_float_int8"]

_UNSUPPORTED_LEAVES = (Hswish, Hsigmoid, SqueezeExcite, nn.Hardswish, nn.Hardsigmoid)
_RELU_FUNCS = {F.relu, torch.relu, F.relu6}


class _Tracer(fx.Tracer):
    """Keeps MobileNetV3's hard activations and SE as opaque leaves so errors name them."""

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return isinstance(m, _UNSUPPORTED_LEAVES) or super().is_leaf_module(m, qualname)


@dataclass
class _Pending:
    """A layer before scales are known: its kind, float parameters and the fx node whose
    float output defines its output range."""

    name: str
    kind: str
    inputs: list[str]
    node: fx.Node | None
    source: str
    params: dict[str, Any]


class _Builder:
    def __init__(self, model: nn.Module) -> None:
        self.model = model
        try:
            self.graph = _Tracer().trace(model)
        except Exception as exc:  # fx raises many kinds; report the model, not fx internals
            raise ValueError(
                f"cannot trace {type(model).__name__} with torch.fx for quantization: {exc}"
            ) from exc
        self.env: dict[fx.Node, str] = {}  # fx node -> IR tensor name
        self.chunks: dict[fx.Node, tuple[str, list[tuple[int, int]]]] = {}
        self.pending: list[_Pending] = []
        self.names: set[str] = {INPUT}
        self.output: str | None = None

    # --- helpers ---------------------------------------------------------------------------
    def _module(self, node: fx.Node) -> nn.Module | None:
        return self.model.get_submodule(node.target) if node.op == "call_module" else None

    def _unique(self, base: str) -> str:
        name, k = base, 2
        while name in self.names:
            name, k = f"{base}#{k}", k + 1
        self.names.add(name)
        return name

    def _where(self, node: fx.Node) -> str:
        if node.op == "call_module":
            return f"{type(self._module(node)).__name__} at {node.target}"
        return f"{node.op} {getattr(node.target, '__name__', node.target)!s} ({node.name})"

    def _sole_user(self, node: fx.Node) -> fx.Node | None:
        return next(iter(node.users)) if len(node.users) == 1 else None

    def _is_relu(self, node: fx.Node) -> tuple[bool, bool]:
        """(is a ReLU-like op, is ReLU6)."""
        m = self._module(node)
        if m is not None:
            if isinstance(m, nn.ReLU6):
                return True, True
            if isinstance(m, nn.ReLU):
                return True, False
            if isinstance(m, nn.Hardtanh) and (m.min_val, m.max_val) == (0.0, 6.0):
                return True, True
            return False, False
        if node.op == "call_function" and node.target in _RELU_FUNCS:
            return True, node.target is F.relu6
        if node.op == "call_method" and node.target == "relu":
            return True, False
        return False, False

    def _tensor(self, arg: Any, node: fx.Node) -> str:
        if not isinstance(arg, fx.Node) or arg not in self.env:
            raise ValueError(f"cannot quantize {self._where(node)}: unsupported operand {arg!r}")
        return self.env[arg]

    def _add(self, node, kind, inputs, source, params, last=None, base=None) -> str:
        name = self._unique(base or source or node.name)
        self.pending.append(_Pending(name, kind, inputs, last or node, source, params))
        return name

    def _fuse_act(self, node: fx.Node, consumed: set[fx.Node]) -> tuple[fx.Node, str | None]:
        """Absorb a ReLU/ReLU6 that is ``node``'s only user."""
        user = self._sole_user(node)
        if user is not None:
            is_relu, six = self._is_relu(user)
            if is_relu:
                consumed.add(user)
                return user, ("relu6" if six else "relu")
        return node, None

    # --- the walk --------------------------------------------------------------------------
    def build(self) -> None:
        consumed: set[fx.Node] = set()
        for node in self.graph.nodes:
            if node in consumed:
                continue
            if node.op == "placeholder":
                if self.env:
                    raise ValueError("quantize_network supports models with one input only")
                self.env[node] = INPUT
            elif node.op == "output":
                out = node.args[0]
                if not isinstance(out, fx.Node) or out not in self.env:
                    raise ValueError("the model must return a single tensor")
                self.output = self.env[out]
            elif node.op == "get_attr":
                raise ValueError(f"cannot quantize {self._where(node)}: parameter used as data")
            else:
                self._visit(node, consumed)

    def _visit(self, node: fx.Node, consumed: set[fx.Node]) -> None:
        m = self._module(node)
        if isinstance(m, _UNSUPPORTED_LEAVES):
            raise ValueError(
                f"cannot quantize {self._where(node)}: hard-swish / hard-sigmoid / "
                "squeeze-and-excite have no integer implementation in fusesa's int8 flow "
                "(MobileNetV3 is not supported; conv/BN/ReLU/ReLU6/add/pooling/concat/linear are)"
            )
        if isinstance(m, nn.Conv2d):
            self._conv(node, m, consumed)
        elif isinstance(m, nn.Linear):
            last, act = self._fuse_act(node, consumed)
            w = m.weight.detach().double()
            b = m.bias.detach().double() if m.bias is not None else torch.zeros(w.shape[0])
            self.env[last] = self._add(
                node,
                "linear",
                [self._tensor(node.args[0], node)],
                node.target,
                {"w": w, "b": b, "act": act},
                last,
            )
        elif isinstance(m, (nn.Dropout, nn.Identity)):
            self.env[node] = self._tensor(node.args[0], node)
        elif isinstance(m, nn.BatchNorm2d):
            raise ValueError(
                f"cannot quantize {self._where(node)}: BatchNorm must directly follow a conv "
                "whose only user it is (it is folded into the conv)"
            )
        elif isinstance(m, nn.AdaptiveAvgPool2d):
            size = m.output_size
            if size not in (1, (1, 1)):
                raise ValueError(f"cannot quantize {self._where(node)}: only global pooling")
            self._simple(node, "avgpool", {})
        elif isinstance(m, nn.MaxPool2d):
            pair = nn.modules.utils._pair
            if m.dilation not in (1, (1, 1)) or m.ceil_mode:
                raise ValueError(f"cannot quantize {self._where(node)}: dilation/ceil_mode")
            params = {
                "kernel": pair(m.kernel_size),
                "stride": pair(m.stride if m.stride is not None else m.kernel_size),
                "padding": pair(m.padding),
            }
            self._simple(node, "maxpool", params)
        elif self._is_relu(node)[0]:
            six = self._is_relu(node)[1]
            self._simple(node, "clamp", {"act": "relu6" if six else "relu"})
        elif self._is_add(node):
            last, act = self._fuse_act(node, consumed)
            ins = [self._tensor(a, node) for a in node.args[:2]]
            self.env[last] = self._add(node, "add", ins, node.name, {"act": act}, last)
        elif node.op == "call_function" and node.target is torch.cat:
            tensors = node.args[0]
            dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim", 0)
            if dim != 1:
                raise ValueError(f"cannot quantize {self._where(node)}: concat only on channels")
            ins = [self._tensor(t, node) for t in tensors]
            self.env[node] = self._add(node, "concat", ins, node.name, {})
        elif node.op == "call_method" and node.target == "chunk":
            self._chunk(node)
        elif node.op == "call_function" and node.target is operator.getitem:
            self._getitem(node)
        elif self._is_flatten(node):
            self._simple(node, "flatten", {})
        elif node.op == "call_method" and node.target == "mean":
            dims = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim")
            keep = node.kwargs.get("keepdim", node.args[2] if len(node.args) > 2 else False)
            if sorted(d % 4 for d in dims) != [2, 3]:
                raise ValueError(f"cannot quantize {self._where(node)}: mean over {dims}")
            pooled = self._add(node, "avgpool", [self._tensor(node.args[0], node)], node.name, {})
            self.env[node] = pooled
            if not keep:
                self.env[node] = self._add(
                    node, "flatten", [pooled], node.name, {}, base=node.name + ".flatten"
                )
        else:
            raise ValueError(f"cannot quantize {self._where(node)}: unsupported operation")

    def _simple(self, node: fx.Node, kind: str, params: dict) -> None:
        src = node.target if node.op == "call_module" else node.name
        self.env[node] = self._add(node, kind, [self._tensor(node.args[0], node)], src, params)

    def _is_add(self, node: fx.Node) -> bool:
        is_add = (node.op == "call_function" and node.target in (operator.add, torch.add)) or (
            node.op == "call_method" and node.target == "add"
        )
        return (
            is_add
            and len(node.args) == 2
            and all(isinstance(a, fx.Node) for a in node.args)
            and not node.kwargs
        )

    def _is_flatten(self, node: fx.Node) -> bool:
        if not (
            (node.op == "call_function" and node.target is torch.flatten)
            or (node.op == "call_method" and node.target == "flatten")
        ):
            return False
        start = node.args[1] if len(node.args) > 1 else node.kwargs.get("start_dim", 0)
        if start != 1 or len(node.args) > 2 or "end_dim" in node.kwargs:
            raise ValueError(f"cannot quantize {self._where(node)}: only flatten(x, 1)")
        return True

    def _chunk(self, node: fx.Node) -> None:
        n = node.args[1] if len(node.args) > 1 else node.kwargs.get("chunks")
        dim = node.args[2] if len(node.args) > 2 else node.kwargs.get("dim", 0)
        if dim != 1:
            raise ValueError(f"cannot quantize {self._where(node)}: chunk only on channels")
        self.chunks[node] = (self._tensor(node.args[0], node), [(n, None)])

    def _getitem(self, node: fx.Node) -> None:
        parent, idx = node.args
        if parent not in self.chunks:
            raise ValueError(f"cannot quantize {self._where(node)}: indexing a non-chunk value")
        src, [(n, _)] = self.chunks[parent]
        self.env[node] = self._add(node, "slice", [src], node.name, {"chunk": (idx, n)})

    def _conv(self, node: fx.Node, m: nn.Conv2d, consumed: set[fx.Node]) -> None:
        if m.padding_mode != "zeros" or isinstance(m.padding, str):
            raise ValueError(f"cannot quantize {self._where(node)}: only explicit zero padding")
        if tuple(m.dilation) != (1, 1):
            raise ValueError(f"cannot quantize {self._where(node)}: dilation {m.dilation}")
        w = m.weight.detach().double()
        b = m.bias.detach().double() if m.bias is not None else torch.zeros(w.shape[0]).double()
        last = node
        user = self._sole_user(node)
        bn = self._module(user) if user is not None else None
        if isinstance(bn, nn.BatchNorm2d):
            if bn.running_mean is None or not bn.affine:
                raise ValueError(
                    f"cannot fold BatchNorm at {user.target}: needs running stats and affine"
                )
            inv = bn.weight.detach().double() / torch.sqrt(bn.running_var.double() + bn.eps)
            w = w * inv.view(-1, 1, 1, 1)
            b = (b - bn.running_mean.double()) * inv + bn.bias.detach().double()
            consumed.add(user)
            last = user
        last, act = self._fuse_act(last, consumed)
        params = {
            "w": w,
            "b": b,
            "act": act,
            "stride": tuple(m.stride),
            "padding": tuple(m.padding),
            "groups": m.groups,
        }
        ins = [self._tensor(node.args[0], node)]
        self.env[last] = self._add(node, "conv", ins, node.target, params, last)


class _RangeRecorder(fx.Interpreter):
    """Runs the traced model, recording max|x| of the nodes that define tensor ranges, and
    the channel count of each node (for chunk splits)."""

    def __init__(self, gm: fx.GraphModule, wanted: set[str]) -> None:
        super().__init__(gm)
        self.wanted = wanted
        self.amax: dict[str, float] = {}
        self.channels: dict[str, int] = {}

    def run_node(self, n: fx.Node) -> Any:
        out = super().run_node(n)
        if isinstance(out, torch.Tensor):
            if out.ndim >= 2:
                self.channels[n.name] = out.shape[1]
            if n.name in self.wanted:
                v = float(out.detach().abs().max()) if out.numel() else 0.0
                self.amax[n.name] = max(self.amax.get(n.name, 0.0), v)
        return out


def _scale_from_amax(amax: float) -> float:
    return float(np.float32(amax / qref.INT8_MAX)) if amax > 0 else 1.0


def _check_calib(calib: Any) -> torch.Tensor:
    if not isinstance(calib, torch.Tensor):
        raise ValueError(f"calib must be a torch.Tensor batch N x 3 x H x W, not {type(calib)}")
    if calib.ndim != 4 or calib.shape[0] < 1 or not calib.is_floating_point():
        raise ValueError(f"calib must be a float N x C x H x W batch, got {tuple(calib.shape)}")
    if not torch.isfinite(calib).all():
        raise ValueError("calib holds NaN or inf")
    return calib.detach().float().cpu()


def quantize_network(
    model: nn.Module, calib: torch.Tensor, batch_size: int = 16
) -> QuantizedNetwork:
    """Post-training int8 quantization of ``model`` (evaluated in eval mode) calibrated on the
    float batch ``calib`` (N x 3 x H x W); see the module docstring for the scheme."""
    calib = _check_calib(calib)
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, not {type(model).__name__}")
    was_training = model.training
    model.eval()
    try:
        b = _Builder(model)
        b.build()
        gm = fx.GraphModule(model, b.graph)
        wanted = {p.node.name for p in b.pending if p.node is not None}
        rec = _RangeRecorder(gm, wanted)
        with torch.no_grad():
            for i in range(0, calib.shape[0], batch_size):
                rec.run(calib[i : i + batch_size])
        in_scale = _scale_from_amax(float(calib.abs().max()))
        layers = _finish(b, rec, in_scale)
    finally:
        model.train(was_training)
    meta = {"model": type(model).__name__, "calibration": "max-abs", "calib_images": calib.shape[0]}
    assert b.output is not None
    return QuantizedNetwork(layers, in_scale, tuple(calib.shape[1:]), b.output, meta)


def _finish(b: _Builder, rec: _RangeRecorder, in_scale: float) -> list[QLayer]:
    """Assign scales (concat inputs share the concat's scale) and quantize parameters."""
    calib_amax = {p.name: rec.amax.get(p.node.name, 0.0) for p in b.pending}
    by_name = {p.name: p for p in b.pending}
    own_scale = {"conv", "linear", "add", "avgpool"}
    # union concat inputs and output: one range for the group
    group = {p.name: p.name for p in b.pending}

    def find(t: str) -> str:
        while group[t] != t:
            group[t] = group[group[t]]
            t = group[t]
        return t

    for p in b.pending:
        if p.kind == "concat":
            for t in p.inputs:
                if t == INPUT or by_name[t].kind not in own_scale:
                    raise ValueError(
                        f"concat {p.name}: input {t!r} cannot take the concat's scale "
                        "(only conv/linear/add/avgpool outputs can be requantized to it)"
                    )
                group[find(t)] = find(p.name)
    group_amax: dict[str, float] = {}
    for p in b.pending:
        r = find(p.name)
        group_amax[r] = max(group_amax.get(r, 0.0), calib_amax[p.name])

    scales: dict[str, float] = {INPUT: in_scale}
    layers: list[QLayer] = []
    for p in b.pending:
        if p.kind in own_scale or p.kind == "concat":
            scale = _scale_from_amax(group_amax[find(p.name)])
        else:  # passthrough: slice, flatten, maxpool, clamp
            scale = scales[p.inputs[0]]
        scales[p.name] = scale
        layers.append(_make_layer(p, scale, scales, rec))
    return layers


def _clamp(act: str | None, scale: float) -> tuple[int, int]:
    if act is None:
        return qref.INT8_MIN, qref.INT8_MAX
    hi = qref.INT8_MAX
    if act == "relu6":
        hi = int(min(qref.INT8_MAX, np.rint(np.float32(6.0) / np.float32(scale))))
    return 0, hi


def _quantize_weight(w: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    wn = w.numpy()
    amax = np.abs(wn.reshape(wn.shape[0], -1)).max(axis=1)
    w_scale = np.where(amax > 0, amax / qref.WEIGHT_QMAX, 1.0).astype(np.float32)
    shape = (-1,) + (1,) * (wn.ndim - 1)
    q = np.clip(np.rint(wn / w_scale.astype(np.float64).reshape(shape)), -127, 127)
    return q.astype(np.int8), w_scale


def _quantize_bias(b: torch.Tensor, in_scale: float, w_scale: np.ndarray) -> np.ndarray:
    bias_scale = np.float64(np.float32(in_scale)) * w_scale.astype(np.float64)
    q = np.rint(b.numpy() / bias_scale)
    return np.clip(q, -(2**31), 2**31 - 1).astype(np.int32)


def _make_layer(p: _Pending, scale: float, scales: dict[str, float], rec) -> QLayer:
    ins = tuple(p.inputs)
    in_scale = scales[ins[0]]
    if p.kind in ("conv", "linear"):
        w_q, w_scale = _quantize_weight(p.params["w"])
        common = dict(
            name=p.name,
            inputs=ins,
            out_scale=scale,
            source=p.source,
            weight=w_q,
            bias=_quantize_bias(p.params["b"], in_scale, w_scale),
            w_scale=w_scale,
            in_scale=in_scale,
            clamp=_clamp(p.params["act"], scale),
        )
        if p.kind == "linear":
            return QLinear(**common)
        return QConv(
            **common,
            stride=p.params["stride"],
            padding=p.params["padding"],
            groups=p.params["groups"],
        )
    if p.kind == "add":
        return QAdd(
            p.name,
            ins,
            scale,
            p.source,
            in_scales=(scales[ins[0]], scales[ins[1]]),
            clamp=_clamp(p.params["act"], scale),
        )
    if p.kind == "avgpool":
        return QAvgPool(p.name, ins, scale, p.source, in_scale=in_scale)
    if p.kind == "maxpool":
        return QMaxPool(p.name, ins, scale, p.source, **p.params)
    if p.kind == "concat":
        return QConcat(p.name, ins, scale, p.source)
    if p.kind == "flatten":
        return QFlatten(p.name, ins, scale, p.source)
    if p.kind == "clamp":
        return QClamp(p.name, ins, scale, p.source, clamp=_clamp(p.params["act"], scale))
    if p.kind == "slice":
        idx, n = p.params["chunk"]
        c = rec.channels[p.node.args[0].args[0].name]
        size = -(-c // n)  # torch.chunk: ceil(C / n) per chunk, the last may be shorter
        start, stop = idx * size, min(c, (idx + 1) * size)
        return QSlice(p.name, ins, scale, p.source, start=start, stop=stop)
    raise AssertionError(p.kind)


def set_bn_statistics(model: nn.Module, data: torch.Tensor, batch_size: int = 32) -> nn.Module:
    """Set every BatchNorm's running mean/var to the exact statistics of ``model`` over
    ``data`` (train-mode forward passes with cumulative averaging), then switch to eval.
    Gives randomly initialized zoo models realistic activation ranges."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [bn.momentum for bn in bns]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative moving average over the batches
    model.train()
    with torch.no_grad():
        for i in range(0, data.shape[0], batch_size):
            model(data[i : i + batch_size])
    for bn, mom in zip(bns, saved, strict=True):
        bn.momentum = mom
    return model.eval()


def compare_float_int8(
    model: nn.Module, qnet: QuantizedNetwork, x: torch.Tensor
) -> dict[str, float]:
    """Float model vs the int8 golden on ``x``: top-1 agreement, logit SNR (dB), and the max
    logit error in output LSBs."""
    model.eval()
    with torch.no_grad():
        ref = model(x.float()).numpy().astype(np.float64)
    got = qnet.dequantize(qnet.run(qnet.quantize_input(x))).astype(np.float64)
    ref2 = ref.reshape(ref.shape[0], -1)
    got2 = got.reshape(got.shape[0], -1)
    noise = float(((ref2 - got2) ** 2).sum())
    snr = float("inf") if noise == 0 else 10 * np.log10(float((ref2**2).sum()) / noise)
    return {
        "top1_agreement": float((ref2.argmax(1) == got2.argmax(1)).mean()),
        "snr_db": snr,
        "max_err_lsb": float(np.abs(ref2 - got2).max() / qnet.scales[qnet.output]),
    }
