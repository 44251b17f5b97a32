"""``fusesa dse``: the space file's errors, the memory-need formula against the compiler, and
runs on a real Dask ``LocalCluster`` of 2 worker processes (a tiny space completes; a worker
killed mid-run loses no result and the run reports the retried task; an interrupted run
resumes without recomputing anything)."""

from __future__ import annotations

import csv
import os
import signal
import time

import numpy as np
import pytest
import torch
from torch import nn

from dse.evaluate import layer_memory_words, task_key
from dse.run import DiskCache, execute, run_dse, tasks_of
from dse.space import parse_space

#: latency-only points (no synthesis): seconds per task, so the cluster tests stay short
TINY = {
    "name": "t",
    "arrays": ["2x2", "4x4"],
    "networks": ["mobilenet_v3_small"],
    "variants": ["base", "half"],
    "selections": [{"variant": "full", "fraction": 0.5}],
    "memory": [{"act_kib": 4096, "weight_kib": 512, "acc_kib": 4096}],
}


# --- the space file -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "match"),
    [
        ({"networks": ["mobilenet_v2"]}, "missing required key 'arrays'"),
        ({**TINY, "arrays": ["4x0"]}, r"arrays\[0\].*'4x0'"),
        ({**TINY, "networks": ["mobilenet_v9"]}, r"networks\[0\].*'mobilenet_v9'"),
        ({**TINY, "variants": ["quarter"]}, r"variants\[0\].*'quarter'"),
        ({**TINY, "arays": ["4x4"]}, "key 'arays'"),
        ({**TINY, "selections": [{"variant": "full"}]}, r"selections\[0\] needs exactly one"),
        (
            {**TINY, "selections": [{"variant": "full", "fraction": 2}]},
            r"selections\[0\].fraction must be a number in \[0, 1\], not 2",
        ),
        (
            {**TINY, "selections": [{"variant": "half", "budget_latency": "150%"}]},
            r"budget_latency must be a percentage.*'150%'",
        ),
        ({**TINY, "memory": [{"act_kib": 1, "weight_kib": 1}]}, r"memory\[0\] lacks 'acc_kib'"),
        ({**TINY, "latency_mode": "fast"}, "latency_mode must be one of .*'fast'"),
        ({**TINY, "library": "sky130"}, "library must be one of osu018.*'sky130'"),
        ({**TINY, "synthesis": {"method": "fast"}}, r"synthesis.method must be .*'fast'"),
        ({**TINY, "synthesis": {"period": 5}}, r"synthesis.period.*not a synthesis key"),
        ([1, 2], "mapping of keys"),
    ],
)
def test_space_errors_name_key_and_value(doc, match):
    with pytest.raises(ValueError, match=match):
        parse_space(doc, source="s.yaml")


def test_space_accuracy_table_joins_points(tmp_path):
    (tmp_path / "acc.csv").write_text(
        "network,variant,accuracy,source\nmobilenet_v3_small,half,0.9,digits run\n"
    )
    space = parse_space({**TINY, "accuracy": "acc.csv"}, base_dir=tmp_path)
    assert space.accuracy == {("mobilenet_v3_small", "half"): (0.9, "digits run")}
    (tmp_path / "bad.csv").write_text("network,variant,acc\nx,base,1\n")
    with pytest.raises(ValueError, match="needs the columns network, variant, accuracy"):
        parse_space({**TINY, "accuracy": "bad.csv"}, base_dir=tmp_path)


# --- memory need = what the compiler places -------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (nn.Conv2d(3, 5, 3, stride=2, padding=1, bias=False), (1, 3, 7, 6)),
        (nn.Conv2d(6, 9, 1, bias=False), (1, 6, 5, 5)),
        (nn.Conv2d(4, 4, 3, padding=1, groups=4, bias=False), (1, 4, 6, 5)),
        (nn.Conv2d(4, 4, (1, 3), stride=2, padding=(0, 1), groups=4, bias=False), (1, 4, 7, 9)),
        (nn.Conv2d(5, 5, (3, 1), padding=(1, 0), groups=5, bias=False), (1, 5, 6, 7)),
        (nn.Linear(11, 7, bias=False), (2, 11)),
    ],
    ids=["conv3x3s2", "pointwise", "dw3x3", "fuse1x3s2", "fuse3x1", "linear"],
)
@pytest.mark.parametrize(("rows", "cols"), [(2, 3), (4, 4)])
def test_memory_need_equals_compiled_program(layer, shape, rows, cols):
    from hw.config import ArrayConfig
    from sw.latency.paper import trace_layers
    from sw.mapping.accel import LayerSpec, compile_layers, unbounded

    rng = np.random.default_rng(7)
    x = rng.integers(-8, 8, size=shape)
    w = rng.integers(-8, 8, size=tuple(layer.weight.shape))
    (rec,) = trace_layers(nn.Sequential(layer), torch.zeros(shape))
    spec = LayerSpec(
        w,
        stride=getattr(layer, "stride", (1, 1)),
        padding=getattr(layer, "padding", (0, 0)),
        groups=getattr(layer, "groups", 1),
        linear=isinstance(layer, nn.Linear),
    )
    for fuse in (False, True):
        cfg = unbounded(ArrayConfig(rows=rows, cols=cols, fuse=fuse))
        prog = compile_layers([(spec, x)], cfg)
        want = prog.needs
        got = layer_memory_words(rec, rows, cols, "FuSe" if fuse else "Systolic")
        assert got == want


# --- on a real LocalCluster -----------------------------------------------------------------


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_dse_tiny_space_completes(client, tmp_path):
    from sw.latency.table import zoo_latency

    space = parse_space(TINY)
    rows, report, files = run_dse(space, tmp_path, client=client, progress=False)
    assert report.total == 6 and len(report.computed) == 6 and not report.failed
    assert {f.name for f in files} == {"results.csv", "results.json", "pareto_latency_params.png"}
    with (tmp_path / "results.csv").open() as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 6
    for r in table:
        if r["design"] in ("base", "half"):
            want = zoo_latency(
                "mobilenet_v3_small", r["design"], int(r["rows"]), int(r["cols"]), mode="rtl"
            )
            assert int(r["cycles"]) == want.total
        assert r["mem_fits"] in ("True", "False")
        assert r["accuracy"] == "" and r["energy_uj"] == ""  # no source given: left empty


def test_dse_interrupted_run_resumes_without_recomputing(client, tmp_path):
    space = parse_space({**TINY, "arrays": ["2x2", "3x3", "4x4"]})
    tasks = tasks_of(space)
    cache = DiskCache(tmp_path / "cache")

    class Interrupt(Exception):
        pass

    done = []

    def stop_after_two(key, value):
        done.append(key)
        if len(done) == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        execute(tasks, cache, client=client, progress=False, on_result=stop_after_two)
    assert sorted(p.stem for p in cache.root.glob("*.json")) == sorted(done)
    # the resumed run connects by address, as `fusesa dse --scheduler tcp://HOST:PORT` does
    results, report = execute(tasks, cache, scheduler=client.scheduler.address, progress=False)
    assert report.workers == 2
    assert sorted(report.cached) == sorted(done)
    assert sorted(report.computed) == sorted(set(tasks) - set(done))
    assert set(results) == set(tasks)
    again, report2 = execute(tasks, cache, client=client, progress=False)
    assert report2.computed == [] and len(report2.cached) == len(tasks)
    assert again == results


def test_dse_worker_killed_mid_run_loses_nothing(tmp_path):
    """A fresh cluster: its workers have not imported torch yet, so the first task on each
    takes seconds, and the worker running one is killed (SIGKILL) while it runs it."""
    from distributed import Client, LocalCluster

    space = parse_space(TINY)
    tasks = tasks_of(space)
    killed = []

    def kill_a_busy_worker(client, keys):
        pids = client.run(os.getpid)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            busy = [w for w, ks in client.processing().items() if set(ks) & set(keys)]
            if busy:
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append(busy[0])
                return
            time.sleep(0.02)

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        results, report = execute(
            tasks, DiskCache(tmp_path), client=client, progress=False, on_start=kill_a_busy_worker
        )
    assert killed
    assert set(results) == set(tasks) and not report.failed
    assert report.retried and all(n >= 1 for n in report.retried.values())
    assert set(report.retried) <= set(tasks)
    assert all(report.labels[k].startswith("latency mobilenet_v3_small ") for k in report.retried)
    assert report.to_dict()["retried_after_worker_death"]


def test_task_key_depends_on_spec():
    a = {
        "kind": "latency",
        "network": "mobilenet_v2",
        "design": "half",
        "rows": 4,
        "cols": 4,
        "mode": "rtl",
    }
    assert task_key(a) == task_key(dict(reversed(list(a.items()))))
    assert task_key(a) != task_key({**a, "rows": 8})
    assert task_key(a).startswith("latency-")


def test_cli_dse_malformed_space_names_key(tmp_path, capsys):
    from fusesa.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("arrays: [4x4]\nnetworks: [mobilenet_v2]\nvariants: [base, thirds]\n")
    assert main(["dse", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml: variants[1]: Unknown variant 'thirds'" in err
    bad.write_text("arrays: [4x4\n")
    assert main(["dse", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "is not valid YAML" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_dse_killed_process_resumes_without_recomputing(tmp_path):
    """``fusesa dse`` as a process (own LocalCluster), SIGKILLed with its workers once a few
    results are cached; the rerun computes only the rest."""
    import subprocess
    import sys

    import yaml

    doc = {**TINY, "arrays": ["2x2", "3x3", "4x4", "5x5"], "variants": ["base", "full", "half"]}
    space_file = tmp_path / "space.yaml"
    space_file.write_text(yaml.safe_dump(doc))
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "fusesa",
        "dse",
        str(space_file),
        "--out",
        str(out),
        "--no-progress",
    ]
    proc = subprocess.Popen(
        cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    cache = out / "cache"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list(cache.glob("*.json"))) < 3:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = sorted(p.stem for p in cache.glob("*.json"))
    tasks = tasks_of(parse_space(doc))
    assert 3 <= len(before) < len(tasks)
    results, report = execute(tasks, DiskCache(cache), workers=2, progress=False)
    assert sorted(report.cached) == before
    assert sorted(report.computed) == sorted(set(tasks) - set(before))
    assert set(results) == set(tasks) and not report.failed


@pytest.mark.slow
@pytest.mark.synth
def test_dse_with_synthesis_joins_area_fmax_and_never_resynthesizes(client, tmp_path):
    """A 2x2 space with synthesis (no power runs): the base point gets the base array's area and
    Fmax, the FuSe points the FuSe array's (as ``synth.flow.synth_variant`` reports them), the
    time is cycles / Fmax, and a second space sharing the cache synthesizes nothing."""
    from synth.tools import tools_available

    missing = tools_available()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"synthesis tools missing, but CI must run this test: {missing}")
        pytest.skip(missing)
    doc = {
        "arrays": ["2x2"],
        "networks": ["mobilenet_v3_small"],
        "variants": ["base", "half"],
        "synthesis": {"method": "flat", "period_ns": 10.0, "power": False},
    }
    cache = tmp_path / "cache"
    rows, report, files = run_dse(
        parse_space(doc), tmp_path / "a", client=client, cache_dir=cache, progress=False
    )
    assert len(report.computed) == 4 and not report.failed
    assert "pareto_latency_area.png" in {f.name for f in files}
    synth = {
        spec["fuse"]: DiskCache(cache).get(key)
        for key, spec in tasks_of(parse_space(doc)).items()
        if spec["kind"] == "synth"
    }
    for r in rows:
        s = synth[r["hardware"] == "FuSe"]
        assert r["area_um2"] == s["report"]["synth"]["area_um2"] > 0
        assert r["fmax_mhz"] == s["report"]["timing"]["fmax_mhz"] > 0
        assert r["time_us"] == round(r["cycles"] / r["fmax_mhz"], 4)
    assert synth[True]["area_um2"] > synth[False]["area_um2"]  # the FuSe mux and control
    _, report2, _ = run_dse(
        parse_space({**doc, "variants": ["full"]}),
        tmp_path / "b",
        client=client,
        cache_dir=cache,
        progress=False,
    )
    assert len(report2.computed) == 1  # only the new latency point; both syntheses cached
    assert all(not k.startswith("synth-") for k in report2.computed)


def test_dse_uses_existing_synth_reports(client, tmp_path):
    """``synthesis.reports``: a size with a ``fusesa synth`` report takes its area/Fmax/power as
    they are (no synthesis task); the time is cycles / that Fmax."""
    import json

    def variant(area, fmax, watts):
        return {
            "synth": {"area_um2": area, "cells": 10, "flops": 2},
            "timing": {"fmax_mhz": fmax, "wns_ns": 1.0},
            "power": {"gemm": {"total_w": watts}},
        }

    rep = {
        "rows": 2,
        "cols": 2,
        "method": "flat",
        "period_ns": 10.0,
        "variants": {"base": variant(1000.0, 250.0, 0.002), "fuse": variant(1100.0, 200.0, 0.003)},
    }
    (tmp_path / "synth_2x2_flat.json").write_text(json.dumps(rep))
    doc = {
        "arrays": ["2x2"],
        "networks": ["mobilenet_v3_small"],
        "variants": ["base", "half"],
        "synthesis": {"enabled": False, "reports": str(tmp_path)},
    }
    space = parse_space(doc)
    assert all(spec["kind"] == "latency" for spec in tasks_of(space).values())
    rows, report, files = run_dse(space, tmp_path / "out", client=client, progress=False)
    assert "pareto_latency_area.png" in {f.name for f in files}
    by = {r["design"]: r for r in rows}
    assert (by["base"]["area_um2"], by["base"]["fmax_mhz"]) == (1000.0, 250.0)
    assert (by["half"]["area_um2"], by["half"]["fmax_mhz"], by["half"]["power_gemm_mw"]) == (
        1100.0,
        200.0,
        3.0,
    )
    assert by["half"]["time_us"] == round(by["half"]["cycles"] / 200.0, 4)
    assert by["half"]["base_time_us"] == round(by["base"]["cycles"] / 250.0, 4)


def test_pareto_keeps_exactly_the_non_dominated_points():
    from dse.report import pareto

    pts = [(1, 5), (2, 3), (2, 4), (3, 3), (4, 1), (5, 2), (0.5, 9)]
    assert pareto(pts) == [6, 0, 1, 4]
    # accuracy is maximized: (cycles, accuracy)
    assert pareto([(1, 0.5), (2, 0.7), (3, 0.6), (4, 0.9)], maximize_y=True) == [0, 1, 3]
