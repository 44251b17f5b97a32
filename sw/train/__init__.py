"""Training FuSe networks on local data (issue 12): datasets (CIFAR pickle batches, scikit-learn
digits, class-folder trees), named recipes (the seeds' ImageNet recipe and a short CPU one), a
seeded loop that resumes bit-for-bit, and checkpoints that load back into the model zoo.

``load_checkpoint(path)`` returns the trained zoo ``nn.Module`` (EMA weights by default), ready
for ``sw.latency`` or the quantizer.
"""

from sw.train.checkpoint import load_checkpoint, read_checkpoint
from sw.train.config import NETWORK_ALIASES, TrainConfig, canonical_network
from sw.train.datasets import DATASETS, DataSplits, load_dataset
from sw.train.loop import train
from sw.train.presets import PRESETS, Recipe, get_preset

__all__ = [
    "DATASETS",
    "NETWORK_ALIASES",
    "PRESETS",
    "DataSplits",
    "Recipe",
    "TrainConfig",
    "canonical_network",
    "get_preset",
    "load_checkpoint",
    "load_dataset",
    "read_checkpoint",
    "train",
]
