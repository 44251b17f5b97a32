"""MnasNet-B1 (Tan et al. 2019) and its FuSe variants (paper Table I, SPEC sections 1, 6).

A 3x3 stem, a leading separable conv (3x3 depthwise + linear 1x1 to 16 channels) and 16 MBConv
blocks with K in {3, 5}. FuSe replaces each KxK depthwise conv + BN + ReLU6 by the FuSe operator
with BN + ReLU6 per branch (1xK / Kx1). In Full/Half the leading separable conv becomes FuSe too
(plan entry 0); the 50 % hybrids keep it baseline and convert the stages c = 24, 40, 80.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from sw.models.common import Plan, check_plan, check_width, init_weights, make_plan, scale_channels
from sw.models.fuse import FuSeConv2d

#: (expansion t, output channels c, repeats n, first stride s, kernel k) per MBConv stage.
MNAS_STAGES: tuple[tuple[int, int, int, int, int], ...] = (
    (3, 24, 3, 2, 3), (3, 40, 3, 2, 5), (6, 80, 3, 2, 5),
    (6, 96, 2, 1, 3), (6, 192, 4, 2, 5), (6, 320, 1, 1, 3),
)  # fmt: skip
#: Output channels of the MBConv stages the seed's 50 % hybrid converts.
MNAS_HYBRID_STAGES: tuple[int, ...] = (24, 40, 80)


def _relu6() -> nn.Module:
    return nn.ReLU6(inplace=True)


def _spatial(c: int, kernel: int, stride: int, fuse: str | None) -> tuple[nn.Module, int]:
    """KxK depthwise + BN + ReLU6, or the FuSe operator; returns (module, output channels)."""
    if fuse is None:
        dw = nn.Sequential(
            nn.Conv2d(c, c, kernel, stride, kernel // 2, groups=c, bias=False),
            nn.BatchNorm2d(c),
            _relu6(),
        )
        return dw, c
    op = FuSeConv2d(c, kernel, stride, fuse, act=_relu6)  # type: ignore[arg-type]
    return op, op.out_channels


class SepConv(nn.Module):
    """The leading separable conv: 3x3 depthwise (or FuSe) + linear 1x1 projection + BN."""

    def __init__(self, cin: int, cout: int, fuse: str | None) -> None:
        super().__init__()
        spatial, mid = _spatial(cin, 3, 1, fuse)
        self.conv = nn.Sequential(
            spatial, nn.Conv2d(mid, cout, 1, 1, 0, bias=False), nn.BatchNorm2d(cout)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class MBConv(nn.Module):
    """1x1 expand + BN + ReLU6 -> KxK depthwise or FuSe -> linear 1x1 project (+ residual)."""

    def __init__(
        self, cin: int, cout: int, stride: int, expand: int, kernel: int, fuse: str | None
    ) -> None:
        super().__init__()
        hidden = cin * expand
        self.use_residual = stride == 1 and cin == cout
        spatial, mid = _spatial(hidden, kernel, stride, fuse)
        self.conv = nn.Sequential(
            nn.Conv2d(cin, hidden, 1, 1, 0, bias=False),
            nn.BatchNorm2d(hidden),
            _relu6(),
            spatial,
            nn.Conv2d(mid, cout, 1, 1, 0, bias=False),
            nn.BatchNorm2d(cout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.use_residual:
            return x + self.conv(x)
        return self.conv(x)


def mnas_block_specs(width_mult: float = 1.0) -> list[tuple[int, int, int, int, int]]:
    """(input c, output c, stride, expansion, kernel) of the 16 MBConv blocks, in order."""
    specs, cin = [], scale_channels(16, width_mult)
    for t, c, n, s, k in MNAS_STAGES:
        c = scale_channels(c, width_mult)
        for i in range(n):
            specs.append((cin, c, s if i == 0 else 1, t, k))
            cin = c
    return specs


class MnasNetNet(nn.Module):
    """MnasNet-B1 (width 1.0) with a per-block FuSe plan: entry 0 is the leading separable conv,
    entries 1-16 the MBConv blocks. ``width_mult`` scales the channels (the 1280-wide head only
    grows; 1.0 is the seed's network)."""

    n_blocks = 1 + sum(n for _, _, n, _, _ in MNAS_STAGES)

    def __init__(
        self,
        plan: Sequence[str | None] | None = None,
        num_classes: int = 1000,
        width_mult: float = 1.0,
    ) -> None:
        super().__init__()
        self.plan: Plan = check_plan(
            plan if plan is not None else (None,) * self.n_blocks, self.n_blocks, "MnasNet"
        )
        self.width_mult = w = check_width(width_mult)
        stem, specs = scale_channels(32, w), mnas_block_specs(w)
        features: list[nn.Module] = [
            nn.Sequential(nn.Conv2d(3, stem, 3, 2, 1, bias=False), nn.BatchNorm2d(stem), _relu6()),
            SepConv(stem, specs[0][0], self.plan[0]),
        ]
        for (cin, cout, s, t, k), fuse in zip(specs, self.plan[1:], strict=True):
            features.append(MBConv(cin, cout, s, t, k, fuse))
        head = scale_channels(1280, max(1.0, w))
        features += [
            nn.Sequential(
                nn.Conv2d(specs[-1][1], head, 1, 1, 0, bias=False), nn.BatchNorm2d(head), _relu6()
            ),
            nn.AdaptiveAvgPool2d(1),
        ]
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Linear(head, num_classes))
        init_weights(self)

    def block_names(self) -> list[str]:
        """Module names of the convertible blocks, in plan order."""
        return [f"features.{i + 1}" for i in range(self.n_blocks)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


def _hybrid(variant: str) -> Plan:
    stage_of = [c for _, c, n, _, _ in MNAS_STAGES for _ in range(n)]
    fused = [1 + i for i, c in enumerate(stage_of) if c in MNAS_HYBRID_STAGES]
    return make_plan(MnasNetNet.n_blocks, variant, fused)


def MnasNet(num_classes: int = 1000, *, width_mult: float = 1.0) -> MnasNetNet:
    """Baseline MnasNet-B1."""
    return MnasNetNet(None, num_classes, width_mult)


def MnasNetFuSeFull(num_classes: int = 1000, *, width_mult: float = 1.0) -> MnasNetNet:
    """MnasNet-B1, every depthwise conv (leading SepConv included) FuSe-Full."""
    return MnasNetNet(make_plan(MnasNetNet.n_blocks, "full"), num_classes, width_mult)


def MnasNetFuSeHalf(num_classes: int = 1000, *, width_mult: float = 1.0) -> MnasNetNet:
    """MnasNet-B1, every depthwise conv (leading SepConv included) FuSe-Half."""
    return MnasNetNet(make_plan(MnasNetNet.n_blocks, "half"), num_classes, width_mult)


def MnasNetFuSeFullHybrid(num_classes: int = 1000, *, width_mult: float = 1.0) -> MnasNetNet:
    """MnasNet-B1, stages c = 24, 40, 80 FuSe-Full (the seed's 50 % Full)."""
    return MnasNetNet(_hybrid("full"), num_classes, width_mult)


def MnasNetFuSeHalfHybrid(num_classes: int = 1000, *, width_mult: float = 1.0) -> MnasNetNet:
    """MnasNet-B1, stages c = 24, 40, 80 FuSe-Half (the seed's 50 % Half)."""
    return MnasNetNet(_hybrid("half"), num_classes, width_mult)
