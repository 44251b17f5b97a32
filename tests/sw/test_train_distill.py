"""Distillation (issue 21): the loss against a hand-written reference, option checks, and an
end-to-end run with a teacher checkpoint."""

from __future__ import annotations

import math

import pytest
import torch

from fusesa.cli import main
from sw.train import TrainConfig, read_checkpoint
from sw.train.distill import distillation_loss

STUDENT = torch.tensor([[2.0, -1.0, 0.5, 0.0], [0.1, 0.2, 3.0, -2.0], [-1.0, 1.5, 0.0, 0.25]])
TEACHER = torch.tensor([[3.0, 0.0, -1.0, 0.5], [0.0, 1.0, 2.0, -1.0], [-0.5, 2.5, 0.5, 0.0]])
LABELS = torch.tensor([0, 2, 1])


def reference(student, teacher, labels, t, w, smoothing=0.0):
    """Hinton's loss written out element by element in float64, no torch loss functions."""
    n, k = student.shape
    total_ce, total_kl = 0.0, 0.0
    for i in range(n):
        s, q = student[i].tolist(), teacher[i].tolist()
        log_z = math.log(sum(math.exp(v) for v in s))
        log_p = [v - log_z for v in s]
        target = [smoothing / k + (1 - smoothing) * (j == int(labels[i])) for j in range(k)]
        total_ce += -sum(tj * lp for tj, lp in zip(target, log_p, strict=True))
        zs = sum(math.exp(v / t) for v in s)
        zt = sum(math.exp(v / t) for v in q)
        ps = [math.exp(v / t) / zs for v in s]
        pt = [math.exp(v / t) / zt for v in q]
        total_kl += sum(a * math.log(a / b) for a, b in zip(pt, ps, strict=True))
    return (1 - w) * total_ce / n + w * t * t * total_kl / n


@pytest.mark.parametrize(
    ("t", "w", "smoothing"), [(4.0, 0.5, 0.0), (1.0, 0.9, 0.1), (2.5, 0.0, 0.0)]
)
def test_distillation_loss_matches_hand_reference(t, w, smoothing):
    got = distillation_loss(STUDENT, TEACHER, LABELS, t, w, smoothing)
    assert got.item() == pytest.approx(
        reference(STUDENT, TEACHER, LABELS, t, w, smoothing), rel=1e-6
    )


def test_distillation_loss_only_kl_when_weight_one_and_zero_for_equal_logits():
    # Student == teacher and w = 1: the KL term is 0 whatever the labels.
    assert distillation_loss(TEACHER, TEACHER, LABELS, 3.0, 1.0).item() == pytest.approx(
        0, abs=1e-6
    )
    # The gradient flows to the student only.
    s = STUDENT.clone().requires_grad_(True)
    te = TEACHER.clone().requires_grad_(True)
    distillation_loss(s, te, LABELS).backward()
    assert s.grad is not None and s.grad.abs().sum() > 0 and te.grad is None


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        (dict(distill_temperature=0.0), "temperature must be positive, not 0.0"),
        (dict(distill_weight=1.5), r"weight must be in \[0, 1\], not 1.5"),
    ],
)
def test_distillation_options_are_checked(kw, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(dataset="DIGITS", network="MobileNetV2", variant="half", run_name="x", **kw)


def test_distillation_shape_mismatch_is_named():
    with pytest.raises(ValueError, match=r"Teacher logits \(3, 3\) do not match"):
        distillation_loss(STUDENT, TEACHER[:, :3], LABELS)


TINY = ["--width-mult", "0.25", "--resolution", "16", "--batch-size", "32", "--max-steps", "2"]
TINY += ["--epochs", "1", "--no-progress", "--train-limit", "96", "--test-limit", "64"]


def test_train_with_teacher_end_to_end(tmp_path, capsys):
    base = ["train", "-D", "DIGITS", "-N", "MobileNetV2", "--runs-dir", str(tmp_path), *TINY]
    assert main([*base, "-n", "teacher", "-v", "baseline"]) == 0
    ckpt = tmp_path / "teacher" / "last.pt"
    argv = [*base, "-n", "student", "-v", "half", "--teacher", str(ckpt)]
    argv += ["--distill-temperature", "2", "--distill-weight", "0.7"]
    assert main(argv) == 0
    state = read_checkpoint(tmp_path / "student" / "last.pt")
    assert state["meta"]["teacher"] == str(ckpt)
    assert state["config"]["distill_weight"] == 0.7 and state["config"]["distill_temperature"] == 2
    assert math.isfinite(state["history"][0]["train_loss"])
    # A teacher trained at another resolution is refused, naming the checkpoint.
    capsys.readouterr()
    bad = [*base, "-n", "s2", "-v", "half", "--teacher", str(ckpt), "--resolution", "24"]
    assert main(bad) == 2
    err = capsys.readouterr().err
    assert str(ckpt) in err and "resolution=16" in err
