"""Randomized regression of ArrayTop (hypothesis): configs 1..6 x 1..6 (taller-than-wide too),
operand widths 2..8, max_kernel 1..7, narrow accumulators, random GEMM shapes and FuSe line sets,
garbage in every don't-care cycle. The long run is ``benchmarks/fuzz.py --n 10000``."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hw.jobs import check_jobs, fuzz_case, random_config, random_jobs, run_jobs

_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


@_SETTINGS
@given(rows=st.integers(1, 6), cols=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_fuzz_array_jobs_match_golden_and_cycles(rows, cols, seed):
    rng = np.random.default_rng(seed)
    cfg = random_config(rng, rows, cols)
    jobs = random_jobs(cfg, rng, 2)
    run_jobs(cfg, jobs, rng)
    check_jobs(jobs)


def test_fuzz_fixed_seeds():
    """A few seeds of the long fuzzer (same generator) so CI replays them every run."""
    for seed in range(4):
        fuzz_case(seed)
