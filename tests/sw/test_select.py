"""Greedy hybrid selector: its predicted latency equals an independent model_latency run, it is
never worse than the seed's hand-picked hybrids, and budgets are honoured."""

import itertools

import pytest
import torch

from sw.latency import model_latency
from sw.models.select import block_costs, greedy_select
from sw.models.shapes import build_meta
from sw.models.zoo import build_with_plan


def _latency_of_plan(net, plan, x=64, y=64):
    with torch.device("meta"):
        model = build_with_plan(net, plan)
    return model_latency(model, None, x, y, "FuSe").total


@pytest.mark.parametrize("net", ["mobilenet_v1", "mobilenet_v2", "mobilenet_v3_small"])
@pytest.mark.parametrize("variant", ["full", "half"])
def test_greedy_select_prediction_equals_built_model(net, variant):
    sel = greedy_select(net, variant, fraction=0.5)
    assert _latency_of_plan(net, sel.plan) == sel.cycles
    assert sum(p is not None for p in sel.plan) == len(sel.chosen)


@pytest.mark.parametrize(
    ("net", "hybrid"),
    [("mobilenet_v1", "full_hybrid"), ("mobilenet_v2", "half_hybrid"), ("mnasnet", "full_hybrid")],
)
def test_greedy_select_not_slower_than_seed_hybrid(net, hybrid):
    seed_model = build_meta(net, hybrid)
    k = sum(p is not None for p in seed_model.plan)
    seed_cycles = model_latency(seed_model, None, 64, 64, "FuSe").total
    sel = greedy_select(net, hybrid.split("_")[0], fraction=k / len(seed_model.plan))
    assert len(sel.chosen) == k
    assert sel.cycles <= seed_cycles


def test_greedy_select_is_optimal_against_brute_force_on_v3_small():
    # 11 blocks, choose 4: compare with every subset's latency from the block costs' additivity
    # checked by real model runs on a few random subsets.
    costs = block_costs("mobilenet_v3_small", "half")
    base = _latency_of_plan("mobilenet_v3_small", [None] * 11)
    for subset in [(0, 3), (1, 5, 9), (2, 4, 6, 8, 10)]:
        plan = ["half" if i in subset else None for i in range(11)]
        assert _latency_of_plan("mobilenet_v3_small", plan) == base - sum(
            costs[i].saving for i in subset
        )
    best = min(base - sum(costs[i].saving for i in s) for s in itertools.combinations(range(11), 4))
    assert greedy_select("mobilenet_v3_small", "half", fraction=4 / 11).cycles == best


def test_greedy_select_budget_uses_fewest_blocks():
    hybrid_cycles = model_latency(
        build_meta("mobilenet_v2", "full_hybrid"), None, 64, 64, "FuSe"
    ).total
    sel = greedy_select("mobilenet_v2", "full", budget_cycles=hybrid_cycles)
    assert sel.cycles <= hybrid_cycles
    assert len(sel.chosen) <= 9
    fewer = greedy_select("mobilenet_v2", "full", fraction=(len(sel.chosen) - 1) / 17)
    assert fewer.cycles > hybrid_cycles


def test_greedy_select_impossible_budget_raises():
    with pytest.raises(ValueError, match="budget 1000 cycles"):
        greedy_select("mobilenet_v2", "half", budget_cycles=1000)


def test_greedy_select_bad_fraction_raises():
    with pytest.raises(ValueError, match="not 1.5"):
        greedy_select("mobilenet_v1", "full", fraction=1.5)
