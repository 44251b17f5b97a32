"""Memory accesses per command (``sw.energy.access.command_accesses``) against the RTL: the
accelerator runs a program of every command kind in the Amaranth simulator and a testbench
counts, cycle by cycle, the sequencer's used reads and the writes of each memory (the
``probe`` terms, the accumulator read-modify-write of row folds ``kf > 0`` and the output
stage's accumulator reads), attributed to the command in RUN. Exact equality per command."""

import pytest
from amaranth.hdl import Fragment
from amaranth.sim import Simulator

from hw import isa
from hw.accel import Accelerator
from hw.config import ArrayConfig
from sw.energy.access import ACCESS_KINDS, command_accesses

DEPTHS = dict(act_depth=256, weight_depth=128, acc_depth=256, cmd_depth=16)


def _signals(frag: Fragment, names: tuple[str, ...]) -> dict:
    """Internal signals of the elaborated sequencer, by name (each assigned in the top)."""
    found = {}
    for stmts in frag.statements.values():
        for stmt in stmts:
            for sig in stmt._lhs_signals():
                if sig.name in names:
                    found[sig.name] = sig
    missing = set(names) - set(found)
    assert not missing, f"signals not found in hw.accel: {missing}"
    return found


def rtl_accesses(cfg: ArrayConfig, program: list[isa.Command], max_cycles: int = 5000):
    """Per command of ``program``: the counted accesses (dict) and error flag."""
    dut = Accelerator(cfg)
    frag = Fragment.get(dut, None)
    sig = _signals(frag, ("q_aread", "o_kf", "grun"))
    p = dut.probe
    words = isa.encode_program(program, cfg)
    counts: list[dict[str, int]] = []
    res = {}

    async def bench(ctx):
        mem = p.mems["cmd"].data
        for a, w in enumerate(words):
            ctx.set(mem[a], w)
        ctx.set(dut.start, 1)
        await ctx.tick()
        ctx.set(dut.start, 0)
        n = 0
        while not ctx.get(dut.done):
            assert n < max_cycles, "no done"
            if ctx.get(p.decode):  # FETCH precedes every DECODE: one command word read
                counts.append(dict.fromkeys(ACCESS_KINDS, 0))
                counts[-1]["cmd_read"] = 1
            c = counts[-1] if counts else None
            act_r, w_r = ctx.get(p.act_read), ctx.get(p.w_read)
            acc_w, act_w = ctx.get(p.acc_write), ctx.get(p.act_write)
            rmw = acc_w and ctx.get(sig["grun"]) and ctx.get(sig["o_kf"]) != 0
            acc_r = ctx.get(sig["q_aread"]) or rmw
            if c is None:
                assert not (act_r or w_r or acc_w or act_w or acc_r), "access before a command"
            else:
                c["act_read"] += act_r
                c["w_read"] += w_r
                c["acc_write"] += acc_w
                c["act_write"] += act_w
                c["acc_read"] += acc_r
            await ctx.tick()
            n += 1
        # HALT: its FETCH/DECODE end in done (the loop stops there)
        if len(counts) < len(program):
            counts.append(dict.fromkeys(ACCESS_KINDS, 0) | {"cmd_read": 1})
        res["error"] = bool(ctx.get(dut.error))

    sim = Simulator(frag)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return counts, res["error"]


def _program(rows: int, cols: int) -> list[isa.Command]:
    return [
        isa.Gemm(m=5, kfolds=3, nfolds=2, a_addr=0, w_addr=0, acc_addr=0),
        isa.Fuse(k=3, groups=2, pfolds=2, a_addr=20, w_addr=40, acc_addr=20),
        isa.Gemm(m=3, kfolds=1, nfolds=1, a_addr=60, w_addr=60, acc_addr=40),
        isa.Requant(m=5, folds=2, a_addr=100, p_addr=80, acc_addr=0, lo=0, hi=127),
        isa.Add(n=6, a_addr=100, b_addr=120, p_addr=100, out_addr=140, lo=-128, hi=127),
        isa.Halt(),
    ]


@pytest.mark.parametrize("array", [(4, 4), (3, 5), (5, 2)], ids=str)
def test_command_accesses_equal_rtl(array):
    rows, cols = array
    cfg = ArrayConfig(rows=rows, cols=cols, fuse=True, **DEPTHS)
    program = _program(rows, cols)
    counts, error = rtl_accesses(cfg, program)
    assert not error
    assert len(counts) == len(program)
    for cmd, got in zip(program, counts, strict=True):
        want = command_accesses(cmd, rows, cols).as_dict()
        assert got == want, f"{cmd}: RTL {got} != formula {want}"
