"""Whole int8 networks as ONE accelerator program in RTL (issue 18, ``sim.onechip``): the
compiler (``sw.mapping.qnetwork.compile_qnet``) turns a ``QuantizedNetwork`` into one command
sequence; the bench loads input, weights and program once and pulses ``start`` once. Every
layer's int8 tensor, read back from activation memory, equals the golden executor's trace
(``QuantizedNetwork.run(trace=True)``) exactly, the output equals ``run``'s, no op runs on
the host, and ``cnt_total`` equals the program's cycle model."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from hw.config import ArrayConfig
from sim.onechip import run_network_program
from sw.export import quantize_network
from sw.mapping.accel import unbounded
from sw.mapping.qnetwork import compile_qnet
from sw.models import build_model
from tests.conftest import sim_params


def _zoo_qnet(net, variant, width=0.25, res=32, seed=0):
    torch.manual_seed(seed)
    model = build_model(net, variant, num_classes=10, width_mult=width).eval()
    x = torch.randn(4, 3, res, res)
    qnet = quantize_network(model, x)
    return qnet, qnet.quantize_input(x[:1].numpy())


class Tiny(nn.Module):
    """Every on-chip layer kind: dense conv (stride 2, padding), depthwise, FuSe-Half-like
    split into 1x3 and 3x1 branches and concat, pointwise, residual add, global average pool,
    linear."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 6, 3, 2, 1, bias=False), nn.BatchNorm2d(6), nn.ReLU6()
        )
        self.dw = nn.Sequential(nn.Conv2d(6, 6, 3, 1, 1, groups=6), nn.ReLU())
        self.row = nn.Conv2d(3, 3, (1, 3), padding=(0, 1), groups=3)
        self.col = nn.Conv2d(3, 3, (3, 1), padding=(1, 0), groups=3)
        self.pw = nn.Sequential(nn.Conv2d(6, 6, 1, bias=False), nn.BatchNorm2d(6))
        self.fc = nn.Linear(6, 5)

    def forward(self, x):
        y = self.stem(x)
        z = self.dw(y)
        a, b = z.chunk(2, 1)
        z = torch.cat([self.row(a), self.col(b)], 1)
        y = y + self.pw(z)
        return self.fc(y.mean((2, 3)))


@pytest.mark.parametrize("fuse", ["lines", "diagonal"])
@pytest.mark.parametrize("simulator", sim_params())
def test_tiny_network_one_program_exact(simulator, fuse, require_simulator):
    require_simulator(simulator)
    torch.manual_seed(1)
    model = Tiny().eval()
    for mod in model.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 2)
    x = torch.randn(6, 3, 9, 9)
    qnet = quantize_network(model, x)
    run = run_network_program(
        qnet, qnet.quantize_input(x[:2].numpy()), ArrayConfig(3, 5), simulator, fuse=fuse
    )
    fuse_maps = {layer.mapping for layer in run.layers if layer.name in ("row", "col")}
    assert fuse_maps == {"FUSE(lines) + REQUANT(lines), FuSe mode" if fuse == "lines" else
                         "GEMM(conv), diagonal tiles per plane"}  # fmt: skip
    assert run.first_bad is None and run.exact
    assert run.programs == 1 and run.host_ops == []
    assert run.cycles == run.model_cycles
    # per layer: cnt_total snapshots at the program counter's changes == the layer's model
    assert all(layer.cycles == layer.model_cycles for layer in run.layers)
    assert run.cycles_match
    assert run.cycles == sum(layer.model_cycles for layer in run.layers) + 2  # + HALT
    assert {layer.kind for layer in run.layers} >= {
        "QConv",
        "QAdd",
        "QAvgPool",
        "QConcat",
        "QLinear",
    }


def test_activation_reuse_exact():
    """Activation buffer reuse (liveness, first-fit, concat branches back to back): the
    program needs fewer activation words, and the logits (and every tensor that survives)
    still equal the golden exactly; cycles are unchanged."""
    qnet, x_q = _zoo_qnet("mobilenet_v2", "half")
    cfg = ArrayConfig(3, 5)
    flat = compile_qnet(qnet, x_q, unbounded(cfg), reuse=False).program
    run = run_network_program(qnet, x_q, cfg, "verilator", reuse=True)
    assert run.act_words < flat.act_words / 3
    assert run.exact and run.cycles == run.model_cycles
    assert 0 < run.checked < len(run.layers)
    np.testing.assert_array_equal(run.output, qnet.run(x_q))


def test_mobilenet_v2_half_one_program_exact():
    """MobileNetV2-FuSe-Half (width 0.25, 32x32) on a non-square 3x5 array, Verilator."""
    qnet, x_q = _zoo_qnet("mobilenet_v2", "half")
    run = run_network_program(qnet, x_q, ArrayConfig(3, 5), "verilator", fuse="lines")
    assert run.exact, run.first_bad
    assert run.cycles_match  # the total and every layer's measured cycles
    assert run.host_ops == []
    np.testing.assert_array_equal(run.output, qnet.run(x_q))


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["base", "full", "half", "full_hybrid", "half_hybrid"])
@pytest.mark.parametrize("net", ["mobilenet_v1", "mobilenet_v2", "mnasnet", "resnet50"])
def test_zoo_one_program_exact_8x8(net, variant):
    """The zoo (V1, V2, MnasNet-B1, ResNet-50 x 5 variants) at resolution 32, width 1.0, on
    8x8, FuSe layers as the cycle model picks them. ResNet-50 at width 0.5: at 1.0 its 25.5 M
    weights exceed the weight memory (2**20 words of 8 lanes = 8 Mi weights on 8x8; no
    weight streaming yet), which the compiler reports naming the layer."""
    qnet, x_q = _zoo_qnet(net, variant, width=0.5 if net == "resnet50" else 1.0)
    run = run_network_program(qnet, x_q, ArrayConfig(8, 8), "verilator")
    assert run.exact, run.first_bad
    assert run.cycles == run.model_cycles


def test_unsupported_layer_is_named():
    """A grouped conv (neither dense nor depthwise) has no on-chip op: the compiler names
    the layer."""
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(4, 6, 3, padding=1, groups=2), nn.ReLU())
    qnet = quantize_network(m, torch.randn(4, 4, 6, 6))
    x_q = qnet.quantize_input(torch.randn(1, 4, 6, 6).numpy())
    with pytest.raises(ValueError, match=r"layer 0 \(QConv\): op='grouped'.*does not run on chip"):
        compile_qnet(qnet, x_q, unbounded(ArrayConfig(4, 4)))


def test_resnet50_one_program_exact():
    """ResNet-50 (width 0.25, 32x32): stem 7x7 s2, max pool on chip, bottlenecks with 1x1
    stride-2 downsampling, residual adds; Verilator, 3x5."""
    qnet, x_q = _zoo_qnet("resnet50", "base")
    run = run_network_program(qnet, x_q, ArrayConfig(3, 5), "verilator")
    assert run.exact, run.first_bad
    assert run.cycles == run.model_cycles and run.host_ops == []
    assert any(layer.mapping == "MAXPOOL" for layer in run.layers)


def test_memory_overflow_names_layer_and_field():
    qnet, x_q = _zoo_qnet("mobilenet_v2", "half")
    with pytest.raises(
        ValueError,
        match=r"layer features\.2\.conv\.0\.0 \(QConv\): .*(Gemm\.w_addr|Requant\.p_addr)=.*weight_depth=256",
    ):
        compile_qnet(qnet, x_q, replace(unbounded(ArrayConfig(4, 4)), weight_depth=256))


def test_background_build_errors_are_named(tmp_path):
    """``BackgroundBuild`` (``fusesa infer`` starts the accelerator's build in a child
    process): an unknown simulator is refused at once; a build that fails in the child
    raises at ``result()`` with the child's error and the build's name."""
    from sim.runner import BackgroundBuild

    with pytest.raises(ValueError, match="unknown simulator 'nosim'"):
        BackgroundBuild(ArrayConfig(2, 2), "nosim")
    blocker = tmp_path / "root"
    blocker.write_text("a file where the build root should be")
    bg = BackgroundBuild(ArrayConfig(2, 2), "icarus", root=blocker)
    with pytest.raises(
        RuntimeError, match=r"background icarus build of array_2x2\S* \(accel\) failed: .*Error"
    ):
        bg.result()
    bg.close()
