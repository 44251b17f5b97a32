"""MobileNetV1 (Howard et al. 2017) and its FuSe variants (paper Table I, SPEC sections 1, 6).

13 depthwise-separable blocks. A FuSe block replaces the 3x3 depthwise conv + BN + ReLU by the
FuSe operator with a BatchNorm per 1-D branch and no activation before the pointwise conv; the
ReLU follows the pointwise conv's BN as in the baseline. The 50 % hybrids convert blocks 1-5.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from sw.models.common import Plan, check_plan, check_width, init_weights, make_plan, scale_channels
from sw.models.fuse import FuSeConv2d

#: (output channels, stride) of the 13 blocks.
V1_BLOCKS: tuple[tuple[int, int], ...] = (
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
)  # fmt: skip
#: Blocks (0-based) that the seed's 50 % hybrid converts: blocks 1-5 of 13.
V1_HYBRID: tuple[int, ...] = (0, 1, 2, 3, 4)


class DepthwiseSeparable(nn.Module):
    """3x3 depthwise (or FuSe) conv, then 1x1 pointwise conv + BN + ReLU."""

    def __init__(self, cin: int, cout: int, stride: int, fuse: str | None) -> None:
        super().__init__()
        if fuse is None:
            self.spatial: nn.Module = nn.Sequential(
                nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False),
                nn.BatchNorm2d(cin),
            )
            mid = cin
        else:
            self.spatial = FuSeConv2d(cin, 3, stride, fuse)  # type: ignore[arg-type]
            mid = self.spatial.out_channels
        # The baseline has a ReLU after the depthwise BN; FuSe branches stay linear.
        self.spatial_relu = fuse is None
        self.pointwise = nn.Conv2d(mid, cout, 1, 1, 0, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.spatial(x)
        if self.spatial_relu:
            out = F.relu(out)
        return F.relu(self.bn(self.pointwise(out)))


class MobileNetV1Net(nn.Module):
    """MobileNetV1 with a per-block FuSe plan (13 entries); ``width_mult`` scales every layer's
    channels (``sw.models.common.scale_channels``; 1.0 is the seed's network)."""

    n_blocks = len(V1_BLOCKS)

    def __init__(
        self,
        plan: Sequence[str | None] | None = None,
        num_classes: int = 1000,
        width_mult: float = 1.0,
    ) -> None:
        super().__init__()
        self.plan: Plan = check_plan(
            plan if plan is not None else (None,) * self.n_blocks, self.n_blocks, "MobileNetV1"
        )
        self.width_mult = w = check_width(width_mult)
        stem = scale_channels(32, w)
        self.conv1 = nn.Conv2d(3, stem, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        blocks, cin = [], stem
        for (cout, stride), fuse in zip(V1_BLOCKS, self.plan, strict=True):
            cout = scale_channels(cout, w)
            blocks.append(DepthwiseSeparable(cin, cout, stride, fuse))
            cin = cout
        self.layers = nn.Sequential(*blocks)
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(0.2)
        self.linear = nn.Linear(cin, num_classes)
        init_weights(self)

    def block_names(self) -> list[str]:
        """Module names of the convertible blocks, in plan order."""
        return [f"layers.{i}" for i in range(self.n_blocks)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(F.relu(self.bn1(self.conv1(x))))
        out = self.avg_pool(out).flatten(1)
        return self.linear(self.dropout(out))


def MobileNetV1(num_classes: int = 1000, *, width_mult: float = 1.0) -> MobileNetV1Net:
    """Baseline MobileNetV1."""
    return MobileNetV1Net(None, num_classes, width_mult)


def MobileNetV1FuSeFull(num_classes: int = 1000, *, width_mult: float = 1.0) -> MobileNetV1Net:
    """MobileNetV1, every block FuSe-Full (D=1)."""
    return MobileNetV1Net(make_plan(13, "full"), num_classes, width_mult)


def MobileNetV1FuSeHalf(num_classes: int = 1000, *, width_mult: float = 1.0) -> MobileNetV1Net:
    """MobileNetV1, every block FuSe-Half (D=2)."""
    return MobileNetV1Net(make_plan(13, "half"), num_classes, width_mult)


def MobileNetV1FuSeFullHybrid(
    num_classes: int = 1000, *, width_mult: float = 1.0
) -> MobileNetV1Net:
    """MobileNetV1, blocks 1-5 FuSe-Full (the seed's 50 % Full)."""
    return MobileNetV1Net(make_plan(13, "full", V1_HYBRID), num_classes, width_mult)


def MobileNetV1FuSeHalfHybrid(
    num_classes: int = 1000, *, width_mult: float = 1.0
) -> MobileNetV1Net:
    """MobileNetV1, blocks 1-5 FuSe-Half (the seed's 50 % Half)."""
    return MobileNetV1Net(make_plan(13, "half", V1_HYBRID), num_classes, width_mult)
