"""What a training run is (issue 12): dataset, network, variant, run name and directory, the
recipe (``sw.train.presets``) with per-run overrides, and the spellings the command line
accepts (the original ``traincifar224.py``'s ``-N ResNet|MobileNetV1|...``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path

from sw.models.zoo import NETWORKS, canonical_variant
from sw.train.datasets import canonical_dataset
from sw.train.distill import check_distill_options
from sw.train.presets import Recipe, get_preset

#: ``-N`` spellings of the original script -> zoo network keys.
NETWORK_ALIASES: dict[str, str] = {
    "ResNet": "resnet50",
    "MobileNetV1": "mobilenet_v1",
    "MobileNetV2": "mobilenet_v2",
    "MobileNetV3S": "mobilenet_v3_small",
    "MobileNetV3L": "mobilenet_v3_large",
    "MnasNet": "mnasnet",
}
_LOWER = {k.lower(): v for k, v in NETWORK_ALIASES.items()}
#: Preset used when none is named: the short CPU one for DIGITS, the ImageNet recipe otherwise.
DEFAULT_PRESET = {
    "DIGITS": "cpu",
    "FASHIONMNIST": "cpu",
    "CIFAR10": "imagenet",
    "CIFAR100": "imagenet",
    "FOLDER": "imagenet",
}
#: Fields that must match when a run is resumed (the others may change, e.g. more epochs).
RESUME_KEYS = (
    "dataset",
    "network",
    "variant",
    "width_mult",
    "preset",
    "batch_size",
    "resolution",
    "seed",
    "lr",
    "train_limit",
    "test_limit",
    "teacher",
    "distill_temperature",
    "distill_weight",
)


def canonical_network(name: str) -> str:
    """``MobileNetV2`` / ``mobilenetv2`` / ``mobilenet_v2`` -> ``mobilenet_v2``."""
    if name in NETWORKS:
        return name
    key = _LOWER.get(str(name).lower())
    if key is None:
        choices = ", ".join([*NETWORK_ALIASES, *NETWORKS])
        raise ValueError(f"Unknown network {name!r}; choose one of {choices}")
    return key


@dataclass(frozen=True)
class TrainConfig:
    """One training run. ``None`` fields take the preset's value (``recipe()``)."""

    dataset: str
    network: str
    variant: str
    run_name: str
    runs_dir: str = "runs"
    data_dir: str | None = None
    preset: str | None = None
    epochs: int | None = None
    batch_size: int | None = None
    resolution: int | None = None
    width_mult: float = 1.0
    seed: int | None = None
    lr: float | None = None  # peak learning rate for the batch size (overrides the scaling)
    ema_decay: float | None = None
    threads: int = 1
    max_steps: int | None = None  # cap on optimizer steps per epoch (smoke tests)
    train_limit: int | None = None  # first N training images only (smoke runs)
    test_limit: int | None = None  # first N test images only
    teacher: str | None = None  # training checkpoint of a distillation teacher (sw.train.distill)
    distill_temperature: float = 4.0
    distill_weight: float = 0.5  # weight of the distillation term; 1 - weight for cross-entropy

    def __post_init__(self) -> None:
        object.__setattr__(self, "dataset", canonical_dataset(self.dataset))
        object.__setattr__(self, "network", canonical_network(self.network))
        object.__setattr__(self, "variant", canonical_variant(self.variant))
        if self.preset is None:
            object.__setattr__(self, "preset", DEFAULT_PRESET[self.dataset])
        get_preset(self.preset)
        name = str(self.run_name)
        if not name or name in (".", "..") or "/" in name or "\\" in name:
            raise ValueError(f"Run name must be a plain directory name, not {self.run_name!r}")
        if not isinstance(self.threads, int) or self.threads < 1:
            raise ValueError(f"Thread count must be a positive integer, not {self.threads!r}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"max_steps must be a positive integer, not {self.max_steps!r}")
        for key in ("train_limit", "test_limit"):
            value = getattr(self, key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise ValueError(f"{key} must be a positive integer, not {value!r}")
        check_distill_options(self.distill_temperature, self.distill_weight)
        if self.lr is not None and not self.lr > 0:
            raise ValueError(f"Learning rate must be positive, not {self.lr!r}")

    def recipe(self) -> Recipe:
        """The preset with this run's overrides (epochs, batch size, resolution, seed, lr, EMA)."""
        base = get_preset(self.preset)  # type: ignore[arg-type]
        recipe = base.override(
            epochs=self.epochs,
            batch_size=self.batch_size,
            resolution=self.resolution,
            seed=self.seed,
            ema_decay=self.ema_decay,
        )
        if self.lr is not None:
            recipe = recipe.override(lr_per_128=self.lr * 128 / recipe.batch_size)
        return recipe

    @property
    def run_dir(self) -> Path:
        return Path(self.runs_dir) / self.run_name

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, object]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})  # type: ignore[arg-type]
