"""Batch transforms with torch ops (no torchvision): random crop and flip for training, centre
crop for evaluation, resize to the training resolution, normalization.

All randomness comes from the ``torch.Generator`` passed in, which the training loop derives
from the seed and the epoch, so a resumed run sees exactly the batches of an uninterrupted one.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sw.train.datasets import DataSplits


def _finish(x: torch.Tensor, data: DataSplits, resolution: int) -> torch.Tensor:
    x = x.float().div_(255.0)
    if x.shape[-1] != resolution or x.shape[-2] != resolution:
        # Upscale (CIFAR 32 -> 224 as the original traincifar224 does) or downscale.
        x = F.interpolate(x, size=(resolution, resolution), mode="bilinear", align_corners=False)
    mean = torch.tensor(data.mean).view(1, 3, 1, 1)
    std = torch.tensor(data.std).view(1, 3, 1, 1)
    return (x - mean) / std


def train_batch(
    images: torch.Tensor, data: DataSplits, resolution: int, gen: torch.Generator
) -> torch.Tensor:
    """Random ``data.crop`` window (after zero padding by ``data.pad``), random horizontal flip
    when ``data.flip``, then resize to ``resolution`` and normalize. ``images``: uint8 NCHW."""
    n = images.shape[0]
    if data.pad:
        images = F.pad(images, (data.pad,) * 4)
    span = images.shape[-1] - data.crop
    offsets = torch.randint(0, span + 1, (n, 2), generator=gen)
    flips = torch.rand(n, generator=gen) < 0.5 if data.flip else torch.zeros(n, dtype=torch.bool)
    out = []
    for img, (dy, dx), flip in zip(images, offsets.tolist(), flips.tolist(), strict=True):
        crop = img[:, dy : dy + data.crop, dx : dx + data.crop]
        out.append(crop.flip(-1) if flip else crop)
    return _finish(torch.stack(out), data, resolution)


def eval_batch(images: torch.Tensor, data: DataSplits, resolution: int) -> torch.Tensor:
    """Centre ``data.crop`` window, resize to ``resolution``, normalize."""
    start = (images.shape[-1] - data.crop) // 2
    images = images[..., start : start + data.crop, start : start + data.crop]
    return _finish(images, data, resolution)
