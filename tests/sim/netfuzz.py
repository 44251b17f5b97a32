"""Random small quantized networks for the network-level fuzz (``tests/sim/test_netfuzz.py``,
``benchmarks/fuzz.py --networks N``).

``random_network(seed)`` draws a float torch model from a seed: a dense stem (kernel 1/3/5,
stride 1/2), then 1-5 blocks picked from pointwise, dense 3x3, depthwise KxK (K 3/5, stride
1/2), FuSe Half/Full (K 3/5/7, stride 1/2, with or without ReLU6 per branch), an inverted
residual (pointwise up, depthwise, pointwise down, ``x + body(x)``, optionally ReLU) and max
pool, with random channel counts (1-12) and input resolution (3-12); the head is a global
average pool (or not) and a linear layer. BatchNorm parameters and statistics are random. The
model is quantized with ``sw.export.quantize_network`` on random calibration images, and an
array shape is drawn from ``SHAPES`` (a fixed list, so the simulator builds are reused).

``check_network(case, simulator)`` runs it through ``sim.run_network`` and asserts the int8
output equals the golden executor's (``QuantizedNetwork.run``), every accelerator layer's
accumulators equal the golden's (``run_network`` stops on the first mismatch) and every
layer's measured ``cnt_total`` equals the ``sw.latency.rtl`` model (``cycles == model``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from hw.config import ArrayConfig
from sw.models.fuse import FuSeConv2d

#: array shapes of the fuzz (rows, cols): square, tall, wide, 1-wide
SHAPES = [(2, 2), (3, 2), (2, 5), (4, 4), (1, 3), (5, 3), (3, 7), (8, 8)]
#: memory depths of the fuzz builds (one build per shape); a network needing more is redrawn
DEPTHS = dict(act_depth=1 << 12, weight_depth=1 << 11, acc_depth=1 << 12, cmd_depth=1 << 8)


class _Residual(nn.Module):
    def __init__(self, body: nn.Module, relu: bool) -> None:
        super().__init__()
        self.body, self.relu = body, relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x + self.body(x)
        return torch.relu(y) if self.relu else y


class _Head(nn.Module):
    def __init__(self, features: nn.Module, pool: bool, flat: int, classes: int) -> None:
        super().__init__()
        self.features = features
        self.pool = nn.AdaptiveAvgPool2d(1) if pool else nn.Identity()
        self.fc = nn.Linear(flat, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


@dataclass
class NetCase:
    seed: int
    blocks: list[str]  # what was drawn, for the failure report
    model: nn.Module
    qnet: object
    x_q: np.ndarray
    shape: tuple[int, int]
    resolution: int

    @property
    def cfg(self) -> ArrayConfig:
        return ArrayConfig(*self.shape, **DEPTHS)

    def describe(self) -> str:
        return (
            f"seed={self.seed} array={self.shape[0]}x{self.shape[1]} res={self.resolution} "
            f"blocks={' '.join(self.blocks)}"
        )


def _act(rng):
    return [nn.ReLU, nn.ReLU6, None][int(rng.integers(0, 3))]


def _conv_bn(c_in, c_out, k, stride, groups, act, bias=False):
    mods = [nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=bias)]
    mods.append(nn.BatchNorm2d(c_out))
    if act is not None:
        mods.append(act())
    return mods


def _draw(rng) -> tuple[nn.Module, list[str], int]:
    res = int(rng.integers(3, 13))
    c = int(rng.integers(1, 9))
    size = res
    k = int(rng.choice([1, 3, 5]))
    s = int(rng.choice([1, 2])) if size >= 4 else 1
    mods = _conv_bn(3, c, k, s, 1, _act(rng), bias=bool(rng.integers(0, 2)))
    blocks = [f"stem{k}x{k}/s{s}->{c}"]
    size = (size + 2 * (k // 2) - k) // s + 1
    for _ in range(int(rng.integers(1, 6))):
        kind = str(rng.choice(["pw", "dense", "dw", "fuse", "fuse", "residual", "maxpool"]))
        stride = int(rng.choice([1, 2])) if size >= 3 else 1
        if kind == "pw":
            c2 = int(rng.integers(1, 13))
            mods += _conv_bn(c, c2, 1, 1, 1, _act(rng))
            blocks.append(f"pw->{c2}")
            c = c2
        elif kind == "dense":
            c2 = int(rng.integers(1, 9))
            mods += _conv_bn(c, c2, 3, stride, 1, _act(rng))
            blocks.append(f"dense3x3/s{stride}->{c2}")
            c = c2
        elif kind == "dw":
            k = int(rng.choice([3, 5]))
            mods += _conv_bn(c, c, k, stride, c, _act(rng))
            blocks.append(f"dw{k}x{k}/s{stride}")
        elif kind == "fuse":
            k = int(rng.choice([3, 5, 7]))
            variant = "half" if c % 2 == 0 and rng.integers(0, 2) else "full"
            act = nn.ReLU6 if rng.integers(0, 2) else None
            f = FuSeConv2d(c, k, stride, variant, act=act)
            mods.append(f)
            blocks.append(f"fuse-{variant}{k}/s{stride}")
            c = f.out_channels
        elif kind == "residual":
            e = int(rng.integers(1, 4))
            k = int(rng.choice([3, 5]))
            body = nn.Sequential(
                *_conv_bn(c, c * e, 1, 1, 1, nn.ReLU6),
                *_conv_bn(c * e, c * e, k, 1, c * e, nn.ReLU6),
                *_conv_bn(c * e, c, 1, 1, 1, None),
            )
            relu = bool(rng.integers(0, 2))
            mods.append(_Residual(body, relu))
            blocks.append(f"residual(x{e},dw{k}{',relu' if relu else ''})")
            stride = 1
        else:
            if size < 2:
                continue
            k = int(rng.choice([2, 3]))
            mods.append(nn.MaxPool2d(k, 2, k // 2 if k == 3 else 0))
            blocks.append(f"maxpool{k}")
            stride, pad = 2, (k // 2 if k == 3 else 0)
            size = (size + 2 * pad - k) // 2 + 1
            continue
        if kind in ("dense", "dw", "fuse"):
            size = (size - 1) // stride + 1  # padding k//2, odd k
    pool = bool(rng.integers(0, 4)) or size == 1  # usually a global average pool
    flat = c if pool else c * size * size
    classes = int(rng.integers(1, 11))
    blocks.append(f"{'gap+' if pool and size > 1 else ''}fc->{classes}")
    return _Head(nn.Sequential(*mods), pool, flat, classes), blocks, res


def _randomize_bn(model: nn.Module, g: torch.Generator) -> None:
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(0.5 + torch.rand(c, generator=g))
                m.bias.copy_(0.2 * torch.randn(c, generator=g))
                m.running_mean.copy_(0.3 * torch.randn(c, generator=g))
                m.running_var.copy_(0.5 + torch.rand(c, generator=g))


def random_network(seed: int) -> NetCase:
    """The case of ``seed`` (deterministic). Networks that need more memory than ``DEPTHS`` on
    their array are redrawn from the same generator."""
    from sim.network import program_extents
    from sw.export import quantize_network

    rng = np.random.default_rng(seed)
    g = torch.Generator().manual_seed(seed)
    while True:
        torch.manual_seed(int(rng.integers(0, 2**31)))  # the layers' initial weights
        model, blocks, res = _draw(rng)
        _randomize_bn(model, g)
        model.eval()
        data = torch.randn(5, 3, res, res, generator=g)
        qnet = quantize_network(model, data[:4])
        shape = SHAPES[int(rng.integers(0, len(SHAPES)))]
        cfg = ArrayConfig(*shape, **DEPTHS)
        need = program_extents(qnet, cfg)
        fits = all(
            a <= cfg.act_depth and w <= cfg.weight_depth and c <= cfg.acc_depth
            for _, a, w, c, _ in need
        )
        if fits:
            return NetCase(seed, blocks, model, qnet, qnet.quantize_input(data[4:]), shape, res)


def check_network(case: NetCase, simulator: str = "verilator"):
    """Run ``case`` through ``sim.run_network``; returns the ``NetworkResult``."""
    from sim import run_network

    res = run_network(case.qnet, case.x_q, case.cfg, simulator, size_memories=False, per_layer=True)
    want = case.qnet.run(case.x_q)
    assert res.output.dtype == np.int8
    np.testing.assert_array_equal(res.output, want, err_msg=case.describe())
    assert res.exact, case.describe()
    bad = [(r.name, r.cycles, r.model_cycles) for r in res.accel_layers if not r.cycles_match]
    assert not bad, f"{case.describe()}: measured vs model cycles {bad}"
    assert res.cycles == res.model_cycles, case.describe()
    return res


__all__ = ["DEPTHS", "SHAPES", "NetCase", "check_network", "random_network"]
