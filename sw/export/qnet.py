"""The quantized network: int8 layer records and the integer golden executor (issue 10).

A ``QuantizedNetwork`` is a list of layers in execution order. Every layer names its input
tensors (``"input"`` or an earlier layer's name) and produces one int8 tensor named after
itself, with one per-tensor scale (zero point 0). Layers are self-contained: a conv record holds
everything a hardware runner needs to run it and check it (int8 OIHW weight, groups, stride,
padding, int32 bias, the scales that make its requantization multiplier, and its clamp)::

    layer = qnet.mac_layers()[3]
    acc = layer.accumulate(x_q)          # int32 sum(x*w) + bias: what the array must produce
    y = layer.requantize(acc)            # int8: what the output stage must produce

Kinds (``LayerKind``): conv (dense, pointwise, depthwise KxK, FuSe 1xK / Kx1), linear, add,
avgpool (global), maxpool, concat (FuSe branches, one scale), slice (FuSe-Half channel split),
flatten, clamp. The arithmetic of each lives in ``sw.ref.quant``; the semantics are documented
in ``docs/quantization.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from sw.ref import quant as qref

__all__ = [
    "LayerKind",
    "QLayer",
    "QConv",
    "QLinear",
    "QAdd",
    "QAvgPool",
    "QMaxPool",
    "QConcat",
    "QSlice",
    "QFlatten",
    "QClamp",
    "Trace",
    "QuantizedNetwork",
    "LAYER_TYPES",
]

INPUT = "input"
Shape = tuple[int, ...]


class LayerKind(StrEnum):
    CONV = "conv"
    LINEAR = "linear"
    ADD = "add"
    AVGPOOL = "avgpool"
    MAXPOOL = "maxpool"
    CONCAT = "concat"
    SLICE = "slice"
    FLATTEN = "flatten"
    CLAMP = "clamp"


def _check_scale(v: Any, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.floating)):
        raise ValueError(f"{what} must be a number, not {v!r}")
    if not math.isfinite(float(v)) or float(v) <= 0:
        raise ValueError(f"{what} must be a positive finite scale, not {v!r}")
    return float(np.float32(v))


def _check_ints(v: Any, n: int, what: str, minimum: int = 0) -> tuple[int, ...]:
    if (
        not isinstance(v, (tuple, list))
        or len(v) != n
        or not all(isinstance(i, int) and not isinstance(i, bool) and i >= minimum for i in v)
    ):
        raise ValueError(f"{what} must be {n} integers >= {minimum}, not {v!r}")
    return tuple(int(i) for i in v)


def _check_clamp(v: Any, what: str) -> tuple[int, int]:
    lo, hi = _check_ints(v, 2, what, minimum=qref.INT8_MIN)
    if not qref.INT8_MIN <= lo <= hi <= qref.INT8_MAX:
        raise ValueError(f"{what} must satisfy -128 <= lo <= hi <= 127, not {v!r}")
    return lo, hi


def _check_array(a: Any, dtype: type, ndim: int, what: str) -> np.ndarray:
    if not isinstance(a, np.ndarray) or a.dtype != dtype or a.ndim != ndim:
        desc = f"{a.dtype} array of {a.ndim} dims" if isinstance(a, np.ndarray) else repr(type(a))
        raise ValueError(f"{what} must be a {ndim}-D {np.dtype(dtype)} array, not a {desc}")
    return a


@dataclass(eq=False)
class QLayer:
    """Common part of every layer: its name (= its output tensor), input tensor names, the
    torch module / graph node it came from, and the scale of its output."""

    kind: ClassVar[LayerKind]
    n_inputs: ClassVar[int | None] = 1
    name: str
    inputs: tuple[str, ...]
    out_scale: float
    source: str = ""

    def check(self) -> None:
        """Validate the record's own fields (types, ranges); ``ValueError`` names the field."""
        if not isinstance(self.name, str) or not self.name or self.name == INPUT:
            raise ValueError(f"layer name must be a non-empty string other than {INPUT!r}")
        if not isinstance(self.inputs, (tuple, list)) or not all(
            isinstance(i, str) for i in self.inputs
        ):
            raise ValueError(f"layer {self.name}: inputs must be tensor names, not {self.inputs!r}")
        self.inputs = tuple(self.inputs)
        if self.n_inputs is not None and len(self.inputs) != self.n_inputs:
            raise ValueError(
                f"layer {self.name} ({self.kind.value}) takes {self.n_inputs} input(s), "
                f"not {len(self.inputs)}"
            )
        if self.n_inputs is None and len(self.inputs) < 1:
            raise ValueError(f"layer {self.name} ({self.kind.value}) needs inputs")
        self.out_scale = _check_scale(self.out_scale, f"layer {self.name}: out_scale")

    def check_io(self, shapes: list[Shape], scales: list[float]) -> Shape:
        """Check the layer against its inputs' per-sample shapes and scales; return its
        output shape (``ValueError`` naming the layer on a mismatch)."""
        raise NotImplementedError

    def forward(self, xs: list[np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def _passthrough_scale(self, scales: list[float]) -> None:
        if scales[0] != self.out_scale:
            raise ValueError(
                f"layer {self.name} ({self.kind.value}) keeps its input's scale "
                f"{scales[0]!r}, but records out_scale {self.out_scale!r}"
            )

    def _need(self, ok: bool, msg: str) -> None:
        if not ok:
            raise ValueError(f"layer {self.name} ({self.kind.value}): {msg}")


@dataclass(eq=False)
class _MacLayer(QLayer):
    """A conv or linear layer: int8 x int8 -> int32 accumulation, then requantization."""

    weight: np.ndarray = field(default_factory=lambda: np.zeros((1, 1, 1, 1), np.int8))
    bias: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int32))
    w_scale: np.ndarray = field(default_factory=lambda: np.ones(1, np.float32))
    in_scale: float = 1.0
    clamp: tuple[int, int] = (qref.INT8_MIN, qref.INT8_MAX)

    weight_ndim: ClassVar[int] = 4

    def check(self) -> None:
        super().check()
        w = _check_array(self.weight, np.int8, self.weight_ndim, f"layer {self.name}: weight")
        o = w.shape[0]
        self._need(
            int(w.min(initial=0)) >= -qref.WEIGHT_QMAX,
            "weights must lie in [-127, 127] (symmetric)",
        )
        _check_array(self.bias, np.int32, 1, f"layer {self.name}: bias")
        _check_array(self.w_scale, np.float32, 1, f"layer {self.name}: w_scale")
        self._need(self.bias.shape == (o,), f"bias has {self.bias.shape[0]} values for {o} outputs")
        self._need(
            self.w_scale.shape == (o,),
            f"w_scale has {self.w_scale.shape[0]} values for {o} outputs",
        )
        self._need(
            bool(np.all(np.isfinite(self.w_scale)) and np.all(self.w_scale > 0)),
            "w_scale must be positive and finite",
        )
        self.in_scale = _check_scale(self.in_scale, f"layer {self.name}: in_scale")
        self.clamp = _check_clamp(self.clamp, f"layer {self.name}: clamp")

    @property
    def multiplier(self) -> np.ndarray:
        """Per-output-channel float32 requantization multiplier (``sw.ref.quant``)."""
        return qref.conv_multiplier(self.in_scale, self.w_scale, self.out_scale)

    def requantize(self, acc: np.ndarray) -> np.ndarray:
        """int32 accumulator (bias included) -> int8 output, clamp included."""
        return qref.requantize(acc, self.multiplier, *self.clamp)

    def accumulate(self, x: np.ndarray, bias: bool = True) -> np.ndarray:
        raise NotImplementedError

    def forward(self, xs: list[np.ndarray]) -> np.ndarray:
        return self.requantize(self.accumulate(xs[0]))

    def _check_in_scale(self, scales: list[float]) -> None:
        self._need(
            scales[0] == self.in_scale,
            f"in_scale {self.in_scale!r} differs from the scale {scales[0]!r} of "
            f"input {self.inputs[0]!r}",
        )


@dataclass(eq=False)
class QConv(_MacLayer):
    """2-D convolution (BatchNorm folded): int8 OIHW ``weight``, int32 ``bias``, per-output-
    channel ``w_scale``; zero padding; ``groups`` 1 (dense), C (depthwise, FuSe branches)."""

    kind: ClassVar[LayerKind] = LayerKind.CONV
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    groups: int = 1

    def check(self) -> None:
        super().check()
        self.stride = _check_ints(self.stride, 2, f"layer {self.name}: stride", minimum=1)
        self.padding = _check_ints(self.padding, 2, f"layer {self.name}: padding")
        (self.groups,) = _check_ints([self.groups], 1, f"layer {self.name}: groups", minimum=1)
        self._need(
            self.weight.shape[0] % self.groups == 0,
            f"{self.weight.shape[0]} output channels not divisible by groups={self.groups}",
        )

    @property
    def in_channels(self) -> int:
        return self.weight.shape[1] * self.groups

    @property
    def out_channels(self) -> int:
        return self.weight.shape[0]

    @property
    def kernel(self) -> tuple[int, int]:
        return self.weight.shape[2], self.weight.shape[3]

    @property
    def op(self) -> str:
        """``dense``, ``pointwise``, ``depthwise`` (KxK), ``fuse_row`` (1xK depthwise),
        ``fuse_col`` (Kx1 depthwise) or ``grouped``."""
        kh, kw = self.kernel
        if self.groups == 1:
            return "pointwise" if (kh, kw) == (1, 1) else "dense"
        if self.groups == self.in_channels == self.out_channels:
            if kh == 1 and kw > 1:
                return "fuse_row"
            if kw == 1 and kh > 1:
                return "fuse_col"
            return "depthwise"
        return "grouped"

    def check_io(self, shapes: list[Shape], scales: list[float]) -> Shape:
        self._check_in_scale(scales)
        s = shapes[0]
        self._need(len(s) == 3, f"needs a CxHxW input, got {s}")
        self._need(
            s[0] == self.in_channels,
            f"input {self.inputs[0]!r} has {s[0]} channels, weight {self.weight.shape} with "
            f"groups={self.groups} expects {self.in_channels}",
        )
        (kh, kw), (sh, sw), (ph, pw) = self.kernel, self.stride, self.padding
        ho, wo = (s[1] + 2 * ph - kh) // sh + 1, (s[2] + 2 * pw - kw) // sw + 1
        self._need(ho >= 1 and wo >= 1, f"kernel {kh}x{kw} does not fit input {s}")
        return (self.out_channels, ho, wo)

    def accumulate(self, x: np.ndarray, bias: bool = True) -> np.ndarray:
        """int32 ``conv2d(x, weight) (+ bias)`` of an int8 NCHW input (no requantization)."""
        return qref.conv2d_acc(
            x, self.weight, self.bias if bias else None, self.stride, self.padding, self.groups
        )


@dataclass(eq=False)
class QLinear(_MacLayer):
    """Fully connected layer: int8 ``weight[O, I]``, int32 ``bias[O]``, per-output ``w_scale``."""

    kind: ClassVar[LayerKind] = LayerKind.LINEAR
    weight_ndim: ClassVar[int] = 2
    op: ClassVar[str] = "linear"

    def check_io(self, shapes: list[Shape], scales: list[float]) -> Shape:
        self._check_in_scale(scales)
        self._need(
            shapes[0] == (self.weight.shape[1],),
            f"input {self.inputs[0]!r} shaped {shapes[0]} does not match weight {self.weight.shape}",
        )
        return (self.weight.shape[0],)

    def accumulate(self, x: np.ndarray, bias: bool = True) -> np.ndarray:
        """int32 ``x @ weight.T (+ bias)`` of an int8 ``[N, I]`` input."""
        return qref.linear_acc(x, self.weight, self.bias if bias else None)


@dataclass(eq=False)
class QAdd(QLayer):
    """Residual add of two int8 tensors with their own scales, requantized to ``out_scale``."""

    kind: ClassVar[LayerKind] = LayerKind.ADD
    n_inputs: ClassVar[int | None] = 2
    in_scales: tuple[float, float] = (1.0, 1.0)
    clamp: tuple[int, int] = (qref.INT8_MIN, qref.INT8_MAX)

    def check(self) -> None:
        super().check()
        if not isinstance(self.in_scales, (tuple, list)) or len(self.in_scales) != 2:
            raise ValueError(f"layer {self.name}: in_scales must be two scales")
        self.in_scales = tuple(
            _check_scale(s, f"layer {self.name}: in_scales") for s in self.in_scales
        )
        self.clamp = _check_clamp(self.clamp, f"layer {self.name}: clamp")

    @property
    def multipliers(self) -> tuple[float, float]:
        return qref.add_multipliers(*self.in_scales, self.out_scale)

    def check_io(self, shapes: list[Shape], scales: list[float]) -> Shape:
        self._need(shapes[0] == shapes[1], f"input shapes differ: {shapes[0]} vs {shapes[1]}")
        self._need(
            tuple(scales) == self.in_scales,
            f"in_scales {self.in_scales} differ from the inputs' scales {tuple(scales)}",
        )
        return shapes[0]

    def forward(self, xs: list[np.ndarray]) -> np.ndarray:
        return qref.add_requant(xs[0], xs[1], *self.multipliers, *self.clamp)


@dataclass(eq=False)
class QAvgPool(QLayer):
    """Global average pool to ``[N, C, 1, 1]``: int32 sum, then requantization."""

    kind: ClassVar[LayerKind] = LayerKind.AVGPOOL
    in_scale: float = 1.0

    def check(self) -> None:
        super().check()
        self.in_scale = _check_scale(self.in_scale, f"layer {self.name}: in_scale")

    def check_io(self, shapes: list[Shape], scales: list[float]) -> Shape:
        self._need(len(shapes[0]) == 3, f"needs a CxHxW input, got {shapes[0]}")
        self._need(
            scales[0] == self.in_scale,
            f"in_scale {self.in_scale!r} differs from the input's scale {scales[0]!r}",
        )
        return (shapes[0][0], 1, 1)

    def forward(self, xs: list[np.ndarray]) -> np.ndarray:
        return qref.global_avgpool(xs[0], self.in_scale, self.out_scale)


@dataclass(eq=False)
class QMaxPool(QLayer):
    """Max pool on int8 values (scale unchanged)."""

    kind: ClassVar[LayerKind] = LayerKind.MAXPOOL
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)

    def check(self) -> None:
        super().check()
        self.kernel = _check_ints(self.kernel, 2, f"layer {self.name}: kernel", minimum=1)
        self.stride = _check_ints(self.stride, 2, f"layer {self.name}: stride", minimum=1)
        self.padding = _check_ints(self.padding, 2, f"layer {self.name}: padding")

    def check_io(self, shapes: list[Shape], scales: list[float]) -> Shape:
        self._passthrough_scale(scales)
        s = shapes[0]
        self._need(len(s) == 3, f"needs a CxHxW input, got {s}")
        (kh, kw), (sh, sw), (ph, pw) = self.kernel, self.stride, self.padding
        ho, wo = (s[1] + 2 * ph - kh) // sh + 1, (s[2] + 2 * pw - kw) // sw + 1
        self._need(ho >= 1 and wo >= 1, f"kernel {self.kernel} does not fit input {s}")
        return (s[0], ho, wo)

    def forward(self, xs: list[np.ndarray]) -> np.ndarray:
        return qref.maxpool2d(xs[0], self.kernel, self.stride, self.padding)


@dataclass(eq=False)
class QConcat(QLayer):
    """Channel concatenation; every input carries ``out_scale`` (FuSe: one scale for both
    branches), so the int8 values are copied unchanged."""

    kind: ClassVar[LayerKind] = LayerKind.CONCAT
    n_inputs: ClassVar[int | None] = None

    def check_io(self, shapes: list[Shape], scales: list[float]) -> Shape:
        for name, s in zip(self.inputs, scales, strict=True):
            self._need(
                s == self.out_scale,
                f"input {name!r} has scale {s!r}, the concat's scale is {self.out_scale!r}",
            )
        self._need(
            all(len(s) >= 1 and s[1:] == shapes[0][1:] for s in shapes),
            f"inputs disagree beyond the channel axis: {shapes}",
        )
        return (sum(s[0] for s in shapes), *shapes[0][1:])

    def forward(self, xs: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(xs, axis=1)


@dataclass(eq=False)
class QSlice(QLayer):
    """Channels ``start:stop`` of the input (FuSe-Half splits channels between branches)."""

    kind: ClassVar[LayerKind] = LayerKind.SLICE
    start: int = 0
    stop: int = 1

    def check(self) -> None:
        super().check()
        self.start, self.stop = _check_ints(
            [self.start, self.stop], 2, f"layer {self.name}: start/stop"
        )
        self._need(self.start < self.stop, f"empty channel range {self.start}:{self.stop}")

    def check_io(self, shapes: list[Shape], scales: list[float]) -> Shape:
        self._passthrough_scale(scales)
        s = shapes[0]
        self._need(
            len(s) >= 1 and self.stop <= s[0],
            f"channel range {self.start}:{self.stop} exceeds input shape {s}",
        )
        return (self.stop - self.start, *s[1:])

    def forward(self, xs: list[np.ndarray]) -> np.ndarray:
        return xs[0][:, self.start : self.stop]


@dataclass(eq=False)
class QFlatten(QLayer):
    """``[N, C, H, W] -> [N, C*H*W]`` (scale unchanged)."""

    kind: ClassVar[LayerKind] = LayerKind.FLATTEN

    def check_io(self, shapes: list[Shape], scales: list[float]) -> Shape:
        self._passthrough_scale(scales)
        return (math.prod(shapes[0]),)

    def forward(self, xs: list[np.ndarray]) -> np.ndarray:
        return xs[0].reshape(xs[0].shape[0], -1)


@dataclass(eq=False)
class QClamp(QLayer):
    """Stand-alone ReLU/ReLU6 on int8 values (scale unchanged)."""

    kind: ClassVar[LayerKind] = LayerKind.CLAMP
    clamp: tuple[int, int] = (qref.INT8_MIN, qref.INT8_MAX)

    def check(self) -> None:
        super().check()
        self.clamp = _check_clamp(self.clamp, f"layer {self.name}: clamp")

    def check_io(self, shapes: list[Shape], scales: list[float]) -> Shape:
        self._passthrough_scale(scales)
        return shapes[0]

    def forward(self, xs: list[np.ndarray]) -> np.ndarray:
        return np.clip(xs[0], *self.clamp).astype(np.int8)


#: Layer record class per kind (the file format's ``kind`` field).
LAYER_TYPES: dict[LayerKind, type[QLayer]] = {
    cls.kind: cls
    for cls in (QConv, QLinear, QAdd, QAvgPool, QMaxPool, QConcat, QSlice, QFlatten, QClamp)
}


def layer_fields(cls: type[QLayer]) -> list[str]:
    return [f.name for f in fields(cls)]


@dataclass(eq=False)
class Trace:
    """Every tensor of one run: ``tensors`` maps ``"input"`` and each layer name (execution
    order) to its int8 output; ``accumulators`` maps each conv/linear layer to its int32
    accumulator (bias included, before requantization)."""

    tensors: dict[str, np.ndarray]
    accumulators: dict[str, np.ndarray]
    output_name: str

    @property
    def output(self) -> np.ndarray:
        return self.tensors[self.output_name]


class QuantizedNetwork:
    """An int8 network: layers in execution order, the input's scale and per-sample shape
    (C, H, W), and the name of the output tensor (the int8 logits)."""

    def __init__(
        self,
        layers: list[QLayer],
        input_scale: float,
        input_shape: tuple[int, int, int],
        output: str,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.layers = list(layers)
        self.input_scale = _check_scale(input_scale, "input_scale")
        self.input_shape = _check_ints(input_shape, 3, "input_shape", minimum=1)
        self.output = output
        self.meta = dict(meta or {})
        self.shapes: dict[str, Shape] = {}
        self.scales: dict[str, float] = {}
        self.validate()

    def validate(self) -> None:
        """Check the whole graph: record fields, unique names, inputs defined before use,
        shapes and scales consistent along every edge. ``ValueError`` names the culprit."""
        shapes: dict[str, Shape] = {INPUT: self.input_shape}
        scales: dict[str, float] = {INPUT: self.input_scale}
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, QLayer):
                raise ValueError(f"layer {i} is not a layer record: {type(layer).__name__}")
            layer.check()
            if layer.name in shapes:
                raise ValueError(f"layer name {layer.name!r} is used twice")
            missing = [t for t in layer.inputs if t not in shapes]
            if missing:
                raise ValueError(
                    f"layer {layer.name} reads {missing[0]!r}, which no earlier layer produces"
                )
            shapes[layer.name] = layer.check_io(
                [shapes[t] for t in layer.inputs], [scales[t] for t in layer.inputs]
            )
            scales[layer.name] = layer.out_scale
        if not isinstance(self.output, str) or self.output not in shapes:
            raise ValueError(f"output tensor {self.output!r} is not produced by any layer")
        self.shapes, self.scales = shapes, scales

    # --- running -------------------------------------------------------------------------
    def quantize_input(self, x: Any) -> np.ndarray:
        """float ``[N, C, H, W]`` (torch tensor or array) -> int8 with the input scale
        (ONNX ``QuantizeLinear``: round half to even, saturate)."""
        a = x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)
        if a.ndim != 4 or tuple(a.shape[1:]) != self.input_shape:
            raise ValueError(
                f"input must be shaped [N, {', '.join(map(str, self.input_shape))}], "
                f"not {list(a.shape)}"
            )
        if not np.all(np.isfinite(a)):
            raise ValueError("input holds NaN or inf")
        return qref.quantize_float(a, self.input_scale)

    def dequantize(self, y: np.ndarray, tensor: str | None = None) -> np.ndarray:
        """int8 values of ``tensor`` (default: the output) as float32 ``y * scale``."""
        name = self.output if tensor is None else tensor
        if name not in self.scales:
            raise ValueError(f"unknown tensor {name!r}")
        return np.asarray(y).astype(np.float32) * np.float32(self.scales[name])

    def run(self, x_q: np.ndarray, trace: bool = False) -> np.ndarray | Trace:
        """Integer golden executor: int8 ``[N, C, H, W]`` -> int8 output (logits). With
        ``trace=True`` returns a ``Trace`` of every layer's tensor and accumulator."""
        x_q = np.asarray(x_q)
        if x_q.dtype != np.int8:
            raise ValueError(f"run expects an int8 input (see quantize_input), not {x_q.dtype}")
        if x_q.ndim != 4 or tuple(x_q.shape[1:]) != self.input_shape:
            raise ValueError(
                f"input must be shaped [N, {', '.join(map(str, self.input_shape))}], "
                f"not {list(x_q.shape)}"
            )
        env: dict[str, np.ndarray] = {INPUT: x_q}
        accs: dict[str, np.ndarray] = {}
        last_use = {t: i for i, layer in enumerate(self.layers) for t in layer.inputs}
        for i, layer in enumerate(self.layers):
            xs = [env[t] for t in layer.inputs]
            if trace and isinstance(layer, _MacLayer):
                acc = layer.accumulate(xs[0])
                accs[layer.name] = acc
                env[layer.name] = layer.requantize(acc)
            else:
                env[layer.name] = layer.forward(xs)
            if not trace:  # free tensors nobody reads any more
                for t in layer.inputs:
                    if last_use.get(t) == i and t != self.output:
                        env.pop(t, None)
        if trace:
            return Trace(env, accs, self.output)
        return env[self.output]

    # --- inspection ----------------------------------------------------------------------
    def mac_layers(self) -> list[QConv | QLinear]:
        """The conv and linear layers (the ones the systolic array runs), in order."""
        return [layer for layer in self.layers if isinstance(layer, _MacLayer)]

    def layer(self, name: str) -> QLayer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"no layer named {name!r}")

    def summary(self) -> list[dict[str, Any]]:
        """One row per layer: name, kind/op, output shape, input and output scales."""
        rows = []
        for layer in self.layers:
            row: dict[str, Any] = {
                "name": layer.name,
                "kind": layer.kind.value,
                "op": getattr(layer, "op", layer.kind.value),
                "shape": self.shapes[layer.name],
                "in_scales": [self.scales[t] for t in layer.inputs],
                "out_scale": layer.out_scale,
            }
            if isinstance(layer, _MacLayer):
                row["w_scale_min"] = float(layer.w_scale.min())
                row["w_scale_max"] = float(layer.w_scale.max())
            rows.append(row)
        return rows

    # --- files ---------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the versioned file format (``sw.export.qformat``)."""
        from sw.export.qformat import save_network

        save_network(self, path)

    def to_onnx(self, path: str | Path | None = None):
        """Export to ONNX (QLinearConv form, opset 17; ``sw.export.onnx_export``); returns the
        ``onnx.ModelProto`` and writes it to ``path`` when given."""
        from sw.export.onnx_export import network_to_onnx

        return network_to_onnx(self, path)
