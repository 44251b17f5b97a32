"""Local image data for training (issues 12, 21): CIFAR-10/100 python-pickle batches,
scikit-learn's bundled 8x8 handwritten digits, Fashion-MNIST's idx files (Debian's
``dataset-fashion-mnist``) and ImageNet-style class-folder trees. Nothing is downloaded.

Every dataset becomes two ``ImageSource``s (train, test) that hand out ``uint8`` batches of
shape ``N x 3 x S x S`` for a list of indices, plus what the batch transforms
(``sw.train.transforms``) need to know: normalization, padding/cropping and whether horizontal
flips are label-preserving. Array datasets (CIFAR, DIGITS) live in memory; folder trees are
decoded with Pillow batch by batch.

Expected files (``--data-dir DIR``):

* CIFAR-10: ``DIR/data_batch_1`` .. ``data_batch_5`` and ``DIR/test_batch`` (the
  ``cifar-10-batches-py`` directory of the official archive, or its parent).
* CIFAR-100: ``DIR/train`` and ``DIR/test`` (``cifar-100-python``, or its parent).
* FOLDER: ``DIR/train/<class>/<image>`` and ``DIR/val/<class>/<image>``.
* DIGITS: no files (``sklearn.datasets.load_digits``); a fixed stratified 80/20 split.
* FASHIONMNIST: ``DIR/train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
  ``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz`` (or the same names without
  ``.gz``); ``DIR`` defaults to ``FASHION_MNIST_DIR``, where Debian installs them. The 28x28 grey
  images are zero-padded to 32x32 (2 pixels each side; the background is 0) and the grey
  channel is repeated on the three input channels of the zoo's stems.

``load_dataset(..., train_limit=N, test_limit=M)`` keeps the first N training and M test images
(smoke runs); the normalization statistics are those of the full training split.
"""

from __future__ import annotations

import gzip
import pickle
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

#: Dataset names accepted by ``load_dataset`` (and ``fusesa train -D``).
DATASETS: tuple[str, ...] = ("CIFAR10", "CIFAR100", "DIGITS", "FASHIONMNIST", "FOLDER")
#: Where Debian's ``dataset-fashion-mnist`` package installs the four idx files.
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_PACKAGE = "dataset-fashion-mnist"
#: Fashion-MNIST file stems (``.gz`` appended when that file exists) per split.
FASHION_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
#: Fashion-MNIST images are stored zero-padded from 28x28 to this side.
FASHION_MNIST_SIZE = 32
#: Image suffixes a FOLDER tree may hold.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".webp", ".tif", ".tiff"})
#: Seed of the fixed DIGITS train/test split (independent of the training seed).
DIGITS_SPLIT_SEED = 0

_EXPECTED = {"CIFAR10": "data_batch_1..data_batch_5, test_batch", "CIFAR100": "train, test"}
_CIFAR_MEAN, _CIFAR_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
_IMAGENET_MEAN, _IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class ImageSource(Protocol):
    """Indexable images: ``len``, integer ``labels`` and ``uint8`` batches N x 3 x S x S."""

    labels: torch.Tensor

    def __len__(self) -> int: ...

    def batch(self, indices: torch.Tensor) -> torch.Tensor: ...


@dataclass
class TensorImages:
    """Images held in memory as one ``uint8`` tensor N x 3 x S x S."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)

    def batch(self, indices: torch.Tensor) -> torch.Tensor:
        return self.images[indices]


@dataclass
class GreyImages:
    """Grey images held in memory as one ``uint8`` tensor N x 1 x S x S; batches repeat the grey
    channel on three channels (the zoo's stems take RGB)."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)

    def batch(self, indices: torch.Tensor) -> torch.Tensor:
        return self.images[indices].expand(-1, 3, -1, -1).contiguous()


@dataclass
class FolderImages:
    """Image files decoded on demand: shorter side resized to ``size``, centre-cropped square."""

    paths: list[Path]
    labels: torch.Tensor
    size: int

    def __len__(self) -> int:
        return len(self.paths)

    def batch(self, indices: torch.Tensor) -> torch.Tensor:
        return torch.stack([self._load(self.paths[int(i)]) for i in indices])

    def _load(self, path: Path) -> torch.Tensor:
        from PIL import Image

        try:
            with Image.open(path) as img:
                img = img.convert("RGB")
                w, h = img.size
                scale = self.size / min(w, h)
                nw, nh = max(self.size, round(w * scale)), max(self.size, round(h * scale))
                img = img.resize((nw, nh), Image.Resampling.BILINEAR)
                left, top = (nw - self.size) // 2, (nh - self.size) // 2
                img = img.crop((left, top, left + self.size, top + self.size))
                arr = np.asarray(img, dtype=np.uint8)
        except OSError as exc:
            raise ValueError(f"Cannot read image file {path}: {exc}") from exc
        return torch.from_numpy(arr.copy()).permute(2, 0, 1)


@dataclass
class DataSplits:
    """Train and test images of one dataset and how to transform them.

    ``size`` is the side of the stored images; training takes a random ``crop``-sized window
    after zero-padding by ``pad`` (CIFAR style; ``crop == size``) or from the larger stored
    image (folder trees); evaluation takes the centre ``crop``. Both are then resized to the
    training resolution and normalized with ``mean``/``std``."""

    name: str
    train: ImageSource
    test: ImageSource
    num_classes: int
    size: int
    crop: int
    pad: int
    flip: bool
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickler that only rebuilds numpy arrays (what CIFAR batches hold), so a data directory
    cannot run code through a crafted pickle."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),  # bytes in protocol-2 pickles written by Python 3
    }

    def find_class(self, module: str, name: str):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a CIFAR batch")


def _cifar_dir(data_dir: Path, subdir: str, first_file: str) -> Path:
    if not (data_dir / first_file).exists() and (data_dir / subdir / first_file).exists():
        return data_dir / subdir
    return data_dir


def _read_cifar_file(path: Path, label_key: str, what: str) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        expected = _EXPECTED[what]
        raise ValueError(
            f"{what} file {path} not found (expected the python-pickle batches {expected} in "
            f"{path.parent}; nothing is downloaded)"
        )
    try:
        with path.open("rb") as f:
            entry = _ArrayUnpickler(f, encoding="bytes").load()
    except Exception as exc:  # any unpickling failure means a malformed file
        raise ValueError(f"{what} file {path} is not a python-pickle batch: {exc}") from exc
    if not isinstance(entry, dict):
        raise ValueError(f"{what} file {path} holds a {type(entry).__name__}, not a batch dict")
    entry = {k.decode() if isinstance(k, bytes) else k: v for k, v in entry.items()}
    for key in ("data", label_key):
        if key not in entry:
            raise ValueError(f"{what} file {path} has no {key!r} entry")
    data = np.asarray(entry["data"])
    labels = np.asarray(entry[label_key], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(
            f"{what} file {path}: 'data' must be uint8 N x 3072, not {data.dtype} {data.shape}"
        )
    if labels.shape != (data.shape[0],):
        raise ValueError(f"{what} file {path}: {labels.shape[0]} labels for {data.shape[0]} images")
    return data.reshape(-1, 3, 32, 32), labels


def _cifar(name: str, data_dir: Path) -> DataSplits:
    if name == "CIFAR10":
        root = _cifar_dir(data_dir, "cifar-10-batches-py", "test_batch")
        train_files = [f"data_batch_{i}" for i in range(1, 6)]
        test_files, key, num_classes = ["test_batch"], "labels", 10
    else:
        root = _cifar_dir(data_dir, "cifar-100-python", "test")
        train_files, test_files, key, num_classes = ["train"], ["test"], "fine_labels", 100

    def read(files: list[str]) -> TensorImages:
        parts = [_read_cifar_file(root / f, key, name) for f in files]
        images = np.concatenate([p[0] for p in parts])
        labels = np.concatenate([p[1] for p in parts])
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(
                f"{name} labels in {root} must lie in 0..{num_classes - 1}, "
                f"found {labels.min()}..{labels.max()}"
            )
        return TensorImages(torch.from_numpy(images), torch.from_numpy(labels))

    return DataSplits(
        name, read(train_files), read(test_files), num_classes, 32, 32, 4, True,
        _CIFAR_MEAN, _CIFAR_STD,
    )  # fmt: skip


def digits_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 8x8 digits as uint8 N x 3 x 8 x 8 (grey repeated on 3 channels),
    split 80/20, stratified by class, with a fixed seed: ``x_train, y_train, x_test, y_test``."""
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError as exc:
        raise ValueError(
            "DIGITS needs scikit-learn: pip install 'fusesa[train]' (or scikit-learn)"
        ) from exc
    digits = load_digits()
    # Pixel values are 0..16; spread them over 0..255.
    grey = np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8)
    images = np.repeat(grey[:, None], 3, axis=1)
    labels = digits.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(
        images, labels, test_size=0.2, stratify=labels, random_state=DIGITS_SPLIT_SEED
    )
    return x_tr, y_tr, x_te, y_te


def _digits() -> DataSplits:
    x_tr, y_tr, x_te, y_te = digits_arrays()
    mean = float(x_tr.mean() / 255.0)
    std = float(x_tr.std() / 255.0)
    return DataSplits(
        "DIGITS",
        TensorImages(torch.from_numpy(x_tr), torch.from_numpy(y_tr)),
        TensorImages(torch.from_numpy(x_te), torch.from_numpy(y_te)),
        10, 8, 8, 1, False, (mean,) * 3, (std,) * 3,
    )  # fmt: skip


def _folder_files(split_dir: Path, classes: list[str]) -> tuple[list[Path], list[int]]:
    paths, labels = [], []
    for label, cls in enumerate(classes):
        cls_dir = split_dir / cls
        if not cls_dir.is_dir():
            continue
        for p in sorted(cls_dir.iterdir()):
            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES:
                paths.append(p)
                labels.append(label)
    return paths, labels


def _folder(data_dir: Path, resolution: int) -> DataSplits:
    train_dir, val_dir = data_dir / "train", data_dir / "val"
    for d in (train_dir, val_dir):
        if not d.is_dir():
            raise ValueError(
                f"FOLDER dataset directory {d} not found (expected {data_dir}/train/<class>/"
                f"<image> and {data_dir}/val/<class>/<image>)"
            )
    classes = sorted(p.name for p in train_dir.iterdir() if p.is_dir())
    if not classes:
        raise ValueError(f"FOLDER dataset: no class directories in {train_dir}")
    extra = sorted(p.name for p in val_dir.iterdir() if p.is_dir() and p.name not in classes)
    if extra:
        raise ValueError(f"FOLDER dataset: classes {extra} in {val_dir} are not in {train_dir}")
    # Stored at 8/7 of the resolution (256 for 224): random crops for training, centre for val.
    size = round(resolution * 8 / 7)
    splits = []
    for d in (train_dir, val_dir):
        paths, labels = _folder_files(d, classes)
        if not paths:
            raise ValueError(
                f"FOLDER dataset: no image files ({', '.join(sorted(IMAGE_SUFFIXES))}) under {d}"
            )
        splits.append(FolderImages(paths, torch.tensor(labels, dtype=torch.int64), size))
    return DataSplits(
        "FOLDER", splits[0], splits[1], len(classes), size, resolution, 0, True,
        _IMAGENET_MEAN, _IMAGENET_STD,
    )  # fmt: skip


#: idx element types (the third magic byte); only unsigned bytes occur in (Fashion-)MNIST.
_IDX_UINT8 = 0x08


def read_idx(path: str | Path, ndim: int | None = None) -> np.ndarray:
    """Read an idx file (gzip-compressed when its name ends in ``.gz``) into a ``uint8`` array.

    The header is checked strictly: magic bytes ``00 00``, element type ``0x08`` (unsigned
    byte), the number of dimensions (``ndim`` when given), one big-endian ``uint32`` per
    dimension, then exactly ``prod(dims)`` bytes of data. Anything else, a truncated file or a
    corrupt gzip stream raises a ``ValueError`` naming the file and what is wrong."""
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise ValueError(f"idx file {path} not found") from exc
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"idx file {path} cannot be decompressed: {exc}") from exc
    if len(raw) < 4:
        raise ValueError(f"idx file {path} is truncated: {len(raw)} bytes, no 4-byte magic")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(
            f"idx file {path} has bad magic bytes {raw[:2].hex()} (expected 0000); not an idx file"
        )
    if raw[2] != _IDX_UINT8:
        raise ValueError(
            f"idx file {path} has element type 0x{raw[2]:02x}, expected 0x08 (unsigned byte)"
        )
    dims_n = raw[3]
    if dims_n == 0 or (ndim is not None and dims_n != ndim):
        want = f"{ndim}" if ndim is not None else "at least 1"
        raise ValueError(f"idx file {path} has {dims_n} dimensions, expected {want}")
    header = 4 + 4 * dims_n
    if len(raw) < header:
        raise ValueError(
            f"idx file {path} is truncated in its header: {len(raw)} bytes, header needs {header}"
        )
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims_n))
    expected = int(np.prod(dims, dtype=np.int64))
    got = len(raw) - header
    if got < expected:
        raise ValueError(
            f"idx file {path} is truncated: dims {dims} need {expected} data bytes, found {got}"
        )
    if got > expected:
        raise ValueError(
            f"idx file {path} has {got - expected} trailing bytes after the {expected} data "
            f"bytes of dims {dims}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _idx_file(data_dir: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem):
        if (data_dir / name).is_file():
            return data_dir / name
    raise ValueError(
        f"FASHIONMNIST file {data_dir / (stem + '.gz')} not found (nor {stem} without .gz)"
    )


def _fashion_mnist(data_dir: Path | None) -> DataSplits:
    if data_dir is None:
        data_dir = FASHION_MNIST_DIR
        if not data_dir.is_dir():
            raise ValueError(
                f"Fashion-MNIST not found in {data_dir}: install Debian's package "
                f"(apt-get install {FASHION_MNIST_PACKAGE}) or pass --data-dir DIR holding "
                f"the four idx files (nothing is downloaded)"
            )
    elif not data_dir.is_dir():
        raise ValueError(f"Data directory {data_dir} for FASHIONMNIST does not exist")
    pad = (FASHION_MNIST_SIZE - 28) // 2
    splits = []
    for images_stem, labels_stem in FASHION_MNIST_FILES.values():
        images_path = _idx_file(data_dir, images_stem)
        labels_path = _idx_file(data_dir, labels_stem)
        images = read_idx(images_path, ndim=3)
        labels = read_idx(labels_path, ndim=1)
        if images.shape[1:] != (28, 28):
            raise ValueError(f"idx file {images_path} holds {images.shape[1:]} images, not 28x28")
        if labels.shape[0] != images.shape[0]:
            raise ValueError(
                f"idx file {labels_path} has {labels.shape[0]} labels for the "
                f"{images.shape[0]} images of {images_path}"
            )
        if labels.size and labels.max() > 9:
            raise ValueError(f"idx file {labels_path} has label {labels.max()}, expected 0..9")
        padded = np.zeros((images.shape[0], 1, FASHION_MNIST_SIZE, FASHION_MNIST_SIZE), np.uint8)
        padded[:, 0, pad : pad + 28, pad : pad + 28] = images
        splits.append(
            GreyImages(torch.from_numpy(padded), torch.from_numpy(labels.astype(np.int64)))
        )
    # Exact mean/std of the padded training images (what the network sees) from a histogram.
    hist = np.bincount(splits[0].images.numpy().ravel(), minlength=256).astype(np.float64)
    values = np.arange(256, dtype=np.float64) / 255.0
    mean = float((hist * values).sum() / hist.sum())
    std = float(np.sqrt((hist * (values - mean) ** 2).sum() / hist.sum()))
    # Training: random 32x32 window of the image zero-padded by 2 (shifts of up to 2 pixels)
    # and horizontal flips (a mirrored garment or shoe keeps its class).
    return DataSplits(
        "FASHIONMNIST", splits[0], splits[1], 10, FASHION_MNIST_SIZE, FASHION_MNIST_SIZE, 2,
        True, (mean,) * 3, (std,) * 3,
    )  # fmt: skip


def _head(source: ImageSource, limit: int | None, what: str, name: str) -> ImageSource:
    """The first ``limit`` images of ``source`` (all of them for ``None``)."""
    if limit is None:
        return source
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"{what} limit must be a positive integer, not {limit!r}")
    if limit > len(source):
        raise ValueError(f"{what} limit {limit} exceeds the {len(source)} {what} images of {name}")
    if isinstance(source, FolderImages):
        return FolderImages(source.paths[:limit], source.labels[:limit], source.size)
    if isinstance(source, (TensorImages, GreyImages)):
        return type(source)(source.images[:limit], source.labels[:limit])
    raise TypeError(f"cannot limit a {type(source).__name__}")


def canonical_dataset(name: str) -> str:
    """``cifar10`` -> ``CIFAR10``, ``fashion-mnist`` -> ``FASHIONMNIST`` etc.; ``ValueError``
    naming the value if unknown."""
    key = str(name).upper().replace("-", "").replace("_", "")
    if key not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return key


def load_dataset(
    name: str,
    data_dir: str | Path | None = None,
    resolution: int = 224,
    train_limit: int | None = None,
    test_limit: int | None = None,
) -> DataSplits:
    """Load dataset ``name`` (one of ``DATASETS``) from ``data_dir`` (unused for DIGITS; default
    ``FASHION_MNIST_DIR`` for FASHIONMNIST), keeping the first ``train_limit`` / ``test_limit``
    images of each split when given."""
    data = _load(canonical_dataset(name), data_dir, resolution)
    data.train = _head(data.train, train_limit, "training", data.name)
    data.test = _head(data.test, test_limit, "test", data.name)
    return data


def _load(name: str, data_dir: str | Path | None, resolution: int) -> DataSplits:
    if name == "DIGITS":
        return _digits()
    if name == "FASHIONMNIST":
        return _fashion_mnist(None if data_dir is None else Path(data_dir))
    if data_dir is None:
        raise ValueError(f"Dataset {name} needs --data-dir (nothing is downloaded)")
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise ValueError(f"Data directory {data_dir} for {name} does not exist")
    if name == "FOLDER":
        return _folder(data_dir, resolution)
    return _cifar(name, data_dir)
