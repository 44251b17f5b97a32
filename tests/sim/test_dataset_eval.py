"""Real-image evaluation through the accelerator (``sim.dataset_eval``, ``fusesa infer
--dataset``; issue 21): a checkpoint trained here for a few steps on a self-written
Fashion-MNIST directory runs test images through the RTL in two batches.

Expected values come from outside the RTL run: the labels from the idx files written here,
the float predictions from the checkpoint's torch model on images transformed here by hand
(zero padding, the training split's mean/std), the int8 logits from the golden executor
(``QuantizedNetwork.run``), and every batch's cycles from the ``sw.latency.rtl`` accelerator
formulas (``tests/sim/test_network.py``'s ``_expected_cycles``)."""

from __future__ import annotations

import gzip
import json
import struct

import numpy as np
import pytest

import tests.sim.test_network as network_tests
from fusesa.cli import main
from hw.config import ArrayConfig
from sw.train import datasets
from tests.conftest import import_or_skip

torch = import_or_skip("torch")

ARRAY = (8, 8)
COUNT = 3


def _write_idx(path, array: np.ndarray) -> None:
    head = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(gzip.compress(head + array.astype(np.uint8).tobytes()))


def _fashion_dir(root, seed: int, n_train: int = 48, n_test: int = 5):
    """Idx files of random 28x28 images whose class brightens a band of rows (learnable)."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    out = {}
    for split, n in (("train", n_train), ("test", n_test)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 80, (n, 28, 28)).astype(np.uint8)
        for img, y in zip(images, labels, strict=True):
            img[2 * y : 2 * y + 4] += 150
        out[split] = (images, labels)
        images_stem, labels_stem = datasets.FASHION_MNIST_FILES[split]
        _write_idx(root / f"{images_stem}.gz", images)
        _write_idx(root / f"{labels_stem}.gz", labels)
    return out


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(data dir, checkpoint, arrays) of MobileNetV2-Half x0.25 at 16x16 after 3 steps."""
    tmp = tmp_path_factory.mktemp("fm")
    arrays = _fashion_dir(tmp / "data", seed=0)
    argv = ["train", "-D", "FASHIONMNIST", "--data-dir", str(tmp / "data"), "-N", "MobileNetV2"]
    argv += ["-n", "tiny", "-v", "half", "--runs-dir", str(tmp / "runs"), "--width-mult", "0.25"]
    argv += ["--resolution", "16", "--epochs", "1", "--batch-size", "16", "--no-progress"]
    assert main(argv) == 0
    return tmp / "data", tmp / "runs" / "tiny" / "last.pt", arrays


def _by_hand(images: np.ndarray, train: np.ndarray, res: int) -> torch.Tensor:
    """Evaluation transform written out: pad 28 -> 32 with zeros, scale to [0, 1], resize to
    ``res``, normalize with the padded training images' mean/std, grey on 3 channels."""

    def pad(a: np.ndarray) -> np.ndarray:
        return np.pad(a, ((0, 0), (2, 2), (2, 2))).astype(np.float64) / 255

    t = pad(train)
    x = torch.tensor(pad(images), dtype=torch.float32)[:, None]
    x = torch.nn.functional.interpolate(x, size=(res, res), mode="bilinear", align_corners=False)
    x = (x - float(t.mean())) / float(t.std())
    return x.repeat(1, 3, 1, 1)


@pytest.mark.verilator
def test_infer_dataset_real_images_agree_with_golden(require_simulator, trained, tmp_path):
    require_simulator("verilator")
    from sw.export import quantize_network
    from sw.train import load_checkpoint, load_dataset
    from sw.train.eval import calibration_images, eval_images

    data_dir, ckpt, arrays = trained
    out = tmp_path / "r.json"
    argv = ["infer", "--checkpoint", str(ckpt), "--dataset", "fashion-mnist", "--count"]
    argv += [str(COUNT), "--data-dir", str(data_dir), "--array", "8x8", "--batch", "2"]
    argv += ["--calib", "16", "--json", str(out), "--quiet"]
    assert main(argv) == 0
    report = json.loads(out.read_text())
    ev = report["dataset_eval"]
    labels = arrays["test"][1][:COUNT].astype(np.int64)
    assert ev["count"] == COUNT and ev["labels"] == labels.tolist()
    assert ev["agree"] is True and ev["batch_sizes"] == [2, 1]

    model = load_checkpoint(ckpt)
    # the library's transform is the one written out here (up to float rounding); the golden
    # runs below take the library's images so that int8 rounding sees the same floats
    data = load_dataset("FASHIONMNIST", data_dir, 16)
    x, got_labels = eval_images(data, COUNT, 16)
    calib = calibration_images(data, 16, 16)
    hand = _by_hand(arrays["test"][0][:COUNT], arrays["train"][0], 16)
    torch.testing.assert_close(x, hand, rtol=0, atol=1e-5)
    torch.testing.assert_close(
        calib, _by_hand(arrays["train"][0][:16], arrays["train"][0], 16), rtol=0, atol=1e-5
    )
    assert got_labels.tolist() == labels.tolist()
    with torch.no_grad():
        float_pred = model(x).argmax(1).numpy()
    assert ev["float_pred"] == float_pred.tolist()
    assert ev["float_top1"] == pytest.approx(float((float_pred == labels).mean()))

    qnet = quantize_network(model, calib)
    golden = np.asarray(qnet.run(qnet.quantize_input(x))).reshape(COUNT, -1)
    want = golden.argmax(1)
    assert ev["rtl_pred"] == want.tolist() and ev["golden_pred"] == want.tolist()
    assert ev["rtl_top1"] == ev["golden_top1"] == pytest.approx(float((want == labels).mean()))
    for key in ("rtl_top1", "golden_top1", "float_top1"):
        assert 0.0 <= ev[key] <= 1.0

    # every batch's cycles from the accelerator formulas on the golden trace's shapes
    total = 0
    for start, n in ((0, 2), (2, 1)):
        trace = qnet.run(qnet.quantize_input(x[start : start + n]), trace=True)
        for layer in qnet.mac_layers():
            xin = trace.tensors[layer.inputs[0]]
            total += network_tests._expected_cycles(layer, xin, *ARRAY)[1]
    assert ev["cycles"] == total and ev["cycles_match"] is True


def test_infer_dataset_bad_input_is_named(trained, tmp_path, capsys):
    data_dir, ckpt, arrays = trained
    base = ["infer", "--checkpoint", str(ckpt), "--data-dir", str(data_dir), "--quiet"]
    assert main([*base, "--dataset", "DIGITS", "--count", "2"]) == 2
    assert "trained on 'FASHIONMNIST', not on 'DIGITS'" in capsys.readouterr().err
    assert main([*base, "--dataset", "FASHIONMNIST", "--count", "6"]) == 2
    assert "6 test images asked for, FASHIONMNIST has 5" in capsys.readouterr().err
    assert main([*base, "--dataset", "FASHIONMNIST", "--count", "0"]) == 2
    assert "--count must be a positive integer, not 0" in capsys.readouterr().err
    other = tmp_path / "other"
    _fashion_dir(other, seed=1)
    argv = ["infer", "--checkpoint", str(ckpt), "--data-dir", str(other)]
    assert main([*argv, "--dataset", "FASHIONMNIST"]) == 2
    assert "trained with mean=" in capsys.readouterr().err
    assert main(["infer", "--net", "mobilenet_v2", "--dataset", "FASHIONMNIST"]) == 2
    assert "--dataset needs --checkpoint" in capsys.readouterr().err


def test_largest_batch_halves_until_every_layer_fits(trained):
    """A 1-image network fits; a batch too large for 2**20 accumulator words is halved."""
    from sim.dataset_eval import largest_batch
    from sim.network import program_extents
    from sw.export import quantize_network
    from sw.train import load_checkpoint

    _, ckpt, _ = trained
    model = load_checkpoint(ckpt)
    qnet = quantize_network(model, torch.randn(4, 3, 16, 16))
    cfg = ArrayConfig(*ARRAY)

    def fits(batch: int) -> bool:
        try:
            extents = program_extents(qnet, cfg, "auto", batch)
        except ValueError:  # a command field out of range
            return False
        return max(max(r[1:4]) for r in extents) <= 2**20

    big = 1
    while fits(big):  # the first power of two that does not fit, plus one (odd: ceil halving)
        big *= 2
    big += 1
    want = big
    while not fits(want):
        want = (want + 1) // 2
    assert not fits(big) and fits(want) and want < big
    assert largest_batch(qnet, cfg, big) == want
    assert largest_batch(qnet, cfg, 3) == 3
