"""Model zoo: parameter counts vs the seed table, FuSe operator semantics, hybrid block lists."""

import math

import pytest
import torch
import torch.nn.functional as F
from seed_values import ROWS
from torch import nn

import sw.models
from sw.models import FuSeConv2d
from sw.models.shapes import build_meta
from sw.models.zoo import build_model, build_with_plan


@pytest.mark.parametrize(("net", "variant", "flops", "params", "speedup"), ROWS)
def test_models_params_match_seed_table(net, variant, flops, params, speedup):
    model = build_meta(net, variant)
    count = sum(p.numel() for p in model.parameters())
    # The seed table truncates to 2 decimals.
    assert math.floor(count / 1e4) / 100 == pytest.approx(params, abs=1e-9)


@pytest.mark.parametrize("net", ["mobilenet_v1", "mobilenet_v3_small", "mnasnet"])
def test_models_meta_build_has_same_params_as_cpu_build(net):
    meta = build_meta(net, "half_hybrid")
    cpu = build_model(net, "half_hybrid")
    assert [p.shape for p in meta.parameters()] == [p.shape for p in cpu.parameters()]


@pytest.mark.parametrize(
    "name",
    ["MobileNetV1FuSeFull", "MobileNetV2FuSeHalf", "MnasNetFuSeHalfHybrid", "ResNet50FuSeFull"],
)
def test_models_forward_gives_logits(name):
    model = getattr(sw.models, name)(10).eval()
    with torch.no_grad():
        y = model(torch.rand(2, 3, 64, 64))
    assert y.shape == (2, 10)
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("variant", ["full", "half", "full_hybrid", "half_hybrid"])
def test_models_v3_constructors_take_mode_first(variant):
    suffix = {"full": "FuSeFull", "half": "FuSeHalf"}.get(variant, "")
    suffix = suffix or {"full_hybrid": "FuSeFullHybrid", "half_hybrid": "FuSeHalfHybrid"}[variant]
    with torch.device("meta"):
        model = getattr(sw.models, f"MobileNetV3{suffix}")("large", 7)
    assert model.mode == "large"
    assert model.classifier[-1].out_features == 7


def test_models_star_import_exposes_seed_constructors():
    ns: dict = {}
    exec("from sw.models import *", ns)
    for base in ("MobileNetV1", "MobileNetV2", "MnasNet", "MobileNetV3", "ResNet50"):
        for suffix in ("", "FuSeFull", "FuSeHalf", "FuSeFullHybrid", "FuSeHalfHybrid"):
            assert callable(ns[base + suffix])


def _reference_fuse(x, w_row, w_col, stride, variant):
    """Independent FuSe: plain grouped conv2d calls, without BN (identity BN in eval)."""
    c = x.shape[1]
    k = w_row.shape[-1]
    if variant == "full":
        a, b, g = x, x, c
    else:
        a, b, g = x[:, : c // 2], x[:, c // 2 :], c // 2
    row = F.conv2d(a, w_row, stride=stride, padding=(0, k // 2), groups=g)
    col = F.conv2d(b, w_col, stride=stride, padding=(k // 2, 0), groups=g)
    return torch.cat([row, col], 1)


@pytest.mark.parametrize("variant", ["full", "half"])
@pytest.mark.parametrize(("kernel", "stride"), [(3, 1), (3, 2), (5, 2)])
def test_fuse_matches_row_then_column_reference(variant, kernel, stride):
    rng = torch.Generator().manual_seed(7)
    op = FuSeConv2d(6, kernel, stride, variant).eval()
    x = torch.randn(1, 6, 11, 9, generator=rng)
    with torch.no_grad():
        op.row[0].weight.copy_(torch.randn(op.row[0].weight.shape, generator=rng))
        op.col[0].weight.copy_(torch.randn(op.col[0].weight.shape, generator=rng))
        got = op(x)
    want = _reference_fuse(x, op.row[0].weight, op.col[0].weight, stride, variant)
    # BN in eval with default stats is x / sqrt(1 + eps).
    torch.testing.assert_close(got, want / math.sqrt(1 + 1e-5), rtol=1e-5, atol=1e-5)
    out_c = 12 if variant == "full" else 6
    assert got.shape == (1, out_c, (11 - 1) // stride + 1, (9 - 1) // stride + 1)


def test_fuse_branch_kernels_and_stride_on_both_dims():
    op = FuSeConv2d(8, 5, 2, "half")
    assert op.row[0].kernel_size == (1, 5) and op.col[0].kernel_size == (5, 1)
    assert op.row[0].stride == (2, 2) and op.col[0].stride == (2, 2)
    assert op.row[0].groups == 4 and op.col[0].in_channels == 4


def test_fuse_half_with_odd_channels_raises():
    with pytest.raises(ValueError, match="even channel count, not 7"):
        FuSeConv2d(7, 3, 1, "half")


def test_fuse_unknown_variant_raises():
    with pytest.raises(ValueError, match="'quarter'"):
        FuSeConv2d(8, 3, 1, "quarter")


def test_models_plan_with_wrong_length_raises():
    with pytest.raises(ValueError, match="MobileNetV2 has 17 convertible blocks, plan has 3"):
        build_with_plan("mobilenet_v2", [None, "full", None])


def test_models_unknown_network_raises():
    with pytest.raises(ValueError, match="'mobilenet_v9'"):
        build_model("mobilenet_v9", "base")


def _fused_blocks(model):
    return [i for i, p in enumerate(model.plan) if p is not None]


@pytest.mark.parametrize(
    ("net", "expected"),
    [
        # SPEC section 1, converted to 0-based plan indices.
        ("mobilenet_v1", [0, 1, 2, 3, 4]),  # blocks 1-5 of 13
        ("mobilenet_v2", list(range(1, 10))),  # stages c = 24 (2), 32 (3), 64 (4) -> blocks 2-10
        ("mnasnet", list(range(1, 10))),  # SepConv (entry 0) stays; c = 24, 40, 80 -> 9 MBConvs
        ("mobilenet_v3_large", [1, 2, 3, 4, 5, 6, 7]),  # blocks 2-8 of 15
        ("mobilenet_v3_small", [2, 4, 5, 6, 7]),  # blocks 3, 5, 6, 7, 8 of 11
    ],
)
def test_models_hybrid_blocks_follow_spec(net, expected):
    for variant in ("full_hybrid", "half_hybrid"):
        model = build_meta(net, variant)
        assert _fused_blocks(model) == expected
        fuse_ops = [m for m in model.modules() if isinstance(m, FuSeConv2d)]
        assert len(fuse_ops) == len(expected)
        assert {m.variant for m in fuse_ops} == {variant.split("_")[0]}


def test_models_mnasnet_full_converts_leading_sepconv():
    model = build_meta("mnasnet", "full")
    assert isinstance(model.features[1].conv[0], FuSeConv2d)
    assert model.features[1].conv[0].kernel_size == 3


def test_models_v3_full_se_sees_concatenated_channels():
    # SPEC: SE width exp for Half, 2*exp for Full (block 4 of large: exp 72, SE).
    for variant, width in (("full", 144), ("half", 72)):
        block = build_meta("mobilenet_v3_large", variant).features[4]
        se = block.conv[4]
        assert se.fc[0].in_features == width
        assert block.conv[6].in_channels == width


def test_models_no_plain_depthwise_left_in_full_variants():
    for net in ("mobilenet_v1", "mobilenet_v2", "mnasnet", "mobilenet_v3_small"):
        model = build_meta(net, "full")
        kxk_dw = [
            m for m in model.modules()
            if isinstance(m, nn.Conv2d) and m.groups > 1 and min(m.kernel_size) > 1
        ]  # fmt: skip
        assert kxk_dw == []
