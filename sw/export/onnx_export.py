"""ONNX export of a ``QuantizedNetwork`` with standard ONNX ops (opset 17, QLinear form).

The exported graph takes the int8 input ``[N, C, H, W]`` (batch dynamic) and returns the int8
output of the golden executor. Every layer kind maps to standard ops whose onnxruntime CPU
arithmetic equals ``sw.ref.quant`` bit for bit (checked by ``tests/sw/test_quant_onnx.py``):

* conv: ``QLinearConv`` (int8 x, int8 per-channel w, int32 bias, all zero points 0), then
  ``Clip`` on int8 when the layer clamps (ReLU/ReLU6);
* linear: ``Unsqueeze`` to ``[N, I, 1, 1]`` -> 1x1 ``QLinearConv`` -> ``Flatten`` (the bias
  needs QLinearConv; QLinearMatMul has none);
* add: ``Cast``(float) x2 -> ``Mul`` by the float32 multipliers -> ``Add`` ->
  ``QuantizeLinear``(scale 1, zp 0: round half to even, saturate) [-> ``Clip``];
* avgpool: ``Cast``(int32) -> ``ReduceSum`` -> ``Cast``(float) -> ``Mul`` -> ``QuantizeLinear``;
* maxpool ``MaxPool``, concat ``Concat``, slice ``Slice``, flatten ``Flatten``, clamp ``Clip``
  on int8 tensors.

The add and avgpool graphs repeat the golden's formula with its multipliers, so running them
does not check the golden; ``tests/sw/test_quant_onnx.py`` checks those two kinds against the
scale-only ``com.microsoft`` ``QLinearAdd`` / ``QLinearGlobalAveragePool`` (bit-exact).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

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
from sw.ref import quant as qref

__all__ = ["OPSET", "network_to_onnx", "layer_to_onnx", "run_onnx"]

OPSET = 17
#: IR version 8 goes with opset 17; onnxruntime 1.18+ reads it.
IR_VERSION = 8


def _onnx():
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "ONNX export needs the 'onnx' package: pip install 'fusesa[quant]'"
        ) from exc
    return onnx, helper, numpy_helper


class _Emitter:
    def __init__(self) -> None:
        self.onnx, self.helper, self.nh = _onnx()
        self.nodes: list[Any] = []
        self.inits: list[Any] = []

    def const(self, name: str, value: Any, dtype: Any) -> str:
        self.inits.append(self.nh.from_array(np.asarray(value, dtype), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        self.nodes.append(self.helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def clip(self, x: str, clamp: tuple[int, int], out: str, p: str) -> str:
        if tuple(clamp) == (qref.INT8_MIN, qref.INT8_MAX):
            return self.node("Identity", [x], out)
        lo = self.const(f"{p}/clip_lo", clamp[0], np.int8)
        hi = self.const(f"{p}/clip_hi", clamp[1], np.int8)
        return self.node("Clip", [x, lo, hi], out)

    def qlinearconv(self, layer, x: str, w: np.ndarray, out: str, p: str, **attrs) -> str:
        o = w.shape[0]
        ins = [
            x,
            self.const(f"{p}/x_scale", layer.in_scale, np.float32),
            self.const(f"{p}/x_zp", 0, np.int8),
            self.const(f"{p}/w", w, np.int8),
            self.const(f"{p}/w_scale", layer.w_scale, np.float32),
            self.const(f"{p}/w_zp", np.zeros(o), np.int8),
            self.const(f"{p}/y_scale", layer.out_scale, np.float32),
            self.const(f"{p}/y_zp", 0, np.int8),
            self.const(f"{p}/bias", layer.bias, np.int32),
        ]
        return self.node("QLinearConv", ins, out, **attrs)

    def requant_float(self, x: str, out: str, p: str) -> str:
        """``QuantizeLinear(x, 1.0, 0)``: round half to even, saturate to int8."""
        one = self.const(f"{p}/one", 1.0, np.float32)
        zp = self.const(f"{p}/q_zp", 0, np.int8)
        return self.node("QuantizeLinear", [x, one, zp], out)

    def layer(self, layer: QLayer, ins: list[str], out: str, in_shapes: list[tuple]) -> None:
        p = layer.name
        if isinstance(layer, QConv):
            kh, kw = layer.kernel
            (ph, pw), (sh, sw) = layer.padding, layer.stride
            y = self.qlinearconv(
                layer,
                ins[0],
                layer.weight,
                f"{p}/conv",
                p,
                kernel_shape=[kh, kw],
                strides=[sh, sw],
                pads=[ph, pw, ph, pw],
                group=layer.groups,
                dilations=[1, 1],
            )
            self.clip(y, layer.clamp, out, p)
        elif isinstance(layer, QLinear):
            axes = self.const(f"{p}/axes", [2, 3], np.int64)
            x4 = self.node("Unsqueeze", [ins[0], axes], f"{p}/x4")
            w4 = layer.weight.reshape(*layer.weight.shape, 1, 1)
            y = self.qlinearconv(layer, x4, w4, f"{p}/conv", p, kernel_shape=[1, 1])
            y = self.node("Flatten", [y], f"{p}/flat", axis=1)
            self.clip(y, layer.clamp, out, p)
        elif isinstance(layer, QAdd):
            m_a, m_b = layer.multipliers
            terms = []
            for k, (x, m) in enumerate(zip(ins, (m_a, m_b), strict=True)):
                xf = self.node("Cast", [x], f"{p}/f{k}", to=self.onnx.TensorProto.FLOAT)
                mk = self.const(f"{p}/m{k}", m, np.float32)
                terms.append(self.node("Mul", [xf, mk], f"{p}/scaled{k}"))
            total = self.node("Add", terms, f"{p}/sum")
            y = self.requant_float(total, f"{p}/q", p)
            self.clip(y, layer.clamp, out, p)
        elif isinstance(layer, QAvgPool):
            _, h, w = in_shapes[0]
            m = qref.avgpool_multiplier(layer.in_scale, layer.out_scale, h * w)
            xi = self.node("Cast", [ins[0]], f"{p}/i32", to=self.onnx.TensorProto.INT32)
            axes = self.const(f"{p}/axes", [2, 3], np.int64)
            total = self.node("ReduceSum", [xi, axes], f"{p}/sum", keepdims=1)
            tf = self.node("Cast", [total], f"{p}/sumf", to=self.onnx.TensorProto.FLOAT)
            scaled = self.node("Mul", [tf, self.const(f"{p}/m", m, np.float32)], f"{p}/scaled")
            self.requant_float(scaled, out, p)
        elif isinstance(layer, QMaxPool):
            (ph, pw) = layer.padding
            self.node(
                "MaxPool",
                [ins[0]],
                out,
                kernel_shape=list(layer.kernel),
                strides=list(layer.stride),
                pads=[ph, pw, ph, pw],
            )
        elif isinstance(layer, QConcat):
            self.node("Concat", ins, out, axis=1)
        elif isinstance(layer, QSlice):
            starts = self.const(f"{p}/starts", [layer.start], np.int64)
            ends = self.const(f"{p}/ends", [layer.stop], np.int64)
            axes = self.const(f"{p}/axes", [1], np.int64)
            self.node("Slice", [ins[0], starts, ends, axes], out)
        elif isinstance(layer, QFlatten):
            self.node("Flatten", [ins[0]], out, axis=1)
        elif isinstance(layer, QClamp):
            self.clip(ins[0], layer.clamp, out, p)
        else:  # pragma: no cover - every kind is handled above
            raise ValueError(f"layer {layer.name}: no ONNX mapping for kind {layer.kind}")

    def model(self, inputs: list[tuple[str, list]], outputs: list[tuple[str, list]], name: str):
        h, tp = self.helper, self.onnx.TensorProto
        graph = h.make_graph(
            self.nodes,
            name,
            [h.make_tensor_value_info(n, tp.INT8, s) for n, s in inputs],
            [h.make_tensor_value_info(n, tp.INT8, s) for n, s in outputs],
            self.inits,
        )
        model = h.make_model(
            graph,
            opset_imports=[h.make_opsetid("", OPSET)],
            ir_version=IR_VERSION,
            producer_name="fusesa",
        )
        self.onnx.checker.check_model(model)
        return model


def network_to_onnx(qnet: QuantizedNetwork, path: str | Path | None = None):
    """The whole network as an ONNX model (input ``"input"``, output ``"output"``, both int8,
    batch dimension ``N``); written to ``path`` when given."""
    e = _Emitter()
    rename = {INPUT: "input", qnet.output: "output"}
    for layer in qnet.layers:
        ins = [rename.get(t, t) for t in layer.inputs]
        e.layer(
            layer, ins, rename.get(layer.name, layer.name), [qnet.shapes[t] for t in layer.inputs]
        )
    out_shape = ["N", *qnet.shapes[qnet.output]]
    model = e.model(
        [("input", ["N", *qnet.input_shape])], [("output", out_shape)], "fusesa_int8_network"
    )
    if path is not None:
        e.onnx.save(model, str(path))
    return model


def layer_to_onnx(layer: QLayer, in_shapes: list[tuple[int, ...]]):
    """One layer as a stand-alone ONNX model: inputs ``x0``, ``x1``... (int8, per-sample
    shapes ``in_shapes`` with a dynamic batch), output ``y``."""
    in_shapes = [tuple(s) for s in in_shapes]
    if isinstance(layer, QAdd):
        scales = list(layer.in_scales)
    else:
        scales = [getattr(layer, "in_scale", layer.out_scale)] * len(layer.inputs)
    out_shape = layer.check_io(in_shapes, scales)
    e = _Emitter()
    ins = [f"x{i}" for i in range(len(layer.inputs))]
    e.layer(layer, ins, "y", in_shapes)
    return e.model(
        [(n, ["N", *s]) for n, s in zip(ins, in_shapes, strict=True)],
        [("y", ["N", *out_shape])],
        f"fusesa_{layer.kind.value}",
    )


def run_onnx(model: Any, feeds: dict[str, np.ndarray], optimize: bool = True) -> np.ndarray:
    """Run ``model`` (ModelProto or path) in onnxruntime on CPU, one thread; returns the first
    output. ``optimize=False`` disables onnxruntime's graph rewrites."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    if not optimize:
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    src = model.SerializeToString() if hasattr(model, "SerializeToString") else str(model)
    sess = ort.InferenceSession(src, so, providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)[0]
