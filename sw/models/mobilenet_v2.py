"""MobileNetV2 (Sandler et al. 2018) and its FuSe variants (paper Table I, SPEC sections 1, 6).

17 inverted-residual blocks. A FuSe block replaces the 3x3 depthwise conv + BN + ReLU6 by the
FuSe operator with BN + ReLU6 on each 1-D branch; the linear 1x1 projection then takes the 2C
(Full) or C (Half) concatenated channels. The 50 % hybrids convert the stages with c = 24, 32
and 64 (blocks 2-10 of 17).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from sw.models.common import Plan, check_plan, check_width, init_weights, make_plan, scale_channels
from sw.models.fuse import FuSeConv2d

#: (expansion t, output channels c, repeats n, first stride s) per stage.
V2_STAGES: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
    (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
)  # fmt: skip
#: Output channels of the stages the seed's 50 % hybrid converts.
V2_HYBRID_STAGES: tuple[int, ...] = (24, 32, 64)


def _conv_bn_relu6(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    """1x1 expand (if t > 1) -> 3x3 depthwise or FuSe -> linear 1x1 project (+ residual)."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int, fuse: str | None) -> None:
        super().__init__()
        hidden = int(round(cin * expand))
        self.use_residual = stride == 1 and cin == cout
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(_conv_bn_relu6(cin, hidden, 1))
        if fuse is None:
            layers.append(_conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden))
            mid = hidden
        else:
            op = FuSeConv2d(hidden, 3, stride, fuse, act=lambda: nn.ReLU6(inplace=True))  # type: ignore[arg-type]
            layers.append(op)
            mid = op.out_channels
        layers += [nn.Conv2d(mid, cout, 1, 1, 0, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.use_residual:
            return x + self.conv(x)
        return self.conv(x)


def v2_block_specs(width_mult: float = 1.0) -> list[tuple[int, int, int, int, int]]:
    """(input c, output c, stride, expansion, stage output c) of the 17 blocks, in order; the
    last entry is the stage's unscaled width (it names the stage, e.g. for the hybrids)."""
    specs, cin = [], scale_channels(32, width_mult)
    for t, c, n, s in V2_STAGES:
        cout = scale_channels(c, width_mult)
        for i in range(n):
            specs.append((cin, cout, s if i == 0 else 1, t, c))
            cin = cout
    return specs


class MobileNetV2Net(nn.Module):
    """MobileNetV2 with a per-block FuSe plan (17 entries); ``width_mult`` scales the channels
    (the 1280-wide head only grows, as in the MobileNetV2 paper; 1.0 is the seed's network)."""

    n_blocks = sum(n for _, _, n, _ in V2_STAGES)

    def __init__(
        self,
        plan: Sequence[str | None] | None = None,
        num_classes: int = 1000,
        width_mult: float = 1.0,
    ) -> None:
        super().__init__()
        self.plan: Plan = check_plan(
            plan if plan is not None else (None,) * self.n_blocks, self.n_blocks, "MobileNetV2"
        )
        self.width_mult = w = check_width(width_mult)
        specs = v2_block_specs(w)
        features: list[nn.Module] = [_conv_bn_relu6(3, specs[0][0], 3, 2)]
        for (cin, cout, stride, t, _), fuse in zip(specs, self.plan, strict=True):
            features.append(InvertedResidual(cin, cout, stride, t, fuse))
        last = scale_channels(1280, max(1.0, w))
        features.append(_conv_bn_relu6(specs[-1][1], last, 1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(last, num_classes))
        init_weights(self)

    def block_names(self) -> list[str]:
        """Module names of the convertible blocks, in plan order."""
        return [f"features.{i + 1}" for i in range(self.n_blocks)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).mean([2, 3]))


def _hybrid(variant: str) -> Plan:
    fused = [i for i, spec in enumerate(v2_block_specs()) if spec[4] in V2_HYBRID_STAGES]
    return make_plan(MobileNetV2Net.n_blocks, variant, fused)


def MobileNetV2(num_classes: int = 1000, *, width_mult: float = 1.0) -> MobileNetV2Net:
    """Baseline MobileNetV2."""
    return MobileNetV2Net(None, num_classes, width_mult)


def MobileNetV2FuSeFull(num_classes: int = 1000, *, width_mult: float = 1.0) -> MobileNetV2Net:
    """MobileNetV2, every block FuSe-Full (D=1)."""
    return MobileNetV2Net(make_plan(MobileNetV2Net.n_blocks, "full"), num_classes, width_mult)


def MobileNetV2FuSeHalf(num_classes: int = 1000, *, width_mult: float = 1.0) -> MobileNetV2Net:
    """MobileNetV2, every block FuSe-Half (D=2)."""
    return MobileNetV2Net(make_plan(MobileNetV2Net.n_blocks, "half"), num_classes, width_mult)


def MobileNetV2FuSeFullHybrid(
    num_classes: int = 1000, *, width_mult: float = 1.0
) -> MobileNetV2Net:
    """MobileNetV2, stages c = 24, 32, 64 FuSe-Full (the seed's 50 % Full)."""
    return MobileNetV2Net(_hybrid("full"), num_classes, width_mult)


def MobileNetV2FuSeHalfHybrid(
    num_classes: int = 1000, *, width_mult: float = 1.0
) -> MobileNetV2Net:
    """MobileNetV2, stages c = 24, 32, 64 FuSe-Half (the seed's 50 % Half)."""
    return MobileNetV2Net(_hybrid("half"), num_classes, width_mult)
