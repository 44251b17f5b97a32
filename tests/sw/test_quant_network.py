"""Post-training quantization and the integer golden executor (sw/export/ptq.py, qnet.py):
each layer's int8 output against a torch float reference of the same layer (BatchNorm and
activation applied by torch, not folded) within quantization error, the whole network against
the float model, the trace contract, and input validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from quant_models import images, tiny_net
from torch import nn

from sw.export import QConv, QLinear, quantize_network
from sw.export.qnet import QAdd, QClamp, QConcat
from sw.models import MobileNetV3

torch.set_num_threads(1)

#: TinyNet's conv layers followed by ReLU6 (the other clamped ones use ReLU).
RELU6_LAYERS = {"stem.0", "fhalf.row.0", "fhalf.col.0"}


@pytest.fixture(scope="module")
def tiny():
    net = tiny_net()
    qnet = quantize_network(net, images(8))
    return net, qnet


def _float_layer(net: nn.Module, layer: QConv | QLinear, x: torch.Tensor) -> np.ndarray:
    """The torch float computation of one quantized conv/linear: module, then its BatchNorm
    and activation as the network defines them (looked up by module name)."""
    mods = dict(net.named_modules())
    m = mods[layer.source]
    y = m(x)
    names = list(mods)
    nxt = mods.get(names[names.index(layer.source) + 1]) if isinstance(m, nn.Conv2d) else None
    if isinstance(nxt, nn.BatchNorm2d):
        y = nxt(y)
    if layer.source in RELU6_LAYERS:
        y = F.relu6(y)
    elif layer.clamp[0] == 0:
        y = F.relu(y)
    return y.detach().numpy()


def test_each_mac_layer_matches_float_within_quantization_error(tiny):
    net, qnet = tiny
    tr = qnet.run(qnet.quantize_input(images(4, seed=2)), trace=True)
    assert {layer.op for layer in qnet.mac_layers()} >= {
        "dense",
        "pointwise",
        "depthwise",
        "fuse_row",
        "fuse_col",
        "linear",
    }
    for layer in qnet.mac_layers():
        x = torch.tensor(qnet.dequantize(tr.tensors[layer.inputs[0]], layer.inputs[0]))
        with torch.no_grad():
            want = _float_layer(net, layer, x)
        got = qnet.dequantize(tr.tensors[layer.name], layer.name)
        in_range = np.abs(want) <= 127 * layer.out_scale
        err = np.abs(got - want)[in_range] / layer.out_scale
        # 0.5 LSB output rounding + weight/bias rounding propagated through the sum
        assert err.max() <= 2.0, (layer.name, err.max())
        assert err.mean() <= 0.5, (layer.name, err.mean())


def test_whole_tiny_network_close_to_float(tiny):
    net, qnet = tiny
    x = images(16, seed=3)
    with torch.no_grad():
        want = net(x).numpy()
    got = qnet.dequantize(qnet.run(qnet.quantize_input(x)))
    snr = 10 * np.log10((want**2).sum() / ((want - got) ** 2).sum())
    assert snr > 20, snr
    assert (want.argmax(1) == got.argmax(1)).mean() >= 0.8


def test_trace_exposes_every_layer_and_accumulators(tiny):
    _, qnet = tiny
    x_q = qnet.quantize_input(images(2, seed=4))
    tr = qnet.run(x_q, trace=True)
    assert list(tr.tensors) == ["input"] + [layer.name for layer in qnet.layers]
    np.testing.assert_array_equal(tr.output, qnet.run(x_q))
    for layer in qnet.mac_layers():
        acc = tr.accumulators[layer.name]
        assert acc.dtype == np.int32 and tr.tensors[layer.name].dtype == np.int8
        np.testing.assert_array_equal(layer.accumulate(tr.tensors[layer.inputs[0]]), acc)
        np.testing.assert_array_equal(layer.requantize(acc), tr.tensors[layer.name])
        no_bias = layer.accumulate(tr.tensors[layer.inputs[0]], bias=False)
        bias = layer.bias.reshape((1, -1) + (1,) * (acc.ndim - 2))
        np.testing.assert_array_equal(no_bias.astype(np.int64) + bias, acc)


def test_records_are_symmetric_int8(tiny):
    _, qnet = tiny
    for layer in qnet.mac_layers():
        assert layer.weight.dtype == np.int8 and layer.bias.dtype == np.int32
        assert np.abs(layer.weight).max() == 127  # per-channel max-abs uses the full range
        assert layer.w_scale.shape == (layer.weight.shape[0],)
    kinds = {type(layer) for layer in qnet.layers}
    assert {QAdd, QConcat, QClamp} <= kinds


def test_fuse_branches_share_the_concat_scale(tiny):
    _, qnet = tiny
    concats = [layer for layer in qnet.layers if isinstance(layer, QConcat)]
    assert len(concats) == 2
    for cat in concats:
        for t in cat.inputs:
            assert qnet.layer(t).out_scale == cat.out_scale


def test_relu6_branches_clamp_to_non_negative(tiny):
    _, qnet = tiny
    branch = qnet.layer("fhalf.row.0")
    assert branch.clamp[0] == 0 and branch.op == "fuse_row" and branch.stride == (2, 2)
    assert qnet.layer("fhalf.col.0").op == "fuse_col"


def test_mobilenet_v3_is_rejected_naming_the_op():
    net = MobileNetV3("small", 10)
    with pytest.raises(ValueError, match="Hswish at features.0.2"):
        quantize_network(net, images(2, res=32))


def test_bad_inputs_raise_value_error(tiny):
    net, qnet = tiny
    with pytest.raises(ValueError, match="calib"):
        quantize_network(net, np.zeros((2, 3, 16, 16)))
    with pytest.raises(ValueError, match="NaN"):
        quantize_network(net, torch.full((2, 3, 16, 16), float("nan")))
    with pytest.raises(ValueError, match="int8"):
        qnet.run(np.zeros((1, 3, 16, 16), np.float32))
    with pytest.raises(ValueError, match="shaped"):
        qnet.run(np.zeros((1, 3, 8, 16), np.int8))
    with pytest.raises(ValueError, match="shaped"):
        qnet.quantize_input(torch.zeros(1, 4, 16, 16))


def test_unsupported_op_named():
    class Weird(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 1)

        def forward(self, x):
            return torch.sigmoid(self.conv(x))

    with pytest.raises(ValueError, match="sigmoid"):
        quantize_network(Weird(), images(2))
