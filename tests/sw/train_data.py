"""Self-made tiny datasets for the training tests, in the formats the loaders read: CIFAR
python-pickle batches (bytes keys, as the official Python 2 pickles load with
``encoding="bytes"``) and an ImageNet-style class-folder tree of PNG files."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np


def write_cifar_batch(path: Path, images: np.ndarray, labels: np.ndarray, key: bytes) -> None:
    entry = {
        b"batch_label": b"tiny batch",
        key: [int(v) for v in labels],
        b"data": images.reshape(len(images), -1),
        b"filenames": [f"img_{i}.png".encode() for i in range(len(images))],
    }
    with path.open("wb") as f:
        pickle.dump(entry, f, protocol=2)


def write_cifar(
    root: Path, which: str = "CIFAR10", per_file: int = 8, seed: int = 0
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Write a tiny CIFAR-10 (``data_batch_1..5``, ``test_batch``) or CIFAR-100 (``train``,
    ``test``) directory; returns what each file holds (uint8 N x 3 x 32 x 32, labels)."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    if which == "CIFAR10":
        files, key, classes = (
            [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"],
            b"labels",
            10,
        )
    else:
        files, key, classes = ["train", "test"], b"fine_labels", 100
    written = {}
    for name in files:
        images = rng.integers(0, 256, (per_file, 3, 32, 32), dtype=np.uint8)
        labels = rng.integers(0, classes, per_file)
        write_cifar_batch(root / name, images, labels, key)
        written[name] = (images, labels)
    return written


def write_folder(
    root: Path, classes=("cat", "dog", "owl"), per_class: int = 2, seed: int = 0
) -> None:
    """``root/train/<class>/*.png`` and ``root/val/<class>/*.png`` with random 40x30 images."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for split in ("train", "val"):
        for cls in classes:
            d = root / split / cls
            d.mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                arr = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
                Image.fromarray(arr).save(d / f"{i}.png")
