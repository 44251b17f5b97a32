"""sw.train loop and checkpoints: learning on DIGITS, bit-exact resume, loading into the zoo."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn
from train_data import write_cifar

from sw.latency import model_latency
from sw.models import MobileNetV2Net
from sw.models.zoo import build_model
from sw.train import TrainConfig, load_checkpoint, load_dataset, read_checkpoint, train
from sw.train.loop import epoch_generator, make_optimizer
from sw.train.presets import get_preset
from sw.train.transforms import train_batch

# Tiny everywhere: width 0.25, 16x16 inputs, 3 steps per epoch.
TINY = dict(width_mult=0.25, resolution=16, batch_size=32, max_steps=3, threads=1)


def test_train_digits_few_steps_reduce_loss():
    # Ten optimizer steps on one batch of 64 real digits must cut its loss clearly.
    torch.manual_seed(0)
    torch.set_num_threads(1)
    data = load_dataset("DIGITS")
    model = build_model("mobilenet_v1", "half", 10, width_mult=0.25).train()
    opt = make_optimizer(model, get_preset("cpu").override(lr_per_128=0.2, batch_size=64))
    idx = torch.arange(64)
    x = train_batch(data.train.batch(idx), data, 32, epoch_generator(0, 0))
    y = data.train.labels[idx]
    losses = []
    for _ in range(10):
        loss = nn.functional.cross_entropy(model(x), y)
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert losses[0] == pytest.approx(2.3, abs=0.15)  # chance level for 10 classes
    assert losses[-1] < 0.7 * losses[0], losses


def _states_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _cfg(tmp_path, name, **kw):
    base = dict(dataset="DIGITS", network="MobileNetV2", variant="half", run_name=name)
    return TrainConfig(**{**base, "runs_dir": str(tmp_path), "epochs": 3, "seed": 7, **TINY, **kw})


def test_train_resume_is_bit_exact(tmp_path):
    full = _cfg(tmp_path, "straight", epochs=2)
    train(full, progress=False, log=None)
    part = _cfg(tmp_path, "interrupted", epochs=2)
    train(part, progress=False, log=None, stop_after=1)
    assert read_checkpoint(part.run_dir / "last.pt")["epoch"] == 1
    # a fresh process state: resume must not depend on the RNG state left behind
    torch.manual_seed(999)
    history = train(part, resume=True, progress=False, log=None)
    a = read_checkpoint(full.run_dir / "last.pt")
    b = read_checkpoint(part.run_dir / "last.pt")
    assert a["epoch"] == b["epoch"] == 2 and len(history) == 2
    assert _states_equal(a["model"], b["model"])
    assert _states_equal(a["ema"], b["ema"])
    assert torch.equal(a["rng"]["torch"], b["rng"]["torch"])
    for ha, hb in zip(a["history"], b["history"], strict=True):
        assert {k: v for k, v in ha.items() if k != "seconds"} == {
            k: v for k, v in hb.items() if k != "seconds"
        }
    # the comparison can fail: another seed gives other weights
    other = _cfg(tmp_path, "other", seed=8, epochs=1)
    train(other, progress=False, log=None)
    c = read_checkpoint(other.run_dir / "last.pt")
    assert not _states_equal(a["model"], c["model"])


def test_train_writes_metrics_and_refuses_to_overwrite(tmp_path):
    cfg = _cfg(tmp_path, "metrics", epochs=2)
    train(cfg, progress=False, log=None)
    lines = (cfg.run_dir / "metrics.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,lr,train_loss,train_acc,test_loss,test_acc")
    assert len(lines) == 3
    doc = json.loads((cfg.run_dir / "metrics.json").read_text())
    assert [h["epoch"] for h in doc["history"]] == [1, 2]
    assert doc["recipe"]["name"] == "cpu" and doc["config"]["variant"] == "half"
    with pytest.raises(ValueError, match="--resume"):
        train(cfg, progress=False, log=None)
    with pytest.raises(ValueError, match="variant='half', this run has 'full'"):
        train(_cfg(tmp_path, "metrics", epochs=2, variant="full"), resume=True, log=None)
    with pytest.raises(ValueError, match="not found"):
        train(_cfg(tmp_path, "never-ran"), resume=True, log=None)


def test_train_checkpoint_loads_into_zoo(tmp_path):
    cfg = _cfg(tmp_path, "zoo", epochs=1)
    train(cfg, progress=False, log=None)
    state = read_checkpoint(cfg.run_dir / "last.pt")
    model = load_checkpoint(cfg.run_dir / "last.pt")
    assert isinstance(model, MobileNetV2Net) and not model.training
    assert model.plan == ("half",) * 17 and model.width_mult == 0.25
    assert model.classifier[-1].out_features == 10
    assert _states_equal(model.state_dict(), state["ema"])
    raw = load_checkpoint(cfg.run_dir / "last.pt", ema=False)
    assert _states_equal(raw.state_dict(), state["model"])
    assert not _states_equal(raw.state_dict(), state["ema"])
    # the trained network goes through the latency model like any zoo model
    rep = model_latency(model, torch.zeros(1, 3, 16, 16), 16, 16, "FuSe", "rtl")
    assert rep.total > 0 and any(r.kind.startswith("fuse") for r in rep.layers)


def test_train_imagenet_preset_on_cifar_sets_batchnorm(tmp_path):
    write_cifar(tmp_path / "data", "CIFAR10", per_file=4)
    cfg = TrainConfig(
        "CIFAR10", "MobileNetV1", "50full", "cifar", runs_dir=str(tmp_path / "runs"),
        data_dir=str(tmp_path / "data"), epochs=1, width_mult=0.25, resolution=32,
        batch_size=8, max_steps=2,
    )  # fmt: skip
    assert cfg.preset == "imagenet" and cfg.variant == "full_hybrid"
    history = train(cfg, progress=False, log=None)
    assert len(history) == 1
    model = load_checkpoint(cfg.run_dir / "last.pt")
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and all(m.eps == 1e-3 and m.momentum == 0.01 for m in bns)
    meta = model.train_meta
    assert (meta["dataset"], meta["resolution"], meta["num_classes"]) == ("CIFAR10", 32, 10)


def test_train_bad_checkpoint_files_fail_clearly(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="bad.pt cannot be read"):
        load_checkpoint(bad)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    with pytest.raises(ValueError, match="not a fusesa training checkpoint"):
        load_checkpoint(other)


def test_train_config_rejects_bad_values(tmp_path):
    with pytest.raises(ValueError, match="'VGG'"):
        TrainConfig("DIGITS", "VGG", "full", "x")
    with pytest.raises(ValueError, match="'quarter'"):
        TrainConfig("DIGITS", "MobileNetV2", "quarter", "x")
    with pytest.raises(ValueError, match="Run name"):
        TrainConfig("DIGITS", "MobileNetV2", "full", "a/b")
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        TrainConfig("DIGITS", "MobileNetV2", "full", "x", epochs=0).recipe()
    with pytest.raises(ValueError, match="preset 'gpu'"):
        TrainConfig("DIGITS", "MobileNetV2", "full", "x", preset="gpu")


def test_train_presets_match_the_recipe():
    r = get_preset("imagenet")
    assert (r.optimizer, r.momentum, r.alpha, r.eps, r.weight_decay) == (
        "rmsprop", 0.9, 0.9, 1e-3, 1e-5,
    )  # fmt: skip
    assert r.lr(128) == pytest.approx(0.016) and r.lr(512) == pytest.approx(0.064)
    assert (r.label_smoothing, r.ema_decay, r.bn_momentum, r.bn_eps) == (0.1, 0.9999, 0.01, 1e-3)
    assert (r.seed, r.epochs, r.resolution) == (1995, 350, 224)
    assert r.lr_factor(2.3) == 1.0 and r.lr_factor(2.4) == pytest.approx(0.97)
    assert r.lr_factor(4.9) == pytest.approx(0.97**2)
    c = get_preset("cpu")
    assert c.lr_factor(c.epochs) == pytest.approx(0.0, abs=1e-12) and c.lr_factor(1.0) == 1.0
