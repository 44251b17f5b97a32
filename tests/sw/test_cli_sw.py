"""CLI subcommands table / latency / sweep, run in-process through ``fusesa.cli.main``."""

import csv

from seed_values import MOBILENET_V2_BASE_CYCLES, MOBILENET_V2_FULL_CYCLES

from fusesa.cli import main


def test_cli_table_prints_25_rows_with_seed_values(capsys, tmp_path):
    assert main(["table", "--array", "64x64", "--csv", str(tmp_path / "t.csv")]) == 0
    out = capsys.readouterr().out
    assert "MobileNetV2 Full FuSe" in out and str(MOBILENET_V2_FULL_CYCLES) in out
    assert sum(" FuSe " in line or "Baseline" in line for line in out.splitlines()) == 25
    with (tmp_path / "t.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 25
    v2 = next(r for r in rows if (r["network"], r["variant"]) == ("mobilenet_v2", "base"))
    assert int(v2["cycles"]) == MOBILENET_V2_BASE_CYCLES
    assert float(v2["seed_params_m"]) == 3.50


def test_cli_latency_per_layer_and_csv(capsys, tmp_path):
    args = ["latency", "--net", "mobilenet_v2", "--variant", "full", "--array", "64x64"]
    assert main([*args, "--per-layer", "--csv", str(tmp_path / "l.csv")]) == 0
    out = capsys.readouterr().out
    assert f"{MOBILENET_V2_FULL_CYCLES} cycles" in out
    assert "features.1.conv.0.row.0" in out and "fuse_row" in out
    with (tmp_path / "l.csv").open() as fh:
        assert sum(int(r["cycles"]) for r in csv.DictReader(fh)) == MOBILENET_V2_FULL_CYCLES


def test_cli_latency_scalesim_mode_differs_from_paper(capsys):
    main(["latency", "--net", "mobilenet_v2", "--mode", "scalesim"])
    out = capsys.readouterr().out
    assert "scalesim mode" in out and f"{MOBILENET_V2_BASE_CYCLES} cycles" not in out


def test_cli_latency_bad_variant_names_it(capsys):
    assert main(["latency", "--net", "mobilenet_v2", "--variant", "quarter"]) == 2
    assert "'quarter'" in capsys.readouterr().err


def test_cli_sweep_writes_csv_and_plots(capsys, tmp_path):
    out_dir = tmp_path / "sweep"
    args = ["sweep", "--sizes", "16,64", "--networks", "mobilenet_v2", "mnasnet"]
    assert main([*args, "--out", str(out_dir)]) == 0
    with (out_dir / "sweep.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 * 2 * 5
    v2 = next(
        r for r in rows
        if (r["network"], r["variant"], r["arr_x"]) == ("mobilenet_v2", "full", "64")
    )  # fmt: skip
    assert int(v2["cycles"]) == MOBILENET_V2_FULL_CYCLES
    for name in ("speedup_vs_array", "mobilenet_v2_full_per_block", "operator_breakdown"):
        assert (out_dir / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_bad_array_size_names_it(capsys):
    assert main(["table", "--array", "64by64"]) == 2
    assert "'64by64'" in capsys.readouterr().err


def test_cli_parser_names_match_zoo_without_importing_torch():
    import subprocess
    import sys

    from fusesa import cmd_latency
    from sw.models.zoo import NETWORKS, VARIANTS

    assert sorted(cmd_latency.NETWORKS) == sorted(NETWORKS)
    assert cmd_latency.VARIANTS == VARIANTS
    code = "import sys; from fusesa.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
