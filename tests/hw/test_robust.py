"""Robustness of ArrayTop in the Amaranth simulator: random garbage on every don't-care
input, random legal idle gaps, GEMM and FuSe jobs back to back, a reset in the middle of a job;
every job bit-exact against numpy and cycle-exact against ``sw.latency.rtl``."""

from __future__ import annotations

import numpy as np
import pytest

from hw.config import ArrayConfig
from tests.hw.jobs import fuse_job, gemm_job, random_operands, run_jobs


def _random_jobs(cfg, rng, n, kinds=("gemm", "fuse")):
    jobs = []
    for _ in range(n):
        kind = kinds[int(rng.integers(len(kinds)))] if cfg.fuse else "gemm"
        if kind == "gemm":
            M, Kr, N = (int(v) for v in rng.integers(1, 2 * max(cfg.rows, cfg.cols) + 1, 3))
            x = random_operands(rng, (M, Kr), cfg.act_width)
            w = random_operands(rng, (Kr, N), cfg.weight_width)
            jobs.append(gemm_job(cfg, x, w))
        else:
            K = int(rng.integers(1, cfg.max_kernel + 1))
            L = int(rng.integers(1, 2 * cfg.rows + 1))
            width = K - 1 + int(rng.integers(1, 2 * cfg.cols + 2))
            lines = random_operands(rng, (L, width), cfg.act_width)
            taps = random_operands(rng, (L, K), cfg.weight_width)
            jobs.append(fuse_job(cfg, lines, taps))
    return jobs


def _check(jobs):
    for i, j in enumerate(jobs):
        if j.abort_at is not None:
            continue
        np.testing.assert_array_equal(j.result, j.golden, err_msg=f"job {i} ({j.kind})")
        assert j.cycles == j.model_cycles, f"job {i} ({j.kind}): {j.cycles} != {j.model_cycles}"


SHAPES = [(2, 3), (3, 2), (3, 3), (1, 4), (4, 1)]


@pytest.mark.parametrize("rows, cols", SHAPES)
def test_robust_mixed_jobs_with_garbage_and_gaps(rows, cols):
    cfg = ArrayConfig(rows=rows, cols=cols, max_kernel=4)
    rng = np.random.default_rng(rows * 10 + cols)
    jobs = run_jobs(cfg, _random_jobs(cfg, rng, 5), rng)
    _check(jobs)


def test_robust_fuse_folds_back_to_back_with_garbage_taps():
    """Multi-fold FuSe jobs: the next fold streams while the previous one drains, so a tap
    that is not zeroed in SHIFT cycles multiplies real data (issue 13's tap-zeroing bug)."""
    cfg = ArrayConfig(rows=2, cols=2, max_kernel=3)
    rng = np.random.default_rng(13)
    jobs = [fuse_job(cfg, rng.integers(-128, 128, (4, 8)), rng.integers(-128, 128, (4, 3)))]
    jobs.append(fuse_job(cfg, rng.integers(-128, 128, (3, 5)), rng.integers(-128, 128, (3, 2))))
    _check(run_jobs(cfg, jobs, rng))


def test_robust_plain_array_gemm_with_garbage():
    cfg = ArrayConfig(rows=3, cols=2, fuse=False)
    rng = np.random.default_rng(7)
    _check(run_jobs(cfg, _random_jobs(cfg, rng, 4), rng))


@pytest.mark.parametrize("kind", ["gemm", "fuse"])
def test_robust_reset_mid_job_then_clean_rerun(kind):
    cfg = ArrayConfig(rows=3, cols=3, max_kernel=3)
    rng = np.random.default_rng(99)
    make = _random_jobs(cfg, rng, 1, kinds=(kind,))[0]
    aborted = _random_jobs(cfg, rng, 1, kinds=(kind,))[0]
    aborted.abort_at = max(2, aborted.length // 2)
    other = _random_jobs(cfg, rng, 1, kinds=("fuse" if kind == "gemm" else "gemm",))[0]
    jobs = run_jobs(cfg, [aborted, make, other], rng)
    _check(jobs)


def test_robust_clean_and_garbage_runs_agree():
    """The same jobs with zeros or garbage in the don't-care cycles give identical results."""
    cfg = ArrayConfig(rows=2, cols=3, max_kernel=3)
    a = _random_jobs(cfg, np.random.default_rng(5), 4)
    b = _random_jobs(cfg, np.random.default_rng(5), 4)
    run_jobs(cfg, a, np.random.default_rng(1), garbage=False, max_gap=0)
    run_jobs(cfg, b, np.random.default_rng(2), garbage=True)
    for ja, jb in zip(a, b, strict=True):
        np.testing.assert_array_equal(ja.result, jb.result)
        assert ja.cycles == jb.cycles
