"""``fusesa sweep``: paper-mode latency and speedup of the zoo over array sizes (paper Fig. 6-8):
a CSV of every cell plus PNG plots -- speedup vs array size per network, per-block speedup of
MobileNetV2 Full, and the operator-wise latency breakdown."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from fusesa.cmd_latency import MODES, add_clock_args


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("sweep", help="latency/speedup over array sizes, CSV + PNG")
    p.add_argument(
        "--sizes",
        default="8,16,32,64,128,256",
        help="comma-separated array sizes, N or RxC (default 8,16,32,64,128,256)",
    )
    p.add_argument("--networks", nargs="+", default=None, help="default: the 5 table networks")
    p.add_argument("--mode", choices=MODES, default="paper")
    p.add_argument("--out", type=Path, default=Path("build/sweep"), help="output directory")
    p.add_argument("--no-plots", action="store_true", help="write the CSV only")
    add_clock_args(p, synth_dir=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except ValueError as exc:  # user input errors: message names the culprit
        print(f"fusesa sweep: error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from sw.latency.table import parse_array, sweep_rows
    from sw.models.zoo import TABLE_NETWORKS

    sizes = [parse_array(s.strip()) for s in args.sizes.split(",") if s.strip()]
    networks = tuple(args.networks) if args.networks else TABLE_NETWORKS
    sizes, clocks = _clocks(args, sizes)
    rows = sweep_rows(sizes, networks, mode=args.mode, progress=True, clocks=clocks)
    args.out.mkdir(parents=True, exist_ok=True)
    csv_path = args.out / "sweep.csv"
    fields = sorted({k for r in rows for k in r}, key=lambda k: (k.startswith("cycles_"), k))
    fields = [f for f in ("arr_x", "arr_y", "network", "variant", "hardware") if f in fields] + [
        f for f in fields if f not in ("arr_x", "arr_y", "network", "variant", "hardware")
    ]
    with csv_path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, restval=0)
        writer.writeheader()
        writer.writerows(rows)
    print(f"{'array':>9s} " + " ".join(f"{n[:18]:>18s}" for n in networks) + "   (Full / Half)")
    for x, y in sizes:
        cells = []
        for n in networks:
            sp = {
                r["variant"]: r["speedup"]
                for r in rows
                if r["network"] == n and (r["arr_x"], r["arr_y"]) == (x, y)
            }
            cells.append(f"{sp['full']:8.2f} /{sp['half']:6.2f}   ")
        print(f"{x:>4d}x{y:<4d} " + " ".join(f"{c:>18s}" for c in cells))
    if clocks:
        print("speedup in time (Full / Half), each array at its own clock:")
        for x, y in sizes:
            cells = []
            for n in networks:
                sp = {
                    r["variant"]: r["speedup_time"]
                    for r in rows
                    if r["network"] == n and (r["arr_x"], r["arr_y"]) == (x, y)
                }
                cells.append(f"{sp['full']:8.2f} /{sp['half']:6.2f}   ")
            mhz = f"{clocks[x, y].base_mhz:g}/{clocks[x, y].fuse_mhz:g} MHz"
            print(f"{x:>4d}x{y:<4d} " + " ".join(f"{c:>18s}" for c in cells) + f"   {mhz}")
    print(f"wrote {csv_path}")
    if not args.no_plots:
        for path in _plots(rows, sizes, networks, args.out, args.mode):
            print(f"wrote {path}")
    return 0


def _clocks(args: argparse.Namespace, sizes: list[tuple[int, int]]):
    """Sizes to sweep and their clocks: ``--clock-mhz`` / ``--synth-json`` need a single size
    (Fmax depends on it); ``--synth-dir`` picks a report per size and skips sizes without."""
    from sw.latency.timing import Clocks, find_synth_report

    if args.clock_mhz is None and args.synth_json is None and args.synth_dir is None:
        return sizes, None
    if args.synth_dir is None:
        if len(sizes) != 1:
            flag = "--clock-mhz" if args.clock_mhz is not None else "--synth-json"
            raise ValueError(
                f"{flag} applies to a single array size, not {args.sizes!r}; "
                "use --synth-dir for several sizes"
            )
        ((x, y),) = sizes
        if args.clock_mhz is not None:
            return sizes, {(x, y): Clocks.from_arg(args.clock_mhz)}
        return sizes, {(x, y): Clocks.from_synth_json(args.synth_json, x, y)}
    clocks = {}
    for x, y in sizes:
        path = find_synth_report(args.synth_dir, x, y)
        if path is None:
            print(
                f"fusesa sweep: warning: no synth_{x}x{y}_*.json in {args.synth_dir}; "
                f"skipping {x}x{y}",
                file=sys.stderr,
            )
            continue
        clocks[x, y] = Clocks.from_synth_json(path, x, y)
    if not clocks:
        raise ValueError(
            f"No synthesis report for any of the sizes {args.sizes!r} in {str(args.synth_dir)!r}"
        )
    return list(clocks), clocks


def _plots(rows, sizes, networks, out: Path, mode: str) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sw.latency.table import zoo_latency
    from sw.models.select import block_costs
    from sw.models.zoo import NETWORKS, VARIANT_LABELS

    paths = []
    labels = [f"{x}x{y}" for x, y in sizes]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, variant in zip(axes, ("full", "half"), strict=True):
        for n in networks:
            sp = [
                next(
                    r["speedup"]
                    for r in rows
                    if r["network"] == n
                    and r["variant"] == variant
                    and (r["arr_x"], r["arr_y"]) == s
                )
                for s in sizes
            ]
            ax.plot(labels, sp, marker="o", label=NETWORKS[n][0])
        ax.set_title(f"{VARIANT_LABELS[variant]} vs baseline ({mode} model)")
        ax.set_xlabel("array size")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("speedup")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    paths.append(out / "speedup_vs_array.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)

    # Per-block speedup of MobileNetV2 Full at the largest swept size that is <= 64x64.
    x, y = max((s for s in sizes if s[0] * s[1] <= 64 * 64), default=sizes[0])
    costs = block_costs("mobilenet_v2", "full", x, y, mode)
    fig, ax = plt.subplots(figsize=(9, 3.5))
    ax.bar([str(c.index + 1) for c in costs], [c.base_cycles / c.fuse_cycles for c in costs])
    ax.set_xlabel("MobileNetV2 block")
    ax.set_ylabel("speedup")
    ax.set_title(f"MobileNetV2 Full FuSe per-block speedup, {x}x{y} ({mode} model)")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    paths.append(out / "mobilenet_v2_full_per_block.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)

    # Operator-wise breakdown: cycles by operator class, base / full / half, per network.
    kinds = ["conv", "pointwise", "depthwise", "fuse 1-D", "linear"]
    bars, stacks = [], {k: [] for k in kinds}
    for n in networks:
        for variant in ("base", "full", "half"):
            by_kind = zoo_latency(n, variant, x, y, mode=mode).by_kind()
            bars.append(f"{NETWORKS[n][0]} {variant}")
            for k in kinds:
                stacks[k].append(by_kind.get(k, 0) / 1e6)
    fig, ax = plt.subplots(figsize=(max(8, len(bars) * 0.6), 4.5))
    bottom = [0.0] * len(bars)
    for k in kinds:
        ax.bar(bars, stacks[k], bottom=bottom, label=k)
        bottom = [b + v for b, v in zip(bottom, stacks[k], strict=True)]
    ax.set_ylabel("Mcycles")
    ax.set_title(f"Operator-wise latency, {x}x{y} ({mode} model)")
    ax.tick_params(axis="x", labelsize=7, labelrotation=90)
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(out / "operator_breakdown.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    return paths
