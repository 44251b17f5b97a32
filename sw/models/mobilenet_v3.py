"""MobileNetV3 small/large (Howard et al. 2019) and its FuSe variants (paper Table I, SPEC
sections 1, 6), following the seed's released definition (an expansion 1x1 conv in every block,
bias-free SE linears, a biased 1x1 head conv after global pooling).

A FuSe block replaces the KxK depthwise conv + BN by the FuSe operator with a BN per branch;
squeeze-and-excite then runs on the concatenated tensor (exp channels for Half, 2*exp for
Full), then the block's nonlinearity, then the projection. 50 % hybrids: large blocks 2-8 of 15,
small blocks 3, 5, 6, 7, 8 of 11 (1-based).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from sw.models.common import (
    Hswish,
    Plan,
    SqueezeExcite,
    check_plan,
    check_width,
    init_weights,
    make_plan,
    scale_channels,
)
from sw.models.fuse import FuSeConv2d

#: (kernel, expansion channels, output channels, SE, nonlinearity, stride) per block.
V3_SETTINGS: dict[str, tuple[tuple[int, int, int, bool, str, int], ...]] = {
    "large": (
        (3, 16, 16, False, "RE", 1), (3, 64, 24, False, "RE", 2), (3, 72, 24, False, "RE", 1),
        (5, 72, 40, True, "RE", 2), (5, 120, 40, True, "RE", 1), (5, 120, 40, True, "RE", 1),
        (3, 240, 80, False, "HS", 2), (3, 200, 80, False, "HS", 1),
        (3, 184, 80, False, "HS", 1), (3, 184, 80, False, "HS", 1),
        (3, 480, 112, True, "HS", 1), (3, 672, 112, True, "HS", 1),
        (5, 672, 160, True, "HS", 2), (5, 960, 160, True, "HS", 1), (5, 960, 160, True, "HS", 1),
    ),
    "small": (
        (3, 16, 16, True, "RE", 2), (3, 72, 24, False, "RE", 2), (3, 88, 24, False, "RE", 1),
        (5, 96, 40, True, "HS", 2), (5, 240, 40, True, "HS", 1), (5, 240, 40, True, "HS", 1),
        (5, 120, 48, True, "HS", 1), (5, 144, 48, True, "HS", 1),
        (5, 288, 96, True, "HS", 2), (5, 576, 96, True, "HS", 1), (5, 576, 96, True, "HS", 1),
    ),
}  # fmt: skip
#: Last 1x1 conv width per mode.
V3_LAST_CONV = {"large": 960, "small": 576}
#: Blocks (0-based) the seed's 50 % hybrids convert.
V3_HYBRID: dict[str, tuple[int, ...]] = {"large": (1, 2, 3, 4, 5, 6, 7), "small": (2, 4, 5, 6, 7)}


def _nonlinearity(kind: str) -> nn.Module:
    if kind == "RE":
        return nn.ReLU(inplace=True)
    if kind == "HS":
        return Hswish()
    raise ValueError(f"MobileNetV3 nonlinearity must be 'RE' or 'HS', not {kind!r}")


def _check_mode(mode: str) -> str:
    if mode not in V3_SETTINGS:
        raise ValueError(f"MobileNetV3 mode must be 'small' or 'large', not {mode!r}")
    return mode


class MobileBottleneck(nn.Module):
    """1x1 expand + BN + nl -> KxK depthwise or FuSe (+ BN) -> SE -> nl -> 1x1 project + BN."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel: int,
        stride: int,
        exp: int,
        se: bool,
        nl: str,
        fuse: str | None,
    ) -> None:
        super().__init__()
        self.use_residual = stride == 1 and cin == cout
        if fuse is None:
            spatial: nn.Module = nn.Sequential(
                nn.Conv2d(exp, exp, kernel, stride, kernel // 2, groups=exp, bias=False),
                nn.BatchNorm2d(exp),
            )
            mid = exp
        else:
            spatial = FuSeConv2d(exp, kernel, stride, fuse)  # type: ignore[arg-type]
            mid = spatial.out_channels
        self.conv = nn.Sequential(
            nn.Conv2d(cin, exp, 1, 1, 0, bias=False),
            nn.BatchNorm2d(exp),
            _nonlinearity(nl),
            spatial,
            SqueezeExcite(mid) if se else nn.Identity(),
            _nonlinearity(nl),
            nn.Conv2d(mid, cout, 1, 1, 0, bias=False),
            nn.BatchNorm2d(cout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.use_residual:
            return x + self.conv(x)
        return self.conv(x)


class MobileNetV3Net(nn.Module):
    """MobileNetV3 ('small' or 'large') with a per-block FuSe plan; ``width_mult`` scales the
    channels (the 1280-wide head only grows; 1.0 is the seed's network)."""

    def __init__(
        self,
        mode: str = "small",
        plan: Sequence[str | None] | None = None,
        num_classes: int = 1000,
        width_mult: float = 1.0,
    ) -> None:
        super().__init__()
        self.mode = _check_mode(mode)
        setting = V3_SETTINGS[mode]
        self.n_blocks = len(setting)
        self.plan: Plan = check_plan(
            plan if plan is not None else (None,) * self.n_blocks,
            self.n_blocks,
            f"MobileNetV3-{mode}",
        )
        self.width_mult = w = check_width(width_mult)
        cin = scale_channels(16, w)
        features: list[nn.Module] = [
            nn.Sequential(nn.Conv2d(3, cin, 3, 2, 1, bias=False), nn.BatchNorm2d(cin), Hswish())
        ]
        for (k, exp, c, se, nl, s), fuse in zip(setting, self.plan, strict=True):
            c, exp = scale_channels(c, w), scale_channels(exp, w)
            features.append(MobileBottleneck(cin, c, k, s, exp, se, nl, fuse))
            cin = c
        last = scale_channels(V3_LAST_CONV[mode], w)
        head = scale_channels(1280, max(1.0, w))
        features += [
            nn.Sequential(
                nn.Conv2d(cin, last, 1, 1, 0, bias=False), nn.BatchNorm2d(last), Hswish()
            ),
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(last, head, 1, 1, 0),
            Hswish(),
        ]
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(head, num_classes))
        init_weights(self)

    def block_names(self) -> list[str]:
        """Module names of the convertible blocks, in plan order."""
        return [f"features.{i + 1}" for i in range(self.n_blocks)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).mean(3).mean(2))


def _plan(mode: str, variant: str | None, hybrid: bool) -> Plan:
    n = len(V3_SETTINGS[_check_mode(mode)])
    return make_plan(n, variant, V3_HYBRID[mode] if hybrid else None)


def MobileNetV3(
    mode: str = "small", num_classes: int = 1000, *, width_mult: float = 1.0
) -> MobileNetV3Net:
    """Baseline MobileNetV3 ('small' or 'large')."""
    return MobileNetV3Net(mode, None, num_classes, width_mult)


def MobileNetV3FuSeFull(
    mode: str = "small", num_classes: int = 1000, *, width_mult: float = 1.0
) -> MobileNetV3Net:
    """MobileNetV3, every block FuSe-Full (D=1)."""
    return MobileNetV3Net(mode, _plan(mode, "full", False), num_classes, width_mult)


def MobileNetV3FuSeHalf(
    mode: str = "small", num_classes: int = 1000, *, width_mult: float = 1.0
) -> MobileNetV3Net:
    """MobileNetV3, every block FuSe-Half (D=2)."""
    return MobileNetV3Net(mode, _plan(mode, "half", False), num_classes, width_mult)


def MobileNetV3FuSeFullHybrid(
    mode: str = "small", num_classes: int = 1000, *, width_mult: float = 1.0
) -> MobileNetV3Net:
    """MobileNetV3, the seed's 50 % blocks FuSe-Full (large 2-8, small 3,5,6,7,8)."""
    return MobileNetV3Net(mode, _plan(mode, "full", True), num_classes, width_mult)


def MobileNetV3FuSeHalfHybrid(
    mode: str = "small", num_classes: int = 1000, *, width_mult: float = 1.0
) -> MobileNetV3Net:
    """MobileNetV3, the seed's 50 % blocks FuSe-Half (large 2-8, small 3,5,6,7,8)."""
    return MobileNetV3Net(mode, _plan(mode, "half", True), num_classes, width_mult)
