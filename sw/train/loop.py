"""The training loop (issue 12): seeded, resumable bit-for-bit on CPU, with per-epoch metrics
(CSV + JSON), a progress bar and a checkpoint after every epoch.

Determinism: the model is initialized from ``torch.manual_seed(seed)``; the order of the
training images and every augmentation draw of epoch ``e`` come from a generator seeded with
``(seed, e)``, so they do not depend on what ran before; dropout uses the global torch RNG,
whose state (with numpy's and Python's) is saved in each checkpoint and restored on resume.
A run stopped after any epoch (or killed during one) and resumed therefore ends with exactly
the weights of an uninterrupted run on the same machine and thread count.

Files under ``runs_dir/run_name/``: ``last.pt`` (checkpoint), ``metrics.csv``,
``metrics.json`` (config, recipe, per-epoch history) and ``config.json``.
"""

from __future__ import annotations

import csv
import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from sw.models.zoo import build_model
from sw.train.checkpoint import (
    load_checkpoint,
    read_checkpoint,
    rng_state,
    save_checkpoint,
    set_batchnorm,
    set_rng_state,
)
from sw.train.config import RESUME_KEYS, TrainConfig
from sw.train.datasets import DataSplits, ImageSource, load_dataset
from sw.train.distill import distillation_loss
from sw.train.ema import ModelEma
from sw.train.presets import Recipe
from sw.train.transforms import eval_batch, train_batch

CHECKPOINT_NAME = "last.pt"
#: Columns of ``metrics.csv``, in order.
METRIC_COLUMNS = (
    "epoch", "lr", "train_loss", "train_acc", "test_loss", "test_acc",
    "ema_test_loss", "ema_test_acc", "seconds",
)  # fmt: skip


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The generator behind epoch ``epoch``'s data order and augmentation."""
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch)


def make_optimizer(model: nn.Module, recipe: Recipe) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if recipe.optimizer == "rmsprop":
        return torch.optim.RMSprop(
            params,
            lr=recipe.lr(),
            alpha=recipe.alpha,
            eps=recipe.eps,
            momentum=recipe.momentum,
            weight_decay=recipe.weight_decay,
        )
    return torch.optim.SGD(
        params,
        lr=recipe.lr(),
        momentum=recipe.momentum,
        nesterov=recipe.momentum > 0,
        weight_decay=recipe.weight_decay,
    )


def steps_per_epoch(n_train: int, batch_size: int, max_steps: int | None = None) -> int:
    """Full batches per epoch (the last partial batch is dropped; at least one batch)."""
    steps = max(1, n_train // batch_size)
    return min(steps, max_steps) if max_steps else steps


@torch.no_grad()
def evaluate(
    model: nn.Module, source: ImageSource, data: DataSplits, resolution: int, batch_size: int
) -> tuple[float, float]:
    """Mean cross-entropy (no smoothing) and top-1 accuracy of ``model`` on ``source``."""
    was_training = model.training
    model.eval()
    total_loss, correct, n = 0.0, 0, len(source)
    for start in range(0, n, batch_size):
        idx = torch.arange(start, min(start + batch_size, n))
        logits = model(eval_batch(source.batch(idx), data, resolution))
        labels = source.labels[idx]
        total_loss += F.cross_entropy(logits, labels, reduction="sum").item()
        correct += int((logits.argmax(1) == labels).sum())
    model.train(was_training)
    return total_loss / max(n, 1), correct / max(n, 1)


def load_teacher(path: str | Path, data: DataSplits, resolution: int) -> nn.Module:
    """The distillation teacher of training checkpoint ``path`` (its EMA weights, eval mode,
    frozen); ``ValueError`` naming the file unless it was trained on the same dataset, classes,
    resolution and normalization as this run."""
    teacher = load_checkpoint(path)
    meta = teacher.train_meta  # type: ignore[attr-defined]
    mine = {
        "dataset": data.name,
        "num_classes": data.num_classes,
        "resolution": resolution,
        "mean": list(data.mean),
        "std": list(data.std),
    }
    for key, value in mine.items():
        if meta.get(key) != value:
            raise ValueError(
                f"Teacher checkpoint {path} was trained with {key}={meta.get(key)!r}, "
                f"this run has {value!r}"
            )
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher.eval()


def _write_metrics(run_dir: Path, cfg: TrainConfig, recipe: Recipe, history: list[dict]) -> None:
    with (run_dir / "metrics.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=METRIC_COLUMNS)
        writer.writeheader()
        writer.writerows(history)
    doc = {"config": cfg.to_dict(), "recipe": asdict(recipe), "history": history}
    (run_dir / "metrics.json").write_text(json.dumps(doc, indent=2) + "\n")


def _check_resume(saved: dict[str, Any], cfg: TrainConfig, path: Path) -> None:
    for key in RESUME_KEYS:
        old, new = saved.get(key), getattr(cfg, key)
        if old != new:
            raise ValueError(
                f"Cannot resume {path}: it was trained with {key}={old!r}, this run has {new!r}"
            )


def train(
    cfg: TrainConfig,
    resume: bool = False,
    progress: bool = True,
    stop_after: int | None = None,
    log: Callable[[str], None] | None = print,
) -> list[dict[str, Any]]:
    """Train ``cfg`` to its last epoch (or until ``stop_after`` epochs are done, to simulate an
    interruption) and return the per-epoch history. ``resume`` continues from
    ``run_dir/last.pt``; without it an existing checkpoint is an error, never overwritten."""
    recipe = cfg.recipe()
    torch.set_num_threads(cfg.threads)
    run_dir = cfg.run_dir
    ckpt_path = run_dir / CHECKPOINT_NAME
    saved = read_checkpoint(ckpt_path) if resume else None
    if saved is None and ckpt_path.exists():
        raise ValueError(
            f"Run directory {run_dir} already holds {CHECKPOINT_NAME}; pass --resume to continue "
            "it or choose another run name"
        )
    if saved is not None:
        _check_resume(saved["config"], cfg, ckpt_path)

    data = load_dataset(
        cfg.dataset, cfg.data_dir, recipe.resolution, cfg.train_limit, cfg.test_limit
    )
    # Before seeding: building the teacher draws initial weights from the global RNG.
    teacher = load_teacher(cfg.teacher, data, recipe.resolution) if cfg.teacher else None
    torch.manual_seed(recipe.seed)
    np.random.seed(recipe.seed % 2**32)
    random.seed(recipe.seed)
    model = build_model(cfg.network, cfg.variant, data.num_classes, cfg.width_mult)
    set_batchnorm(model, recipe.bn_momentum, recipe.bn_eps)
    ema = ModelEma(model, recipe.ema_decay)
    optimizer = make_optimizer(model, recipe)
    batch = min(recipe.batch_size, len(data.train))
    steps = steps_per_epoch(len(data.train), batch, cfg.max_steps)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: recipe.lr_factor(step / steps)
    )
    criterion = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    meta = {
        "network": cfg.network,
        "variant": cfg.variant,
        "num_classes": data.num_classes,
        "width_mult": cfg.width_mult,
        "bn_momentum": recipe.bn_momentum,
        "bn_eps": recipe.bn_eps,
        "dataset": data.name,
        "resolution": recipe.resolution,
        "mean": list(data.mean),
        "std": list(data.std),
        "teacher": cfg.teacher,
    }

    start_epoch, history = 0, []
    if saved is not None:
        model.load_state_dict(saved["model"])
        ema.load_state_dict(saved["ema"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        set_rng_state(saved["rng"])
        start_epoch, history = int(saved["epoch"]), list(saved["history"])
        if log:
            log(f"resuming {ckpt_path} after epoch {start_epoch}")
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2) + "\n")

    last = recipe.epochs if stop_after is None else min(recipe.epochs, stop_after)
    for epoch in range(start_epoch, last):
        t0 = time.perf_counter()
        gen = epoch_generator(recipe.seed, epoch)
        order = torch.randperm(len(data.train), generator=gen)
        model.train()
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=steps, desc=f"epoch {epoch + 1}/{recipe.epochs}", leave=False)
        loss_sum, correct, seen = 0.0, 0, 0
        for step in range(steps):
            idx = order[step * batch : (step + 1) * batch]
            x = train_batch(data.train.batch(idx), data, recipe.resolution, gen)
            y = data.train.labels[idx]
            logits = model(x)
            if teacher is None:
                loss = criterion(logits, y)
            else:
                with torch.no_grad():
                    teacher_logits = teacher(x)
                loss = distillation_loss(
                    logits, teacher_logits, y, cfg.distill_temperature, cfg.distill_weight,
                    recipe.label_smoothing,
                )  # fmt: skip
            if not math.isfinite(loss.item()):
                raise FloatingPointError(f"Training loss became {loss.item()} at epoch {epoch + 1}")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            ema.update(model)
            loss_sum += loss.item() * len(idx)
            correct += int((logits.argmax(1) == y).sum())
            seen += len(idx)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}")
        if bar is not None:
            bar.close()
        train_seconds = time.perf_counter() - t0
        test_loss, test_acc = evaluate(model, data.test, data, recipe.resolution, batch)
        ema_loss, ema_acc = evaluate(ema.module, data.test, data, recipe.resolution, batch)
        row = {
            "epoch": epoch + 1,
            "lr": optimizer.param_groups[0]["lr"],
            "train_loss": loss_sum / seen,
            "train_acc": correct / seen,
            "test_loss": test_loss,
            "test_acc": test_acc,
            "ema_test_loss": ema_loss,
            "ema_test_acc": ema_acc,
            "seconds": train_seconds,
        }
        history.append(row)
        save_checkpoint(
            {
                "meta": meta,
                "config": cfg.to_dict(),
                "recipe": asdict(recipe),
                "epoch": epoch + 1,
                "model": model.state_dict(),
                "ema": ema.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "rng": rng_state(),
                "history": history,
            },
            ckpt_path,
        )
        _write_metrics(run_dir, cfg, recipe, history)
        if log:
            log(
                f"epoch {epoch + 1}/{recipe.epochs}: train loss {row['train_loss']:.4f} "
                f"acc {row['train_acc']:.4f} | test acc {test_acc:.4f} "
                f"(EMA {ema_acc:.4f}) | {train_seconds:.1f} s"
            )
    return history
