"""FuSeConv model zoo (paper section III, SPEC sections 1 and 5): the seed's constructors for
MobileNetV1/V2/V3, MnasNet-B1 and ResNet-50, each as baseline, FuSeFull, FuSeHalf and the 50 %
hybrids, plus the FuSe operator itself. ``from sw.models import *`` exposes the constructors.
"""

from sw.models.fuse import FuSeConv2d, fuse_out_channels
from sw.models.mnasnet import (
    MnasNet,
    MnasNetFuSeFull,
    MnasNetFuSeFullHybrid,
    MnasNetFuSeHalf,
    MnasNetFuSeHalfHybrid,
    MnasNetNet,
)
from sw.models.mobilenet_v1 import (
    MobileNetV1,
    MobileNetV1FuSeFull,
    MobileNetV1FuSeFullHybrid,
    MobileNetV1FuSeHalf,
    MobileNetV1FuSeHalfHybrid,
    MobileNetV1Net,
)
from sw.models.mobilenet_v2 import (
    MobileNetV2,
    MobileNetV2FuSeFull,
    MobileNetV2FuSeFullHybrid,
    MobileNetV2FuSeHalf,
    MobileNetV2FuSeHalfHybrid,
    MobileNetV2Net,
)
from sw.models.mobilenet_v3 import (
    MobileNetV3,
    MobileNetV3FuSeFull,
    MobileNetV3FuSeFullHybrid,
    MobileNetV3FuSeHalf,
    MobileNetV3FuSeHalfHybrid,
    MobileNetV3Net,
)
from sw.models.resnet import (
    ResNet50,
    ResNet50FuSeFull,
    ResNet50FuSeFullHybrid,
    ResNet50FuSeHalf,
    ResNet50FuSeHalfHybrid,
    ResNetNet,
)
from sw.models.zoo import NETWORKS, VARIANTS, build_model

__all__ = [
    "FuSeConv2d",
    "fuse_out_channels",
    "build_model",
    "NETWORKS",
    "VARIANTS",
    "MobileNetV1",
    "MobileNetV1FuSeFull",
    "MobileNetV1FuSeHalf",
    "MobileNetV1FuSeFullHybrid",
    "MobileNetV1FuSeHalfHybrid",
    "MobileNetV1Net",
    "MobileNetV2",
    "MobileNetV2FuSeFull",
    "MobileNetV2FuSeHalf",
    "MobileNetV2FuSeFullHybrid",
    "MobileNetV2FuSeHalfHybrid",
    "MobileNetV2Net",
    "MnasNet",
    "MnasNetFuSeFull",
    "MnasNetFuSeHalf",
    "MnasNetFuSeFullHybrid",
    "MnasNetFuSeHalfHybrid",
    "MnasNetNet",
    "MobileNetV3",
    "MobileNetV3FuSeFull",
    "MobileNetV3FuSeHalf",
    "MobileNetV3FuSeFullHybrid",
    "MobileNetV3FuSeHalfHybrid",
    "MobileNetV3Net",
    "ResNet50",
    "ResNet50FuSeFull",
    "ResNet50FuSeHalf",
    "ResNet50FuSeFullHybrid",
    "ResNet50FuSeHalfHybrid",
    "ResNetNet",
]
