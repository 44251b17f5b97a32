"""cocotb regression of the accelerator top on Icarus and Verilator: programs of several
multi-fold GEMMs loaded by backdoor, run to ``done`` with no per-cycle Python; outputs == numpy
exactly, hardware counters == ``sw.latency.rtl`` accelerator formulas exactly."""

from __future__ import annotations

import numpy as np
import pytest

from hw.config import DEPTH_FIELDS, ArrayConfig
from sim.accel import accel_gemm, accel_gemms
from sw.latency.rtl import (
    ACCEL_COMMAND_OVERHEAD,
    accel_gemm_cycles,
    accel_program_cycles,
    gemm_folds,
)
from sw.mapping.accel import MAX_DEPTH
from sw.ref import gemm_ref
from tests.conftest import sim_params

#: the one build per array that run_layer / run_network use (memories="shared")
DEPTHS = dict.fromkeys(DEPTH_FIELDS, MAX_DEPTH)
ARRAYS = [(1, 1), (2, 2), (3, 5), (6, 3), (4, 4)]


@pytest.mark.parametrize("simulator", sim_params())
@pytest.mark.parametrize("array", ARRAYS, ids=lambda a: f"{a[0]}x{a[1]}")
def test_accel_gemms_exact(simulator, array, require_simulator):
    require_simulator(simulator)
    rows, cols = array
    cfg = ArrayConfig(rows=rows, cols=cols, **DEPTHS)
    rng = np.random.default_rng(rows * 1000 + cols)
    shapes = [
        (1, 1, 1),
        (max(1, rows // 2), rows, cols),  # one tile, M below the period floor
        (7, 2 * rows + 1, cols),  # row folds: accumulated in hardware
        (5, rows, 3 * cols - 1),  # column folds, ragged last
        (13, 3 * rows - 2, 2 * cols + 1),  # both
        # M = 1 over row folds: on 1x1 one accumulator word is updated in consecutive cycles
        # (the RAM's read-new-data transparency is needed)
        (1, 3 * rows, cols),
    ]
    pairs = [
        (rng.integers(-128, 128, (M, K)), rng.integers(-128, 128, (K, N))) for M, K, N in shapes
    ]
    pairs.append((np.full((3, 2 * rows), -128), np.full((2 * rows, cols), -128)))
    shapes.append((3, 2 * rows, cols))
    run = accel_gemms(pairs, cfg, simulator)
    for y, (x, w) in zip(run.outputs, pairs, strict=True):
        np.testing.assert_array_equal(y, gemm_ref(x, w))
    assert run.cycles == accel_program_cycles(shapes, rows, cols)
    assert run.busy == sum(M * gemm_folds(K, N, rows, cols) for M, K, N in shapes)
    assert run.cycles == run.busy + run.stall + ACCEL_COMMAND_OVERHEAD * (len(shapes) + 1)


@pytest.mark.parametrize("simulator", sim_params())
def test_accel_gemm_single(simulator, require_simulator):
    require_simulator(simulator)
    cfg = ArrayConfig(rows=3, cols=5, **DEPTHS)
    rng = np.random.default_rng(7)
    x, w = rng.integers(-128, 128, (20, 8)), rng.integers(-128, 128, (8, 12))
    y, cycles = accel_gemm(x, w, cfg, simulator)
    np.testing.assert_array_equal(y, gemm_ref(x, w))
    assert cycles == accel_gemm_cycles(20, 8, 12, 3, 5) + ACCEL_COMMAND_OVERHEAD
