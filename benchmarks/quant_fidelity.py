"""Float-vs-int8 fidelity of every zoo network/variant at resolution 64 (issue 10, item 6).

Random weights; BatchNorm statistics from 64 random images; calibration on 16 other images;
top-1 agreement and logit SNR over 32 further images (``sw.export.fidelity``). The last two
columns are the float model's own sensitivity: logit SNR and top-1 agreement when only the
input is perturbed by one input LSB of uniform noise. Prints a Markdown table (the one in
docs/quantization.md) and writes build/quant_fidelity.json.

    python benchmarks/quant_fidelity.py [--resolution 64] [--nets mobilenet_v2,resnet50]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from sw.export.fidelity import random_network_fidelity
from sw.models.zoo import NETWORKS, VARIANT_LABELS, VARIANTS

ORDER = (
    "mobilenet_v1",
    "mobilenet_v2",
    "mnasnet",
    "resnet50",
    "mobilenet_v3_small",
    "mobilenet_v3_large",
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resolution", type=int, default=64)
    ap.add_argument("--nets", default=",".join(ORDER))
    ap.add_argument("--calib", type=int, default=16)
    ap.add_argument("--eval", type=int, default=32)
    ap.add_argument("--json", type=Path, default=Path("build/quant_fidelity.json"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = []
    print(
        "| network | variant | top-1 agreement | logit SNR (dB) | float, 1-LSB input noise: "
        "SNR (dB) / top-1 |\n|---|---|---|---|---|"
    )
    for net in args.nets.split(","):
        for variant in VARIANTS:
            t0 = time.time()
            label = f"| {NETWORKS[net][0]} | {VARIANT_LABELS[variant]} |"
            try:
                f = random_network_fidelity(
                    net, variant, args.resolution, calib=args.calib, evaluate=args.eval
                )
            except ValueError as exc:
                print(f"{label} not supported: {str(exc).split(':')[0]} | | |", flush=True)
                rows.append({"network": net, "variant": variant, "error": str(exc)})
                continue
            print(
                f"{label} {100 * f.top1_agreement:.1f} % | {f.snr_db:.1f} | "
                f"{f.noise_snr_db:.1f} / {100 * f.noise_top1:.1f} % |",
                flush=True,
            )
            rows.append(
                {
                    "network": net,
                    "variant": variant,
                    "top1_agreement": f.top1_agreement,
                    "snr_db": f.snr_db,
                    "noise_snr_db": f.noise_snr_db,
                    "noise_top1": f.noise_top1,
                    "seconds": time.time() - t0,
                }
            )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"resolution": args.resolution, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
