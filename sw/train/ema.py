"""Exponential moving average of a model's weights (the ImageNet recipe's 0.9999 EMA).

Floating-point entries of the state dict (parameters and BatchNorm running statistics) follow
``ema = decay * ema + (1 - decay) * current`` after every optimizer step; integer entries
(BatchNorm's batch counters) are copied. The averaged copy is what ``load_checkpoint`` returns
by default.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class ModelEma:
    """A frozen, eval-mode copy of ``model`` updated with ``update(model)``."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), not {decay!r}")
        self.decay = decay
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        current = model.state_dict()
        for name, avg in self.module.state_dict().items():
            value = current[name].detach()
            if avg.dtype.is_floating_point:
                avg.mul_(self.decay).add_(value, alpha=1.0 - self.decay)
            else:
                avg.copy_(value)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.module.state_dict()

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.module.load_state_dict(state)
