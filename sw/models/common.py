"""Building blocks shared by the model zoo: hard activations, squeeze-and-excite, and the
per-block FuSe plan that every network constructor takes.

A *plan* is one entry per convertible block (the blocks that own a KxK depthwise conv, or the
3x3 conv of a ResNet bottleneck): ``None`` keeps the baseline block, ``"full"`` / ``"half"``
replaces its spatial conv by the FuSe operator (``sw.models.fuse``). The seed's five variants are
plans: all ``None`` (baseline), all ``"full"``, all ``"half"``, and the 50 % hybrids of SPEC
section 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from sw.models.fuse import FUSE_VARIANTS

Plan = tuple[str | None, ...]


def make_plan(n_blocks: int, variant: str | None, fused: Iterable[int] | None = None) -> Plan:
    """Plan with ``variant`` on the blocks ``fused`` (0-based; all blocks when ``None``)."""
    if variant is not None and variant not in FUSE_VARIANTS:
        raise ValueError(f"FuSe variant must be one of {sorted(FUSE_VARIANTS)}, not {variant!r}")
    chosen = set(range(n_blocks)) if fused is None else set(fused)
    bad = sorted(i for i in chosen if not 0 <= i < n_blocks)
    if bad:
        raise ValueError(f"Block indices {bad!r} out of range for a network of {n_blocks} blocks")
    return tuple(variant if i in chosen else None for i in range(n_blocks))


def check_plan(plan: Sequence[str | None], n_blocks: int, network: str) -> Plan:
    """Validate a user plan: right length, entries in ``{None, 'full', 'half'}``."""
    plan = tuple(plan)
    if len(plan) != n_blocks:
        raise ValueError(f"{network} has {n_blocks} convertible blocks, plan has {len(plan)}")
    for i, entry in enumerate(plan):
        if entry is not None and entry not in FUSE_VARIANTS:
            raise ValueError(
                f"{network} plan entry {i} must be None, 'full' or 'half', not {entry!r}"
            )
    return plan


def check_width(width_mult: float) -> float:
    """Validate a width multiplier: a positive finite number."""
    ok = isinstance(width_mult, int | float) and not isinstance(width_mult, bool)
    if not ok or not 0.0 < width_mult < float("inf"):
        raise ValueError(f"Width multiplier must be a positive number, not {width_mult!r}")
    return float(width_mult)


def scale_channels(channels: int, width_mult: float, divisor: int = 8) -> int:
    """``channels * width_mult`` rounded to a multiple of ``divisor`` (at least ``divisor``, and
    not more than 10 % below the exact product), the MobileNet width convention. Width 1.0
    returns ``channels`` unchanged, so every default model keeps its exact seed shape; the
    multiple of 8 keeps FuSe-Half's channel split even."""
    if width_mult == 1.0:
        return channels
    exact = channels * width_mult
    scaled = max(divisor, int(exact + divisor / 2) // divisor * divisor)
    if scaled < 0.9 * exact:
        scaled += divisor
    return scaled


class Hswish(nn.Module):
    """Hard swish ``x * relu6(x + 3) / 6`` (MobileNetV3), written out so that op counters see
    the add and the multiply as the seed's FLOPs column did."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * F.relu6(x + 3.0) / 6.0


class Hsigmoid(nn.Module):
    """Hard sigmoid ``relu6(x + 3) / 6`` (MobileNetV3 squeeze-and-excite gate)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu6(x + 3.0) / 6.0


class SqueezeExcite(nn.Module):
    """Squeeze-and-excite with two bias-free linear layers and a hard-sigmoid gate (reduction 4).

    Its linear layers run on a 1x1 "image" and are costed as GEMMs by the latency model; the
    channel-wise multiply is free there (SPEC section 4)."""

    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Linear(channels, channels // reduction, bias=False),
            nn.ReLU(inplace=True),
            nn.Linear(channels // reduction, channels, bias=False),
            Hsigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c = x.shape[0], x.shape[1]
        gate = self.fc(self.pool(x).view(n, c)).view(n, c, 1, 1)
        return x * gate


def init_weights(model: nn.Module) -> None:
    """Kaiming-normal convs, unit BatchNorm, small-normal linears (as the reference models).

    Parameters on the ``meta`` device (shape-only models, see ``sw.models.shapes``) are skipped:
    they hold no values and random init there is slow."""
    for m in model.modules():
        if any(p.is_meta for p in m.parameters(recurse=False)):
            continue
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
