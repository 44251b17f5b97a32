"""Cycles of a whole network compiled into ONE accelerator program (issue 18,
``sw.mapping.qnetwork.compile_qnet``): the sum of ``sw.latency.rtl.accel_command_cycles``
over the program's commands, which equals the accelerator's ``cnt_total`` exactly (checked in
RTL by ``tests/sim/test_onechip.py``). Every command's term is documented in
``sw/latency/rtl.py`` and docs/accelerator.md:

- ``CONV`` and ``HALT``: FETCH + DECODE (2);
- ``GEMM`` (plain or ``conv=1``): ``3 + gemm_cycles(m, kfolds*rows, nfolds*cols)``;
- ``FUSE`` (plain or ``lines=1``): ``3 + fuse_cycles(groups*rows, pfolds*cols, k)``;
- ``REQUANT``: ``2 + requant_cycles``; with ``lines=1``: ``2 + line_requant_cycles``;
- ``ADD``: ``2 + add_cycles(n)``; ``MAXPOOL``: ``2 + m*kh*kw + 1``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from hw.config import ArrayConfig
from sw.latency.rtl import accel_command_cycles

__all__ = ["ProgramLatency", "program_latency", "quantized_zoo_network"]


@dataclass
class ProgramLatency:
    cycles: int
    commands: int
    by_command: dict[str, int] = field(default_factory=dict)  # command kind -> cycles
    layers: list[tuple[str, str, int, int]] = field(
        default_factory=list
    )  # name, mapping, cmds, cycles
    act_words: int = 0
    weight_words: int = 0


def _kind(cmd) -> str:
    name = type(cmd).__name__.upper()
    if getattr(cmd, "conv", 0):
        name += "(conv)"
    if getattr(cmd, "lines", 0):
        name += "(lines)"
    return name


def program_latency(qnet, x_q: np.ndarray, cfg: ArrayConfig, fuse: str = "auto") -> ProgramLatency:
    """Compile ``qnet`` for ``x_q`` into one program on ``cfg`` and add up its cycles."""
    from sw.mapping.accel import unbounded
    from sw.mapping.qnetwork import compile_qnet

    prog = compile_qnet(qnet, x_q, unbounded(cfg), fuse)
    p = prog.program
    R, C = cfg.rows, cfg.cols
    by = defaultdict(int)
    for cmd in p.commands:
        by[_kind(cmd)] += accel_command_cycles(cmd, R, C)
    layers = []
    for layer in qnet.layers:
        a, b = prog.commands[layer.name]
        cyc = sum(accel_command_cycles(c, R, C) for c in p.commands[a:b])
        layers.append((layer.name, prog.mappings[layer.name], b - a, cyc))
    return ProgramLatency(
        cycles=sum(by.values()),
        commands=len(p.commands),
        by_command=dict(by),
        layers=layers,
        act_words=p.act_words,
        weight_words=p.weight_words,
    )


def quantized_zoo_network(
    net: str, variant: str, resolution: int, classes: int = 1000, seed: int = 0
):
    """A zoo network quantized on random calibration images (the cycles depend only on the
    shapes), and one int8 input image."""
    import torch

    from sw.export import quantize_network
    from sw.models.zoo import build_model

    torch.manual_seed(seed)
    model = build_model(net, variant, classes).eval()
    x = torch.randn(2, 3, resolution, resolution)
    qnet = quantize_network(model, x)
    return qnet, qnet.quantize_input(x[:1].numpy())
