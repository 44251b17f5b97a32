"""Per-part synthesis of the whole accelerator (``synth.accel``, issue 18): the memory black
box, the flop grouping, config errors, the overhead arithmetic of
``benchmarks/synth_accel.py``, and (slow) a 2x2 accelerator checked against one flat
synthesis of the same top."""

from __future__ import annotations

import importlib.util
import re
from dataclasses import replace
from pathlib import Path

import pytest

from hw.config import DEPTH_FIELDS, ArrayConfig
from hw.mem import RAM_VERILOG
from synth.accel import FLOP_GROUPS, blackbox_ram, comb_attribution, flop_groups, synth_accel

ROOT = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location("synth_accel", ROOT / "benchmarks/synth_accel.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _small(rows: int, cols: int, **kw) -> ArrayConfig:
    cfg = ArrayConfig(rows, cols, **kw)
    return replace(cfg, **{f: 16 for f in DEPTH_FIELDS})


def test_blackbox_ram_one_module_per_instance_at_its_widths():
    inst = (
        "  fusesa_ram #(\n    .ABITS(32'd5),\n    .DEPTH(32'd20),\n    .NR(32'd2),\n"
        "    .NW(32'd1),\n    .TRANSP(32'd2),\n    .WIDTH(32'd24)\n  ) acc_mem (\n"
        "    .clk(clk)\n  );\n"
    )
    text, rams = blackbox_ram(
        "module top(clk);\n  input clk;\n" + inst + "endmodule\n" + RAM_VERILOG
    )
    assert rams == {
        "acc_mem": {
            "clk": ("input", 1),
            "w_en": ("input", 1),
            "w_addr": ("input", 5),
            "w_data": ("input", 24),
            "r_en": ("input", 2),
            "r_addr": ("input", 10),
            "r_data": ("output", 48),
        }
    }
    assert "  fusesa_ram_acc_mem acc_mem (\n    .clk(clk)" in text
    assert (
        "(* blackbox *)\nmodule fusesa_ram_acc_mem(input clk, input w_en, input [4:0] w_addr"
        in text
    )
    assert "output [47:0] r_data);\nendmodule" in text
    assert "module fusesa_ram #(" not in text and "always" not in text


def test_blackbox_ram_without_model_names_it():
    with pytest.raises(ValueError, match="fusesa_ram"):
        blackbox_ram("module top(); endmodule\n")


def test_flop_groups_by_q_name(tmp_path):
    netlist = tmp_path / "n.v"
    netlist.write_text(
        "module t(clk);\n"
        "  DFFPOSX1 _1_ (.CLK(clk), .D(a), .Q(\\lq_buf1_3_2 [4]));\n"
        "  DFFPOSX1 _2_ (.CLK(clk), .D(a), .Q(lq_t[0]));\n"
        "  DFFPOSX1 _3_ (.CLK(clk), .D(a), .Q(cv_plane[3]));\n"
        "  DFFNEGX1 _4_ (.CLK(clk), .D(a), .Q(mp_x0[1]));\n"
        "  DFFPOSX1 _5_ (.CLK(clk), .D(a), .Q(_0123_));\n"
        "  NAND2X1 _6_ (.A(a), .B(b), .Y(lq_buf0_0_0[0]));\n"
        "endmodule\n"
    )
    g = flop_groups(netlist, {"DFFPOSX1": 96.0, "DFFNEGX1": 90.0})
    names = [n for n, _ in FLOP_GROUPS]
    assert g[names[0]] == {"flops": 1, "area_um2": 96.0}  # corner-turn buffer
    assert g[names[1]] == {"flops": 1, "area_um2": 96.0}  # its control
    assert g[names[2]] == {"flops": 1, "area_um2": 96.0}  # conv addressing
    assert g["MAXPOOL (mp_)"] == {"flops": 1, "area_um2": 90.0}
    assert g["other"] == {"flops": 1, "area_um2": 96.0}
    assert sum(d["flops"] for d in g.values()) == 5  # the NAND is not a flop


def test_synth_accel_rejects_config_without_output_stage(tmp_path):
    cfg = _small(2, 2, act_width=6)
    with pytest.raises(ValueError, match="no output stage.*act_width=6"):
        synth_accel(cfg, tmp_path, progress=False)


def test_synth_accel_rejects_bad_period(tmp_path):
    with pytest.raises(ValueError, match="period must be positive, not -1"):
        synth_accel(_small(2, 2), tmp_path, period_ns=-1, progress=False)


def test_overhead_arithmetic():
    def entry(array, control, fmax):
        parts = {"array": {"area_um2": array}, "control": {"area_um2": control}}
        return {"area_um2": array + control, "parts": parts, "timing": {"fmax_mhz": fmax}}

    o = _bench().overhead(entry(100.0, 300.0, 100.0), entry(110.0, 310.0, 95.0))
    assert o["accel_area_delta_um2"] == 20.0
    assert o["accel_area_pct"] == pytest.approx(5.0)
    assert o["array_area_pct"] == pytest.approx(10.0)
    assert o["array_delta_vs_base_accel_pct"] == pytest.approx(2.5)
    assert o["control_area_delta_um2"] == 10.0
    assert o["fmax_pct"] == pytest.approx(-5.0)


@pytest.mark.slow
@pytest.mark.synth
def test_synth_accel_2x2_parts_sum_and_match_flat(tmp_path, require_synth_tools):
    """The parts' areas are positive and sum to the total; their cell counts come from Yosys'
    own stat; and one flat synthesis of the whole top (memories still black boxes) lands
    within a few percent of the sum of the parts (ABC optimizes across the part boundaries
    there), with no faster clock than the budgeted one allows by more than that."""
    from synth.accel import synth_accel_flat

    cfg = _small(2, 2)
    e = synth_accel(cfg, tmp_path, progress=False)
    parts = e["parts"]
    assert set(parts) == {"array", "outstage", "resadd", "control"}
    for p in parts.values():
        assert p["area_um2"] > 0 and p["cells"] > 0 and p["flops"] > 0
        assert 0 < p["seq_area_um2"] < p["area_um2"]
    assert e["area_um2"] == pytest.approx(sum(p["area_um2"] for p in parts.values()))
    assert sum(p["share"] for p in parts.values()) == pytest.approx(1.0)
    groups = e["control_flop_groups"]
    assert sum(g["flops"] for g in groups.values()) == parts["control"]["flops"]
    assert "other" not in groups  # every control register is named by a group
    # the corner-turn double buffer: 2 * rows * cols bytes of flops
    assert groups["corner-turn buffer (lq_buf)"]["flops"] == 2 * 2 * 2 * 8
    worst = min(p["timing_in_place"]["fmax_mhz"] for p in parts.values())
    assert e["timing"]["fmax_mhz"] == pytest.approx(worst)
    # combinational cells attributed by fan-out cover the control part's logic: the netlist
    # has the few BUFX2 ``insbuf`` adds after ``stat``, and (almost) nothing dangles
    comb = e["control_comb_groups"]
    ctl = parts["control"]
    total_comb = sum(g["area_um2"] for g in comb.values())
    assert ctl["comb_area_um2"] <= total_comb <= 1.03 * ctl["comb_area_um2"]
    assert comb.get("unloaded", {"area_um2": 0})["area_um2"] < 0.01 * ctl["area_um2"]
    # the worst group's path is the control part's critical path
    for groups in e["control_group_timing"].values():
        assert all(g["fmax_mhz"] > 0 and g["startpoint"] for g in groups.values())
    every = e["control_group_timing"]["all paths"]
    assert min(g["fmax_mhz"] for g in every.values()) == pytest.approx(
        ctl["timing_in_place"]["fmax_mhz"], rel=1e-3
    )

    flat = synth_accel_flat(cfg, tmp_path, progress=False)
    assert not [c for c in flat["cell_types"] if re.match(r"\$|fusesa_", c)]
    assert flat["area_um2"] == pytest.approx(e["area_um2"], rel=0.05)
    assert flat["timing"]["fmax_mhz"] == pytest.approx(e["timing"]["fmax_mhz"], rel=0.10)


def test_comb_attribution_by_fanout(tmp_path):
    netlist = tmp_path / "n.v"
    netlist.write_text(
        "module t(clk, a, \\act_mem.w_data );\n"
        "  input clk;\n  input a;\n  output [1:0] \\act_mem.w_data ;\n"
        "  INVX1 _1_ (.A(a), .Y(n1));\n"  # feeds both groups: shared
        "  NAND2X1 _2_ (.A(n1), .B(\\cv_w [0]), .Y(n2));\n"  # only the buffer flop
        "  DFFPOSX1 _3_ (.CLK(clk), .D(n2), .Q(\\lq_buf0_0_0 [0]));\n"
        "  NOR2X1 _4_ (.A(n1), .B(\\lq_buf0_0_0 [0]), .Y(n4));\n"  # only the conv flop
        "  DFFPOSX1 _5_ (.CLK(clk), .D(n4), .Q(\\cv_w [0]));\n"
        "  BUFX2 _6_ (.A(\\cv_w [0]), .Y(\\act_mem.w_data [1]));\n"  # a memory port
        "  INVX1 _7_ (.A(a), .Y(n7));\n"  # feeds nothing
        "endmodule\n"
    )
    areas = {"INVX1": 16.0, "NAND2X1": 24.0, "NOR2X1": 24.0, "BUFX2": 24.0, "DFFPOSX1": 96.0}
    g = comb_attribution(netlist, areas)
    assert g["corner-turn buffer (lq_buf)"] == {"cells": 1, "area_um2": 24.0}
    assert g["conv addressing (cv_, nt_, ct_, r_, c_in)"] == {"cells": 1, "area_um2": 24.0}
    assert g["memory ports: address and data select (*_mem.*)"] == {"cells": 1, "area_um2": 24.0}
    assert g["shared (feeds several groups)"] == {"cells": 1, "area_um2": 16.0}
    assert g["unloaded"] == {"cells": 1, "area_um2": 16.0}
    assert sum(d["cells"] for d in g.values()) == 5  # flops are not counted
