"""``python -m hw.gen``: Verilog + config.json, with and without the FuSe mode."""

import re
import subprocess
import sys

from hw.config import ArrayConfig
from hw.gen import TOP_NAME, main


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
