"""``fusesa select``: the paper's greedy hybrid selection (``sw.models.select``) as a command.

Which blocks of a network become FuSe for a parameter budget, a latency budget or a fraction
of the blocks; prints the blocks (with their cycles as baseline and as FuSe) and the resulting
latency and parameters, and draws the Pareto frontier of selections (params vs cycles, exact:
every subset of blocks, since both add up per block) and the greedy order (0, 1, ... all
blocks), for FuSe Full and Half, as a PNG, with the zoo's variants and the chosen plan marked.
With a parameter budget it also prints the exact best plan within the greedy plan's
parameters when the greedy (largest saving first) misses it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fusesa.cmd_latency import MODES, NETWORKS


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "select",
        help="greedy FuSe block selection for a params/latency budget, + frontier PNG",
        description=__doc__,
    )
    p.add_argument("--net", required=True, choices=sorted(NETWORKS), help="zoo network")
    p.add_argument("--array", default="64x64", help="array size ROWSxCOLS (default 64x64)")
    p.add_argument("--variant", choices=("full", "half"), default="half", help="FuSe variant")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument(
        "--budget-params",
        metavar="P",
        help="most parameters allowed, e.g. 3600000 or 3.6M: the fastest greedy plan within it",
    )
    g.add_argument(
        "--budget-latency",
        metavar="L",
        help="most cycles allowed, e.g. 2000000 or 60%% (of the baseline on the same array): "
        "the fewest FuSe blocks that reach it",
    )
    g.add_argument("--fraction", type=float, metavar="F", help="FuSe on this fraction of blocks")
    p.add_argument("--mode", choices=MODES, default="rtl", help="latency model (default rtl)")
    p.add_argument(
        "--png", type=Path, default=None, help="frontier plot (default build/select/...)"
    )
    p.add_argument("--no-plot", action="store_true", help="no PNG")
    p.add_argument("--json", type=Path, default=None, help="write the selection as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except ValueError as exc:  # user input errors: message names the culprit
        print(f"fusesa select: error: {exc}", file=sys.stderr)
        return 2


def parse_count(text: str, what: str) -> int:
    """``"3600000"``, ``"3.6M"``, ``"3600k"`` -> 3600000; ValueError naming ``what`` otherwise."""
    t = str(text).strip()
    scale = {"k": 1e3, "m": 1e6, "g": 1e9}.get(t[-1:].lower(), 1.0)
    try:
        value = float(t[:-1] if scale != 1.0 else t) * scale
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ValueError(f"{what} must be a positive count like 3600000 or 3.6M, not {text!r}")
    return int(round(value))


def _run(args: argparse.Namespace) -> int:
    from sw.latency.table import parse_array, zoo_latency
    from sw.models.select import (
        block_costs,
        block_params,
        greedy_frontier,
        greedy_select,
        pareto_frontier,
    )
    from sw.models.shapes import build_meta

    rows, cols = parse_array(args.array)
    budget_cycles = budget_params = None
    fraction = args.fraction
    if args.budget_params is not None:
        budget_params = parse_count(args.budget_params, "--budget-params")
        fraction = None
    elif args.budget_latency is not None:
        text = args.budget_latency.strip()
        if text.endswith("%"):
            try:
                pct = float(text[:-1])
            except ValueError:
                pct = -1.0
            if not 0 < pct <= 100:
                raise ValueError(f"--budget-latency percentage must be in (0, 100], not {text!r}")
            base = zoo_latency(args.net, "base", rows, cols, "Systolic", args.mode).total
            budget_cycles = int(base * pct / 100)
        else:
            budget_cycles = parse_count(text, "--budget-latency")
        fraction = None
    elif fraction is not None and not 0 <= fraction <= 1:
        raise ValueError(f"--fraction must be in [0, 1], not {fraction!r}")
    sel = greedy_select(
        args.net,
        args.variant,
        fraction=fraction,
        budget_cycles=budget_cycles,
        arr_x=rows,
        arr_y=cols,
        mode=args.mode,
        budget_params=budget_params,
    )
    costs = block_costs(args.net, args.variant, rows, cols, args.mode)
    _, pb, pf = block_params(args.net, args.variant)
    names = build_meta(args.net, "base").block_names()
    goal = (
        f"params <= {budget_params:,}"
        if budget_params is not None
        else f"cycles <= {budget_cycles:,}"
        if budget_cycles is not None
        else f"{fraction:g} of the blocks"
    )
    print(
        f"{args.net} on {rows}x{cols} ({args.mode} model), FuSe-{args.variant} blocks for {goal}:"
    )
    print(f"{'block':>5s} {'module':16s} {'base cycles':>12s} {'FuSe cycles':>12s} "
          f"{'saving':>10s} {'d params':>9s}  FuSe")  # fmt: skip
    for c in costs:
        mark = "yes" if c.index in sel.chosen else ""
        print(
            f"{c.index + 1:5d} {names[c.index]:16s} {c.base_cycles:12,d} {c.fuse_cycles:12,d} "
            f"{c.saving:10,d} {pf[c.index] - pb[c.index]:+9,d}  {mark}"
        )
    chosen = [i + 1 for i in sel.chosen]
    print(f"FuSe blocks (1-based): {' '.join(map(str, chosen)) or 'none'} "
          f"({len(chosen)} of {len(costs)})")  # fmt: skip
    print(
        f"latency: {sel.cycles:,} cycles (baseline {sel.base_cycles:,}; speedup {sel.speedup:.3f}x)"
    )
    print(f"params:  {sel.params:,} (baseline {sel.base_params:,}; "
          f"{100 * (sel.params - sel.base_params) / sel.base_params:+.2f} %)")  # fmt: skip
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "network": args.net,
                    "array": f"{rows}x{cols}",
                    "mode": args.mode,
                    "variant": args.variant,
                    "goal": goal,
                    "fuse_blocks": chosen,
                    "plan": list(sel.plan),
                    "cycles": sel.cycles,
                    "base_cycles": sel.base_cycles,
                    "params": sel.params,
                    "base_params": sel.base_params,
                },
                indent=2,
            )
            + "\n"
        )
        print(f"wrote {args.json}")
    if not args.no_plot:
        png = args.png or Path("build/select") / f"{args.net}_{rows}x{cols}_{args.variant}.png"
        fronts = {
            v: (
                greedy_frontier(args.net, v, rows, cols, args.mode),
                pareto_frontier(args.net, v, rows, cols, args.mode),
            )
            for v in ("full", "half")
        }
        exact = fronts[args.variant][1]
        on = any(c == sel.cycles and p == sel.params for _, c, p in exact)
        better = [f for f in exact if f[2] <= sel.params and f[1] < sel.cycles]
        print(
            "the chosen plan is on the exact Pareto frontier of all "
            f"{2 ** len(costs):,} FuSe-{args.variant} selections"
            if on
            else "off the exact frontier: the best plan within its params has "
            f"{min(better, key=lambda f: f[1])[1]:,} cycles with blocks "
            + " ".join(str(i + 1) for i in min(better, key=lambda f: f[1])[0])
            if better
            else "the chosen plan is not dominated"
        )
        _plot(png, args, rows, cols, fronts, sel)
        print(f"wrote {png}")
    return 0


def _plot(png: Path, args, rows: int, cols: int, fronts, sel) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sw.latency.table import trace_model, zoo_latency
    from sw.models.zoo import VARIANT_LABELS, VARIANTS

    fig, ax = plt.subplots(figsize=(8, 5.5))
    for (v, (greedy, exact)), color in zip(fronts.items(), ("tab:blue", "tab:orange"), strict=True):
        ax.step(
            [p[2] / 1e6 for p in exact],
            [p[1] / 1e6 for p in exact],
            where="post",
            color=color,
            label=f"Pareto frontier, FuSe-{v} (all 2^{len(greedy) - 1} plans)",
        )
        ax.plot(
            [p[2] / 1e6 for p in greedy],
            [p[1] / 1e6 for p in greedy],
            "o--",
            color=color,
            ms=3,
            lw=0.8,
            alpha=0.7,
            label=f"greedy order, FuSe-{v}: 0..{len(greedy) - 1} blocks",
        )
    for v in VARIANTS:
        t = trace_model(args.net, v)
        cyc = zoo_latency(args.net, v, rows, cols, mode=args.mode).total
        ax.scatter(t.params / 1e6, cyc / 1e6, marker="x", color="k", zorder=3)
        ax.annotate(VARIANT_LABELS[v], (t.params / 1e6, cyc / 1e6), fontsize=7,
                    xytext=(4, 4), textcoords="offset points")  # fmt: skip
    ax.scatter(sel.params / 1e6, sel.cycles / 1e6, s=120, facecolors="none", edgecolors="r",
               zorder=4, label=f"chosen: {len(sel.chosen)} FuSe-{sel.variant} blocks")  # fmt: skip
    ax.set_xlabel("parameters (M)")
    ax.set_ylabel(f"Mcycles ({args.mode} model)")
    ax.set_title(f"{args.net} on {rows}x{cols}: FuSe block selections")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=120)
    plt.close(fig)
