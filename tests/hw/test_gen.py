"""``python -m hw.gen``: Verilog + config.json, with and without the FuSe mode."""

import re
import subprocess
import sys

import pytest

from hw.config import ArrayConfig
from hw.gen import TOP_NAME, generate_verilog, main


def _ports(verilog: str) -> set[str]:
    header = re.search(rf"module {TOP_NAME}\((.*?)\);", verilog, re.S).group(1)
    return {p.strip() for p in header.split(",")}


def test_gen_writes_verilog_and_config(tmp_path):
    out = tmp_path / "gen"
    proc = subprocess.run(
        [sys.executable, "-m", "hw.gen", "--rows", "3", "--cols", "2", "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "3x2" in proc.stdout
    v = (out / f"{TOP_NAME}.v").read_text()
    assert ArrayConfig.from_json(out / "config.json") == ArrayConfig(rows=3, cols=2)
    assert {"mode", "op", "tap", "in_data", "out_data"} <= _ports(v)
    assert str(tmp_path) not in v  # emit_src=False: no machine paths
    assert re.search(r"input \[23:0\] in_data;", v)  # rows x 8 bits
    assert re.search(r"output \[63:0\] out_data;", v)  # cols x 32 bits


def test_gen_without_fuse_has_no_fuse_ports(tmp_path):
    assert main(["--rows", "2", "--cols", "2", "--no-fuse", "--out", str(tmp_path)]) == 0
    v = (tmp_path / f"{TOP_NAME}.v").read_text()
    ports = _ports(v)
    assert not {"mode", "op", "tap"} & ports
    assert {"in_valid", "in_swap", "w_we", "w_row", "w_data", "out_valid"} <= ports
    assert ArrayConfig.from_json(tmp_path / "config.json").fuse is False


def test_gen_rejects_bad_config(tmp_path, capsys):
    assert main(["--rows", "0", "--out", str(tmp_path)]) == 2
    assert "rows must be a positive integer" in capsys.readouterr().err
    assert not (tmp_path / f"{TOP_NAME}.v").exists()


def test_gen_regenerates_only_when_stale(tmp_path):
    from hw.gen import write_outputs

    cfg = ArrayConfig(rows=1, cols=2)
    v = write_outputs(cfg, tmp_path)
    v.write_text("// stale output of an older generator\n")
    assert write_outputs(cfg, tmp_path).read_text().startswith("// stale")  # key still current
    (tmp_path / ".genkey").write_text("key of an older generator")
    assert f"module {TOP_NAME}(" in write_outputs(cfg, tmp_path).read_text()


def test_accel_verilog_does_not_grow_with_memory_depth():
    # hw.mem: the memories are instances of fusesa_ram, zeroed by a loop, not word by word
    small = generate_verilog(ArrayConfig(2, 2), "accel")
    big = generate_verilog(
        ArrayConfig(2, 2, act_depth=1 << 20, acc_depth=1 << 20, weight_depth=1 << 16), "accel"
    )
    assert abs(len(big) - len(small)) < 2000
    assert "module fusesa_ram" in big and ".DEPTH(32'd1048576)" in big


def test_ram_rejects_unknown_implementation():
    from hw.accel import Accelerator
    from hw.mem import Ram

    with pytest.raises(ValueError, match="unknown RAM implementation 'sram'"):
        Ram(shape=8, depth=4, impl="sram")
    with pytest.raises(ValueError, match="unknown RAM implementation 'x'"):
        Accelerator(ArrayConfig(2, 2), ram="x")
