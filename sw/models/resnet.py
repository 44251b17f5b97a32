"""ResNet-50 (He et al. 2016) and its FuSe variants (SPEC section 1; not in the seed table).

16 bottlenecks (3, 4, 6, 3). FuSe replaces the bottleneck's dense 3x3 conv by the FuSe operator
(1x3 / 3x1 depthwise branches with BN + ReLU each); the 1x1 expansion then takes 2*width (Full)
or width (Half) channels. The hybrids convert the stages ``layer2`` and ``layer3``, as in the
seed's ``resnetfusedHybrid.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from sw.models.common import Plan, check_plan, check_width, make_plan, scale_channels
from sw.models.fuse import FuSeConv2d

RESNET50_LAYERS: tuple[int, ...] = (3, 4, 6, 3)
#: Stages (0-based) the hybrids convert.
RESNET_HYBRID_STAGES: tuple[int, ...] = (1, 2)


def _relu() -> nn.Module:
    return nn.ReLU(inplace=False)


class Bottleneck(nn.Module):
    """1x1 reduce -> 3x3 conv or FuSe -> 1x1 expand (x4), plus the (projected) shortcut."""

    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int, fuse: str | None) -> None:
        super().__init__()
        width, cout = planes, planes * self.expansion
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        if fuse is None:
            self.spatial: nn.Module = nn.Sequential(
                nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width), _relu()
            )
            mid = width
        else:
            self.spatial = FuSeConv2d(width, 3, stride, fuse, act=_relu)  # type: ignore[arg-type]
            mid = self.spatial.out_channels
        self.conv3 = nn.Conv2d(mid, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.relu = _relu()
        self.downsample: nn.Module | None = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn3(self.conv3(self.spatial(out)))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNetNet(nn.Module):
    """Bottleneck ResNet with a per-block FuSe plan (one entry per bottleneck); ``width_mult``
    scales every stage's width (1.0 is ResNet-50)."""

    def __init__(
        self,
        layers: Sequence[int] = RESNET50_LAYERS,
        plan: Sequence[str | None] | None = None,
        num_classes: int = 1000,
        width_mult: float = 1.0,
    ) -> None:
        super().__init__()
        self.layer_sizes = tuple(layers)
        if len(self.layer_sizes) != 4 or any(n < 1 for n in self.layer_sizes):
            raise ValueError(f"ResNet needs 4 positive stage sizes, not {layers!r}")
        self.n_blocks = sum(self.layer_sizes)
        self.plan: Plan = check_plan(
            plan if plan is not None else (None,) * self.n_blocks, self.n_blocks, "ResNet"
        )
        self.width_mult = w = check_width(width_mult)
        stem = scale_channels(64, w)
        self.conv1 = nn.Conv2d(3, stem, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        self.relu = _relu()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin, k = stem, 0
        for stage, (n, planes) in enumerate(
            zip(self.layer_sizes, (64, 128, 256, 512), strict=True)
        ):
            planes = scale_channels(planes, w)
            blocks = []
            for i in range(n):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(Bottleneck(cin, planes, stride, self.plan[k]))
                cin, k = planes * Bottleneck.expansion, k + 1
            setattr(self, f"layer{stage + 1}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, num_classes)
        for m in self.modules():
            if any(p.is_meta for p in m.parameters(recurse=False)):
                continue
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def block_names(self) -> list[str]:
        """Module names of the convertible blocks, in plan order."""
        return [f"layer{s + 1}.{i}" for s, n in enumerate(self.layer_sizes) for i in range(n)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def _hybrid(variant: str) -> Plan:
    starts = [sum(RESNET50_LAYERS[:s]) for s in range(4)]
    fused = [starts[s] + i for s in RESNET_HYBRID_STAGES for i in range(RESNET50_LAYERS[s])]
    return make_plan(sum(RESNET50_LAYERS), variant, fused)


def ResNet50(num_classes: int = 1000, *, width_mult: float = 1.0) -> ResNetNet:
    """Baseline ResNet-50."""
    return ResNetNet(RESNET50_LAYERS, None, num_classes, width_mult)


def ResNet50FuSeFull(num_classes: int = 1000, *, width_mult: float = 1.0) -> ResNetNet:
    """ResNet-50, every bottleneck's 3x3 conv replaced by FuSe-Full."""
    return ResNetNet(RESNET50_LAYERS, make_plan(16, "full"), num_classes, width_mult)


def ResNet50FuSeHalf(num_classes: int = 1000, *, width_mult: float = 1.0) -> ResNetNet:
    """ResNet-50, every bottleneck's 3x3 conv replaced by FuSe-Half."""
    return ResNetNet(RESNET50_LAYERS, make_plan(16, "half"), num_classes, width_mult)


def ResNet50FuSeFullHybrid(num_classes: int = 1000, *, width_mult: float = 1.0) -> ResNetNet:
    """ResNet-50, stages layer2 and layer3 FuSe-Full."""
    return ResNetNet(RESNET50_LAYERS, _hybrid("full"), num_classes, width_mult)


def ResNet50FuSeHalfHybrid(num_classes: int = 1000, *, width_mult: float = 1.0) -> ResNetNet:
    """ResNet-50, stages layer2 and layer3 FuSe-Half."""
    return ResNetNet(RESNET50_LAYERS, _hybrid("half"), num_classes, width_mult)
