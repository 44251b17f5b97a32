"""The FuSe operator (paper section III, SPEC section 1): a KxK depthwise conv replaced by two
depthwise 1-D convs, a row filter (1xK) and a column filter (Kx1), on the same input.

Both branches use stride ``s`` on both spatial dims and ``K // 2`` padding along their kernel
axis, so they produce the same output size as the KxK depthwise conv they replace. Their outputs
are concatenated on channels as ``[row branch, column branch]``:

* ``"full"`` (D = 1): every channel goes through both branches, output has ``2 * C`` channels.
* ``"half"`` (D = 2): the first ``C / 2`` channels go to the row branch, the last ``C / 2`` to
  the column branch, output has ``C`` channels.

Each branch has its own BatchNorm; the activation placement differs per network (see SPEC
section 1), so the caller passes an activation factory applied per branch, or ``None`` when the
network applies its nonlinearity after the concatenation (MobileNetV1, MobileNetV3).

On the FuSe array each 1-D branch maps to independent row-wise 1-D convolutions; its latency is
``ceil(ceil(N*H*C/X)/s * (Y+K) * ceil(W/Y))`` cycles in the paper model (``sw.latency``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from torch import nn

Variant = Literal["full", "half"]
#: The FuSe variants and their channel-division factor D.
FUSE_VARIANTS: dict[str, int] = {"full": 1, "half": 2}


def fuse_out_channels(channels: int, variant: str) -> int:
    """Channels after the FuSe concat: ``2*C`` for ``"full"``, ``C`` for ``"half"``."""
    _check_variant(variant)
    return 2 * channels if variant == "full" else channels


def _check_variant(variant: str) -> None:
    if variant not in FUSE_VARIANTS:
        raise ValueError(f"FuSe variant must be one of {sorted(FUSE_VARIANTS)}, not {variant!r}")


class FuSeConv2d(nn.Module):
    """Row (1xK) + column (Kx1) depthwise branches, concatenated as ``[row, column]``.

    ``act`` is a factory for the per-branch activation (e.g. ``nn.ReLU6``), applied after each
    branch's BatchNorm; ``None`` leaves the branches linear.
    """

    def __init__(
        self,
        channels: int,
        kernel_size: int,
        stride: int = 1,
        variant: Variant = "full",
        act: Callable[[], nn.Module] | None = None,
    ) -> None:
        super().__init__()
        _check_variant(variant)
        if not isinstance(channels, int) or channels < 1:
            raise ValueError(f"FuSe channel count must be a positive integer, not {channels!r}")
        if variant == "half" and channels % 2:
            raise ValueError(f"FuSe 'half' needs an even channel count, not {channels!r}")
        if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(
                f"FuSe kernel size must be a positive odd integer, not {kernel_size!r}"
            )
        self.channels = channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.variant = variant
        self.out_channels = fuse_out_channels(channels, variant)
        branch = channels if variant == "full" else channels // 2
        pad = kernel_size // 2
        self.row = self._branch(branch, (1, kernel_size), (0, pad), stride, act)
        self.col = self._branch(branch, (kernel_size, 1), (pad, 0), stride, act)

    @staticmethod
    def _branch(
        c: int,
        kernel: tuple[int, int],
        padding: tuple[int, int],
        stride: int,
        act: Callable[[], nn.Module] | None,
    ) -> nn.Sequential:
        layers: list[nn.Module] = [
            nn.Conv2d(c, c, kernel, stride=stride, padding=padding, groups=c, bias=False),
            nn.BatchNorm2d(c),
        ]
        if act is not None:
            layers.append(act())
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.variant == "full":
            return torch.cat([self.row(x), self.col(x)], 1)
        first, second = x.chunk(2, 1)
        return torch.cat([self.row(first), self.col(second)], 1)
