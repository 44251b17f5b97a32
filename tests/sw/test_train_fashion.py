"""Fashion-MNIST (issue 21): the idx reader on self-written files, the loader (padding, grey on
three channels, normalization, limits), clear errors, Debian's real files and a CLI smoke run."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
import torch
from train_data import write_cifar, write_folder

from fusesa.cli import main
from sw.train import datasets
from sw.train.datasets import FASHION_MNIST_DIR, load_dataset, read_idx
from tests.conftest import skip_or_fail

REAL = all(
    (FASHION_MNIST_DIR / f"{stem}.gz").is_file()
    for pair in datasets.FASHION_MNIST_FILES.values()
    for stem in pair
)


@pytest.fixture
def needs_real():
    """Skip without Debian's files, except under ``CI`` (setup.sh installs them): fail there."""
    if not REAL:
        skip_or_fail(f"{FASHION_MNIST_DIR} not installed (apt-get install dataset-fashion-mnist)")


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    """An idx file as the format's description has it: 00 00 type ndim, big-endian uint32
    dims, then the data bytes."""
    head = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return head + array.astype(np.uint8).tobytes()


def write_idx(path, array: np.ndarray, **kw):
    data = idx_bytes(array, **kw)
    if path.suffix == ".gz":
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def write_fashion(root, n_train=12, n_test=7, seed=0, gz=True):
    """A tiny Fashion-MNIST directory; returns (x_train, y_train, x_test, y_test)."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        arrays[split] = (
            rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, n, dtype=np.uint8),
        )
    suffix = ".gz" if gz else ""
    for split, (images_stem, labels_stem) in datasets.FASHION_MNIST_FILES.items():
        write_idx(root / (images_stem + suffix), arrays[split][0])
        write_idx(root / (labels_stem + suffix), arrays[split][1])
    return (*arrays["train"], *arrays["test"])


@pytest.mark.parametrize("name", ["a-idx3-ubyte", "a-idx3-ubyte.gz"])
def test_read_idx_exact_values(tmp_path, name):
    array = np.arange(2 * 3 * 5, dtype=np.uint8).reshape(2, 3, 5) * 7
    got = read_idx(write_idx(tmp_path / name, array), ndim=3)
    assert got.dtype == np.uint8 and got.shape == (2, 3, 5)
    assert got.tolist() == array.tolist()
    labels = read_idx(write_idx(tmp_path / "l.gz", np.array([9, 0, 3], np.uint8)), ndim=1)
    assert labels.tolist() == [9, 0, 3]


def _corrupt(tmp_path, name, raw: bytes):
    path = tmp_path / name
    path.write_bytes(raw)
    return path


GOOD = idx_bytes(np.arange(24, dtype=np.uint8).reshape(2, 3, 4))


@pytest.mark.parametrize(
    ("raw", "ndim", "message"),
    [
        (b"\x00\x00", 3, "truncated: 2 bytes"),
        (b"\x01\x00" + GOOD[2:], 3, "bad magic bytes 0100"),
        (GOOD[:2] + b"\x0d" + GOOD[3:], 3, "element type 0x0d, expected 0x08"),
        (GOOD, 1, "has 3 dimensions, expected 1"),
        (GOOD[:4] + GOOD[4:10], 3, "truncated in its header: 10 bytes, header needs 16"),
        (GOOD[:-5], 3, r"truncated: dims \(2, 3, 4\) need 24 data bytes, found 19"),
        (GOOD + b"\x00\x00", 3, "2 trailing bytes"),
    ],
)
def test_read_idx_corrupt_files_name_file_and_fault(tmp_path, raw, ndim, message):
    path = _corrupt(tmp_path, "bad-idx3-ubyte", raw)
    with pytest.raises(ValueError, match=message) as err:
        read_idx(path, ndim=ndim)
    assert str(path) in str(err.value)


def test_read_idx_truncated_and_corrupt_gzip_name_the_file(tmp_path):
    packed = gzip.compress(GOOD)
    for name, raw in (("cut.gz", packed[: len(packed) // 2]), ("junk.gz", b"not gzip at all")):
        path = _corrupt(tmp_path, name, raw)
        with pytest.raises(ValueError, match="cannot be decompressed") as err:
            read_idx(path)
        assert str(path) in str(err.value)


def test_fashion_loader_pads_repeats_grey_and_normalizes(tmp_path):
    x_tr, y_tr, x_te, y_te = write_fashion(tmp_path)
    data = load_dataset("fashion-mnist", tmp_path)
    assert data.name == "FASHIONMNIST" and data.num_classes == 10
    assert (len(data.train), len(data.test)) == (12, 7)
    batch = data.train.batch(torch.arange(12)).numpy()
    assert batch.shape == (12, 3, 32, 32) and batch.dtype == np.uint8
    expect = np.zeros((12, 32, 32), np.uint8)
    expect[:, 2:30, 2:30] = x_tr  # 28x28 zero-padded by 2 on each side
    for c in range(3):
        assert (batch[:, c] == expect).all()
    assert data.train.labels.tolist() == y_tr.tolist()
    assert data.test.labels.tolist() == y_te.tolist()
    test_batch = data.test.batch(torch.tensor([6, 0])).numpy()
    assert (test_batch[:, 1, 2:30, 2:30] == x_te[[6, 0]]).all()
    # Normalization: mean/std of the padded training images in [0, 1], by numpy.
    ref = expect.astype(np.float64) / 255.0
    assert data.mean == pytest.approx((ref.mean(),) * 3, rel=1e-12)
    assert data.std == pytest.approx((ref.std(),) * 3, rel=1e-12)
    assert (data.size, data.crop, data.pad, data.flip) == (32, 32, 2, True)


def test_fashion_loader_reads_uncompressed_files_and_limits(tmp_path):
    x_tr, y_tr, x_te, y_te = write_fashion(tmp_path, gz=False)
    full = load_dataset("FASHIONMNIST", tmp_path)
    data = load_dataset("FASHIONMNIST", tmp_path, train_limit=5, test_limit=3)
    assert (len(data.train), len(data.test)) == (5, 3)
    assert data.train.labels.tolist() == y_tr[:5].tolist()
    assert (data.test.batch(torch.arange(3))[:, 0, 2:30, 2:30].numpy() == x_te[:3]).all()
    assert (data.mean, data.std) == (full.mean, full.std)  # from the full training split


def test_limits_apply_to_every_dataset(tmp_path):
    write_cifar(tmp_path / "c", "CIFAR10", per_file=3)
    full = load_dataset("CIFAR10", tmp_path / "c")
    data = load_dataset("CIFAR10", tmp_path / "c", train_limit=7, test_limit=2)
    assert (len(data.train), len(data.test)) == (7, 2)
    assert torch.equal(data.train.batch(torch.arange(7)), full.train.batch(torch.arange(7)))
    assert torch.equal(data.test.labels, full.test.labels[:2])
    write_folder(tmp_path / "f", per_class=2)
    full = load_dataset("FOLDER", tmp_path / "f", resolution=16)
    data = load_dataset("FOLDER", tmp_path / "f", resolution=16, train_limit=4, test_limit=5)
    assert data.train.paths == full.train.paths[:4] and len(data.test) == 5
    assert torch.equal(data.train.labels, full.train.labels[:4])
    with pytest.raises(ValueError, match="training limit 16 exceeds the 15 training images"):
        load_dataset("CIFAR10", tmp_path / "c", train_limit=16)
    with pytest.raises(ValueError, match="test limit must be a positive integer, not 0"):
        load_dataset("CIFAR10", tmp_path / "c", test_limit=0)


def test_fashion_missing_and_bad_files_are_named(tmp_path):
    write_fashion(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.gz not found"):
        load_dataset("FASHIONMNIST", tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(6, np.uint8))
    with pytest.raises(ValueError, match="6 labels for the 7 images"):
        load_dataset("FASHIONMNIST", tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.full(7, 10, np.uint8))
    with pytest.raises(ValueError, match="label 10, expected 0..9"):
        load_dataset("FASHIONMNIST", tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        load_dataset("FASHIONMNIST", tmp_path / "nope")


def test_fashion_missing_package_names_apt_package(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(datasets, "FASHION_MNIST_DIR", tmp_path / "absent")
    with pytest.raises(ValueError, match="apt-get install dataset-fashion-mnist"):
        load_dataset("FASHIONMNIST")
    argv = ["train", "-D", "FASHIONMNIST", "-N", "MobileNetV2", "-n", "r", "-v", "half"]
    assert main([*argv, "--runs-dir", str(tmp_path / "runs")]) == 2
    assert "apt-get install dataset-fashion-mnist" in capsys.readouterr().err


@pytest.fixture(scope="module")
def real():
    return load_dataset("FASHIONMNIST")


def test_fashion_real_debian_files(needs_real, real):
    assert (len(real.train), len(real.test)) == (60000, 10000)
    assert np.bincount(real.test.labels.numpy(), minlength=10).tolist() == [1000] * 10
    assert np.bincount(real.train.labels.numpy(), minlength=10).tolist() == [6000] * 10
    first = real.train.batch(torch.arange(2)).numpy()
    assert first.shape == (2, 3, 32, 32)
    assert (first[:, :, :2] == 0).all() and (first[:, :, :, 30:] == 0).all()  # the padding
    # Fashion-MNIST's published 28x28 statistics (mean 0.2860, std 0.3530) on 32x32 padding:
    # mean scales by 784/1024.
    assert real.mean[0] == pytest.approx(0.2860 * 784 / 1024, abs=5e-4)


def test_fashion_cli_smoke_one_epoch_on_a_subset(needs_real, tmp_path, capsys):
    argv = ["train", "-D", "FASHIONMNIST", "-N", "MobileNetV2", "-n", "fm", "-v", "half"]
    argv += ["--runs-dir", str(tmp_path), "--width-mult", "0.25", "--epochs", "1"]
    argv += ["--train-limit", "256", "--test-limit", "128", "--no-progress"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "on FASHIONMNIST: test acc" in out
    from sw.train import read_checkpoint

    state = read_checkpoint(tmp_path / "fm" / "last.pt")
    assert state["meta"]["dataset"] == "FASHIONMNIST" and state["meta"]["resolution"] == 32
    assert state["config"]["train_limit"] == 256 and state["config"]["test_limit"] == 128
    row = state["history"][0]
    # 4 steps of 64 on 256 images; accuracy is a multiple of 1/128 over the 128 test images.
    assert row["epoch"] == 1 and (row["test_acc"] * 128) == pytest.approx(
        round(row["test_acc"] * 128)
    )
