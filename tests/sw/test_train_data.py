"""sw.train.datasets / transforms: CIFAR pickles, DIGITS, class folders, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from train_data import write_cifar, write_folder

from sw.train.datasets import digits_arrays, load_dataset
from sw.train.transforms import eval_batch, train_batch


def test_train_cifar10_reads_every_batch_in_order(tmp_path):
    written = write_cifar(tmp_path, "CIFAR10", per_file=3)
    data = load_dataset("cifar10", tmp_path)
    assert data.num_classes == 10 and len(data.train) == 15 and len(data.test) == 3
    expect = np.concatenate([written[f"data_batch_{i}"][0] for i in range(1, 6)])
    np.testing.assert_array_equal(data.train.batch(torch.arange(15)).numpy(), expect)
    np.testing.assert_array_equal(data.test.labels.numpy(), written["test_batch"][1])


def test_train_cifar100_reads_fine_labels_from_archive_subdir(tmp_path):
    written = write_cifar(tmp_path / "cifar-100-python", "CIFAR100", per_file=4)
    data = load_dataset("CIFAR100", tmp_path)
    assert data.num_classes == 100
    np.testing.assert_array_equal(data.train.labels.numpy(), written["train"][1])
    np.testing.assert_array_equal(data.test.batch(torch.arange(4)).numpy(), written["test"][0])


def test_train_cifar_missing_file_is_named(tmp_path):
    write_cifar(tmp_path, "CIFAR10", per_file=2)
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(ValueError, match="data_batch_3"):
        load_dataset("CIFAR10", tmp_path)


def test_train_cifar_empty_dir_names_expected_file(tmp_path):
    with pytest.raises(ValueError, match=r"CIFAR100 file .*train not found"):
        load_dataset("CIFAR100", tmp_path)


def test_train_cifar_missing_dir_and_no_dir_fail_clearly(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_dataset("CIFAR10", tmp_path / "nope")
    with pytest.raises(ValueError, match="--data-dir"):
        load_dataset("CIFAR10", None)


def test_train_cifar_malformed_files_are_named(tmp_path):
    write_cifar(tmp_path, "CIFAR10", per_file=2)
    (tmp_path / "test_batch").write_bytes(b"this is not a pickle")
    with pytest.raises(ValueError, match="test_batch is not a python-pickle batch"):
        load_dataset("CIFAR10", tmp_path)


def test_train_cifar_wrong_shape_and_labels_are_named(tmp_path):
    from train_data import write_cifar_batch

    write_cifar(tmp_path, "CIFAR10", per_file=2)
    bad = np.zeros((2, 3, 16, 16), dtype=np.uint8)
    write_cifar_batch(tmp_path / "data_batch_2", bad, np.array([0, 1]), b"labels")
    with pytest.raises(ValueError, match=r"data_batch_2: 'data' must be uint8 N x 3072"):
        load_dataset("CIFAR10", tmp_path)
    write_cifar(tmp_path, "CIFAR10", per_file=2)
    write_cifar_batch(
        tmp_path / "test_batch", np.zeros((2, 3, 32, 32), np.uint8), np.array([0]), b"labels"
    )
    with pytest.raises(ValueError, match=r"test_batch: 1 labels for 2 images"):
        load_dataset("CIFAR10", tmp_path)


def test_train_cifar_pickle_cannot_run_code(tmp_path):
    import pickle

    write_cifar(tmp_path, "CIFAR10", per_file=2)

    class Evil:
        def __reduce__(self):
            return (print, ("owned",))

    (tmp_path / "test_batch").write_bytes(pickle.dumps({b"data": Evil(), b"labels": []}))
    with pytest.raises(ValueError, match="builtins.print is not allowed"):
        load_dataset("CIFAR10", tmp_path)


def test_train_unknown_dataset_raises():
    with pytest.raises(ValueError, match="'MNIST'"):
        load_dataset("MNIST")


def test_train_digits_split_is_fixed_stratified_and_disjoint():
    x_tr, y_tr, x_te, y_te = digits_arrays()
    assert (len(x_tr), len(x_te)) == (1437, 360)
    assert x_tr.dtype == np.uint8 and x_tr.shape[1:] == (3, 8, 8) and x_tr.max() == 255
    # stratified: every class has a fifth of its images (to one image) in the test split
    per_class = np.bincount(np.concatenate([y_tr, y_te]))
    assert np.all(np.abs(np.bincount(y_te) - 0.2 * per_class) <= 1)
    again = digits_arrays()
    np.testing.assert_array_equal(again[0], x_tr)
    np.testing.assert_array_equal(again[3], y_te)
    # the same image never sits in both splits (the bundled set has no exact duplicates
    # across this split)
    train_keys = {img.tobytes() for img in x_tr}
    assert not any(img.tobytes() in train_keys for img in x_te)


def test_train_folder_tree_loads_classes_and_resizes(tmp_path):
    write_folder(tmp_path)
    data = load_dataset("FOLDER", tmp_path, resolution=28)
    assert data.num_classes == 3 and len(data.train) == 6 and len(data.test) == 6
    assert data.size == 32 and data.crop == 28
    batch = data.train.batch(torch.arange(6))
    assert batch.shape == (6, 3, 32, 32) and batch.dtype == torch.uint8
    assert data.train.labels.tolist() == [0, 0, 1, 1, 2, 2]
    x = eval_batch(data.test.batch(torch.arange(2)), data, 28)
    assert x.shape == (2, 3, 28, 28)


def test_train_folder_missing_val_is_named(tmp_path):
    write_folder(tmp_path)
    import shutil

    shutil.rmtree(tmp_path / "val")
    with pytest.raises(ValueError, match=r"val not found"):
        load_dataset("FOLDER", tmp_path)


def test_train_folder_unreadable_image_is_named(tmp_path):
    write_folder(tmp_path)
    (tmp_path / "train" / "dog" / "broken.png").write_bytes(b"not a png")
    data = load_dataset("FOLDER", tmp_path, resolution=28)
    idx = torch.tensor([data.train.paths.index(tmp_path / "train" / "dog" / "broken.png")])
    with pytest.raises(ValueError, match="broken.png"):
        data.train.batch(idx)


def test_train_transforms_are_seeded_and_shaped():
    data = load_dataset("DIGITS")
    imgs = data.train.batch(torch.arange(16))
    a = train_batch(imgs, data, 32, torch.Generator().manual_seed(5))
    b = train_batch(imgs, data, 32, torch.Generator().manual_seed(5))
    c = train_batch(imgs, data, 32, torch.Generator().manual_seed(6))
    assert a.shape == (16, 3, 32, 32)
    assert torch.equal(a, b) and not torch.equal(a, c)
    # evaluation is the plain normalized upscale
    e = eval_batch(imgs, data, 8)
    expect = (imgs.float() / 255 - data.mean[0]) / data.std[0]
    torch.testing.assert_close(e, expect)
