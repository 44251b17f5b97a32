"""``fusesa demo``: baseline depthwise vs FuSe Half through the accelerator RTL (here scaled down,
2x2 on Icarus: the shared build of ``tests/sim/test_accel_layers.py``)."""

from __future__ import annotations

import re

import pytest

from fusesa.cli import main


@pytest.mark.icarus
def test_demo_runs_both_mappings_exact_with_model_cycles(capsys, require_simulator):
    require_simulator("icarus")
    args = ["demo", "--rows", "2", "--cols", "2", "--simulator", "icarus"]
    assert main([*args, "--channels", "8", "--size", "9"]) == 0
    out = capsys.readouterr().out
    assert "Verilog: " in out and "fusesa_accel.v" in out
    rows = {
        m.group(1): (m.group(2), int(m.group(3)), int(m.group(4)), m.group(5))
        for m in re.finditer(r"^(baseline|FuSe).*?(True|False)\s+(\d+)\s+(\d+) (\w+)$", out, re.M)
    }
    assert set(rows) == {"baseline", "FuSe"}
    for exact, measured, model, verdict in rows.values():
        assert (exact, verdict) == ("True", "equal") and measured == model
    speedup = float(re.search(r"speedup of FuSe over the baseline .*?: ([\d.]+)x", out).group(1))
    assert speedup == pytest.approx(rows["baseline"][1] / rows["FuSe"][1], abs=0.005)
    assert speedup > 1


def test_demo_rejects_bad_arguments(capsys):
    assert main(["demo", "--rows", "0"]) == 2
    assert "rows" in capsys.readouterr().out.lower()
    assert main(["demo", "--rows", "2", "--cols", "2", "--channels", "7"]) == 2
    assert "even" in capsys.readouterr().out
