"""ONNX interop (sw/export/onnx_export.py) checked against onnxruntime, the independent
reference: every layer kind bit-exact as a single-layer model, and a whole
MobileNetV2-FuSe-Half in onnxruntime equal to the integer golden executor.

The exporter writes the residual add and the average pool as the golden's own float32 formula
(Cast/Mul/Add/QuantizeLinear with the golden's multipliers), so running that graph only
repeats the golden's arithmetic. Those two kinds are therefore also checked against operators
that get nothing but the scales: onnxruntime's ``com.microsoft`` ``QLinearAdd`` and
``QLinearGlobalAveragePool`` (bit-exact), and the float path ``DequantizeLinear -> Add /
GlobalAveragePool -> QuantizeLinear`` (a different rounding order: within one unit, counted)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from quant_models import images, tiny_net

from sw.export import QConv, QLinear, onnx_export, quantize_network, set_bn_statistics
from sw.export.qnet import QAdd, QAvgPool
from sw.models import MobileNetV2FuSeHalf
from tests.conftest import import_or_skip

ort = import_or_skip("onnxruntime")
import_or_skip("onnx")

torch.set_num_threads(1)


onnx = import_or_skip("onnx")


def _ort_graph(nodes, consts, feeds, out_shape):
    """Run a graph of ``nodes`` (default and ``com.microsoft`` domains) on int8 ``feeds``."""
    h, tp = onnx.helper, onnx.TensorProto
    inits = [onnx.numpy_helper.from_array(v, k) for k, v in consts.items()]
    graph = h.make_graph(
        nodes,
        "ref",
        [h.make_tensor_value_info(k, tp.INT8, list(v.shape)) for k, v in feeds.items()],
        [h.make_tensor_value_info("y", tp.INT8, list(out_shape))],
        inits,
    )
    model = h.make_model(
        graph, opset_imports=[h.make_opsetid("", 17), h.make_opsetid("com.microsoft", 1)]
    )
    model.ir_version = 8
    return onnx_export.run_onnx(model, feeds)


def _scales(**scales):
    consts = {k: np.float32(v) for k, v in scales.items()}
    consts["zp"] = np.int8(0)
    return consts


def ref_add(layer, a, b, path="qlinear"):
    """Residual add from the layer's scales only (never its ``multipliers``), then its clamp."""
    sa, sb = layer.in_scales
    consts = _scales(sa=sa, sb=sb, so=layer.out_scale)
    n = onnx.helper.make_node
    if path == "qlinear":
        nodes = [n("QLinearAdd", ["a", "sa", "zp", "b", "sb", "zp", "so", "zp"], ["y"])]
        nodes[0].domain = "com.microsoft"
    else:
        nodes = [
            n("DequantizeLinear", ["a", "sa", "zp"], ["af"]),
            n("DequantizeLinear", ["b", "sb", "zp"], ["bf"]),
            n("Add", ["af", "bf"], ["sum"]),
            n("QuantizeLinear", ["sum", "so", "zp"], ["y"]),
        ]
    y = _ort_graph(nodes, consts, {"a": a, "b": b}, a.shape)
    return np.clip(y, *layer.clamp).astype(np.int8)


def ref_avgpool(layer, x, path="qlinear"):
    """Global average pool from the layer's scales only (never ``avgpool_multiplier``)."""
    consts = _scales(si=layer.in_scale, so=layer.out_scale)
    n = onnx.helper.make_node
    if path == "qlinear":
        nodes = [n("QLinearGlobalAveragePool", ["x", "si", "zp", "so", "zp"], ["y"])]
        nodes[0].domain = "com.microsoft"
        nodes[0].attribute.append(onnx.helper.make_attribute("channels_last", 0))
    else:
        nodes = [
            n("DequantizeLinear", ["x", "si", "zp"], ["xf"]),
            n("GlobalAveragePool", ["xf"], ["mean"]),
            n("QuantizeLinear", ["mean", "so", "zp"], ["y"]),
        ]
    return _ort_graph(nodes, consts, {"x": x}, (*x.shape[:2], 1, 1))


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
        if isinstance(layer, QAdd):  # the exported graph repeats the golden: also independent
            a, b = (tr.tensors[t] for t in layer.inputs)
            np.testing.assert_array_equal(ref_add(layer, a, b), want, err_msg=layer.name)
        if isinstance(layer, QAvgPool):
            x = tr.tensors[layer.inputs[0]]
            np.testing.assert_array_equal(ref_avgpool(layer, x), want, err_msg=layer.name)
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


def _add_layer(sa, sb, so, clamp=(-128, 127)):
    return QAdd(name="y", inputs=("a", "b"), out_scale=so, in_scales=(sa, sb), clamp=clamp)


def _random_scales(rng, n):
    return [float(np.float32(10 ** rng.uniform(-3, 0))) for _ in range(n)]


def test_add_equals_qlinearadd_on_random_scales_and_every_pair():
    rng = np.random.default_rng(11)
    grid_a, grid_b = np.meshgrid(np.arange(-128, 128), np.arange(-128, 128))
    every_pair = grid_a.astype(np.int8)[None, None], grid_b.astype(np.int8)[None, None]
    # exact ties (x.5 after scaling) with power-of-two scales: round half to even decides
    cases = [(0.5, 0.5, 1.0), (0.25, 0.75, 1.0), (1.0, 1.0, 4.0), (3.0, 1.0, 2.0)]
    cases += [tuple(_random_scales(rng, 3)) for _ in range(12)]
    for k, (sa, sb, so) in enumerate(cases):
        clamp = (0, 127) if k % 3 == 2 else (-128, 127)  # some with a ReLU
        layer = _add_layer(sa, sb, so, clamp)
        shape = (2, int(rng.integers(1, 9)), 5, int(rng.integers(1, 20)))
        pairs = [every_pair, tuple(rng.integers(-128, 128, (2, *shape)).astype(np.int8))]
        for a, b in pairs:
            np.testing.assert_array_equal(
                layer.forward([a, b]), ref_add(layer, a, b), err_msg=f"scales {sa, sb, so}"
            )


def test_avgpool_equals_qlinearglobalaveragepool():
    rng = np.random.default_rng(12)
    for hw in [(1, 1), (1, 3), (2, 2), (3, 5), (4, 4), (7, 7), (1, 49), (14, 14)]:
        random_pairs = [tuple(_random_scales(rng, 2)) for _ in range(3)]
        for si, so in [(1.0, 1.0), (0.5, 1.0), (1.0, 0.25), *random_pairs]:
            layer = QAvgPool(name="y", inputs=("x",), out_scale=so, in_scale=si)
            x = rng.integers(-128, 128, (3, 6, *hw)).astype(np.int8)
            x[0, 0] = 127  # saturating means
            np.testing.assert_array_equal(
                layer.forward([x]), ref_avgpool(layer, x), err_msg=f"{hw} {si, so}"
            )


def test_float_dequantize_path_is_within_one_unit():
    """``DequantizeLinear -> Add / GlobalAveragePool -> QuantizeLinear`` rounds
    ``(a*s_a + b*s_b) / s_out`` instead of ``a*(s_a/s_out) + b*(s_b/s_out)``: the same real
    value, different float32 roundings, so a result may differ by one unit where the exact
    value is near a rounding boundary. The golden (and the accelerator's host, which runs the
    golden's kernels for these layers) follows the QLinearAdd / QLinearGlobalAveragePool
    semantics; this bounds the float path's difference."""
    rng = np.random.default_rng(13)
    diff = total = 0
    for _ in range(20):
        sa, sb, so = _random_scales(rng, 3)
        layer = _add_layer(sa, sb, so)
        a, b = rng.integers(-128, 128, (2, 4, 8, 16, 16)).astype(np.int8)
        d = ref_add(layer, a, b, path="float").astype(int) - layer.forward([a, b])
        assert np.abs(d).max() <= 1
        diff, total = diff + np.count_nonzero(d), total + d.size
        pool = QAvgPool(name="y", inputs=("x",), out_scale=so, in_scale=sa)
        d = ref_avgpool(pool, a, path="float").astype(int) - pool.forward([a])
        assert np.abs(d).max() <= 1
        diff, total = diff + np.count_nonzero(d), total + d.size
    assert diff / total < 0.01  # rare: only results within float32 error of a .5 boundary


def test_a_wrong_golden_multiplier_is_caught_only_by_the_independent_reference(monkeypatch):
    """Deliberate faults in the golden's constants: the exported graph copies them (so it still
    agrees with the golden), the QLinear references do not."""
    from sw.ref import quant as qref

    rng = np.random.default_rng(14)
    add = _add_layer(0.02, 0.05, 0.04)
    pool = QAvgPool(name="y", inputs=("x",), out_scale=0.01, in_scale=0.02)
    a, b = rng.integers(-128, 128, (2, 2, 4, 6, 6)).astype(np.int8)
    right = ref_add(add, a, b), ref_avgpool(pool, a)
    monkeypatch.setattr(qref, "add_multipliers", lambda sa, sb, so: (sa / so, sa / so))
    monkeypatch.setattr(
        qref, "avgpool_multiplier", lambda si, so, n: np.float32(si) / np.float32(so * (n + 1))
    )
    exported = _ort_layer(add, [a.shape[1:]] * 2, [a, b]), _ort_layer(pool, [a.shape[1:]], [a])
    golden = add.forward([a, b]), pool.forward([a])
    for got, want, ref in zip(exported, golden, right, strict=True):
        np.testing.assert_array_equal(got, want)  # the copy agrees with the faulty golden
        assert np.count_nonzero(want != ref) > want.size // 4  # the reference does not
