"""Float-vs-int8 fidelity of a zoo network with random weights (issue 10, item 6).

Random weights carry no trained statistics, so each BatchNorm's running mean/var is set by a
train-mode pass over ``bn_images`` random images (``set_bn_statistics``); the network is then
quantized on ``calib`` other random images and compared with the float model on ``evaluate``
further images. ``noise_snr_db`` puts the figures in context: the logit SNR of the *float*
model when only its input is perturbed by uniform noise of one input LSB. Random deep networks
amplify small perturbations, so int8 cannot do better than that figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from sw.export.ptq import compare_float_int8, quantize_network, set_bn_statistics
from sw.export.qnet import QuantizedNetwork
from sw.models.zoo import build_model

__all__ = ["Fidelity", "random_network_fidelity"]


@dataclass
class Fidelity:
    network: str
    variant: str
    resolution: int
    top1_agreement: float
    snr_db: float
    noise_snr_db: float
    noise_top1: float
    qnet: QuantizedNetwork
    model: torch.nn.Module
    eval_images: torch.Tensor


def _snr(ref: np.ndarray, got: np.ndarray) -> float:
    noise = float(((ref - got) ** 2).sum())
    return float("inf") if noise == 0 else float(10 * np.log10(float((ref**2).sum()) / noise))


def random_network_fidelity(
    network: str,
    variant: str,
    resolution: int = 64,
    calib: int = 16,
    evaluate: int = 32,
    bn_images: int = 64,
    seed: int = 0,
    num_classes: int = 1000,
) -> Fidelity:
    """Build, BN-calibrate, quantize and compare one zoo network (see module docstring)."""
    for name, v in (("resolution", resolution), ("calib", calib), ("evaluate", evaluate)):
        if not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer, not {v!r}")
    torch.manual_seed(seed)
    model = build_model(network, variant, num_classes)
    g = torch.Generator().manual_seed(seed + 1)
    data = torch.randn(bn_images + calib + evaluate, 3, resolution, resolution, generator=g)
    set_bn_statistics(model, data[:bn_images])
    qnet = quantize_network(model, data[bn_images : bn_images + calib])
    x = data[bn_images + calib :]
    m = compare_float_int8(model, qnet, x)
    with torch.no_grad():
        ref = model(x).numpy().astype(np.float64)
        lsb = qnet.input_scale
        noise = (torch.rand(x.shape, generator=g) - 0.5) * lsb
        noisy = model(x + noise).numpy().astype(np.float64)
    return Fidelity(
        network,
        variant,
        resolution,
        m["top1_agreement"],
        m["snr_db"],
        _snr(ref, noisy),
        float((ref.argmax(1) == noisy.argmax(1)).mean()),
        qnet,
        model,
        x,
    )
