"""``sw.latency`` in ``mode="rtl"`` against the hardware: the analytical per-layer cycles of a
small network equal the cycles measured by running each of its layers through the RTL."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from hw.config import ArrayConfig
from sim import run_layer
from sw.latency import model_latency


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


@pytest.mark.verilator
@pytest.mark.parametrize("hardware", ["FuSe", "Systolic"])
def test_rtl_mode_latency_equals_measured_cycles(hardware, require_simulator):
    require_simulator("verilator")
    rows, cols = 4, 3
    net = _net()
    x = torch.zeros(1, 3, 15, 15)
    report = model_latency(net, x, rows, cols, hardware, mode="rtl")
    layers = [m for m in net if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(report.layers) == len(layers)
    cfg = ArrayConfig(rows=rows, cols=cols)
    gen = torch.Generator().manual_seed(0)
    measured = []
    for rec, layer in zip(report.layers, layers, strict=True):
        with torch.no_grad():
            layer.weight.copy_(torch.randint(-128, 128, layer.weight.shape, generator=gen).float())
        n, c, h, w = rec.in_shape
        xin = torch.randint(
            -128, 128, (n, c) if isinstance(layer, nn.Linear) else (n, c, h, w), generator=gen
        )
        depthwise = "auto" if hardware == "FuSe" else "baseline"
        res = run_layer(layer, xin.float(), cfg, "verilator", depthwise=depthwise)
        measured.append(res.cycles)
        assert res.cycles == rec.cycles, rec.name
    assert report.total == sum(measured)
