"""First slice of the network compiler (issue 18): a ``QuantizedNetwork`` whose layers are
all pointwise convs, ``Linear`` layers and residual adds, compiled into ONE accelerator
program (``sw.mapping.outstage.NetBuilder``: ``GEMM`` + ``REQUANT`` per MAC layer, ``ADD``
per residual add). Only the int8 input, the weights and the parameter blocks are loaded.
Every GEMM reuses the accumulator words from 0 (its ``REQUANT`` consumes them at once);
activation buffers are not reused yet (each tensor gets its own words).
Every intermediate tensor stays in activation memory, and the host does nothing between
layers.

Layout: an ``[N, C, H, W]`` tensor is ``M = N*H*W`` rows (``n, h, w`` order) of ``C``
channels. A pointwise conv is then a GEMM on it, and a ``Linear`` one on ``[N, I]``
(``M = N``).

Not yet on chip, so they raise ``ValueError`` naming the layer: KxK and 1-D convs, which
need address generation; depthwise and FuSe, whose layouts need ``FUSE``-side write-back;
pooling, concat, slice, a stand-alone clamp, and a flatten over more than 1x1 pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hw.config import ArrayConfig
from sw.export.qnet import INPUT, QAdd, QConv, QFlatten, QLinear, QuantizedNetwork
from sw.mapping.accel import AccelProgram
from sw.mapping.outstage import ChainLayer, NetBuilder, OnChip

__all__ = ["QnetProgram", "compile_qnet"]


@dataclass
class QnetProgram:
    """``compile_qnet``'s answer: the program and where every layer's int8 tensor lives."""

    program: AccelProgram
    tensors: dict[str, OnChip] = field(default_factory=dict)
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # NCHW / NC per layer
    output: str = ""

    def read(self, name: str, act_words: dict[int, int] | list[int]) -> np.ndarray:
        """Layer ``name``'s int8 tensor, shaped like the golden's, from activation words."""
        rows = self.tensors[name].read(self.program.cfg, act_words)
        shape = self.shapes[name]
        if len(shape) == 4:
            n, c, h, w = shape
            return rows.reshape(n, h, w, c).transpose(0, 3, 1, 2).astype(np.int8)
        return rows.astype(np.int8)


def _rows(x: np.ndarray) -> np.ndarray:
    """``[N, C, H, W]`` -> ``[N*H*W, C]``; ``[N, C]`` unchanged."""
    if x.ndim == 4:
        return x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1])
    return x


def compile_qnet(qnet: QuantizedNetwork, x_q: np.ndarray, cfg: ArrayConfig) -> QnetProgram:
    """ONE program running ``qnet`` on the int8 input ``x_q``. The input ``x_q`` is placed in
    activation memory. ``ValueError`` names a layer that is not on chip yet, or a memory that
    is too small."""
    x_q = np.asarray(x_q)
    if x_q.dtype != np.int8 or x_q.ndim != 4:
        raise ValueError(f"compile_qnet expects an int8 NCHW input, not {x_q.dtype} {x_q.shape}")
    nb = NetBuilder(cfg, reuse_acc=True)
    out = QnetProgram(program=None, output=qnet.output)  # type: ignore[arg-type]
    env: dict[str, np.ndarray | OnChip] = {INPUT: _rows(x_q.astype(np.int64))}
    shapes: dict[str, tuple[int, ...]] = {INPUT: tuple(x_q.shape)}
    for layer in qnet.layers:
        where = f"layer {layer.name} ({type(layer).__name__})"
        if isinstance(layer, QConv):
            if layer.op != "pointwise" or layer.stride != (1, 1) or layer.padding != (0, 0):
                raise ValueError(
                    f"{where}: only pointwise convs run on chip so far, not op={layer.op!r} "
                    f"stride={layer.stride} padding={layer.padding} (needs address generation)"
                )
            w = layer.weight[:, :, 0, 0].T
            n, _, h, wd = shapes[layer.inputs[0]]
            shapes[layer.name] = (n, layer.out_channels, h, wd)
        elif isinstance(layer, QLinear):
            w = layer.weight.T
            shapes[layer.name] = (shapes[layer.inputs[0]][0], layer.weight.shape[0])
        elif isinstance(layer, QAdd):
            a, b = (env[t] for t in layer.inputs)
            if not (isinstance(a, OnChip) and isinstance(b, OnChip)):
                raise ValueError(f"{where}: adding the network input is not supported on chip")
            env[layer.name] = out.tensors[layer.name] = nb.add(
                a, b, *layer.multipliers, layer.clamp
            )
            shapes[layer.name] = shapes[layer.inputs[0]]
            continue
        elif isinstance(layer, QFlatten):
            s = shapes[layer.inputs[0]]
            if len(s) == 4 and s[2:] != (1, 1):
                raise ValueError(f"{where}: flatten over {s[2]}x{s[3]} pixels is not on chip yet")
            env[layer.name] = env[layer.inputs[0]]
            if isinstance(env[layer.name], OnChip):
                out.tensors[layer.name] = env[layer.name]
            shapes[layer.name] = (s[0], s[1])
            continue
        else:
            raise ValueError(f"{where}: not on chip yet")
        chain = ChainLayer(w.astype(np.int64), layer.bias, layer.multiplier, layer.clamp)
        try:
            env[layer.name] = out.tensors[layer.name] = nb.linear(env[layer.inputs[0]], chain)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    out.program = nb.build()
    out.shapes = shapes
    return out
