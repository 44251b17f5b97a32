"""A trained checkpoint's real test images, ready for the quantizer and the accelerator
(issue 21, ``fusesa infer --dataset``): the dataset the checkpoint was trained on, checked
against its metadata; the first N test images with the evaluation transform; calibration
images from the training split; top-1 accuracy of logits.

The evaluation transform is the training loop's (``sw.train.transforms.eval_batch``): centre
crop, resize to the training resolution, the training split's mean/std, so the float model
scores here exactly as in ``fusesa train``'s test pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from sw.train.datasets import DataSplits, canonical_dataset, load_dataset
from sw.train.transforms import eval_batch


def checkpoint_dataset(
    model: torch.nn.Module, dataset: str, data_dir: str | Path | None = None
) -> DataSplits:
    """Load ``dataset`` for the model of ``sw.train.load_checkpoint``; ``ValueError`` unless the
    checkpoint was trained on it with the same classes and normalization (a different
    ``data_dir`` holding other images gives another mean/std)."""
    meta = getattr(model, "train_meta", None)
    if meta is None:
        raise ValueError(
            "dataset evaluation needs a training checkpoint (sw.train.load_checkpoint)"
        )
    name = canonical_dataset(dataset)
    if meta.get("dataset") != name:
        raise ValueError(
            f"the checkpoint was trained on {meta.get('dataset')!r}, not on {name!r} (--dataset)"
        )
    data = load_dataset(name, data_dir, int(meta["resolution"]))
    mine = {"num_classes": data.num_classes, "mean": list(data.mean), "std": list(data.std)}
    for key, value in mine.items():
        if meta.get(key) != value:
            raise ValueError(
                f"the checkpoint was trained with {key}={meta.get(key)!r}, the {name} files "
                f"{'in ' + str(data_dir) if data_dir else 'found'} give {value!r} (another "
                "--data-dir?)"
            )
    return data


def _first(source, count: int, what: str, data: DataSplits) -> torch.Tensor:
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"{what} image count must be a positive integer, not {count!r}")
    if count > len(source):
        raise ValueError(f"{count} {what} images asked for, {data.name} has {len(source)}")
    return torch.arange(count)


def eval_images(data: DataSplits, count: int, resolution: int) -> tuple[torch.Tensor, np.ndarray]:
    """The first ``count`` test images (``[count, 3, R, R]`` float, evaluation transform) and
    their labels."""
    idx = _first(data.test, count, "test", data)
    x = eval_batch(data.test.batch(idx), data, resolution)
    return x, data.test.labels[idx].numpy().astype(np.int64)


def calibration_images(data: DataSplits, count: int, resolution: int) -> torch.Tensor:
    """The first ``count`` training images with the evaluation transform (what
    ``benchmarks/train_fashion.py`` calibrates the int8 network on)."""
    idx = _first(data.train, count, "training", data)
    return eval_batch(data.train.batch(idx), data, resolution)


def top1(logits, labels) -> float:
    """Fraction of rows of ``logits`` ``[N, classes]`` whose first maximum is the label."""
    logits = np.asarray(logits).reshape(len(labels), -1)
    return float((logits.argmax(1) == np.asarray(labels)).mean())
