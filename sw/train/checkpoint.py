"""Training checkpoints (issue 12): one ``torch.save`` file per run (``runs/NAME/last.pt``)
with everything a bit-exact resume needs (model, optimizer, scheduler, EMA, every RNG state,
epoch, history) and the metadata that rebuilds the zoo model (network, variant, classes, width,
BatchNorm eps), so ``load_checkpoint`` hands the trained network to ``getModelLatency``,
``fusesa latency --checkpoint`` or the quantizer.

Files are written to a temporary name and renamed, so an interrupted save never leaves a
half-written checkpoint; they are read with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from sw.models.zoo import build_model

FORMAT = "fusesa-train"
VERSION = 1


def rng_state() -> dict[str, Any]:
    """torch, numpy and Python RNG states in a ``weights_only``-loadable form."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
        "python": random.getstate(),
    }


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))


def save_checkpoint(state: dict[str, Any], path: str | Path) -> Path:
    """Write ``state`` (plus format tag and version) atomically to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"format": FORMAT, "version": VERSION, **state}, tmp)
    os.replace(tmp, path)
    return path


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The checkpoint dict at ``path``; ``ValueError`` naming the file if it is missing, not a
    fusesa training checkpoint or of another version."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"Checkpoint file {path} not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt files
        raise ValueError(f"Checkpoint file {path} cannot be read: {exc}") from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"Checkpoint file {path} is not a fusesa training checkpoint")
    if state.get("version") != VERSION:
        raise ValueError(
            f"Checkpoint file {path} has version {state.get('version')!r}, expected {VERSION}"
        )
    for key in ("meta", "model", "ema", "epoch"):
        if key not in state:
            raise ValueError(f"Checkpoint file {path} has no {key!r} entry")
    return state


def build_from_meta(meta: dict[str, Any]) -> nn.Module:
    """The zoo model described by checkpoint metadata, with its BatchNorm eps/momentum."""
    model = build_model(
        meta["network"], meta["variant"], int(meta["num_classes"]), float(meta["width_mult"])
    )
    set_batchnorm(model, meta.get("bn_momentum"), meta.get("bn_eps"))
    return model


def set_batchnorm(model: nn.Module, momentum: float | None, eps: float | None) -> None:
    """Set every BatchNorm's momentum/eps (``None`` keeps PyTorch's default)."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            if momentum is not None:
                m.momentum = momentum
            if eps is not None:
                m.eps = eps


def load_checkpoint(path: str | Path, ema: bool = True) -> nn.Module:
    """Rebuild the zoo model of a training checkpoint and load its weights: the EMA weights by
    default, the raw ones with ``ema=False``. Returns the model in eval mode; its training
    metadata (network, variant, num_classes, width_mult, dataset, resolution, mean, std) is in
    ``model.train_meta``."""
    state = read_checkpoint(path)
    model = build_from_meta(state["meta"])
    try:
        model.load_state_dict(state["ema" if ema else "model"])
    except RuntimeError as exc:
        raise ValueError(f"Checkpoint file {path} does not match its model: {exc}") from exc
    model.train_meta = dict(state["meta"])  # type: ignore[assignment]
    return model.eval()
