"""``sw.latency.program`` / ``fusesa latency --mode rtl --program``: the cycles of a network
compiled into one program are the sum of the per-command formulas; per layer plus the final
HALT they add up to the total (the RTL equality is checked by tests/sim/test_onechip.py)."""

from hw.config import ArrayConfig
from sw.latency.program import program_latency, quantized_zoo_network
from sw.latency.rtl import accel_commands_cycles
from sw.mapping.accel import unbounded
from sw.mapping.qnetwork import compile_qnet


def test_program_latency_terms_add_up():
    qnet, x_q = quantized_zoo_network("mobilenet_v2", "half", 32)
    cfg = ArrayConfig(8, 8)
    rep = program_latency(qnet, x_q, cfg)
    prog = compile_qnet(qnet, x_q, unbounded(cfg)).program
    assert rep.cycles == accel_commands_cycles(prog.commands, 8, 8)
    assert rep.cycles == sum(c for *_, c in rep.layers) + 2  # + HALT
    assert rep.by_command["HALT"] == 2 and rep.by_command["FUSE(lines)"] > 0


def test_cli_latency_program(capsys):
    from fusesa.cli import main

    args = ["latency", "--net", "mobilenet_v2", "--variant", "half", "--array", "8x8"]
    assert main([*args, "--mode", "rtl", "--program", "--resolution", "32"]) == 0
    out = capsys.readouterr().out
    assert "(rtl, one program)" in out and "speedup" in out
    assert main([*args, "--program"]) == 2  # needs --mode rtl
