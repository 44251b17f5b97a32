"""cocotb regression of REQUANT (the accelerator's output stage) on Icarus and Verilator: a
chain of GEMM layers compiled into ONE program (``sw.mapping.outstage.compile_chain``), loaded
by the bench top, run to ``done``. Each layer's GEMM reads the previous REQUANT's int8 output
from activation memory, so every layer's raw accumulator (read back) checks the previous
layer's on-chip requantization exactly; a final identity layer brings the last int8 output
back to the accumulator. ``cnt_total`` == ``sw.latency.rtl.accel_commands_cycles``."""

from __future__ import annotations

import numpy as np
import pytest

from hw.config import DEPTH_FIELDS, ArrayConfig
from sim.accel import AccelJob, run_programs
from sw.latency.rtl import accel_commands_cycles
from sw.mapping.accel import MAX_DEPTH
from sw.mapping.outstage import ChainLayer, NetBuilder, compile_chain
from sw.ref import quant as qref
from tests.conftest import sim_params
from tests.hw.test_accel_requant import golden_chain, random_chain

#: the one build per array that run_layer / run_network use (memories="shared")
DEPTHS = dict.fromkeys(DEPTH_FIELDS, MAX_DEPTH)


@pytest.mark.parametrize("simulator", sim_params())
@pytest.mark.parametrize(
    "array", [pytest.param((2, 2), marks=pytest.mark.slow), (3, 5)], ids=lambda a: f"{a[0]}x{a[1]}"
)
def test_accel_requant_chain_rtl_exact(simulator, array, require_simulator):
    require_simulator(simulator)
    rows, cols = array
    cfg = ArrayConfig(rows=rows, cols=cols, **DEPTHS)
    rng = np.random.default_rng(rows * 100 + cols)
    widths = [2 * rows + 3, 3 * cols + 1, 2 * cols - 1, 5]
    x, layers = random_chain(rng, 9, widths, [(0, 127), (-128, 127), (-20, 60)])
    n = widths[-1]
    ident = ChainLayer(np.eye(n, dtype=np.int64), np.zeros(n, np.int32), np.ones(n, np.float32))
    chain = compile_chain(x, [*layers, ident], cfg)
    prog = chain.program
    expect = accel_commands_cycles(prog.commands, rows, cols)
    job = AccelJob(
        "requant_chain", prog.act, prog.weight, prog.words, prog.acc_words_used, 4 * expect + 64
    )
    (res,) = run_programs([job], cfg, simulator)
    assert not res.error
    want = golden_chain(x, layers)
    accs = prog.outputs(res.acc)
    for li, layer in enumerate(layers):
        inp = x if li == 0 else want[li - 1]
        np.testing.assert_array_equal(accs[li][:, : layer.weight.shape[1]], inp @ layer.weight)
    np.testing.assert_array_equal(accs[-1][:, :n], want[-1])
    assert res.total == expect
    assert res.total == res.busy + res.stall + 2 * len(prog.commands)


@pytest.mark.parametrize("simulator", sim_params())
def test_accel_residual_block_rtl_exact(simulator, require_simulator):
    """GEMM+REQUANT, GEMM+REQUANT, ADD of the two, an identity layer reading the sum back
    into the accumulator: one program on 3x5, exact, cycles == model."""
    require_simulator(simulator)
    cfg = ArrayConfig(rows=3, cols=5, **DEPTHS)
    rng = np.random.default_rng(21)
    x, layers = random_chain(rng, 11, [7, 6, 6], [(0, 127), (-128, 127)])
    nb = NetBuilder(cfg)
    t0 = nb.linear(nb.input(x), layers[0])
    t1 = nb.linear(t0, layers[1])
    t2 = nb.add(t0, t1, 0.6, 0.45, (-128, 127))
    ident = ChainLayer(np.eye(6, dtype=np.int64), np.zeros(6, np.int32), np.ones(6, np.float32))
    nb.linear(t2, ident)
    prog = nb.build()
    expect = accel_commands_cycles(prog.commands, 3, 5)
    job = AccelJob(
        "residual", prog.act, prog.weight, prog.words, prog.acc_words_used, 4 * expect + 64
    )
    (res,) = run_programs([job], cfg, simulator)
    assert not res.error
    g0, g1 = golden_chain(x, layers)
    g2 = qref.add_requant(g0.astype(np.int8), g1.astype(np.int8), np.float32(0.6), np.float32(0.45))
    np.testing.assert_array_equal(prog.outputs(res.acc)[-1][:, :6], g2)
    assert res.total == expect
