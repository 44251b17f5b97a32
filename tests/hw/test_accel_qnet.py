"""A ``QuantizedNetwork`` (pointwise convs, a residual add with ReLU, a final pointwise) from
``sw.export.quantize_network`` runs as ONE accelerator program (``sw.mapping.qnetwork``) in
the Amaranth simulator: every layer's int8 tensor, read from activation memory after the run,
equals the golden executor's trace (``QuantizedNetwork.run(trace=True)``) exactly, and
``cnt_total`` equals the program's cycle model."""

import numpy as np
import pytest
import torch
from torch import nn

from hw.config import ArrayConfig
from sw.export import quantize_network
from sw.latency.rtl import accel_commands_cycles
from sw.mapping.qnetwork import compile_qnet
from tests.hw.test_accel_requant import SMALL, run_accel


class PointwiseResidual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Sequential(nn.Conv2d(3, 12, 1, bias=False), nn.BatchNorm2d(12), nn.ReLU6())
        self.b = nn.Sequential(nn.Conv2d(12, 12, 1, bias=False), nn.BatchNorm2d(12))
        self.c = nn.Conv2d(12, 7, 1)

    def forward(self, x):
        y = self.a(x)
        y = y + self.b(y)
        return self.c(torch.relu(y))


def _qnet(seed=0):
    torch.manual_seed(seed)
    m = PointwiseResidual()
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 2)
    return quantize_network(m, torch.randn(8, 3, 3, 3))


@pytest.mark.parametrize(
    "array",
    [
        (3, 5),
        pytest.param((2, 2), marks=pytest.mark.slow),
        pytest.param((4, 4), marks=pytest.mark.slow),
    ],
    ids=str,
)
def test_qnet_one_program_exact(array):
    cfg = ArrayConfig(*array, **{**SMALL, "act_depth": 1024, "weight_depth": 1024})
    qnet = _qnet()
    x_q = qnet.quantize_input(torch.randn(2, 3, 3, 3).numpy())
    tr = qnet.run(x_q, trace=True)
    prog = compile_qnet(qnet, x_q, cfg, reuse=False)  # every tensor stays readable
    p = prog.program
    res = run_accel(cfg, p.act, p.weight, p.words, p.acc_words_used, p.act_words)
    assert not res["error"]
    act = dict(enumerate(res["act"]))
    assert set(prog.tensors) == {layer.name for layer in qnet.layers}
    for name in prog.tensors:
        np.testing.assert_array_equal(prog.read(name, act), tr.tensors[name], err_msg=name)
    np.testing.assert_array_equal(prog.read(qnet.output, act), qnet.run(x_q))
    assert res["counters"][0] == accel_commands_cycles(p.commands, *array)


def test_qnet_unsupported_layer_named():
    """A grouped conv (neither dense nor depthwise) has no on-chip mapping: named."""
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1, groups=2), nn.ReLU())
    qnet = quantize_network(m, torch.randn(4, 4, 5, 5))
    x_q = qnet.quantize_input(torch.randn(1, 4, 5, 5).numpy())
    with pytest.raises(ValueError, match=r"layer 0 \(QConv\): op='grouped'.*does not run on chip"):
        compile_qnet(qnet, x_q, ArrayConfig(2, 2, **SMALL))
