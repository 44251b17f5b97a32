"""Network-level fuzz, default-run slice: a few seeded random small quantized networks
(``tests/sim/netfuzz.py``) through ``sim.run_network`` on their random array shapes, bit-exact
with the golden executor and every layer's cycles == the ``sw.latency.rtl`` model. The long
run is ``python benchmarks/fuzz.py --networks N``."""

from __future__ import annotations

import pytest

from tests.conftest import import_or_skip

import_or_skip("torch")

#: seeds whose networks cover dense, depthwise, FuSe Full/Half, residual, max pool, global
#: pool and a flattened head on arrays 4x4, 2x2 and 1x3 (a few seconds each on Icarus)
SEEDS = [43, 48, 33]


@pytest.mark.icarus
def test_random_networks_bit_exact_with_model_cycles(require_simulator):
    from tests.sim.netfuzz import check_network, random_network

    require_simulator("icarus")
    kinds = set()
    for seed in SEEDS:
        case = random_network(seed)
        res = check_network(case, "icarus")
        kinds |= {r.mapping for r in res.accel_layers}
    assert kinds == {"gemm", "fuse", "fuse-packed", "depthwise-baseline"}
