"""The zoo's optional ``width_mult``: 1.0 leaves every network unchanged, other widths scale
channels to multiples of 8 (so FuSe-Half still splits evenly) and still run."""

from __future__ import annotations

import pytest
import torch

import sw.models
from sw.models.common import scale_channels
from sw.models.shapes import build_meta
from sw.models.zoo import NETWORKS, VARIANTS, build_model


def _shapes(model):
    return [(n, tuple(p.shape)) for n, p in model.named_parameters()]


@pytest.mark.parametrize("net", sorted(NETWORKS))
def test_models_width_one_is_the_seed_network(net):
    with torch.device("meta"):
        default = build_model(net, "half_hybrid")
        explicit = build_model(net, "half_hybrid", width_mult=1.0)
    assert _shapes(default) == _shapes(explicit)
    assert _shapes(default) == _shapes(build_meta(net, "half_hybrid"))


@pytest.mark.parametrize("net", sorted(NETWORKS))
@pytest.mark.parametrize("variant", VARIANTS)
def test_models_half_width_builds_and_shrinks(net, variant):
    with torch.device("meta"):
        small = build_model(net, variant, 10, width_mult=0.5)
        full = build_model(net, variant, 10)
    n_small = sum(p.numel() for p in small.parameters())
    n_full = sum(p.numel() for p in full.parameters())
    assert n_small < 0.6 * n_full
    assert small.width_mult == 0.5


def test_models_width_forward_on_small_input():
    model = sw.models.MobileNetV2FuSeHalf(10, width_mult=0.35).eval()
    with torch.no_grad():
        assert model(torch.rand(2, 3, 32, 32)).shape == (2, 10)
    v3 = sw.models.MobileNetV3FuSeFull("small", 7, width_mult=0.75).eval()
    with torch.no_grad():
        assert v3(torch.rand(1, 3, 32, 32)).shape == (1, 7)


def test_models_scale_channels_rounds_to_eight():
    assert scale_channels(32, 1.0) == 32 and scale_channels(37, 1.0) == 37
    assert scale_channels(32, 0.5) == 16 and scale_channels(24, 0.35) == 8
    assert scale_channels(96, 0.35) == 32  # 33.6 -> 32 (within 10 %)
    assert scale_channels(1280, 0.1) == 128


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), "0.5", True])
def test_models_bad_width_raises(bad):
    with pytest.raises(ValueError, match="Width multiplier"):
        sw.models.MobileNetV1(10, width_mult=bad)
