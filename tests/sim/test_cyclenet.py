"""``sim.cyclenet``: the cycle-based rewrite Icarus runs the accelerator from. The accelerator
benches (test_accel_rtl, test_accel_layers) check it end to end on Icarus; here a small design
with the constructs the rewrite orders by hand (a shift chain, two registers swapping values,
a synchronous reset, an enable, a transparent memory read, signed arithmetic) is compared
cycle by cycle with a Python model, and malformed netlists are rejected by name."""

from __future__ import annotations

import json
import subprocess

import pytest

from sim.cyclenet import compile_json, yosys_script
from tests.conftest import require_tool

SMALL = """
module toy(clk, rst, en, a, b, y, s, t, m);
  input clk, rst, en;
  input signed [3:0] a, b;
  output signed [7:0] y;
  output [3:0] s, t;
  output [3:0] m;
  reg [3:0] q1 = 0, q2 = 0, sa = 4'd5, sb = 4'd9, acc = 0;
  reg [3:0] mem [0:3];
  reg [1:0] wa = 0;
  reg [3:0] rd = 0;
  always @(posedge clk) begin
    if (rst) q1 <= 0; else q1 <= a;      // synchronous reset
    q2 <= q1;                            // shift chain: reads q1 before its update
    sa <= sb; sb <= sa;                  // a loop of registers
    if (en) acc <= acc + 4'd1;           // enable
    mem[wa] <= a; wa <= wa + 2'd1;       // write port
    rd <= mem[wa];                       // sync read of the address just written:
  end                                    // not transparent (old data)
  assign y = $signed(q1) * $signed(b) + $signed(q2);
  assign s = sa;
  assign t = acc;
  assign m = rd;
endmodule
"""


def _model(inputs):
    q1 = q2 = acc = rd = wa = 0
    sa, sb = 5, 9
    mem = [0, 0, 0, 0]
    out = []
    for rst, en, a, b in inputs:
        # values right after this rising edge
        q1, q2 = (0 if rst else a & 0xF), q1
        sa, sb = sb, sa
        acc = (acc + 1) & 0xF if en else acc
        rd = mem[wa]
        mem[wa] = a & 0xF
        wa = (wa + 1) & 3

        def sx(v):
            return v - 16 if v & 8 else v

        y = (sx(q1) * b + sx(q2)) & 0xFF
        out.append((y, sa, acc, rd))
    return out


def test_cycle_netlist_matches_python_model(tmp_path):
    require_tool("iverilog")
    from synth.tools import find_yosys

    (tmp_path / "toy.v").write_text(SMALL)
    (tmp_path / "s.ys").write_text(yosys_script("toy.v", "toy", "toy.json"))
    subprocess.run([*find_yosys(), "-q", "-s", "s.ys"], cwd=tmp_path, check=True)
    net = compile_json(tmp_path / "toy.json", "toy")
    assert net.memories == ["mem"]  # kept by name: benches load it
    (tmp_path / "cy.v").write_text(net.text)
    import numpy as np

    rng = np.random.default_rng(3)
    inputs = [
        (int(t < 2), int(rng.integers(0, 2)), *map(int, rng.integers(-8, 8, 2))) for t in range(40)
    ]
    # mem starts at zero in the rewrite (every memory is zeroed); the model does the same
    drive = "\n".join(
        f"    rst = {r}; en = {e}; a = {a}; b = {b}; @(posedge clk); #1 "
        f'$display("%0d %0d %0d %0d", y, s, t, m); @(negedge clk);'
        for r, e, a, b in inputs
    )
    (tmp_path / "tb.v").write_text(
        f"""module tb;
  reg clk = 0, rst = 1, en = 0; reg signed [3:0] a = 0, b = 0;
  wire [7:0] y; wire [3:0] s, t, m;
  toy dut(.clk(clk), .rst(rst), .en(en), .a(a), .b(b), .y(y), .s(s), .t(t), .m(m));
  always #5 clk = ~clk;
  initial begin
{drive}
    $finish;
  end
endmodule
"""
    )
    subprocess.run(
        ["iverilog", "-g2012", "-o", "sim.vvp", "tb.v", "cy.v"], cwd=tmp_path, check=True
    )
    res = subprocess.run(["vvp", "-n", "sim.vvp"], cwd=tmp_path, check=True, capture_output=True)
    got = [tuple(map(int, line.split())) for line in res.stdout.decode().splitlines() if line]
    assert got == _model(inputs)


def _netlist(cells: dict, tmp_path) -> str:
    mod = {
        "ports": {
            "clk": {"direction": "input", "bits": [2]},
            "y": {"direction": "output", "bits": [3]},
        },
        "cells": cells,
        "netnames": {},
    }
    path = tmp_path / "n.json"
    path.write_text(json.dumps({"modules": {"top": mod}}))
    return path


def _cell(t: str, conns: dict) -> dict:
    one = "00000000000000000000000000000001"
    params = {"A_SIGNED": "0", "B_SIGNED": "0", "A_WIDTH": one, "B_WIDTH": one, "Y_WIDTH": one}
    dirs = {k: "output" if k == "Y" else "input" for k in conns}
    return {"type": t, "parameters": params, "connections": conns, "port_directions": dirs}


def test_combinational_loop_is_rejected(tmp_path):
    cells = {"a": _cell("$not", {"A": [4], "Y": [3]}), "b": _cell("$not", {"A": [3], "Y": [4]})}
    with pytest.raises(ValueError, match="combinational loop"):
        compile_json(_netlist(cells, tmp_path), "top")


def test_unsupported_cell_is_named(tmp_path):
    cells = {"the_divider": _cell("$div", {"A": [2], "B": [2], "Y": [3]})}
    with pytest.raises(ValueError, match=r"the_divider of type \$div"):
        compile_json(_netlist(cells, tmp_path), "top")


def test_unknown_module_is_named(tmp_path):
    path = _netlist({}, tmp_path)
    with pytest.raises(ValueError, match="no module 'other'"):
        compile_json(path, "other")
