"""Results of a DSE run: ``results.csv``, ``results.json`` and Pareto plots (PNG).

``pareto(points)`` keeps the points no other point beats on both axes (both minimized, or the
second maximized for accuracy). Plots, each only where its columns exist:

- ``pareto_latency_area.png``: time per inference at the synthesized Fmax (cycles without
  synthesis) vs array area;
- ``pareto_latency_params.png``: cycles vs parameters (always: both come from the model);
- ``pareto_latency_accuracy.png``: where an accuracy table gives a point's accuracy;
- ``pareto_energy_latency.png``: where an energy table gives a point's energy.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

__all__ = ["pareto", "write_results", "plot_pareto", "COLUMNS"]

#: CSV columns, in order (a run writes those that occur)
COLUMNS = (
    "array", "rows", "cols", "network", "design", "variant", "hardware", "latency_mode",
    "cycles", "base_cycles", "speedup", "fmax_mhz", "time_us", "base_time_us", "speedup_time",
    "area_um2", "cells", "power_gemm_mw", "power_fuse_mw", "synth_method", "synth_period_ns",
    "params", "flops", "chosen_blocks", "accuracy", "accuracy_source", "energy_uj",
    "energy_source", "memory", "mem_fits", "mem_act_kib", "mem_weight_kib", "mem_acc_kib",
    "mem_act_words", "mem_weight_words", "mem_acc_words", "mem_cmd_words", "error", "task",
)  # fmt: skip


def pareto(points: list[tuple[float, float]], maximize_y: bool = False) -> list[int]:
    """Indices of the non-dominated points (minimize x; minimize y, or maximize it), by x."""
    order = sorted(
        range(len(points)),
        key=lambda i: (points[i][0], -points[i][1] if maximize_y else points[i][1]),
    )
    keep, best = [], None
    for i in order:
        y = points[i][1]
        if best is None or (y > best if maximize_y else y < best):
            keep.append(i)
            best = y
    return keep


def write_results(rows: list[dict[str, Any]], out: Path, meta: dict[str, Any]) -> tuple[Path, Path]:
    """``out/results.csv`` (one row per point) and ``out/results.json`` (``meta`` + points)."""
    out.mkdir(parents=True, exist_ok=True)
    present = {k for r in rows for k in r}
    fields = [c for c in COLUMNS if c in present] + sorted(present - set(COLUMNS))
    csv_path = out / "results.csv"
    with csv_path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in fields})
    json_path = out / "results.json"
    json_path.write_text(json.dumps({**meta, "points": rows}, indent=1, sort_keys=False) + "\n")
    return csv_path, json_path


def _unique(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows without the memory dimension's repeats (one per task)."""
    seen, out = set(), []
    for r in rows:
        if r["task"] not in seen and "error" not in r:
            seen.add(r["task"])
            out.append(r)
    return out


def _scatter(ax, rows, xkey, ykey, xscale=1.0, yscale=1.0, maximize_y=False, label=None) -> None:
    """All points (colour = network, marker = design) and each network's Pareto front (dashed),
    its points annotated with ``label(row)``."""
    import matplotlib.pyplot as plt

    nets = sorted({r["network"] for r in rows})
    designs = ["base", "full", "half", "full_hybrid", "half_hybrid"]
    markers = dict(zip(designs, "osD^v", strict=True))
    colors = {n: plt.cm.tab10(i % 10) for i, n in enumerate(nets)}
    for n in nets:
        sub = [r for r in rows if r["network"] == n]
        pts = [(r[xkey] * xscale, r[ykey] * yscale) for r in sub]
        for r, (x, y) in zip(sub, pts, strict=True):
            ax.scatter(x, y, marker=markers.get(r["design"], "*"), color=colors[n], s=28, alpha=0.8)
        front = pareto(pts, maximize_y)
        ax.plot([pts[i][0] for i in front], [pts[i][1] for i in front], "--", color=colors[n], lw=1)
        if label is not None:
            for i in front:
                ax.annotate(
                    label(sub[i]), pts[i], fontsize=6, xytext=(3, 3), textcoords="offset points"
                )
        ax.scatter([], [], color=colors[n], marker="o", label=n)
    for d, m in markers.items():
        if any(r["design"] == d for r in rows):
            ax.scatter([], [], color="grey", marker=m, label=d)
    if any(r["design"] not in markers for r in rows):
        ax.scatter([], [], color="grey", marker="*", label="greedy selection")
    ax.plot([], [], "k--", lw=1, label="Pareto front (per network)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6)


def _per_array(rows, plt, title, draw):
    """One panel per array size; ``draw(ax, rows_of_that_size)``."""
    sizes = sorted({(r["rows"], r["cols"]) for r in rows})
    n = len(sizes)
    ncol = min(n, 3)
    nrow = (n + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(6 * ncol, 4.8 * nrow), squeeze=False)
    for ax, (r_, c_) in zip(axes.flat, sizes, strict=False):
        draw(ax, [r for r in rows if (r["rows"], r["cols"]) == (r_, c_)])
        ax.set_title(f"{r_}x{c_}", fontsize=10)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle(title)
    return fig


def plot_pareto(rows: list[dict[str, Any]], out: Path, title: str) -> list[Path]:
    """The Pareto PNGs whose data exist (see the module docstring); returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = _unique(rows)
    paths = []

    def save(fig, name):
        fig.tight_layout()
        paths.append(out / name)
        fig.savefig(paths[-1], dpi=120)
        plt.close(fig)

    if not rows:
        return paths
    timed = [r for r in rows if r.get("area_um2") is not None]
    if timed:
        fig, ax = plt.subplots(figsize=(8, 5.5))
        ykey = "time_us" if all(r.get("time_us") is not None for r in timed) else "cycles"
        _scatter(
            ax, timed, "area_um2", ykey, xscale=1e-6, label=lambda r: f"{r['array']} {r['design']}"
        )
        ax.set_xlabel("array area (mm², osu018)")
        ax.set_ylabel("time per inference (us) at Fmax" if ykey == "time_us" else "cycles")
        ax.set_yscale("log")
        ax.set_title(f"{title}: latency vs area")
        save(fig, "pareto_latency_area.png")
    mode = rows[0]["latency_mode"]

    def params_panel(ax, sub):
        _scatter(ax, sub, "params", "cycles", xscale=1e-6, label=lambda r: r["design"])
        ax.set_xlabel("parameters (M)")
        ax.set_ylabel(f"cycles ({mode} model)")
        ax.set_yscale("log")

    save(
        _per_array(rows, plt, f"{title}: latency vs parameters", params_panel),
        "pareto_latency_params.png",
    )
    acc = [r for r in rows if r.get("accuracy") is not None]
    if acc:
        ykey = "time_us" if all(r.get("time_us") is not None for r in acc) else "cycles"

        def acc_panel(ax, sub):
            _scatter(ax, sub, ykey, "accuracy", maximize_y=True, label=lambda r: r["design"])
            ax.set_xlabel("time per inference (us)" if ykey == "time_us" else "cycles")
            ax.set_ylabel("accuracy (source: see results.csv)")
            ax.set_xscale("log")

        save(
            _per_array(acc, plt, f"{title}: accuracy vs latency", acc_panel),
            "pareto_latency_accuracy.png",
        )
    en = [r for r in rows if r.get("energy_uj") is not None]
    if en:
        fig, ax = plt.subplots(figsize=(8, 5.5))
        ykey = "time_us" if all(r.get("time_us") is not None for r in en) else "cycles"
        _scatter(ax, en, ykey, "energy_uj", label=lambda r: f"{r['array']} {r['design']}")
        ax.set_xlabel("time per inference (us)" if ykey == "time_us" else "cycles")
        ax.set_ylabel("energy per inference (uJ)")
        ax.set_xscale("log")
        ax.set_title(f"{title}: energy vs latency")
        save(fig, "pareto_energy_latency.png")
    return paths
