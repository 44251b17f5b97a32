"""ONNX interop (sw/export/onnx_export.py) checked against onnxruntime, the independent
reference: every layer kind bit-exact as a single-layer model, and a whole
MobileNetV2-FuSe-Half in onnxruntime equal to the integer golden executor."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from quant_models import images, tiny_net

from sw.export import QConv, QLinear, onnx_export, quantize_network, set_bn_statistics
from sw.models import MobileNetV2FuSeHalf
from tests.conftest import import_or_skip

ort = import_or_skip("onnxruntime")
import_or_skip("onnx")

torch.set_num_threads(1)


def _ort_layer(layer, in_shapes, xs):
    model = onnx_export.layer_to_onnx(layer, in_shapes)
    return onnx_export.run_onnx(model, {f"x{i}": x for i, x in enumerate(xs)})


def test_every_layer_of_a_network_is_bit_exact_in_onnxruntime():
    qnet = quantize_network(tiny_net(), images(8))
    tr = qnet.run(qnet.quantize_input(images(4, seed=7)), trace=True)
    seen = set()
    for layer in qnet.layers:
        want = tr.tensors[layer.name]
        got = _ort_layer(
            layer, [qnet.shapes[t] for t in layer.inputs], [tr.tensors[t] for t in layer.inputs]
        )
        assert got.dtype == np.int8
        np.testing.assert_array_equal(got, want, err_msg=layer.name)
        seen.add(getattr(layer, "op", layer.kind.value))
    assert seen >= {
        "dense",
        "pointwise",
        "depthwise",
        "fuse_row",
        "fuse_col",
        "linear",
        "add",
        "avgpool",
        "maxpool",
        "concat",
        "slice",
        "clamp",
        "flatten",
    }


def _random_conv(rng, c, o, k, stride, groups, clamp=(-128, 127)):
    w = rng.integers(-127, 128, (o, c // groups, *k)).astype(np.int8)
    in_scale = float(np.float32(rng.uniform(0.01, 0.1)))
    w_scale = rng.uniform(0.001, 0.05, o).astype(np.float32)
    # output scale such that a few percent of outputs saturate
    fan_in = c // groups * k[0] * k[1]
    out_scale = float(
        np.float32(in_scale * float(w_scale.mean()) * 128 * 64 * np.sqrt(fan_in) / 127)
    )
    return QConv(
        name="layer",
        inputs=("x",),
        out_scale=out_scale,
        weight=w,
        bias=rng.integers(-5000, 5000, o).astype(np.int32),
        w_scale=w_scale,
        in_scale=in_scale,
        clamp=clamp,
        stride=stride,
        padding=(k[0] // 2, k[1] // 2),
        groups=groups,
    )


@pytest.mark.parametrize(
    ("c", "o", "k", "stride", "groups", "clamp"),
    [
        (12, 16, (3, 3), (2, 2), 1, (-128, 127)),  # dense
        (32, 24, (1, 1), (1, 1), 1, (0, 127)),  # pointwise + ReLU
        (16, 16, (3, 3), (1, 1), 16, (0, 127)),  # depthwise 3x3
        (16, 16, (5, 5), (2, 2), 16, (-128, 127)),  # depthwise 5x5 stride 2
        (16, 16, (1, 3), (2, 2), 16, (0, 127)),  # FuSe row 1x3 stride 2
        (16, 16, (3, 1), (2, 2), 16, (0, 127)),  # FuSe column 3x1 stride 2
        (16, 16, (1, 5), (1, 1), 16, (-128, 127)),  # FuSe row 1x5
        (16, 16, (7, 1), (2, 2), 16, (0, 100)),  # FuSe column 7x1 stride 2, narrow clamp
    ],
)
def test_random_conv_layer_bit_exact(c, o, k, stride, groups, clamp):
    rng = np.random.default_rng(sum(k) * 100 + c + o + stride[0])
    layer = _random_conv(rng, c, o, k, stride, groups, clamp)
    x = rng.integers(-128, 128, (3, c, 11, 13)).astype(np.int8)
    want = layer.requantize(layer.accumulate(x))
    assert 0 < (want == clamp[1]).mean() < 0.5  # saturation exercised
    got = _ort_layer(layer, [(c, 11, 13)], [x])
    np.testing.assert_array_equal(got, want)


def test_random_linear_layer_bit_exact():
    rng = np.random.default_rng(11)
    layer = QLinear(
        name="fc",
        inputs=("x",),
        out_scale=float(np.float32(0.9)),
        weight=rng.integers(-127, 128, (10, 200)).astype(np.int8),
        bias=rng.integers(-5000, 5000, 10).astype(np.int32),
        w_scale=rng.uniform(0.001, 0.01, 10).astype(np.float32),
        in_scale=float(np.float32(0.05)),
    )
    x = rng.integers(-128, 128, (16, 200)).astype(np.int8)
    np.testing.assert_array_equal(_ort_layer(layer, [(200,)], [x]), layer.forward([x]))


def test_whole_mobilenet_v2_fuse_half_in_onnxruntime(tmp_path):
    torch.manual_seed(0)
    net = MobileNetV2FuSeHalf(100)
    set_bn_statistics(net, images(16, res=32, seed=8))
    qnet = quantize_network(net, images(8, res=32, seed=9))
    x_q = qnet.quantize_input(images(8, res=32, seed=10))
    tr = qnet.run(x_q, trace=True)
    for layer in qnet.mac_layers():  # every conv/linear layer, fed the golden's int8 input
        got = _ort_layer(layer, [qnet.shapes[layer.inputs[0]]], [tr.tensors[layer.inputs[0]]])
        np.testing.assert_array_equal(got, tr.tensors[layer.name], err_msg=layer.name)
    want = tr.output
    path = tmp_path / "mnv2_half.onnx"
    qnet.to_onnx(path)
    got = onnx_export.run_onnx(str(path), {"input": x_q})
    assert got.dtype == np.int8 and got.shape == want.shape == (8, 100)
    exact = (got == want).mean()
    top1 = (got.argmax(1) == want.argmax(1)).mean()
    assert exact == 1.0 and top1 == 1.0, (exact, top1)
