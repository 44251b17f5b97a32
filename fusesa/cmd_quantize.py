"""``fusesa quantize``: post-training int8 quantization of one zoo network (random weights,
BatchNorm statistics from random images), its per-layer scales, the float-vs-int8 agreement,
and the quantized file (and optionally ONNX). See docs/quantization.md."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fusesa.cmd_latency import NETWORKS, VARIANTS


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("quantize", help="int8 post-training quantization of a network")
    p.add_argument("--net", required=True, choices=sorted(NETWORKS), help="network")
    p.add_argument("--variant", default="base", help=f"one of {', '.join(VARIANTS)}")
    p.add_argument("--resolution", type=int, default=64, help="input resolution (default 64)")
    p.add_argument("--calib", type=int, default=16, help="calibration images (default 16)")
    p.add_argument("--eval", type=int, default=16, help="images for the agreement check")
    p.add_argument("--classes", type=int, default=1000, help="classifier outputs (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="seed of weights and images")
    p.add_argument("--out", type=Path, required=True, help="quantized network file to write")
    p.add_argument("--onnx", type=Path, default=None, help="also export ONNX to this file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except ValueError as exc:  # user input errors: message names the culprit
        print(f"fusesa quantize: error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    import torch

    from sw.export.fidelity import random_network_fidelity
    from sw.models.zoo import canonical_variant

    torch.set_num_threads(1)
    variant = canonical_variant(args.variant)
    fid = random_network_fidelity(
        args.net,
        variant,
        args.resolution,
        calib=args.calib,
        evaluate=args.eval,
        seed=args.seed,
        num_classes=args.classes,
    )
    qnet = fid.qnet
    print(
        f"{'layer':34s} {'op':10s} {'output':>14s} {'in scale':>10s} {'out scale':>10s} "
        f"{'w scale min..max':>21s} {'clamp':>10s}"
    )
    for row, layer in zip(qnet.summary(), qnet.layers, strict=True):
        ins = ",".join(f"{s:.4g}" for s in row["in_scales"])
        w = f"{row['w_scale_min']:.3g}..{row['w_scale_max']:.3g}" if "w_scale_min" in row else ""
        clamp = getattr(layer, "clamp", None)
        shape = "x".join(map(str, row["shape"]))
        print(
            f"{row['name']:34s} {row['op']:10s} {shape:>14s} {ins:>10s} "
            f"{row['out_scale']:10.4g} {w:>21s} {str(clamp or ''):>10s}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    qnet.save(args.out)
    print(f"\nwrote {args.out} ({len(qnet.layers)} layers, {len(qnet.mac_layers())} conv/linear)")
    print(
        f"{args.net} {variant} @ {args.resolution}: float vs int8 top-1 agreement "
        f"{100 * fid.top1_agreement:.1f} % over {args.eval} images, logit SNR {fid.snr_db:.1f} dB "
        f"(float model with 1-LSB input noise only: {fid.noise_snr_db:.1f} dB, "
        f"top-1 {100 * fid.noise_top1:.1f} %)"
    )
    if args.onnx:
        args.onnx.parent.mkdir(parents=True, exist_ok=True)
        qnet.to_onnx(args.onnx)
        print(f"wrote {args.onnx}")
        try:
            from sw.export.onnx_export import run_onnx
        except ImportError:  # pragma: no cover
            return 0
        try:
            x_q = qnet.quantize_input(fid.eval_images)
            got, want = run_onnx(str(args.onnx), {"input": x_q}), qnet.run(x_q)
        except ImportError:
            print("onnxruntime not installed: ONNX file not checked")
            return 0
        print(
            f"onnxruntime vs golden: logits exact {100 * (got == want).mean():.2f} %, "
            f"top-1 agreement {100 * (got.argmax(1) == want.argmax(1)).mean():.1f} %"
        )
    return 0
