"""``fusesa train``: train a zoo network (baseline or FuSe variant) on local data (issue 12).

Flags follow the original ``traincifar224.py`` (``-D -N -n -v --resume``); the rest override the
recipe (``--preset imagenet|cpu``; default ``cpu`` for DIGITS and FASHIONMNIST, ``imagenet``
otherwise). Results
go to ``RUNS_DIR/RUN_NAME/``: ``last.pt``, ``metrics.csv``, ``metrics.json``, ``config.json``.
"""

from __future__ import annotations

import argparse
import sys

#: Spelled out so that building the parser never imports torch (a test keeps them in sync).
DATASETS = ("CIFAR10", "CIFAR100", "DIGITS", "FASHIONMNIST", "FOLDER")
NETWORKS = ("ResNet", "MobileNetV1", "MobileNetV2", "MobileNetV3S", "MobileNetV3L", "MnasNet")
VARIANTS = ("baseline", "half", "full", "50half", "50full")
PRESETS = ("imagenet", "cpu")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-D", "--dataset", required=True, help=f"one of {', '.join(DATASETS)}")
    p.add_argument("-N", "--net", required=True, help=f"one of {', '.join(NETWORKS)}")
    p.add_argument("-n", "--name", required=True, help="run name (directory under --runs-dir)")
    p.add_argument("-v", "--variant", required=True, help=f"one of {', '.join(VARIANTS)}")
    p.add_argument("--resume", action="store_true", help="continue from the run's last checkpoint")
    p.add_argument(
        "--data-dir",
        default=None,
        help="dataset directory (not needed for DIGITS; FASHIONMNIST defaults to "
        "/usr/share/datasets/fashion-mnist, from apt-get install dataset-fashion-mnist)",
    )
    p.add_argument("--runs-dir", default="runs", help="where run directories go (default runs)")
    p.add_argument("--preset", choices=PRESETS, default=None, help="training recipe")
    p.add_argument("--resolution", type=int, default=None, help="input size (e.g. 224, 32)")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--width-mult", type=float, default=1.0, help="channel width multiplier")
    p.add_argument("--lr", type=float, default=None, help="peak learning rate for the batch")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--max-steps", type=int, default=None, help="cap optimizer steps per epoch (smoke runs)"
    )
    p.add_argument(
        "--train-limit", type=int, default=None, help="train on the first N images only (smoke)"
    )
    p.add_argument(
        "--test-limit", type=int, default=None, help="evaluate on the first N test images only"
    )
    p.add_argument(
        "--teacher",
        default=None,
        metavar="CHECKPOINT",
        help="distil from this training checkpoint (e.g. the baseline's runs/NAME/last.pt)",
    )
    p.add_argument(
        "--distill-temperature", type=float, default=4.0, help="softening temperature T (4)"
    )
    p.add_argument(
        "--distill-weight",
        type=float,
        default=0.5,
        help="weight w of T^2 * KL; the cross-entropy gets 1 - w (0.5)",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("train", help="train a baseline or FuSe network on local data")
    add_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except ValueError as exc:  # user input errors: message names the culprit
        print(f"fusesa train: error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from sw.train import TrainConfig, train

    cfg = TrainConfig(
        dataset=args.dataset,
        network=args.net,
        variant=args.variant,
        run_name=args.name,
        runs_dir=args.runs_dir,
        data_dir=args.data_dir,
        preset=args.preset,
        epochs=args.epochs,
        batch_size=args.batch_size,
        resolution=args.resolution,
        width_mult=args.width_mult,
        seed=args.seed,
        lr=args.lr,
        threads=args.threads,
        max_steps=args.max_steps,
        train_limit=args.train_limit,
        test_limit=args.test_limit,
        teacher=args.teacher,
        distill_temperature=args.distill_temperature,
        distill_weight=args.distill_weight,
    )
    history = train(cfg, resume=args.resume, progress=not args.no_progress)
    if history:
        last = history[-1]
        print(
            f"{cfg.network} {cfg.variant} on {cfg.dataset}: test acc {last['test_acc']:.4f} "
            f"(EMA {last['ema_test_acc']:.4f}) after {last['epoch']} epochs; "
            f"checkpoint {cfg.run_dir / 'last.pt'}"
        )
    return 0
