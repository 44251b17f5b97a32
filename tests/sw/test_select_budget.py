"""Greedy selection with a parameter budget, the exact Pareto frontier of selections and
``fusesa select``: predicted cycles and parameters equal those of the built model (counted by
torch, costed by the latency model), budgets are honoured, no greedy plan beats the frontier."""

import pytest
import torch

from fusesa.cli import main
from sw.latency import model_latency
from sw.models.select import greedy_frontier, greedy_select, pareto_frontier
from sw.models.zoo import build_with_plan


def _built(net, plan, x, y, mode):
    with torch.device("meta"):
        model = build_with_plan(net, plan)
    return model_latency(model, None, x, y, "FuSe", mode).total, sum(
        p.numel() for p in model.parameters()
    )


@pytest.mark.parametrize("variant", ["full", "half"])
def test_params_budget_is_honoured_and_counts_match_built_model(variant):
    budget = 2_990_000 if variant == "full" else 2_900_000
    sel = greedy_select(
        "mobilenet_v3_small", variant, budget_params=budget, arr_x=8, arr_y=8, mode="rtl"
    )
    assert sel.params <= budget
    assert _built("mobilenet_v3_small", sel.plan, 8, 8, "rtl") == (sel.cycles, sel.params)


def test_params_budget_below_any_plan_raises():
    with pytest.raises(ValueError, match="Parameter budget 1000 is below"):
        greedy_select("mobilenet_v3_small", "full", budget_params=1000, arr_x=8, arr_y=8)


def test_pareto_frontier_points_are_real_and_dominate_greedy():
    net, x, y = "mobilenet_v3_small", 8, 8
    front = pareto_frontier(net, "full", x, y, "rtl")
    assert [p for _, _, p in front] == sorted(p for _, _, p in front)
    assert all(
        a[1] > b[1] for a, b in zip(front, front[1:], strict=False)
    )  # strictly faster as params grow
    for chosen, cycles, params in (front[0], front[len(front) // 2], front[-1]):
        plan = ["full" if i in chosen else None for i in range(11)]
        assert _built(net, plan, x, y, "rtl") == (cycles, params)
    for _, cycles, params in greedy_frontier(net, "full", x, y, "rtl"):
        best = min(c for _, c, p in front if p <= params)
        assert best <= cycles


def test_cli_select_prints_blocks_and_writes_plot(tmp_path, capsys):
    png, js = tmp_path / "f.png", tmp_path / "s.json"
    rc = main(["select", "--net", "mobilenet_v3_small", "--array", "8x8", "--variant", "half",
               "--budget-latency", "80%", "--png", str(png), "--json", str(js)])  # fmt: skip
    out = capsys.readouterr().out
    assert rc == 0 and png.stat().st_size > 10_000
    assert "FuSe blocks (1-based):" in out
    import json

    doc = json.loads(js.read_text())
    assert doc["cycles"] <= int(doc["base_cycles"] * 0.8)
    plan = [doc["variant"] if i + 1 in doc["fuse_blocks"] else None for i in range(11)]
    assert _built("mobilenet_v3_small", plan, 8, 8, "rtl") == (doc["cycles"], doc["params"])


def test_cli_select_bad_budget_names_value(capsys):
    rc = main(["select", "--net", "mobilenet_v2", "--budget-params", "lots", "--no-plot"])
    assert rc == 2
    assert "--budget-params must be a positive count like 3600000 or 3.6M, not 'lots'" in (
        capsys.readouterr().err
    )
