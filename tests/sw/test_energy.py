"""``sw.energy``: the network energy model (programs, cycles, MACs, blocks, components),
CACTI, and ``fusesa energy``. Expected values come from the RTL latency model the RTL tests
check (``sw.latency.rtl``), published architecture facts (MobileNetV2: 300 M multiply-adds,
17 bottleneck blocks) and direct counts; the per-command accesses are checked against the RTL
in ``tests/hw/test_accel_accesses.py``."""

import json
import math

import pytest

from sw.energy.access import command_accesses, program_accesses
from sw.energy.params import SRAM_AREA_SCALE, SRAM_ENERGY_SCALE, array_pj_per_pe_cycle
from sw.latency.records import LayerLatency
from sw.latency.rtl import accel_layer_program_cycles
from tests.conftest import skip_or_fail


@pytest.fixture(scope="module")
def cacti():
    from sw.energy.cacti import CactiMissing, cacti_sram

    try:
        cacti_sram(65536, 16)
    except CactiMissing as exc:
        skip_or_fail(str(exc))
    return cacti_sram


def _layer(name, kind, in_shape, kernel=(1, 1), stride=(1, 1), pad=(0, 0), out=None):
    n, c, h, w = in_shape
    return LayerLatency(
        name,
        kind,
        in_shape,
        (h + 2 * pad[0], w + 2 * pad[1]),
        kernel,
        stride,
        out if out is not None else c,
        0,
    )


SMALL_NET = [
    _layer("features.0.0", "conv", (1, 3, 12, 12), (3, 3), (2, 2), (1, 1), out=8),
    _layer("features.1.conv.0.row.0", "fuse_row", (1, 8, 6, 6), (1, 3), (1, 1), (0, 1)),
    _layer("features.1.conv.0.col.0", "fuse_col", (1, 8, 6, 6), (3, 1), (1, 1), (1, 0)),
    _layer("features.1.conv.1", "pointwise", (1, 16, 6, 6), out=12),
    _layer("features.2.conv.0.0", "pointwise", (1, 12, 6, 6), out=24),
    _layer("features.2.conv.1.0", "depthwise", (1, 24, 6, 6), (3, 3), (1, 1), (1, 1)),
    _layer("features.2.conv.2", "pointwise", (1, 24, 6, 6), out=12),
    _layer("features.3.0", "pointwise", (1, 12, 6, 6), out=40),
    _layer("classifier.1", "linear", (1, 40, 1, 1), out=10),
]


def test_sram_scale_factors_are_classical_cv2():
    assert SRAM_ENERGY_SCALE == pytest.approx(2 * (1.8 / 1.2) ** 2)
    assert SRAM_AREA_SCALE == pytest.approx(4.0)


def test_program_accesses_sum_commands():
    from hw.isa import Fuse, Gemm, Halt

    prog = [Gemm(m=7, kfolds=2, nfolds=3), Fuse(k=5, groups=2, pfolds=1), Halt()]
    total = program_accesses(prog, 4, 6)
    for k, v in total.as_dict().items():
        assert v == sum(getattr(command_accesses(c, 4, 6), k) for c in prog)
    assert total.cmd_read == 3


def test_command_accesses_rejects_bad_input():
    from hw.isa import Gemm

    with pytest.raises(ValueError, match="rows"):
        command_accesses(Gemm(), 0, 4)
    with pytest.raises(ValueError, match="command record"):
        command_accesses("GEMM", 4, 4)


@pytest.mark.parametrize("variant", ["base", "full"])
def test_layer_programs_match_rtl_latency_mode(variant):
    """Every MobileNetV2 layer's program costs exactly ``accel_layer_program_cycles``."""
    from hw.config import ArrayConfig
    from sw.energy.model import traced_layer_commands
    from sw.latency.rtl import accel_command_cycles
    from sw.latency.table import trace_model
    from sw.models.zoo import default_hardware

    hw = default_hardware(variant)
    for rows, cols in ((8, 8), (16, 16), (64, 64)):
        cfg = ArrayConfig(rows=rows, cols=cols, fuse=hw == "FuSe")
        for layer in trace_model("mobilenet_v2", variant).layers:
            _, cmds = traced_layer_commands(layer, cfg, hw)
            got = sum(accel_command_cycles(c, rows, cols) for c in cmds) + 2  # + HALT
            assert got == accel_layer_program_cycles(layer, rows, cols, hw), layer.name


def test_small_net_report(cacti):
    from sw.energy.model import COMPONENTS, network_energy

    rep = network_energy("mobilenet_v2", "full", 4, 4, layers=SMALL_NET)
    assert math.isclose(sum(rep["components_uj"].values()), rep["total_uj"], rel_tol=1e-12)
    for b in rep["blocks"]:
        assert math.isclose(sum(b["components_uj"].values()), b["energy_uj"], rel_tol=1e-12)
    assert [b["name"] for b in rep["blocks"]] == ["stem", "features.1", "features.2", "head"]
    assert rep["blocks"][-1]["layers"] == ["features.3.0", "classifier.1"]
    assert sum(b["cycles"] for b in rep["blocks"]) == rep["cycles"]
    # MACs counted directly: output elements x products per output
    macs = (
        6 * 6 * 8 * 27
        + 2 * 6 * 6 * 8 * 3
        + 6 * 6 * 12 * 16
        + 6 * 6 * 24 * 12
        + 6 * 6 * 24 * 9
        + 6 * 6 * 12 * 24
        + 6 * 6 * 40 * 12
        + 40 * 10
    )
    assert rep["macs"] == macs
    # DRAM minimum: weights + input + output bytes of each layer
    pw = rep["layers"][3]
    assert pw["dram_bytes"] == 16 * 12 + 16 * 36 + 12 * 36
    assert rep["components_uj"]["dram"] == pytest.approx(
        sum(le["dram_bytes"] for le in rep["layers"]) * rep["params"]["dram_pj_per_byte"] * 1e-6
    )
    # array energy: every cycle of every command at its kind's per-PE energy
    e = array_pj_per_pe_cycle(4, 4, True)
    dw = rep["layers"][5]
    assert dw["mapping"] == "depthwise-baseline"  # KxK depthwise has no FuSe mode
    fuse = rep["layers"][1]
    assert fuse["mapping"].startswith("fuse")
    assert fuse["components_uj"]["array"] * 1e6 == pytest.approx(
        (fuse["cycles"] - 2) * 16 * e["fuse"] + 2 * 16 * e["idle"]
    )
    assert set(rep["components_uj"]) == set(COMPONENTS)


def test_mobilenet_v2_energy_report(cacti, tmp_path):
    """``fusesa energy``: MobileNetV2 has 300 M multiply-adds (Sandler et al. 2018, Table 6)
    and 17 bottleneck blocks between the stem and the head; JSON, CSV and PNG written."""
    from fusesa.cli import main

    js, cs, png = tmp_path / "e.json", tmp_path / "e.csv", tmp_path / "e.png"
    argv = ["energy", "--net", "mobilenet_v2", "--variant", "base", "--array", "8x8"]
    assert main([*argv, "--json", str(js), "--csv", str(cs), "--png", str(png)]) == 0
    rep = json.loads(js.read_text())
    for key in ("total_uj", "components_uj", "cycles", "macs", "blocks"):
        assert key in rep
    assert math.isclose(sum(rep["components_uj"].values()), rep["total_uj"], rel_tol=1e-12)
    assert abs(rep["macs"] - 300e6) / 300e6 < 0.01
    names = [b["name"] for b in rep["blocks"]]
    assert names[0] == "stem" and names[-1] == "head" and len(names) == 19
    for b in rep["blocks"]:
        assert {"name", "cycles", "energy_uj"} <= set(b)
    rows = cs.read_text().splitlines()
    assert len(rows) == 1 + 19 + 1
    assert png.stat().st_size > 1000


def test_energy_cli_rejects_bad_array(capsys):
    from fusesa.cli import main

    assert main(["energy", "--net", "mobilenet_v2", "--array", "16by16"]) == 2
    assert "--array" in capsys.readouterr().err


def test_cacti_figures_scale_with_size(cacti):
    small, big = cacti(4096, 16), cacti(262144, 16)
    assert 0 < small.read_nj < big.read_nj
    assert 0 < small.area_mm2 < big.area_mm2
    with pytest.raises(ValueError, match="word_bytes"):
        cacti(4096, 0)
    with pytest.raises(ValueError, match="22..90 nm"):
        cacti(4096, 16, tech_nm=180)


def test_memory_policies():
    from hw.config import ArrayConfig
    from hw.isa import Gemm
    from sw.energy.model import memory_sizes

    cfg = ArrayConfig(rows=16, cols=16, fuse=True)
    progs = [[Gemm(m=100, kfolds=3, nfolds=2)]]
    fit = memory_sizes(progs, cfg)
    # act: kfolds*m = 300 words -> 512; w: 3*2*16 = 96 -> 128; acc: 2*100 -> 256; cmd 2 -> 64
    assert {m: s["depth"] for m, s in fit.items()} == {"act": 512, "w": 128, "acc": 256, "cmd": 64}
    assert fit["acc"]["size_bytes"] == 256 * 16 * 4
    g = memory_sizes(progs, cfg, "gemmini")  # Gemmini at 16x16: 128+128 KiB, 64 KiB acc
    assert g["act"]["size_bytes"] + g["w"]["size_bytes"] == 256 * 1024
    assert g["acc"]["size_bytes"] == 64 * 1024
    with pytest.raises(ValueError, match="memory policy"):
        memory_sizes(progs, cfg, "huge")
