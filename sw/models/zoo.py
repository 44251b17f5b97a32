"""Model zoo registry: network/variant names used by the CLI, and the seed table (SPEC section 6,
the FuSeConv paper's Table I at 64x64) that ``fusesa table`` compares against.

Networks: ``mobilenet_v1``, ``mobilenet_v2``, ``mnasnet``, ``mobilenet_v3_small``,
``mobilenet_v3_large`` (the 25 table rows) and ``resnet50`` (not in the table).
Variants: ``base``, ``full``, ``half``, ``full_hybrid``, ``half_hybrid``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from torch import nn

from sw.models import mnasnet, mobilenet_v1, mobilenet_v2, mobilenet_v3, resnet

VARIANTS: tuple[str, ...] = ("base", "full", "half", "full_hybrid", "half_hybrid")
#: Row labels as the seed table prints them.
VARIANT_LABELS: dict[str, str] = {
    "base": "Baseline",
    "full": "Full FuSe",
    "half": "Half FuSe",
    "full_hybrid": "50% Full FuSe",
    "half_hybrid": "50% Half FuSe",
}
_ALIASES = {"baseline": "base", "50full": "full_hybrid", "50half": "half_hybrid"}


def _v3(mode: str, fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    return partial(fn, mode)


NETWORKS: dict[str, tuple[str, dict[str, Callable[..., nn.Module]]]] = {
    "mobilenet_v1": (
        "MobileNetV1",
        {
            "base": mobilenet_v1.MobileNetV1,
            "full": mobilenet_v1.MobileNetV1FuSeFull,
            "half": mobilenet_v1.MobileNetV1FuSeHalf,
            "full_hybrid": mobilenet_v1.MobileNetV1FuSeFullHybrid,
            "half_hybrid": mobilenet_v1.MobileNetV1FuSeHalfHybrid,
        },
    ),
    "mobilenet_v2": (
        "MobileNetV2",
        {
            "base": mobilenet_v2.MobileNetV2,
            "full": mobilenet_v2.MobileNetV2FuSeFull,
            "half": mobilenet_v2.MobileNetV2FuSeHalf,
            "full_hybrid": mobilenet_v2.MobileNetV2FuSeFullHybrid,
            "half_hybrid": mobilenet_v2.MobileNetV2FuSeHalfHybrid,
        },
    ),
    "mnasnet": (
        "MnasNet-B1",
        {
            "base": mnasnet.MnasNet,
            "full": mnasnet.MnasNetFuSeFull,
            "half": mnasnet.MnasNetFuSeHalf,
            "full_hybrid": mnasnet.MnasNetFuSeFullHybrid,
            "half_hybrid": mnasnet.MnasNetFuSeHalfHybrid,
        },
    ),
    **{
        f"mobilenet_v3_{mode}": (
            f"MobileNetV3-{mode.capitalize()}",
            {
                "base": _v3(mode, mobilenet_v3.MobileNetV3),
                "full": _v3(mode, mobilenet_v3.MobileNetV3FuSeFull),
                "half": _v3(mode, mobilenet_v3.MobileNetV3FuSeHalf),
                "full_hybrid": _v3(mode, mobilenet_v3.MobileNetV3FuSeFullHybrid),
                "half_hybrid": _v3(mode, mobilenet_v3.MobileNetV3FuSeHalfHybrid),
            },
        )
        for mode in ("small", "large")
    },
    "resnet50": (
        "ResNet-50",
        {
            "base": resnet.ResNet50,
            "full": resnet.ResNet50FuSeFull,
            "half": resnet.ResNet50FuSeHalf,
            "full_hybrid": resnet.ResNet50FuSeFullHybrid,
            "half_hybrid": resnet.ResNet50FuSeHalfHybrid,
        },
    ),
}

#: Networks of the seed table, in its order.
TABLE_NETWORKS: tuple[str, ...] = (
    "mobilenet_v1",
    "mobilenet_v2",
    "mnasnet",
    "mobilenet_v3_small",
    "mobilenet_v3_large",
)


@dataclass(frozen=True)
class SeedRow:
    """One row of the seed table: FLOPs (M, truncated), params (M, truncated), 64x64 speedup."""

    flops_m: float
    params_m: float
    speedup: float


def _rows(flops, params, speedup) -> dict[str, SeedRow]:
    return {
        v: SeedRow(f, p, s) for v, f, p, s in zip(VARIANTS, flops, params, speedup, strict=True)
    }


#: SPEC section 6 (the paper's Table I / the authors' README), 64x64 array.
SEED_TABLE: dict[str, dict[str, SeedRow]] = {
    "mobilenet_v1": _rows(
        (589, 1122, 573, 764, 578), (4.23, 7.36, 4.20, 4.35, 4.22), (1, 4.1, 6.76, 2.3, 2.36)
    ),
    "mobilenet_v2": _rows(
        (315, 430, 300, 361, 305), (3.50, 4.46, 3.46, 3.61, 3.49), (1, 5.1, 7.23, 2.0, 2.1)
    ),
    "mnasnet": _rows(
        (325, 440, 305, 361, 312), (4.38, 5.66, 4.25, 4.47, 4.35), (1, 5.06, 7.15, 1.88, 1.97)
    ),
    "mobilenet_v3_small": _rows(
        (66, 84, 61, 73, 63), (2.93, 4.44, 2.89, 3.18, 2.92), (1, 3.02, 4.16, 1.6, 1.68)
    ),
    "mobilenet_v3_large": _rows(
        (238, 322, 225, 264, 230), (5.47, 10.57, 5.40, 5.57, 5.46), (1, 3.61, 5.45, 1.76, 1.83)
    ),
}


def canonical_variant(variant: str) -> str:
    """Accept ``base|full|half|full_hybrid|half_hybrid`` (and ``baseline``, ``50full``,
    ``50half``); raise ``ValueError`` naming the bad value otherwise."""
    v = _ALIASES.get(variant, variant)
    if v not in VARIANTS:
        raise ValueError(f"Unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    return v


def build_model(
    network: str, variant: str = "base", num_classes: int = 1000, width_mult: float = 1.0
) -> nn.Module:
    """Instantiate ``network`` (a key of ``NETWORKS``) in ``variant``; ``width_mult`` scales the
    channels (1.0, the default, is the seed's network)."""
    if network not in NETWORKS:
        raise ValueError(f"Unknown network {network!r}; choose one of {', '.join(NETWORKS)}")
    return NETWORKS[network][1][canonical_variant(variant)](num_classes, width_mult=width_mult)


def build_with_plan(network: str, plan: Sequence[str | None], num_classes: int = 1000) -> nn.Module:
    """Instantiate ``network`` with an explicit per-block FuSe plan (``None``/'full'/'half' per
    convertible block, in ``block_names()`` order), e.g. from the greedy selector."""
    if network == "mobilenet_v1":
        return mobilenet_v1.MobileNetV1Net(plan, num_classes)
    if network == "mobilenet_v2":
        return mobilenet_v2.MobileNetV2Net(plan, num_classes)
    if network == "mnasnet":
        return mnasnet.MnasNetNet(plan, num_classes)
    if network.startswith("mobilenet_v3_") and network in NETWORKS:
        return mobilenet_v3.MobileNetV3Net(network.removeprefix("mobilenet_v3_"), plan, num_classes)
    if network == "resnet50":
        return resnet.ResNetNet(resnet.RESNET50_LAYERS, plan, num_classes)
    raise ValueError(f"Unknown network {network!r}; choose one of {', '.join(NETWORKS)}")


def default_hardware(variant: str) -> str:
    """The array the seed table runs a variant on: baseline on 'Systolic', FuSe on 'FuSe'."""
    return "Systolic" if canonical_variant(variant) == "base" else "FuSe"
