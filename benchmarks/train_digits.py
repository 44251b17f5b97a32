"""Baseline vs FuSe on real data, on a CPU: train MobileNetV2 (and MobileNetV1) as baseline,
FuSe Full and FuSe Half on scikit-learn's 8x8 digits with the same recipe and seeds, and print
test accuracy, training time per epoch and the rtl-mode speedup on a 16x16 array.

    python benchmarks/train_digits.py                     # the table in docs/training.md
    python benchmarks/train_digits.py --nets MobileNetV2 --seeds 0 --epochs 5   # quick look

Runs go to ``build/train_digits/runs/`` (finished runs are reused, interrupted ones resumed);
the table is also written as JSON and CSV next to them. Latency: ``sw.latency`` rtl mode of
the trained models themselves (their width, 32x32 input, 10 classes) on the baseline array
('Systolic') and the FuSe array, plus the same at the paper's configuration (width 1.0,
224x224, 1000 classes) for comparison.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import time
from pathlib import Path

import torch

from sw.latency import model_latency
from sw.latency.table import parse_array, zoo_latency
from sw.train import TrainConfig, load_checkpoint, read_checkpoint, train


def run_one(cfg: TrainConfig) -> dict:
    path = cfg.run_dir / "last.pt"
    epochs = cfg.recipe().epochs
    done = int(read_checkpoint(path)["epoch"]) if path.exists() else 0
    if done < epochs:
        train(cfg, resume=done > 0, progress=False, log=None)
    history = read_checkpoint(path)["history"]
    last = history[-1]
    return {
        "test_acc": last["test_acc"],
        "ema_test_acc": last["ema_test_acc"],
        "seconds_per_epoch": statistics.mean(h["seconds"] for h in history),
    }


def latency(cfg: TrainConfig, arr: tuple[int, int]) -> tuple[int, int]:
    """rtl-mode cycles of the trained model and of the width-1.0 224x224 zoo model."""
    model = load_checkpoint(cfg.run_dir / "last.pt")
    res = int(model.train_meta["resolution"])
    hardware = "Systolic" if cfg.variant == "base" else "FuSe"
    small = model_latency(model, torch.zeros(1, 3, res, res), *arr, hardware, "rtl").total
    paper = zoo_latency(cfg.network, cfg.variant, *arr, hardware, "rtl").total
    return small, paper


def epoch_seconds(cfgs: list[TrainConfig], rounds: int = 5, steps: int = 3) -> list[float]:
    """Training seconds per DIGITS epoch of each config's network (median step time times the
    steps of an epoch), timed
    in interleaved rounds (A B C A B C ...) so that a changing machine load hits every network
    alike."""
    from sw.models.zoo import build_model
    from sw.train import load_dataset
    from sw.train.loop import epoch_generator, make_optimizer
    from sw.train.transforms import train_batch

    data = load_dataset("DIGITS")
    jobs = []
    for cfg in cfgs:
        recipe = cfg.recipe()
        torch.set_num_threads(cfg.threads)
        model = build_model(cfg.network, cfg.variant, 10, cfg.width_mult).train()
        idx = torch.arange(recipe.batch_size)
        x = train_batch(data.train.batch(idx), data, recipe.resolution, epoch_generator(0, 0))
        jobs.append((model, make_optimizer(model, recipe), x, data.train.labels[idx]))
    per_epoch = [len(data.train) // cfg.recipe().batch_size for cfg in cfgs]
    times: list[list[float]] = [[] for _ in cfgs]
    for _ in range(rounds):
        for i, (model, opt, x, y) in enumerate(jobs):
            t0 = time.perf_counter()
            for _ in range(steps):
                loss = torch.nn.functional.cross_entropy(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
            times[i].append((time.perf_counter() - t0) / steps)
    return [statistics.median(t) * n for t, n in zip(times, per_epoch, strict=True)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nets", default="MobileNetV2,MobileNetV1")
    ap.add_argument("--variants", default="baseline,full,half")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--epochs", type=int, default=None, help="default: the cpu preset's")
    ap.add_argument("--width-mult", type=float, default=0.5)
    ap.add_argument("--resolution", type=int, default=32)
    ap.add_argument("--array", default="16x16")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("build/train_digits"))
    args = ap.parse_args()
    arr = parse_array(args.array)
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    for net in args.nets.split(","):
        base_small = base_paper = None
        for variant in args.variants.split(","):
            results, cfg = [], None
            for seed in seeds:
                cfg = TrainConfig(
                    "DIGITS", net, variant, f"{net}_{variant}_w{args.width_mult:g}_s{seed}",
                    runs_dir=str(args.out / "runs"), preset="cpu", epochs=args.epochs,
                    resolution=args.resolution, width_mult=args.width_mult, seed=seed,
                    threads=args.threads,
                )  # fmt: skip
                results.append(run_one(cfg))
                print(f"  {net} {variant} seed {seed}: {results[-1]}", flush=True)
            assert cfg is not None
            small, paper = latency(cfg, arr)
            if cfg.variant == "base":
                base_small, base_paper = small, paper
            accs = [r["test_acc"] for r in results]
            emas = [r["ema_test_acc"] for r in results]
            params = sum(p.numel() for p in load_checkpoint(cfg.run_dir / "last.pt").parameters())
            rows.append(
                {
                    "network": net,
                    "variant": cfg.variant,
                    "params": params,
                    "seeds": len(seeds),
                    "test_acc_mean": statistics.mean(accs),
                    "test_acc_std": statistics.pstdev(accs),
                    "ema_test_acc_mean": statistics.mean(emas),
                    "seconds_per_epoch": statistics.mean(r["seconds_per_epoch"] for r in results),
                    "rtl_cycles": small,
                    "rtl_speedup": (base_small / small) if base_small else None,
                    "rtl_speedup_224_w1": (base_paper / paper) if base_paper else None,
                }
            )
    # Training time per epoch again, timed interleaved (epoch times above depend on the load
    # while each run happened to train).
    last_cfgs = [
        TrainConfig(
            "DIGITS",
            r["network"],
            r["variant"],
            "timing",
            preset="cpu",
            epochs=args.epochs,
            resolution=args.resolution,
            width_mult=args.width_mult,
            threads=args.threads,
        )  # fmt: skip
        for r in rows
    ]
    for r, sec in zip(rows, epoch_seconds(last_cfgs), strict=True):
        r["seconds_per_epoch_interleaved"] = sec
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
    with (args.out / "results.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    x, y = arr
    print(
        f"\n| network | variant | params | test acc (mean ± sd, {len(seeds)} seeds) | EMA acc | "
        f"s/epoch (runs) | s/epoch (interleaved) | rtl cycles {x}x{y} | rtl speedup {x}x{y} | same, 224 px width 1.0 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        sp = f"{r['rtl_speedup']:.2f}x" if r["rtl_speedup"] else "n/a"
        sp224 = f"{r['rtl_speedup_224_w1']:.2f}x" if r["rtl_speedup_224_w1"] else "n/a"
        print(
            f"| {r['network']} | {r['variant']} | {r['params'] / 1e3:.0f} k | "
            f"{100 * r['test_acc_mean']:.2f} ± {100 * r['test_acc_std']:.2f} % | "
            f"{100 * r['ema_test_acc_mean']:.2f} % | {r['seconds_per_epoch']:.2f} | "
            f"{r['seconds_per_epoch_interleaved']:.2f} | "
            f"{r['rtl_cycles']:,} | {sp} | {sp224} |"
        )


if __name__ == "__main__":
    main()
