"""PE unit tests in the Amaranth simulator, against the PE's specified behaviour
(psum_out = psum_in + a_in * weight, double-buffered weight swapped by the tag)."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from hw.config import ArrayConfig
from hw.interfaces import PE_CONTROL_GEMM
from hw.pe import PE


def _run(dut, bench):
    sim = Simulator(dut)
    sim.add_clock(1e-6)

    async def gemm_bench(ctx):
        if hasattr(dut, "ctl"):  # a FuSe PE in GEMM mode: the row control's reset value
            for field, value in PE_CONTROL_GEMM.items():
                ctx.set(getattr(dut.ctl, field), value)
        await bench(ctx)

    sim.add_testbench(gemm_bench)
    sim.run()


FUSE = pytest.mark.parametrize("fuse", [False, True], ids=["ws", "fuse"])


@FUSE
def test_pe_macs_with_loaded_weight_and_forwards_activation(fuse):
    cfg = ArrayConfig(rows=1, cols=1, fuse=fuse)
    dut = PE(cfg)
    rng = np.random.default_rng(1)
    a = rng.integers(-128, 128, 50)
    p = rng.integers(-(1 << 20), 1 << 20, 50)
    seen = []

    async def bench(ctx):
        ctx.set(dut.w_we, 1)
        ctx.set(dut.w_data, -77)
        await ctx.tick()
        ctx.set(dut.w_we, 0)
        for i in range(50):
            ctx.set(dut.a_in, int(a[i]))
            ctx.set(dut.psum_in, int(p[i]))
            ctx.set(dut.swap_in, int(i == 0))
            await ctx.tick()
            seen.append((ctx.get(dut.psum_out), ctx.get(dut.a_out), ctx.get(dut.swap_out)))

    _run(dut, bench)
    assert [s[0] for s in seen] == [int(p[i] + a[i] * -77) for i in range(50)]
    assert [s[1] for s in seen] == [int(v) for v in a]
    assert [s[2] for s in seen] == [1] + [0] * 49


@FUSE
def test_pe_shadow_write_does_not_disturb_current_tile(fuse):
    cfg = ArrayConfig(rows=1, cols=1, fuse=fuse)
    dut = PE(cfg)
    out = []

    async def bench(ctx):
        ctx.set(dut.w_we, 1)
        ctx.set(dut.w_data, 3)
        await ctx.tick()
        ctx.set(dut.w_we, 0)
        ctx.set(dut.a_in, 10)
        ctx.set(dut.swap_in, 1)  # tile A starts: uses 3
        await ctx.tick()
        out.append(ctx.get(dut.psum_out))
        ctx.set(dut.swap_in, 0)
        ctx.set(dut.w_we, 1)  # write next tile's weight while A computes
        ctx.set(dut.w_data, -5)
        await ctx.tick()
        out.append(ctx.get(dut.psum_out))  # still 3
        ctx.set(dut.w_we, 0)
        await ctx.tick()
        out.append(ctx.get(dut.psum_out))  # still 3
        ctx.set(dut.swap_in, 1)  # tile B starts: uses -5 in this very cycle
        ctx.set(dut.w_we, 1)  # and a write in the swap cycle lands after the copy
        ctx.set(dut.w_data, 9)
        await ctx.tick()
        out.append(ctx.get(dut.psum_out))
        ctx.set(dut.swap_in, 0)
        ctx.set(dut.w_we, 0)
        await ctx.tick()
        out.append(ctx.get(dut.psum_out))  # B continues with -5, not 9

    _run(dut, bench)
    assert out == [30, 30, 30, -50, -50]


@FUSE
def test_pe_extreme_operands_do_not_overflow(fuse):
    cfg = ArrayConfig(rows=1, cols=1, acc_width=16, max_kernel=1, fuse=fuse)
    dut = PE(cfg)
    got = []

    async def bench(ctx):
        ctx.set(dut.w_we, 1)
        ctx.set(dut.w_data, -128)
        await ctx.tick()
        ctx.set(dut.w_we, 0)
        ctx.set(dut.a_in, -128)
        ctx.set(dut.swap_in, 1)
        await ctx.tick()
        got.append(ctx.get(dut.psum_out))

    _run(dut, bench)
    assert got == [16384]


def test_pe_fuse_ops_accumulate_registered_tap_and_shift():
    """In FuSe mode the row's tap is registered into the weight register (given one cycle
    ahead) and replaces the stationary weight; FIRST/ACC/HOLD/SHIFT act on the accumulator
    (the top zeroes the tap in HOLD and SHIFT cycles)."""
    cfg = ArrayConfig(rows=1, cols=1)
    dut = PE(cfg)
    got = []
    first, acc, shift = (1, 0, 0), (1, 1, 0), (1, 0, 1)  # (fuse, keep, take)

    def ctl(ctx, code):
        for f, v in zip(("fuse", "keep", "take"), code, strict=True):
            ctx.set(getattr(dut.ctl, f), v)

    async def bench(ctx):
        ctx.set(dut.w_we, 1)
        ctx.set(dut.w_data, 100)  # stationary weight that FuSe must ignore
        await ctx.tick()
        ctx.set(dut.w_we, 0)
        ctx.set(dut.swap_in, 1)
        await ctx.tick()
        ctx.set(dut.swap_in, 0)
        ctx.set(dut.psum_in, 999)
        ctl(ctx, (1, 1, 0))  # HOLD while the first tap is loaded
        ctx.set(dut.tap_in, 3)
        await ctx.tick()
        seq = [  # (a, op code, the tap for the *next* cycle)
            (7, first, 5),  # FIRST: 7 * 3 = 21
            (-2, acc, 0),  # ACC: 21 - 10 = 11
            (50, acc, -128),  # HOLD (zero tap): 11
            (-128, acc, 0),  # ACC: 11 + 16384
            (1, shift, 0),  # SHIFT: psum_in = 999
            (4, (0, 0, 1), 0),  # back to GEMM: 999 + 4 * 0 (the tap register holds 0)
        ]
        for a, code, tap in seq:
            ctx.set(dut.a_in, a)
            ctl(ctx, code)
            ctx.set(dut.tap_in, tap)
            await ctx.tick()
            got.append(ctx.get(dut.psum_out))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert got == [21, 11, 11, 16395, 999, 999]
