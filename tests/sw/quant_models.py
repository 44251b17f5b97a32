"""Small models and fixtures shared by the ``test_quant_*`` tests (seeded, CPU, fast)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sw.models.fuse import FuSeConv2d


class TinyNet(nn.Module):
    """Every layer kind of the int8 flow in a few layers: dense 3x3 stride-2 conv, max pool,
    FuSe-Half (1x3 / 3x1 stride 2, ReLU6 per branch), FuSe-Full (stride 1, linear branches,
    then a stand-alone ReLU on the concat), pointwise, residual add + ReLU, depthwise 3x3,
    global average pool, linear."""

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU6()
        )
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.fhalf = FuSeConv2d(8, 3, 2, "half", act=nn.ReLU6)
        self.ffull = FuSeConv2d(8, 3, 1, "full")
        self.pw = nn.Conv2d(16, 8, 1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, 1, 1, groups=8)
        self.bn2 = nn.BatchNorm2d(8)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(8, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.fhalf(self.pool(self.stem(x)))
        y = self.bn(self.pw(F.relu(self.ffull(x))))
        x = F.relu(x + y)
        x = F.relu(self.bn2(self.dw(x)))
        return self.head(torch.flatten(self.gap(x), 1))


def tiny_net(seed: int = 0) -> TinyNet:
    """A ``TinyNet`` with random weights and random (non-trivial) BatchNorm parameters and
    statistics, in eval mode."""
    g = torch.Generator().manual_seed(seed)
    net = TinyNet()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(0.5 + torch.rand(c, generator=g))
                m.bias.copy_(0.2 * torch.randn(c, generator=g))
                m.running_mean.copy_(0.3 * torch.randn(c, generator=g))
                m.running_var.copy_(0.5 + torch.rand(c, generator=g))
    return net.eval()


def images(n: int, res: int = 16, seed: int = 1) -> torch.Tensor:
    return torch.randn(n, 3, res, res, generator=torch.Generator().manual_seed(seed))
