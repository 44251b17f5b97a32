"""``sw.latency`` in ``mode="rtl"`` / ``"rtl-array"`` against the hardware: the analytical
per-layer cycles of a small network equal the cycles measured by running each of its layers
through the RTL: ``rtl`` on the accelerator top (``run_layer``'s default backend, each layer one
program), ``rtl-array`` on the bare array (``backend="array"``)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from hw.config import ArrayConfig
from sim import run_layers
from sw.latency import model_latency
from sw.latency.rtl import ACCEL_COMMAND_OVERHEAD

#: the accelerator builds of tests/sim/test_accel_rtl.py (same depths, 6x3) are reused
DEPTHS = dict(act_depth=2048, weight_depth=1024, acc_depth=1024, cmd_depth=32)


def _net() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(3, 6, 3, stride=2, padding=1, bias=False),  # dense 3x3
        nn.Conv2d(6, 6, (1, 3), padding=(0, 1), groups=6, bias=False),  # FuSe row
        nn.Conv2d(6, 6, (3, 1), stride=2, padding=(1, 0), groups=6, bias=False),  # FuSe column
        nn.Conv2d(6, 5, 1, bias=False),  # pointwise
        nn.Conv2d(5, 5, 3, padding=1, groups=5, bias=False),  # KxK depthwise (baseline)
        nn.Flatten(),
        nn.Linear(5 * 4 * 4, 7, bias=False),
    )


def _layers_and_inputs(report, net):
    layers = [m for m in net if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(report.layers) == len(layers)
    gen = torch.Generator().manual_seed(0)
    items = []
    for rec, layer in zip(report.layers, layers, strict=True):
        with torch.no_grad():
            layer.weight.copy_(torch.randint(-128, 128, layer.weight.shape, generator=gen).float())
        n, c, h, w = rec.in_shape
        shape = (n, c) if isinstance(layer, nn.Linear) else (n, c, h, w)
        items.append((layer, torch.randint(-128, 128, shape, generator=gen).float()))
    return items


@pytest.mark.verilator
@pytest.mark.parametrize(
    "mode, backend, array",
    [
        pytest.param("rtl", "accel", (6, 3), id="rtl-accel"),
        pytest.param("rtl-array", "array", (4, 3), id="rtl_array-array"),
    ],
)
@pytest.mark.parametrize("hardware", ["FuSe", "Systolic"])
def test_rtl_mode_latency_equals_measured_cycles(hardware, mode, backend, array, require_simulator):
    require_simulator("verilator")
    rows, cols = array
    net = _net()
    report = model_latency(net, torch.zeros(1, 3, 15, 15), rows, cols, hardware, mode=mode)
    items = _layers_and_inputs(report, net)
    cfg = ArrayConfig(rows=rows, cols=cols, **DEPTHS)
    depthwise = "auto" if hardware == "FuSe" else "baseline"
    results = run_layers(items, cfg, "verilator", depthwise, backend)
    for rec, res in zip(report.layers, results, strict=True):
        assert res.cycles == rec.cycles, rec.name
        assert res.config == cfg  # no memory grown: the build of the other tests is reused
    assert report.total == sum(r.cycles for r in results)


@pytest.mark.parametrize("hardware", ["FuSe", "Systolic"])
@pytest.mark.parametrize("array", [(1, 1), (6, 3), (16, 16)])
def test_rtl_mode_is_rtl_array_plus_sequencer_overhead(hardware, array):
    """Per layer, ``rtl`` = ``rtl-array`` + ``2 + 1`` per command + ``2`` for ``HALT``
    (docs/accelerator.md "Cycle formula"); commands: 1 per GEMM layer or FuSe layer, 1 per
    channel of a baseline depthwise layer."""
    net = _net()
    x = torch.zeros(1, 3, 15, 15)
    acc = model_latency(net, x, *array, hardware, mode="rtl")
    bare = model_latency(net, x, *array, hardware, mode="rtl-array")
    commands = {"FuSe": [1, 1, 1, 1, 5, 1], "Systolic": [1, 6, 6, 1, 5, 1]}[hardware]
    for a, b, n in zip(acc.layers, bare.layers, commands, strict=True):
        assert a.cycles == b.cycles + n * (ACCEL_COMMAND_OVERHEAD + 1) + ACCEL_COMMAND_OVERHEAD
