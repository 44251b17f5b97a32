"""FUSE commands on the accelerator top in the Amaranth simulator: FuSe folds run by the
sequencer, mixed with GEMM commands in one program (mode switches both ways); outputs == a
direct numpy correlation, ``cnt_total`` == ``sw.latency.rtl`` exactly; malformed FUSE words
raise ``error``."""

import numpy as np
import pytest

from hw import isa
from hw.config import ArrayConfig
from sw.latency.rtl import (
    ACCEL_COMMAND_OVERHEAD,
    accel_fuse_cycles,
    accel_gemm_cycles,
)
from sw.mapping.accel import ProgramBuilder, compile_gemms
from sw.ref import gemm_ref
from tests.hw.test_accel import SMALL, amaranth_accel


def lines_ref(lines, taps):
    """``y[l, j] = sum_k lines[l, j+k] * taps[l, k]`` by explicit loops (int64)."""
    L, W = lines.shape
    K = taps.shape[1]
    y = np.zeros((L, W - K + 1), dtype=np.int64)
    for i in range(L):
        for j in range(W - K + 1):
            y[i, j] = sum(int(lines[i, j + k]) * int(taps[i, k]) for k in range(K))
    return y


@pytest.mark.parametrize("array", [(1, 1), (2, 2), (3, 5), (6, 3), (4, 4)], ids=str)
def test_accel_fuse_and_gemm_program_exact(array):
    rows, cols = array
    cfg = ArrayConfig(rows=rows, cols=cols, max_kernel=5, **SMALL)
    rng = np.random.default_rng(rows * 10 + cols)
    b = ProgramBuilder(cfg)
    jobs = []  # (kind, operands, cycles)
    gx, gw = rng.integers(-128, 128, (5, rows + 1)), rng.integers(-128, 128, (rows + 1, cols + 1))
    for L, W, K in [(1, 1, 1), (2 * rows + 1, cols + 6, 3), (rows, 2 * cols + 4, 5)]:
        lines, taps = rng.integers(-128, 128, (L, W)), rng.integers(-128, 128, (L, K))
        b.fuse(lines, taps)
        jobs.append(("fuse", (lines, taps), accel_fuse_cycles(L, W - K + 1, K, rows, cols)))
        b.gemm(gx, gw)  # FuSe -> GEMM -> FuSe mode switches
        jobs.append(("gemm", (gx, gw), accel_gemm_cycles(5, rows + 1, cols + 1, rows, cols)))
    ext = np.full((rows, 7), -128), np.full((rows, 5), -128)
    b.fuse(*ext)
    jobs.append(("fuse", ext, accel_fuse_cycles(rows, 3, 5, rows, cols)))
    prog = b.build()
    acc, error, (total, busy, stall) = amaranth_accel(
        cfg, prog.act, prog.weight, prog.words, prog.acc_words_used
    )
    assert not error
    for y, (kind, ops, _) in zip(prog.outputs(acc), jobs, strict=True):
        ref = lines_ref(*ops) if kind == "fuse" else gemm_ref(*ops)
        np.testing.assert_array_equal(y, ref)
    assert total == sum(c for *_, c in jobs) + ACCEL_COMMAND_OVERHEAD
    assert total == busy + stall + ACCEL_COMMAND_OVERHEAD * (len(jobs) + 1)


def _fuse_word(**kw):
    return isa.encode(isa.Fuse(**{"k": 3, "groups": 1, "pfolds": 1, **kw}))


def _bad_fuse_words():
    k_lo, _ = isa.FUSE_FIELDS["k"]
    return {
        "zero-k": _fuse_word() & ~(((1 << 16) - 1) << k_lo),
        "k-over-max": _fuse_word() & ~(((1 << 16) - 1) << k_lo) | 8 << k_lo,
        "zero-groups": _fuse_word() & ~(((1 << 12) - 1) << isa.FUSE_FIELDS["groups"][0]),
        "act-range": _fuse_word(a_addr=SMALL["act_depth"] - 3),  # needs 2 + 3 - 1 = 4 words
        # flag bit 0 is `lines` (line addressing, malformed here without a CONV: a program
        # check); bits 1-3 are reserved
        "flags": _fuse_word() | 1 << (isa.FUSE_FIELDS["flags"][0] + 1),
    }


@pytest.mark.parametrize("case", sorted(_bad_fuse_words()))
def test_accel_malformed_fuse_sets_error(case):
    cfg = ArrayConfig(rows=2, cols=2, max_kernel=7, **SMALL)
    bad = _bad_fuse_words()[case]
    with pytest.raises(ValueError):
        isa.check_command(isa.decode(bad), cfg)
    x, w = np.ones((2, 2), dtype=np.int64), np.ones((2, 2), dtype=np.int64)
    prog = compile_gemms([(x, w)], cfg)
    words = prog.words[:-1] + [bad, isa.encode(isa.Halt())]
    acc, error, (total, _, _) = amaranth_accel(cfg, prog.act, prog.weight, words, 2)
    assert error
    assert total == accel_gemm_cycles(2, 2, 2, 2, 2) + ACCEL_COMMAND_OVERHEAD
    np.testing.assert_array_equal(prog.outputs(acc)[0], gemm_ref(x, w))


def test_accel_fuse_on_array_without_fuse_mode_is_an_error():
    cfg = ArrayConfig(rows=2, cols=2, fuse=False, **SMALL)
    with pytest.raises(ValueError, match="no FuSe mode"):
        isa.check_command(isa.Fuse(k=3), cfg)
    word = _fuse_word()
    _, error, (total, _, _) = amaranth_accel(cfg, {}, {}, [word, 0], 0)
    assert error and total == ACCEL_COMMAND_OVERHEAD
