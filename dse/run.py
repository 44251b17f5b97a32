"""Running a design space on Dask distributed, with an on-disk cache of every task's result.

``run_dse(space, out_dir, workers=2)`` starts a ``LocalCluster`` of ``workers`` single-threaded
worker processes (or connects to ``scheduler="tcp://HOST:PORT"``, or uses a given ``client``),
submits the tasks whose result is not cached yet (two syntheses per array size, base and FuSe
array, unless a ``fusesa synth`` report covers it; one latency task per array x network x
design), and writes each result to ``<cache>/<key>.json`` (atomically,
by the client, so workers need no shared disk) as soon as it arrives. A killed run therefore
loses only the tasks in flight, and a rerun submits only what is missing: nothing is computed
twice.

A worker that dies while running a task (killed, out of memory) is replaced by the cluster and
the scheduler re-runs its tasks elsewhere (Dask's ``allowed-failures``, 3 by default, before it
gives up with ``KilledWorker``); the run asks the scheduler how often each task was restarted
(``TaskState.suspicious``) and reports those tasks.

``combine`` joins the latency points with the synthesis of their array (the base array for
the baseline, the FuSe array for every FuSe design), the memory configurations and the
accuracy/energy tables into flat result rows.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dse.evaluate import run_task, task_key
from dse.space import Selection, Space

__all__ = ["DiskCache", "RunReport", "tasks_of", "execute", "combine", "sources", "run_dse"]


class DiskCache:
    """One JSON file per task key under ``root``; writes are atomic (temp file + rename)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.root / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            return json.loads(self.path(key).read_text())
        except (OSError, json.JSONDecodeError):
            return None

    def put(self, key: str, value: dict[str, Any]) -> None:
        tmp = self.root / f".{key}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(value, sort_keys=True) + "\n")
        os.replace(tmp, self.path(key))

    def __contains__(self, key: str) -> bool:
        return self.path(key).is_file()


def _design_spec(design: str | Selection) -> str | dict[str, Any]:
    return design if isinstance(design, str) else design.to_dict()


def _design_label(design: str | Selection) -> str:
    return design if isinstance(design, str) else design.label


def tasks_of(space: Space) -> dict[str, dict[str, Any]]:
    """Every task of the space, by key: two syntheses per array size (base and FuSe array, if
    enabled), one latency task per array x network x design."""
    tasks: dict[str, dict[str, Any]] = {}
    for rows, cols in space.arrays:
        s = space.synthesis
        if s is not None and s.enabled and synth_report_of(space, rows, cols) is None:
            for fuse in (False, True):
                spec = {
                    "kind": "synth",
                    "rows": rows,
                    "cols": cols,
                    "fuse": fuse,
                    "method": s.method,
                    "period_ns": s.period_ns,
                    "power": s.power,
                    "acc_width": s.acc_width,
                    "library": space.library,
                }
                tasks[task_key(spec)] = spec
        for network in space.networks:
            for design in space.designs:
                spec = {
                    "kind": "latency",
                    "network": network,
                    "design": _design_spec(design),
                    "rows": rows,
                    "cols": cols,
                    "mode": space.latency_mode,
                }
                tasks[task_key(spec)] = spec
    return tasks


@dataclass
class RunReport:
    """What a run did: tasks found in the cache, computed now, restarted after a worker died,
    failed (key -> error)."""

    total: int = 0
    cached: list[str] = field(default_factory=list)
    computed: list[str] = field(default_factory=list)
    retried: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    workers: int | str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "total_tasks": self.total,
            "cached": len(self.cached),
            "computed": len(self.computed),
            "retried_after_worker_death": {
                k: {"times": n, "task": self.labels.get(k, k)} for k, n in self.retried.items()
            },
            "failed": {
                k: {"error": e, "task": self.labels.get(k, k)} for k, e in self.failed.items()
            },
            "workers": self.workers,
            "seconds": round(self.seconds, 1),
        }


def synth_report_of(space: Space, rows: int, cols: int) -> Path | None:
    """The ``fusesa synth`` report of ``rows x cols`` in the space's ``synthesis.reports``
    directory (``sw.latency.timing.find_synth_report``: the only one, else the flat one)."""
    from sw.latency.timing import find_synth_report

    s = space.synthesis
    if s is None or s.reports is None:
        return None
    return find_synth_report(s.reports, rows, cols)


def _from_report(path: Path) -> dict[str, Any]:
    """A ``fusesa synth`` report in the shape of the two synthesis tasks' results."""
    from dse.evaluate import _compact_variant

    try:
        rep = json.loads(path.read_text())
        return {
            k: {
                **_compact_variant(rep["variants"][k]),
                "period_ns": rep["period_ns"],
                "method": f"{rep['method']} (report {path.name})",
            }
            for k in ("base", "fuse")
        }
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(
            f"Synthesis report {str(path)!r} is unreadable or incomplete: {exc!r}"
        ) from exc


def describe(spec: dict[str, Any]) -> str:
    """A task in words: ``latency mobilenet_v2 half 8x8`` / ``synth fuse 8x8 flat``."""
    size = f"{spec['rows']}x{spec['cols']}"
    if spec["kind"] == "synth":
        return f"synth {'fuse' if spec['fuse'] else 'base'} array {size} {spec['method']}"
    d = spec["design"]
    design = d if isinstance(d, str) else Selection(**d).label
    return f"latency {spec['network']} {design} {size}"


def _suspicious(dask_scheduler, keys: list[str]) -> dict[str, int]:
    """On the scheduler: how many times each task was running on a worker that died."""
    out = {}
    for k in keys:
        ts = dask_scheduler.tasks.get(k)
        if ts is not None and ts.suspicious:
            out[k] = int(ts.suspicious)
    return out


def execute(
    tasks: dict[str, dict[str, Any]],
    cache: DiskCache,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    client=None,
    progress: bool = True,
    on_result: Callable[[str, dict[str, Any]], None] | None = None,
    on_start: Callable[[Any, list[str]], None] | None = None,
) -> tuple[dict[str, dict[str, Any]], RunReport]:
    """Results of every task (from the cache or computed on the cluster) and the run report.
    ``on_result(key, result)`` is called after each computed result is cached; ``on_start``
    (client, keys submitted) right after submission (tests use both)."""
    t0 = time.perf_counter()
    report = RunReport(total=len(tasks))
    results: dict[str, dict[str, Any]] = {}
    missing = []
    for key in tasks:
        hit = cache.get(key)
        if hit is None:
            missing.append(key)
        else:
            results[key] = hit
            report.cached.append(key)
    if not missing:
        report.seconds = time.perf_counter() - t0
        return results, report

    from contextlib import nullcontext

    from distributed import as_completed

    from dse.cluster import open_client

    with nullcontext(client) if client is not None else open_client(workers, scheduler) as client:
        info = client.scheduler_info()
        report.workers = len(info.get("workers", {}))
        # synthesis first: it is the long pole, and latency tasks fill the gaps
        order = sorted(missing, key=lambda k: tasks[k]["kind"] != "synth")
        futures = [
            client.submit(run_task, tasks[k], key=f"fusesa-dse-{k}", pure=False) for k in order
        ]
        if on_start is not None:
            on_start(client, [f.key for f in futures])
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(futures), desc="dse", unit="task", file=sys.stderr)
        for fut in as_completed(futures):
            key = str(fut.key).removeprefix("fusesa-dse-")
            try:
                restarts = client.run_on_scheduler(_suspicious, keys=[fut.key])
            except Exception:  # a scheduler without this package cannot run the query
                restarts = {}
            if restarts:
                report.retried[key] = next(iter(restarts.values()))
                report.labels[key] = describe(tasks[key])
            try:
                value = fut.result()
            except Exception as exc:  # the task raised, or killed workers too often
                report.failed[key] = f"{type(exc).__name__}: {exc}"
                report.labels[key] = describe(tasks[key])
            else:
                cache.put(key, value)
                results[key] = value
                report.computed.append(key)
                if on_result is not None:
                    on_result(key, value)
            fut.release()
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
    report.seconds = time.perf_counter() - t0
    return results, report


def _synth_fields(synth: dict[str, Any] | None, hardware: str) -> dict[str, Any]:
    if synth is None:
        return {}
    v = synth["fuse" if hardware == "FuSe" else "base"]
    return {
        "fmax_mhz": v["fmax_mhz"],
        "area_um2": v["area_um2"],
        "cells": v["cells"],
        "power_gemm_mw": None if v["power_gemm_w"] is None else round(v["power_gemm_w"] * 1e3, 4),
        "power_fuse_mw": None if v["power_fuse_w"] is None else round(v["power_fuse_w"] * 1e3, 4),
        "synth_period_ns": v["period_ns"],
        "synth_method": v["method"],
    }


def combine(
    space: Space, tasks: dict[str, dict[str, Any]], results: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """One flat row per point (array x network x design x memory configuration)."""
    synth_of: dict[tuple[int, int], dict[str, Any]] = {}
    for key, spec in tasks.items():
        if spec["kind"] == "synth" and key in results:
            synth_of.setdefault((spec["rows"], spec["cols"]), {})[
                "fuse" if spec["fuse"] else "base"
            ] = results[key]
    synth_of = {k: v for k, v in synth_of.items() if len(v) == 2}
    for rows, cols in space.arrays:
        path = synth_report_of(space, rows, cols)
        if path is not None:
            synth_of[rows, cols] = _from_report(path)
    design_of = {}
    for design in space.designs:
        design_of[json.dumps(_design_spec(design), sort_keys=True)] = design
    rows_out = []
    for key, spec in tasks.items():
        if spec["kind"] != "latency":
            continue
        res = results.get(key)
        rows, cols = spec["rows"], spec["cols"]
        design = design_of[json.dumps(spec["design"], sort_keys=True)]
        variant = design if isinstance(design, str) else design.variant
        row: dict[str, Any] = {
            "array": f"{rows}x{cols}",
            "rows": rows,
            "cols": cols,
            "network": spec["network"],
            "design": _design_label(design),
            "variant": variant,
            "latency_mode": spec["mode"],
            "task": key,
        }
        if res is None or "error" in res:
            row["error"] = "not computed" if res is None else res["error"]
            rows_out.append(row)
            continue
        row |= {
            "hardware": res["hardware"],
            "cycles": res["cycles"],
            "base_cycles": res["base_cycles"],
            "speedup": res["speedup"],
            "params": res["params"],
            "flops": res["flops"],
            "chosen_blocks": " ".join(map(str, res.get("chosen_blocks", []))) or None,
        }
        synth = synth_of.get((rows, cols))
        row |= _synth_fields(synth, res["hardware"])
        if synth is not None:
            f = row["fmax_mhz"]
            base_f = synth["base"]["fmax_mhz"]
            row["time_us"] = round(res["cycles"] / f, 4)
            row["base_time_us"] = round(res["base_cycles"] / base_f, 4)
            row["speedup_time"] = round(row["base_time_us"] / row["time_us"], 6)
        acc = space.accuracy.get((spec["network"], variant)) if isinstance(design, str) else None
        row["accuracy"], row["accuracy_source"] = acc if acc else (None, None)
        en = (
            space.energy.get((spec["network"], variant, row["array"]))
            if isinstance(design, str)
            else None
        )
        row["energy_uj"], row["energy_source"] = en if en else (None, None)
        for k in ("act", "weight", "acc", "cmd"):
            row[f"mem_{k}_words"] = res[f"mem_{k}_words"]
        for k in ("act", "weight", "acc"):
            row[f"mem_{k}_kib"] = res[f"mem_{k}_kib"]
        if not space.memory:
            rows_out.append(row)
            continue
        for mem in space.memory:
            fits = (
                res["mem_act_kib"] <= mem.act_kib
                and res["mem_weight_kib"] <= mem.weight_kib
                and res["mem_acc_kib"] <= mem.acc_kib
            )
            rows_out.append(row | {"memory": mem.label, "mem_fits": fits})
    return rows_out


def sources(space: Space) -> dict[str, str]:
    """Where each group of columns comes from (``results.json``: ``sources``)."""
    mode = space.latency_mode
    out = {
        "cycles": f"sw.latency, mode {mode!r}"
        + (" (fusesa's accelerator top, each layer one program, exact)" if mode == "rtl" else ""),
        "params_flops": "the zoo model (1000 classes, 1x3x224x224), the table's FLOPs counter",
        "memory": "largest per-layer need when each layer runs as one accelerator program "
        "(sw.mapping.accel layout); the synthesized area excludes the memories",
    }
    s = space.synthesis
    if s is None:
        out["area_power_fmax"] = "none: synthesis disabled in the space file"
    else:
        out["area_power_fmax"] = (
            (
                f"synth.flow.synth_variant ({space.library}, {s.method}, {s.period_ns} ns target"
                + (", SAIF power at the target clock" if s.power else ", no power")
                + ")"
                if s.enabled
                else "no synthesis run"
            )
            + (
                f"; existing `fusesa synth` reports in {s.reports} where present"
                if s.reports
                else ""
            )
            + ": the base array for the baseline, the FuSe array for FuSe designs"
        )
    out["accuracy"] = (
        f"table {space.accuracy_file}" if space.accuracy_file else "none given: column left empty"
    )
    out["energy"] = (
        f"table {space.energy_file}"
        if space.energy_file
        else "none given (no `fusesa energy` in this checkout): column left empty"
    )
    return out


def run_dse(
    space: Space,
    out: str | Path,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    client=None,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    plots: bool = True,
    on_result: Callable[[str, dict[str, Any]], None] | None = None,
    on_start: Callable[[Any, list[str]], None] | None = None,
) -> tuple[list[dict[str, Any]], RunReport, list[Path]]:
    """Evaluate every point of ``space`` and write ``out/results.csv``, ``out/results.json``
    and the Pareto PNGs; the cache defaults to ``out/cache``. Returns (rows, report, files)."""
    from dse.report import plot_pareto, write_results

    out = Path(out)
    cache = DiskCache(cache_dir if cache_dir is not None else out / "cache")
    tasks = tasks_of(space)
    results, report = execute(
        tasks,
        cache,
        workers=workers,
        scheduler=scheduler,
        client=client,
        progress=progress,
        on_result=on_result,
        on_start=on_start,
    )
    rows = combine(space, tasks, results)
    meta = {
        "space": space.name,
        "run": report.to_dict(),
        "sources": sources(space),
        "synthesis": {
            f"{spec['rows']}x{spec['cols']} {'fuse' if spec['fuse'] else 'base'}": {
                k: v for k, v in results[key].items() if k != "report"
            }
            for key, spec in tasks.items()
            if spec["kind"] == "synth" and key in results
        },
    }
    files = list(write_results(rows, out, meta))
    if plots:
        files += plot_pareto(rows, out, space.name)
    return rows, report, files
