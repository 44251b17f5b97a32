"""Every layer kind of MobileNetV2 at 224x224 in RTL on one array (issue 22): a dense 3x3
conv, pointwise convs at 56x56 and 7x7 (small M), the classifier (M = 1), a KxK depthwise
layer as the per-channel baseline (SPEC 3.4), and FuSe 1xK / Kx1 layers at 56x56, 14x14 and
7x7, each with the one-line-per-row mapping (``fuse``) and with line packing
(``fuse-packed``). Random int8 weights and inputs; every output is checked against the numpy
golden (``sw.ref.conv.conv2d_ref`` / a matmul) exactly, and the measured ``cnt_total`` against
``sw.latency.rtl``'s model. All layers run in ONE simulator process (``sim.run_layers``: each
layer its own program).

Prints per layer: kind, mapping, shape, measured and model cycles, utilization
(MACs / (rows * cols * cycles)), the ideal-MAC bound (MACs / PEs) and, for FuSe layers, the
input-bandwidth bound (SPEC 4.1: inputs enter on the left edge, ``rows`` per cycle, so a
stride-1 1-D layer needs at least ``outputs computed / rows`` cycles, i.e. utilization
<= K / cols).

Usage: python benchmarks/layer_kinds_rtl.py [--array 64x64] [--sim verilator] [--json F]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _pick(layers, kind, c=None, hw=None, out=None):
    for r in layers:
        if r.kind != kind:
            continue
        n, ci, h, w = r.in_shape
        if (
            (c is None or ci == c)
            and (hw is None or h == hw)
            and (out is None or r.out_channels == out)
        ):
            return r
    raise LookupError(f"no {kind} layer with c={c}, hw={hw}")


def _cases():
    from sw.latency.table import trace_model

    half = trace_model("mobilenet_v2", "half").layers
    base = trace_model("mobilenet_v2", "base").layers
    picks = [
        (_pick(half, "conv"), ["auto"]),
        (_pick(half, "pointwise", hw=56, c=24), ["auto"]),
        (_pick(half, "pointwise", hw=7, c=160), ["auto"]),
        (_pick(half, "linear"), ["auto"]),
        (_pick(base, "depthwise", hw=7, c=960), ["baseline"]),
        (_pick(half, "fuse_row", hw=56), ["fuse", "auto"]),
        (_pick(half, "fuse_col", hw=14), ["fuse", "auto"]),
        (_pick(half, "fuse_row", hw=7), ["fuse", "auto"]),
        (_pick(half, "fuse_col", hw=7), ["fuse", "auto"]),
    ]
    return picks


def _torch_layer(rec, gen):
    import torch

    n, c, h, w = rec.in_shape
    if rec.kind == "linear":
        layer = torch.nn.Linear(c, rec.out_channels, bias=False)
        x = torch.randint(-128, 128, (n, c), generator=gen).float()
    else:
        hp, wp = rec.padded_hw
        groups = 1 if rec.kind in ("conv", "pointwise") else c
        layer = torch.nn.Conv2d(
            c, rec.out_channels, rec.kernel, rec.stride, ((hp - h) // 2, (wp - w) // 2),
            groups=groups, bias=False,
        )  # fmt: skip
        x = torch.randint(-128, 128, (n, c, h, w), generator=gen).float()
    with torch.no_grad():
        layer.weight.copy_(torch.randint(-128, 128, layer.weight.shape, generator=gen))
    return layer, x


def _golden(layer, x) -> np.ndarray:
    from sw.ref.conv import conv2d_ref

    w = layer.weight.detach().numpy().astype(np.int64)
    xi = x.numpy().astype(np.int64)
    if w.ndim == 2:
        return xi @ w.T
    return conv2d_ref(xi, w, tuple(layer.stride), tuple(layer.padding), layer.groups)


def _bounds(rec, rows, cols):
    n, c, h, w = rec.in_shape
    hp, wp = rec.padded_hw
    (kh, kw), (sh, sw) = rec.kernel, rec.stride
    ho, wo = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    if rec.kind == "linear":
        macs = n * c * rec.out_channels
    elif rec.kind in ("conv", "pointwise"):
        macs = n * ho * wo * c * kh * kw * rec.out_channels
    else:
        macs = n * ho * wo * c * kh * kw
    ideal = macs / (rows * cols)
    bw = None
    if rec.kind in ("fuse_row", "fuse_col"):
        K = max(kh, kw)
        bw = macs / K / rows * (sw if rec.kind == "fuse_row" else sh)  # stride-1 outputs / rows
    return macs, ideal, bw


def main() -> None:
    import torch

    from hw.config import ArrayConfig
    from sim import run_layers
    from sw.latency.rtl import accel_layer_program_cycles
    from sw.latency.table import parse_array

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--array", default="64x64")
    ap.add_argument("--sim", default="verilator")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    rows, cols = parse_array(args.array)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(22)
    items, meta = [], []
    for rec, mappings in _cases():
        layer, x = _torch_layer(rec, gen)
        for dw in mappings:
            items.append((layer, x, dw))
            meta.append(rec)
    cfg = ArrayConfig(rows=rows, cols=cols, act_depth=1 << 16, weight_depth=1 << 14)
    t0 = time.perf_counter()
    results = run_layers(items, cfg, args.sim)
    wall = time.perf_counter() - t0
    rows_out = []
    head = (
        f"{'layer':28s} {'kind':9s} {'mapping':18s} {'input':>14s} {'measured':>9s} "
        f"{'model':>9s} {'exact':>5s} {'util':>6s} {'ideal':>8s} {'bw bound':>8s}"
    )
    print(head)
    for (layer, x, dw), rec, res in zip(items, meta, results, strict=True):
        hardware = "Systolic" if dw == "baseline" else "FuSe"
        model = accel_layer_program_cycles(rec, rows, cols, hardware, dw)
        exact = bool(np.array_equal(res.output, _golden(layer, x)))
        macs, ideal, bw = _bounds(rec, rows, cols)
        util = macs / (rows * cols * res.cycles)
        shape = "x".join(map(str, rec.in_shape[1:]))
        print(
            f"{rec.name[:28]:28s} {rec.kind:9s} {res.mapping:18s} {shape:>14s} {res.cycles:9d} "
            f"{model:9d} {'yes' if exact else 'NO':>5s} {100 * util:5.1f}% {ideal:8.0f} "
            f"{'' if bw is None else f'{bw:8.0f}':>8s}"
        )
        rows_out.append(
            dict(
                name=rec.name,
                kind=rec.kind,
                mapping=res.mapping,
                in_shape=rec.in_shape,
                cycles=res.cycles,
                model=model,
                exact=exact,
                macs=macs,
                utilization=util,
                ideal_cycles=ideal,
                bandwidth_cycles=bw,
            )  # fmt: skip
        )
    ok = all(r["exact"] and r["cycles"] == r["model"] for r in rows_out)
    print(f"{len(rows_out)} layers on {rows}x{cols} ({args.sim}) in {wall:.1f} s (build included);")
    print("all bit-exact and cycles == model" if ok else "MISMATCH")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"array": args.array, "sim": args.sim, "wall": wall,
                                         "layers": rows_out}, indent=1))  # fmt: skip
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
