"""cocotb robustness bench of the accelerator's host streams on Icarus and Verilator
(``sim.tb_accel_stream``): programs loaded through ``load`` with seeded random input gaps,
results read through ``rd_req``/``rd_data`` under seeded random backpressure, a reset in the
middle of a running program, out-of-range loads and a malformed command. Outputs == numpy,
counters == ``sw.latency.rtl``, nothing lost or duplicated, no handshake violation."""

from __future__ import annotations

import numpy as np
import pytest

from hw import isa
from hw.config import ArrayConfig
from sim.accel_stream import StreamJob, program_loads, run_stream_jobs
from sw.latency.rtl import (
    ACCEL_COMMAND_OVERHEAD,
    accel_fuse_cycles,
    accel_gemm_cycles,
    accel_program_cycles,
)
from sw.mapping.accel import ProgramBuilder, compile_gemms
from sw.ref import gemm_ref
from tests.conftest import sim_params
from tests.hw.test_accel_fuse import lines_ref

# small, not powers of two: out-of-range addresses still fit the port widths
DEPTHS = dict(act_depth=60, weight_depth=40, acc_depth=50, cmd_depth=6)


def _gemm_prog(cfg, rng):
    R, C = cfg.rows, cfg.cols
    shapes = [(4, 2 * R + 1, C + 1), (3, R, 2 * C - 1)]
    pairs = [
        (rng.integers(-128, 128, (M, K)), rng.integers(-128, 128, (K, N))) for M, K, N in shapes
    ]
    refs = [gemm_ref(x, w) for x, w in pairs]
    return compile_gemms(pairs, cfg), refs, accel_program_cycles(shapes, R, C)


def _mixed_prog(cfg, rng):
    R, C = cfg.rows, cfg.cols
    b = ProgramBuilder(cfg)
    lines, taps = rng.integers(-128, 128, (R + 1, C + 4)), rng.integers(-128, 128, (R + 1, 3))
    x, w = rng.integers(-128, 128, (3, R + 1)), rng.integers(-128, 128, (R + 1, C))
    b.fuse(lines, taps)
    b.gemm(x, w)
    total = (
        accel_fuse_cycles(R + 1, C + 2, 3, R, C)
        + accel_gemm_cycles(3, R + 1, C, R, C)
        + ACCEL_COMMAND_OVERHEAD
    )
    return b.build(), [lines_ref(lines, taps), gemm_ref(x, w)], total


@pytest.mark.parametrize("simulator", sim_params())
@pytest.mark.parametrize("array", [(2, 2), (3, 2)], ids=lambda a: f"{a[0]}x{a[1]}")
def test_accel_streams_robust(simulator, array, require_simulator):
    require_simulator(simulator)
    rows, cols = array
    cfg = ArrayConfig(rows=rows, cols=cols, max_kernel=3, **DEPTHS)
    rng = np.random.default_rng(rows * 10 + cols)
    gemm, gemm_refs, gemm_total = _gemm_prog(cfg, rng)
    mixed, mixed_refs, mixed_total = _mixed_prog(cfg, rng)
    g_loads, m_loads = program_loads(gemm), program_loads(mixed)
    g_n, m_n = gemm.acc_words_used, mixed.acc_words_used

    # a good GEMM, then a GEMM word whose weights overrun weight_depth, writing over acc 0..
    x, w = rng.integers(-128, 128, (3, rows)), rng.integers(-128, 128, (rows, cols))
    one = compile_gemms([(x, w)], cfg)
    bad_cmd = isa.Gemm(m=3, kfolds=1, nfolds=1, w_addr=cfg.weight_depth - rows + 1)
    with pytest.raises(ValueError, match="w_addr"):
        isa.check_command(bad_cmd, cfg)
    bad_words = one.words[:-1] + [isa.encode(bad_cmd), isa.encode(isa.Halt())]
    bad_loads = program_loads(one)[: -len(one.words)]
    bad_loads += [isa.pack_load(isa.Target.CMD, a, v) for a, v in enumerate(bad_words)]

    jobs = [
        StreamJob("clean", g_loads, [(0, g_n)], seed=1),
        StreamJob("gaps", g_loads, [(0, g_n)], seed=2, valid_prob=0.4, ready_prob=0.3),
        StreamJob(
            "mixed", m_loads, [(m_n - 2, 2), (0, m_n)], seed=3, valid_prob=0.6, ready_prob=0.5
        ),
        # reset in the middle of the mixed program, rerun without reloading
        StreamJob(
            "reset",
            m_loads,
            [(0, m_n)],
            seed=4,
            valid_prob=0.7,
            ready_prob=0.6,
            reset_after=mixed_total // 2,
        ),
        # reset early in the mixed program, load the GEMM program over it, run that
        StreamJob(
            "reset-reload",
            m_loads,
            [(0, g_n)],
            seed=5,
            valid_prob=0.5,
            ready_prob=0.5,
            reset_after=7,
            reload=g_loads,
        ),
        # an address past act_depth between good words: rejected, start refused once
        StreamJob(
            "bad-load",
            g_loads[:3] + [isa.pack_load(isa.Target.ACT, cfg.act_depth, 1)] + g_loads[3:],
            [(0, 1)],
            seed=6,
        ),
        StreamJob("bad-command", bad_loads, [(0, 3)], seed=7, valid_prob=0.5, ready_prob=0.5),
        StreamJob("bad-read", g_loads, [(cfg.acc_depth - 1, 2), (0, g_n)], seed=8),
    ]
    res = {r.name: r for r in run_stream_jobs(jobs, cfg, simulator)}
    for r in res.values():
        assert r.violations == [], r.name
    # the monitor sampled while the programs ran: every cycle of each run, the cycle the
    # ``reset`` jobs' first run was cut short included
    for name, total in (("clean", gemm_total), ("gaps", gemm_total), ("mixed", mixed_total)):
        assert res[name].running_cycles == total, name
    assert res["reset"].running_cycles > mixed_total

    def check(name, prog, refs, total, words=None):
        r = res[name]
        assert not r.error and not r.host_error_before_start, name
        got = prog.outputs(r.words if words is None else words)
        for y, ref in zip(got, refs, strict=True):
            np.testing.assert_array_equal(y, ref, err_msg=name)
        assert r.total == total, name
        assert r.total == r.busy + r.stall + ACCEL_COMMAND_OVERHEAD * (len(prog.words)), name

    check("clean", gemm, gemm_refs, gemm_total)
    assert len(res["clean"].words) == g_n
    assert res["clean"].load_cycles == len(g_loads)  # one word per cycle without gaps
    # request cycle, one cycle of read latency, one word per cycle, the bench's 2 idle cycles
    assert res["clean"].read_cycles == 1 + 1 + g_n + 2
    check("gaps", gemm, gemm_refs, gemm_total)
    assert res["gaps"].load_cycles > len(g_loads)  # the gaps happened
    assert len(res["gaps"].words) == g_n  # nothing lost or duplicated (values checked above)
    r = res["mixed"]
    assert r.words[:2] == r.words[2 + m_n - 2 :]  # the partial read == the tail of the full one
    check("mixed", mixed, mixed_refs, mixed_total, r.words[2:])
    for name, prog, refs, total in (
        ("reset", mixed, mixed_refs, mixed_total),
        ("reset-reload", gemm, gemm_refs, gemm_total),
    ):
        assert res[name].after_reset == dict(
            running_before=1,
            running=0,
            done=0,
            error=0,
            host_error=0,
            cnt_total=0,
            cnt_busy=0,
            load_ready=1,
            rd_ready=1,
        ), name
        check(name, prog, refs, total)
    r = res["bad-load"]
    assert r.host_error_before_start and r.error and r.total == 0
    r = res["bad-command"]
    assert r.error and not r.host_error_before_start
    assert r.total == accel_gemm_cycles(3, rows, cols, rows, cols) + ACCEL_COMMAND_OVERHEAD
    np.testing.assert_array_equal(one.outputs(r.words)[0], gemm_ref(x, w))  # acc untouched
    r = res["bad-read"]
    assert r.host_error_end and not res["clean"].host_error_end
    assert not r.error and len(r.words) == g_n  # the bad request returned nothing
    check("bad-read", gemm, gemm_refs, gemm_total)
