"""CLI subcommands table / latency / sweep, run in-process through ``fusesa.cli.main``."""

import csv
import json
import math

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
    from sw.latency import MODES
    from sw.models.zoo import NETWORKS, VARIANTS

    assert sorted(cmd_latency.NETWORKS) == sorted(NETWORKS)
    assert cmd_latency.VARIANTS == VARIANTS
    assert cmd_latency.MODES == MODES
    code = "import sys; from fusesa.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cli_latency_clock_mhz_prints_time_and_both_speedups(capsys, tmp_path):
    args = ["latency", "--net", "mobilenet_v2", "--variant", "full", "--array", "64x64"]
    assert main([*args, "--clock-mhz", "200,100", "--json", str(tmp_path / "l.json")]) == 0
    out = capsys.readouterr().out
    # Full FuSe: 576,542 cycles on the FuSe array at 100 MHz = 5765.42 us;
    # baseline: 2,961,936 cycles on the base array at 200 MHz = 14809.68 us;
    # speedup 2961936 / 576542 = 5.137x in cycles, 14809.68 / 5765.42 = 2.569x in time
    assert f"{MOBILENET_V2_FULL_CYCLES} cycles = 5765.4 us at 100 MHz" in out
    assert f"{MOBILENET_V2_BASE_CYCLES} cycles = 14809.7 us at 200 MHz" in out
    assert "5.137x in cycles, 2.569x in time" in out
    doc = json.loads((tmp_path / "l.json").read_text())
    assert (doc["base_mhz"], doc["fuse_mhz"]) == (200.0, 100.0)
    assert (doc["time_us"], doc["base_time_us"]) == (5765.42, 14809.68)
    assert doc["speedup_time"] == 2.56871 and doc["base_cycles"] == MOBILENET_V2_BASE_CYCLES


def test_cli_latency_synth_json_rtl_mode(capsys, tmp_path, synth_json):
    report = synth_json(tmp_path / "synth_16x16_flat.json", 16, 16, 250.0, 125.0)
    args = ["latency", "--net", "mobilenet_v2", "--variant", "half", "--array", "16x16"]
    csv_path = tmp_path / "l.csv"
    assert main([*args, "--mode", "rtl", "--synth-json", str(report), "--csv", str(csv_path)]) == 0
    out = capsys.readouterr().out
    total = int(out.split("(rtl mode): ")[1].split(" cycles")[0])
    assert f"{total} cycles = {total / 125:.1f} us at 125 MHz" in out
    assert f"(clocks: {report})" in out
    with csv_path.open() as fh:
        layers = list(csv.DictReader(fh))
    assert math.isclose(sum(float(r["time_us"]) for r in layers), total / 125, rel_tol=1e-6)


def test_cli_latency_synth_json_wrong_size_names_file(capsys, tmp_path, synth_json):
    report = synth_json(tmp_path / "synth_16x16_flat.json", 16, 16, 250.0, 125.0)
    args = ["latency", "--net", "mobilenet_v2", "--array", "32x32", "--synth-json", str(report)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert str(report) in err and "16x16" in err and "32x32" in err


def test_cli_latency_bad_clock_names_it(capsys):
    assert main(["latency", "--net", "mobilenet_v2", "--clock-mhz", "fast"]) == 2
    assert "'fast'" in capsys.readouterr().err


def test_cli_table_rtl_clock_adds_time_columns(capsys, tmp_path):
    csv_path = tmp_path / "t.csv"
    args = ["table", "--mode", "rtl", "--array", "16x16", "--networks", "mobilenet_v2"]
    assert main([*args, "--clock-mhz", "200", "--csv", str(csv_path)]) == 0
    out = capsys.readouterr().out
    assert "t-speedup" in out and "time us" in out
    with csv_path.open() as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:  # one clock for both arrays: time = cycles / 200, speedups equal
        assert float(r["time_us"]) == round(int(r["cycles"]) / 200, 4)
        assert math.isclose(float(r["speedup_time"]), float(r["speedup"]), rel_tol=1e-4)


def test_cli_sweep_synth_dir_skips_sizes_without_report(capsys, tmp_path, synth_json):
    synth_json(tmp_path / "synth" / "synth_16x16_flat.json", 16, 16, 200.0, 180.0)
    out_dir = tmp_path / "sweep"
    args = ["sweep", "--sizes", "8,16", "--networks", "mobilenet_v2", "--mode", "rtl"]
    assert (
        main([*args, "--synth-dir", str(tmp_path / "synth"), "--out", str(out_dir), "--no-plots"])
        == 0
    )
    captured = capsys.readouterr()
    assert "skipping 8x8" in captured.err and "speedup in time" in captured.out
    with (out_dir / "sweep.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert {(r["arr_x"], r["arr_y"]) for r in rows} == {("16", "16")} and len(rows) == 5
    for r in rows:  # speedup in time = cycle speedup x f_fuse / f_base (1 for the baseline)
        ratio = 180.0 / 200.0 if r["hardware"] == "FuSe" else 1.0
        assert math.isclose(float(r["speedup_time"]), float(r["speedup"]) * ratio, rel_tol=1e-4)


def test_cli_sweep_clock_mhz_needs_a_single_size(capsys, tmp_path):
    args = ["sweep", "--sizes", "8,16", "--networks", "mobilenet_v2", "--clock-mhz", "200"]
    assert main([*args, "--out", str(tmp_path), "--no-plots"]) == 2
    assert "single array size" in capsys.readouterr().err


def test_cli_latency_depthwise_mappings_match_the_model():
    from fusesa import cmd_latency
    from sw.latency.rtl import DEPTHWISE_MAPPINGS

    assert cmd_latency.DEPTHWISE == DEPTHWISE_MAPPINGS


def test_cli_latency_rtl_line_packing_before_after(capsys):
    """``--depthwise fuse`` is the mapping before line packing: MobileNetV2 Full at 64x64 in
    ``rtl`` mode took 444,277 cycles (7.69x; docs/accelerator.md's table); the default
    ``auto`` packs lines and must be faster, and the FuSe 1-D layers alone shrink most."""
    args = ["latency", "--net", "mobilenet_v2", "--variant", "full", "--array", "64x64"]
    assert main([*args, "--mode", "rtl", "--depthwise", "fuse"]) == 0
    out = capsys.readouterr().out
    assert "444277 cycles" in out and "speedup 7.690x" in out
    assert main([*args, "--mode", "rtl"]) == 0
    cycles = int(capsys.readouterr().out.split("(rtl mode): ")[1].split()[0])
    assert cycles < 444277 * 0.8


def test_cli_latency_batch_reports_latency_and_throughput(capsys, tmp_path):
    from sw.latency.rtl import ACCEL_COMMAND_OVERHEAD, accel_gemm_cycles

    base = ["latency", "--net", "mobilenet_v2", "--variant", "half", "--array", "16x16"]
    assert main([*base, "--mode", "rtl", "--per-layer"]) == 0
    one = capsys.readouterr().out
    j = tmp_path / "b.json"
    assert main([*base, "--mode", "rtl", "--batch", "3", "--per-layer", "--json", str(j)]) == 0
    out = capsys.readouterr().out
    assert "batch of 3: latency" in out and "images/cycle" in out
    doc = json.loads(j.read_text())
    assert doc["batch"] == 3 and doc["latency_cycles"] == doc["total"]
    assert math.isclose(doc["images_per_cycle"], 3 / doc["total"])
    # the classifier is one GEMM with M = 3 rows: the weights are loaded once for 3 images
    lin = next(r for r in doc["layers"] if r["kind"] == "linear")
    assert lin["in_shape"][0] == 3
    assert lin["cycles"] == accel_gemm_cycles(3, 1280, 1000, 16, 16) + ACCEL_COMMAND_OVERHEAD
    assert "classifier.1" in one and doc["total"] < 3 * int(one.split("(rtl mode): ")[1].split()[0])
    assert main([*base, "--batch", "0"]) == 2
    assert "batch must be a positive integer, not 0" in capsys.readouterr().err
