"""Bounded proofs (SymbiYosys, smtbmc + z3) of the PE and the array top.

Default run (``-m formal``, part of the normal run): a few seconds each, reduced operand widths
where the arithmetic would dominate the solver; ``slow`` repeats them at int8 and deeper.
"""

from __future__ import annotations

import os

import pytest
from amaranth import Module, Signal
from amaranth.hdl import Cover
from amaranth.lib import wiring
from amaranth.lib.wiring import In

from hw.config import ArrayConfig
from tests.formal.harness import FuseFoldHarness, GemmMiter, PeHarness
from tests.formal.harness_accel import (
    AccelFuseHarness,
    AccelHarness,
    done_bound,
    max_run_cycles,
)
from tests.formal.sby import formal_tools_missing, run_bmc, run_cover

if formal_tools_missing() and os.environ.get("CI"):  # CI installs every tool
    pytest.fail(
        f"{formal_tools_missing()} is not installed, but CI must run the proofs", pytrace=False
    )

pytestmark = [
    pytest.mark.formal,
    pytest.mark.skipif(
        formal_tools_missing() is not None, reason=f"{formal_tools_missing()} not installed"
    ),
]


def _prove(name, harness, depth):
    result = run_bmc(name, harness, depth)
    assert result.passed, result.summary()


@pytest.mark.parametrize("fuse", [True, False], ids=["fuse", "ws"])
@pytest.mark.parametrize(
    "widths",
    [(4, 4, 12, 3), pytest.param((8, 8, 32, 7), marks=pytest.mark.slow)],
    ids=lambda w: f"a{w[0]}w{w[1]}acc{w[2]}k{w[3]}",
)
def test_formal_pe_matches_op_semantics(fuse, widths):
    """Every op (GEMM with swaps and shadow writes, FIRST/ACC/HOLD/SHIFT) in any order."""
    a, w, acc, k = widths
    cfg = ArrayConfig(1, 1, act_width=a, weight_width=w, acc_width=acc, max_kernel=k, fuse=fuse)
    _prove(f"pe_{cfg.name}", PeHarness(cfg), 8)


@pytest.mark.parametrize("n", [2, 3])
def test_formal_fuse_array_equals_plain_array_in_gemm_mode(n):
    """Miter of ArrayTop(fuse=True, mode=GEMM, op/tap free) and ArrayTop(fuse=False)."""
    cfg = ArrayConfig(n, n)
    _prove(f"miter_{cfg.name}", GemmMiter(cfg), n + n + 6)


@pytest.mark.slow
@pytest.mark.parametrize("shape", [(2, 3), (3, 2), (4, 4)])
def test_formal_gemm_miter_deep(shape):
    cfg = ArrayConfig(*shape)
    _prove(f"miter_deep_{cfg.name}", GemmMiter(cfg), 3 * (shape[0] + shape[1]) + 8)


def _fold(folds, a, w, K):
    cfg = ArrayConfig(2, 3, act_width=a, weight_width=w, max_kernel=K)
    h = FuseFoldHarness(cfg, K, folds)
    _prove(f"fold{folds}_{cfg.name}", h, h.depth)


def test_formal_fuse_fold_computes_correlation():
    """One 2x3 fold, K=2, 3-bit operands: symbolic data/taps, garbage in don't-care cycles."""
    _fold(1, 3, 3, 2)


@pytest.mark.slow
# int8 operands: z3 did not finish the 3-product equivalence in 5 minutes (see docs)
@pytest.mark.parametrize("folds, a, w, K", [(1, 4, 4, 3), (2, 3, 3, 3)])
def test_formal_fuse_fold_wide(folds, a, w, K):
    _fold(folds, a, w, K)


# -- accelerator top: sequencer/buffer safety, error, run length, done bound, host streams --
# Memories are tiny and not powers of two (an unwrapped address past a depth is representable);
# memories are mapped to flip-flops (``memory_map``), which z3 handles faster than arrays.


def _accel_cfg(shape, fuse, depths):
    return ArrayConfig(
        *shape, act_width=2, weight_width=2, acc_width=8, max_kernel=2, fuse=fuse, **depths
    )


def _accel(shape, fuse, depths, depth=None, bound=None, expect_pass=True):
    cfg = _accel_cfg(shape, fuse, depths)
    # the program can be loaded in the start cycle: start + the done bound + 2 spare cycles
    depth = depth or done_bound(cfg) + 3
    result = run_bmc(
        f"accel_{cfg.accel_name}_{depth}" + (f"_bound{bound}" if bound is not None else ""),
        AccelHarness(cfg, bound=bound),
        depth,
        timeout=3600,
        script="memory_map; opt",
    )
    if expect_pass:
        assert result.passed, result.summary()
    return result


#: the default accelerator proof's configuration (1x1 plain, one command word)
ONE_COMMAND = dict(act_depth=2, weight_depth=1, acc_depth=2, cmd_depth=1)


def test_formal_accelerator_one_command():
    """Properties 1-7 of ``tests.formal.harness_accel`` (any host behaviour: free reset,
    start, load words, read requests, backpressure) on a 1x1 plain array with a one-word
    command memory, deep enough for one whole command: start, FETCH, DECODE, the longest RUN
    (``max_run_cycles``) and the next FETCH, so every command's RUN length is checked."""
    cfg = _accel_cfg((1, 1), False, ONE_COMMAND)
    # ``since`` reaches the bound at step ``done_bound + 1`` (start in step 0): the first depth
    # at which a run one cycle longer than the bound fails ``done_bound``
    depth = done_bound(cfg) + 2
    assert depth >= 1 + 2 + max_run_cycles(cfg) + 1  # and one whole command fits
    _accel((1, 1), False, ONE_COMMAND, depth=depth)


def _fuse_accel(rows, cols, K, groups, pfolds):
    W = pfolds * cols + K - 1
    cfg = ArrayConfig(
        rows,
        cols,
        act_width=3,
        weight_width=3,
        acc_width=8,
        max_kernel=K,
        act_depth=groups * W,
        weight_depth=groups * K,
        acc_depth=groups * pfolds * rows,
        cmd_depth=2,
    )
    return cfg, AccelFuseHarness(cfg, K, groups, pfolds)


@pytest.mark.parametrize("rows, cols, K, groups, pfolds", [(2, 2, 2, 1, 2)], ids=["2x2-K2-g1-pf2"])
def test_formal_accelerator_fuse_command(rows, cols, K, groups, pfolds):
    """One FUSE command on a 2x2 FuSe accelerator, symbolic lines and taps (3-bit): the
    results in the accumulator memory are the 1-D correlation, ``done`` comes exactly after
    the documented cycle count. Two position folds: the second fold streams while the first
    drains."""
    cfg, h = _fuse_accel(rows, cols, K, groups, pfolds)
    result = run_bmc(f"accel_fuse_{cfg.accel_name}", h, h.depth, script="memory_map; opt")
    assert result.passed, result.summary()
    # every cover is reachable by the first result word's read
    _covers(f"accel_fuse_{cfg.accel_name}", h, h.done_step + 2, "memory_map; opt")


@pytest.mark.slow
def test_formal_accelerator_done_bound_can_fail():
    """The same proof with the asserted bound one cycle lower fails, on ``done_bound``: the
    longest run does reach the bound within the default depth."""
    cfg = _accel_cfg((1, 1), False, ONE_COMMAND)
    result = _accel(
        (1, 1), False, ONE_COMMAND, done_bound(cfg) + 2, done_bound(cfg) - 1, expect_pass=False
    )
    assert result.status == "FAIL", result.summary()
    assert "done_bound" in result.summary(), result.summary()


class _Saturating(wiring.Component):
    """A counter that stops at 3: ``count == 2`` is reachable, ``count == 5`` is not."""

    def __init__(self):
        super().__init__({"go": In(1)})

    def elaborate(self, platform):
        m = Module()
        count = Signal(3)
        with m.If(self.go & (count != 3)):
            m.d.sync += count.eq(count + 1)
        m.d.comb += [Cover(count == 2, "two"), Cover(count == 5, "five")]
        return m


def test_formal_unreachable_cover_is_reported():
    result = run_cover("cover_saturating", _Saturating(), 8)
    assert not result.passed and result.unreached == ["five"], result.log[-2000:]


def _covers(name, harness, depth, script=""):
    result = run_cover(f"cover_{name}", harness, depth, script=script)
    assert result.passed and not result.unreached, (result.unreached, result.summary())


@pytest.mark.parametrize("fuse", [True, False], ids=["fuse", "ws"])
def test_formal_covers_pe(fuse):
    cfg = ArrayConfig(1, 1, act_width=4, weight_width=4, acc_width=12, max_kernel=3, fuse=fuse)
    _covers(f"pe_{cfg.name}", PeHarness(cfg), 8)


def test_formal_covers_miter_and_fold():
    cfg = ArrayConfig(2, 2)
    _covers(f"miter_{cfg.name}", GemmMiter(cfg), 2 + 2 + 6)
    cfg = ArrayConfig(2, 3, act_width=3, weight_width=3, max_kernel=2)
    h = FuseFoldHarness(cfg, 2, 1)
    _covers(f"fold1_{cfg.name}", h, h.depth)


def test_formal_covers_accelerator():
    """RUN, an array result written, done, error, a read-back word and the done bound's last
    cycle are all reached within the default proof's depth."""
    cfg = _accel_cfg((1, 1), False, ONE_COMMAND)
    _covers(f"accel_{cfg.accel_name}", AccelHarness(cfg), done_bound(cfg) + 2, "memory_map; opt")


@pytest.mark.slow
@pytest.mark.parametrize(
    "shape, fuse, depths",
    [
        ((1, 1), True, dict(act_depth=3, weight_depth=2, acc_depth=3, cmd_depth=1)),
        ((2, 2), False, dict(act_depth=2, weight_depth=2, acc_depth=2, cmd_depth=1)),
    ],
    ids=["1x1-fuse", "2x2"],
)
def test_formal_accelerator_deep(shape, fuse, depths):
    """The same properties to the done bound + 3: FuSe commands on 1x1; a 2x2 plain array."""
    _accel(shape, fuse, depths)
