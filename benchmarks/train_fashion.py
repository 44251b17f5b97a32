"""Baseline vs FuSe on Fashion-MNIST (issue 21): train zoo networks with one recipe, then per run
report float and int8 test accuracy, params, FLOPs and the rtl-mode speedup at 16x16 and 64x64.

    python benchmarks/train_fashion.py --nets MobileNetV2 --variants baseline,half --seeds 0 \\
        --epochs 2 --train-limit 5000 --test-limit 2000 --distill half

One CSV row per (network, variant, seed), appended as each run completes
(``build/train_fashion/results.csv`` by default; runs under ``build/train_fashion/runs/``,
finished ones reused, interrupted ones resumed):

* ``float_acc``: the raw weights after the last epoch on the test images;
* ``int8_acc``: the same weights through ``sw.export.quantize_network`` (max-abs calibration on
  the first ``--calib`` training images, eval transform) and the int8 golden executor;
* ``params``; ``flops`` (``sw.models.flops.count_flops``, the seed table's rules) at the
  training resolution;
* ``rtl_speedup_16x16`` / ``rtl_speedup_64x64``: ``sw.latency`` rtl mode, baseline on the plain
  systolic array and FuSe on the FuSe array, for the trained configuration (its width, 10
  classes, the training resolution);
* ``s_per_epoch``: mean training seconds per epoch (no evaluation) on this machine and load.

``--distill half,full`` adds rows ``half+kd``/``full+kd``: the same variant trained with the
same seed's baseline run as teacher (``fusesa train --teacher``).

``--table CSV [CSV ...]`` trains nothing: it reads result rows (the last row of each network,
variant and seed wins; rows of other recipes are refused), and prints the markdown table of
docs/training.md: accuracies as mean ± sample standard deviation over the seeds.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from sw.export import quantize_network
from sw.latency import model_latency
from sw.models.flops import count_flops
from sw.models.zoo import build_model
from sw.train import TrainConfig, load_checkpoint, load_dataset, read_checkpoint, train
from sw.train.transforms import eval_batch

COLUMNS = (
    "network", "variant", "seed", "epochs", "train_images", "test_images", "float_acc",
    "int8_acc", "params", "flops", "rtl_cycles_16x16", "rtl_speedup_16x16", "rtl_cycles_64x64",
    "rtl_speedup_64x64", "s_per_epoch", "teacher",
)  # fmt: skip
ARRAYS = ((16, 16), (64, 64))


def run_one(cfg: TrainConfig) -> list[dict]:
    path = cfg.run_dir / "last.pt"
    done = int(read_checkpoint(path)["epoch"]) if path.exists() else 0
    if done < cfg.recipe().epochs:
        train(cfg, resume=done > 0, progress=False, log=print)
    return read_checkpoint(path)["history"]


def rtl_cycles(model: torch.nn.Module, variant: str, res: int) -> list[int]:
    hardware = "Systolic" if variant == "base" else "FuSe"
    x = torch.zeros(1, 3, res, res)
    return [model_latency(model, x, r, c, hardware, "rtl").total for r, c in ARRAYS]


@torch.no_grad()
def accuracies(model, data, res: int, calib_n: int, batch: int = 256) -> tuple[float, float]:
    """Float and int8 top-1 of ``model`` on ``data.test``."""
    model.eval()
    calib = eval_batch(data.train.batch(torch.arange(calib_n)), data, res)
    qnet = quantize_network(model, calib)
    n, float_ok, int8_ok = len(data.test), 0, 0
    for start in range(0, n, batch):
        idx = torch.arange(start, min(start + batch, n))
        x = eval_batch(data.test.batch(idx), data, res)
        y = data.test.labels[idx].numpy()
        float_ok += int((model(x).argmax(1).numpy() == y).sum())
        out = qnet.run(qnet.quantize_input(x))
        int8_ok += int((np.asarray(out).reshape(len(idx), -1).argmax(1) == y).sum())
    return float_ok / n, int8_ok / n


VARIANT_NAMES = {
    "baseline": "baseline",
    "full": "FuSe Full",
    "half": "FuSe Half",
    "50full": "50 % Full",
    "50half": "50 % Half",
}


def _pct(values: list[float]) -> str:
    mean = 100 * statistics.mean(values)
    if len(values) < 2:
        return f"{mean:.2f} %"
    return f"{mean:.2f} ± {100 * statistics.stdev(values):.2f} %"


def summarize(paths: list[Path]) -> list[str]:
    """Markdown rows of the result CSVs, one per (network, variant), in first-seen order."""
    rows: dict[tuple[str, str, str], dict] = {}
    recipe = None
    for path in paths:
        with path.open(newline="") as f:
            for r in csv.DictReader(f):
                key = (r["epochs"], r["train_images"], r["test_images"])
                if recipe is None:
                    recipe = key
                elif key != recipe:
                    raise ValueError(f"{path}: row {r} has another recipe than {recipe}")
                rows[(r["network"], r["variant"], r["seed"])] = r
    groups: dict[tuple[str, str], list[dict]] = {}
    for (net, variant, _), r in rows.items():
        groups.setdefault((net, variant), []).append(r)
    out = [
        "| network (x0.5, 32x32) | variant | seeds | float test acc | int8 test acc | params | "
        "FLOPs | rtl speedup 16x16 (cycles) | rtl speedup 64x64 (cycles) | s/epoch |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (net, variant), rs in groups.items():
        rs.sort(key=lambda r: int(r["seed"]))
        plain = variant.removesuffix("+kd")
        name = VARIANT_NAMES.get(plain, plain)
        if variant.endswith("+kd"):
            name += " + distillation (baseline teacher)"
        first = rs[0]
        for col in ("params", "flops", "rtl_cycles_16x16", "rtl_cycles_64x64"):
            if any(r[col] != first[col] for r in rs):
                raise ValueError(f"{net} {variant}: {col} differs between seeds")
        out.append(
            f"| {net} | {name} | {', '.join(r['seed'] for r in rs)} "
            f"| {_pct([float(r['float_acc']) for r in rs])} "
            f"| {_pct([float(r['int8_acc']) for r in rs])} "
            f"| {int(first['params']) / 1e3:.0f} k | {int(first['flops']) / 1e6:.2f} M "
            f"| {float(first['rtl_speedup_16x16']):.2f}x ({int(first['rtl_cycles_16x16']):,}) "
            f"| {float(first['rtl_speedup_64x64']):.2f}x ({int(first['rtl_cycles_64x64']):,}) "
            f"| {statistics.mean(float(r['s_per_epoch']) for r in rs):.1f} |"
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nets", default="MobileNetV2,MobileNetV1,MnasNet")
    ap.add_argument("--variants", default="baseline,full,half,50full,50half")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--epochs", type=int, default=None, help="default: the cpu preset's (20)")
    ap.add_argument("--width-mult", type=float, default=0.5)
    ap.add_argument("--train-limit", type=int, default=None)
    ap.add_argument("--test-limit", type=int, default=None)
    ap.add_argument("--calib", type=int, default=256, help="training images for calibration")
    ap.add_argument(
        "--distill", default="", help="variants to train again with the baseline as teacher"
    )
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", type=Path, default=Path("build/train_fashion"))
    ap.add_argument(
        "--table", type=Path, nargs="+", default=None, help="print the table of these CSVs"
    )
    args = ap.parse_args()
    if args.table:
        print("\n".join(summarize(args.table)))
        return
    torch.set_num_threads(args.threads)
    seeds = [int(s) for s in args.seeds.split(",")]
    variants = [v for v in args.variants.split(",") if v]
    distill = [v for v in args.distill.split(",") if v]
    data = load_dataset("FASHIONMNIST", args.data_dir, 32, args.train_limit, args.test_limit)
    csv_path = args.out / "results.csv"
    args.out.mkdir(parents=True, exist_ok=True)
    new_file = not csv_path.exists()
    with csv_path.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        if new_file:
            writer.writeheader()
        for net in args.nets.split(","):
            jobs = [(v, None) for v in variants] + [(v, "baseline") for v in distill]
            for seed in seeds:
                runs: dict[str, TrainConfig] = {}
                for variant, teacher in jobs:
                    label = f"{variant}+kd" if teacher else variant
                    teacher_ckpt = None
                    if teacher:
                        if "baseline" not in runs:
                            raise ValueError("--distill needs 'baseline' in --variants")
                        teacher_ckpt = str(runs["baseline"].run_dir / "last.pt")
                    cfg = TrainConfig(
                        "FASHIONMNIST", net, variant,
                        f"{net}_{label}_w{args.width_mult:g}_s{seed}_e{args.epochs}"
                        f"_n{args.train_limit}",
                        runs_dir=str(args.out / "runs"), data_dir=args.data_dir, preset="cpu",
                        epochs=args.epochs, width_mult=args.width_mult, seed=seed,
                        threads=args.threads, train_limit=args.train_limit,
                        test_limit=args.test_limit, teacher=teacher_ckpt,
                    )  # fmt: skip
                    t0 = time.perf_counter()
                    history = run_one(cfg)
                    runs[label] = cfg
                    res = cfg.recipe().resolution
                    model = load_checkpoint(cfg.run_dir / "last.pt", ema=False)
                    float_acc, int8_acc = accuracies(model, data, res, args.calib)
                    cycles = rtl_cycles(model, cfg.variant, res)
                    base = build_model(cfg.network, "base", 10, cfg.width_mult)
                    base_cycles = rtl_cycles(base, "base", res)
                    row = {
                        "network": net,
                        "variant": label,
                        "seed": seed,
                        "epochs": len(history),
                        "train_images": len(data.train),
                        "test_images": len(data.test),
                        "float_acc": round(float_acc, 4),
                        "int8_acc": round(int8_acc, 4),
                        "params": sum(p.numel() for p in model.parameters()),
                        "flops": count_flops(model, torch.zeros(1, 3, res, res)).total,
                        "rtl_cycles_16x16": cycles[0],
                        "rtl_speedup_16x16": round(base_cycles[0] / cycles[0], 3),
                        "rtl_cycles_64x64": cycles[1],
                        "rtl_speedup_64x64": round(base_cycles[1] / cycles[1], 3),
                        "s_per_epoch": round(statistics.mean(h["seconds"] for h in history), 1),
                        "teacher": teacher_ckpt or "",
                    }
                    writer.writerow(row)
                    f.flush()
                    print(f"{row} ({time.perf_counter() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
