"""Real test images through the accelerator (issue 21, ``fusesa infer --dataset``): a
quantized trained network runs a labelled image set in RTL simulation with
``sim.network.run_network``, in batches (one simulator process per batch, one Verilog build for
all of them, since every batch runs on the same array and memory configuration), and the
RTL's top-1 accuracy is reported next to the golden executor's and the float model's.

``agree`` is true when every RTL output logit equals the golden executor's
(``QuantizedNetwork.run``) on every image and every layer's accumulators matched; the run does
not stop at a mismatch (``keep_going``) so that the accuracies cover every image.

Cycles: each batch's measured cycles are asserted by ``run_network``'s records against the
accelerator formulas (``cycles_match``); a batch of B images costs one program per layer over
the whole batch, so the total is the sum over batches, not ``N`` times one image."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hw.config import ArrayConfig
from sim.network import NetworkResult, memory_config, run_network


@dataclass
class DatasetEval:
    """``count`` images: labels, the top-1 class of the RTL's, the golden executor's and the
    float model's logits, and the accuracies in ``[0, 1]``."""

    labels: np.ndarray
    rtl_pred: np.ndarray
    golden_pred: np.ndarray
    float_pred: np.ndarray
    agree: bool
    batches: list[NetworkResult] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.labels)

    def _acc(self, pred: np.ndarray) -> float:
        return float((pred == self.labels).mean())

    @property
    def rtl_top1(self) -> float:
        return self._acc(self.rtl_pred)

    @property
    def golden_top1(self) -> float:
        return self._acc(self.golden_pred)

    @property
    def float_top1(self) -> float:
        return self._acc(self.float_pred)

    @property
    def cycles(self) -> int:
        return sum(r.cycles for r in self.batches)

    @property
    def cycles_match(self) -> bool:
        return all(r.cycles_match for r in self.batches)

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "rtl_top1": self.rtl_top1,
            "golden_top1": self.golden_top1,
            "float_top1": self.float_top1,
            "agree": self.agree,
            "batch_sizes": [int(r.output.shape[0]) for r in self.batches],
            "cycles": self.cycles,
            "model_cycles": sum(r.model_cycles for r in self.batches),
            "cycles_match": self.cycles_match,
            "labels": self.labels.tolist(),
            "rtl_pred": self.rtl_pred.tolist(),
            "golden_pred": self.golden_pred.tolist(),
            "float_pred": self.float_pred.tolist(),
        }


def largest_batch(qnet, cfg: ArrayConfig, count: int, depthwise: str = "auto") -> int:
    """The largest batch of at most ``count`` images (halving from ``count``) whose every layer
    fits the command set's memories (``sim.network.memory_config``)."""
    batch = count
    while True:
        try:
            memory_config(qnet, cfg, depthwise, batch)
            return batch
        except ValueError:
            if batch == 1:
                raise
            batch = math.ceil(batch / 2)


def run_dataset_eval(
    qnet,
    x,
    labels,
    cfg: ArrayConfig,
    simulator: str = "verilator",
    depthwise: str = "auto",
    *,
    model=None,
    batch: int | None = None,
    on_batch: Callable[[int, NetworkResult], None] | None = None,
    on_layer=None,
) -> DatasetEval:
    """Run the float images ``x`` (``[N, 3, R, R]`` torch tensor, the evaluation transform)
    with labels ``labels`` through ``qnet`` on the accelerator of ``cfg``, ``batch`` images per
    simulator run (default: ``largest_batch``). ``model``: the float network, for
    ``float_top1`` (``None``: the float predictions are ``-1``)."""
    import torch

    labels = np.asarray(labels, dtype=np.int64)
    n = int(x.shape[0])
    if n < 1 or labels.shape != (n,):
        raise ValueError(f"need N >= 1 images and N labels, got {n} images and {labels.shape}")
    x_q = qnet.quantize_input(x)
    if batch is None:
        batch = largest_batch(qnet, cfg, n, depthwise)
    elif batch < 1:
        raise ValueError(f"batch must be a positive integer, not {batch!r}")
    results, rtl, gold = [], [], []
    for start in range(0, n, batch):
        res = run_network(
            qnet,
            x_q[start : start + batch],
            cfg,
            simulator,
            depthwise,
            keep_going=True,
            on_layer=on_layer if start == 0 else None,
            per_layer=True,  # the path this evaluation was validated on (issue 21)
        )
        results.append(res)
        rtl.append(np.asarray(res.output).reshape(res.golden_output.shape[0], -1))
        gold.append(np.asarray(res.golden_output).reshape(res.golden_output.shape[0], -1))
        if on_batch is not None:
            on_batch(start, res)
    rtl_out, gold_out = np.concatenate(rtl), np.concatenate(gold)
    agree = (
        rtl_out.shape == gold_out.shape
        and bool(np.array_equal(rtl_out, gold_out))
        and all(r.exact for r in results)
    )
    if model is not None:
        with torch.no_grad():
            float_pred = model.eval()(x).argmax(1).numpy()
    else:
        float_pred = np.full(n, -1)
    return DatasetEval(
        labels=labels,
        rtl_pred=rtl_out.argmax(1) if rtl_out.shape[0] == n else np.full(n, -1),
        golden_pred=gold_out.argmax(1),
        float_pred=float_pred,
        agree=agree,
        batches=results,
    )
