"""Cycles to time (``sw.latency.timing``): clock parsing, the base-vs-FuSe clock pairing,
synthesis-report reading, and time columns in the table/sweep rows. Expected values are worked
out by hand in the comments."""

import json
import math
import re

import pytest

from sw.latency.table import sweep_rows, table_records, table_rows
from sw.latency.timing import Clocks, find_synth_report


def test_timing_time_us_hand_values():
    clocks = Clocks(200.0, 100.0)
    # 1,000,000 cycles at 200 MHz = 1e6 / 200e6 s = 5 ms = 5000 us; at 100 MHz: 10,000 us
    assert clocks.time_us(1_000_000, "Systolic") == 5000.0
    assert clocks.time_us(1_000_000, "FuSe") == 10000.0
    assert clocks.mhz("Systolic") == 200.0 and clocks.mhz("FuSe") == 100.0


def test_timing_speedup_pairs_base_clock_with_baseline():
    clocks = Clocks(200.0, 100.0)
    # baseline 3e6 cycles on the base array at 200 MHz: 15,000 us;
    # FuSe variant 1e6 cycles on the FuSe array at 100 MHz: 10,000 us -> 1.5x (3x in cycles)
    assert clocks.speedup_time(3_000_000, 1_000_000, "FuSe") == 1.5
    # the same 1e6 cycles forced onto the base array run at 200 MHz: 5,000 us -> 3x
    assert clocks.speedup_time(3_000_000, 1_000_000, "Systolic") == 3.0
    assert clocks.fields(1_000_000, "FuSe", 3_000_000) == {
        "base_mhz": 200.0,
        "fuse_mhz": 100.0,
        "time_us": 10000.0,
        "base_time_us": 15000.0,
        "speedup_time": 1.5,
    }


def test_timing_speedup_one_clock_equals_cycle_speedup():
    clocks = Clocks.from_arg("250")
    assert math.isclose(clocks.speedup_time(2_961_936, 576_542, "FuSe"), 2_961_936 / 576_542)


@pytest.mark.parametrize(
    ("text", "base", "fuse"),
    [("200", 200.0, 200.0), ("179.4,176.5", 179.4, 176.5), (" 150 , 120.25 ", 150.0, 120.25)],
)
def test_timing_from_arg_parses_one_or_two_clocks(text, base, fuse):
    clocks = Clocks.from_arg(text)
    assert (clocks.base_mhz, clocks.fuse_mhz) == (base, fuse)
    assert text in clocks.source


@pytest.mark.parametrize(
    "text", ["", "fast", "200MHz", "1,2,3", "200,", "0", "-5", "200,0", "nan", "inf"]
)
def test_timing_from_arg_rejects_bad_clock_naming_it(text):
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        Clocks.from_arg(text)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "200", None, True])
def test_timing_clocks_reject_non_positive_or_non_numbers(bad):
    with pytest.raises(ValueError, match="clock"):
        Clocks(bad, 100.0)
    with pytest.raises(ValueError, match="clock"):
        Clocks(100.0, bad)


def test_timing_unknown_hardware_names_it():
    with pytest.raises(ValueError, match="'TPU'"):
        Clocks(100.0, 100.0).time_us(10, "TPU")


def test_timing_from_synth_json_reads_base_and_fuse_fmax(tmp_path, synth_json):
    path = synth_json(tmp_path / "synth_16x16_flat.json", 16, 16, 179.4, 176.5)
    clocks = Clocks.from_synth_json(path, 16, 16)
    assert (clocks.base_mhz, clocks.fuse_mhz) == (179.4, 176.5)
    assert clocks.source == str(path)


def test_timing_from_synth_json_size_mismatch_names_file_and_sizes(tmp_path, synth_json):
    path = synth_json(tmp_path / "synth_16x16_flat.json", 16, 16, 179.4, 176.5)
    with pytest.raises(ValueError, match=r"synth_16x16_flat\.json.*16x16.*32x8") as info:
        Clocks.from_synth_json(path, 32, 8)
    assert str(path) in str(info.value)


def test_timing_from_synth_json_missing_or_garbled_file_names_it(tmp_path, synth_json):
    missing = tmp_path / "nope.json"
    with pytest.raises(ValueError, match="nope.json"):
        Clocks.from_synth_json(missing, 4, 4)
    garbled = tmp_path / "garbled.json"
    garbled.write_text('{"rows": 4, "cols"')
    with pytest.raises(ValueError, match="garbled.json.*not valid JSON"):
        Clocks.from_synth_json(garbled, 4, 4)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"rows": 4, "cols": 4, "variants": {"base": {}}}))
    with pytest.raises(ValueError, match="other.json.*fmax_mhz"):
        Clocks.from_synth_json(other, 4, 4)


def test_timing_from_synth_json_bad_fmax_or_swapped_variants(tmp_path, synth_json):
    path = synth_json(tmp_path / "neg.json", 4, 4, 190.0, -1.0)
    with pytest.raises(ValueError, match=r"neg\.json: variants\.fuse\.timing\.fmax_mhz"):
        Clocks.from_synth_json(path, 4, 4)
    path = synth_json(tmp_path / "swap.json", 4, 4, 190.0, 180.0)
    doc = json.loads(path.read_text())
    doc["variants"]["base"]["config"]["fuse"] = True
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="swap.json.*'base'"):
        Clocks.from_synth_json(path, 4, 4)


def test_timing_find_synth_report_picks_one_or_flat(tmp_path, synth_json):
    assert find_synth_report(tmp_path, 8, 8) is None
    hier = synth_json(tmp_path / "synth_8x8_hier.json", 8, 8, 1.0, 1.0)
    synth_json(tmp_path / "synth_8x16_flat.json", 8, 16, 1.0, 1.0)
    assert find_synth_report(tmp_path, 8, 8) == hier
    flat = synth_json(tmp_path / "synth_8x8_flat.json", 8, 8, 1.0, 1.0)
    assert find_synth_report(tmp_path, 8, 8) == flat
    synth_json(tmp_path / "synth_4x4_hier.json", 4, 4, 1.0, 1.0)
    synth_json(tmp_path / "synth_4x4_flat_acc24.json", 4, 4, 1.0, 1.0)
    with pytest.raises(ValueError, match="synth_4x4_flat_acc24.json, synth_4x4_hier.json"):
        find_synth_report(tmp_path, 4, 4)
    with pytest.raises(ValueError, match="missing"):
        find_synth_report(tmp_path / "missing", 4, 4)


def test_timing_table_rows_use_each_arrays_clock():
    clocks = Clocks(200.0, 100.0)
    rows = table_rows(16, 16, ("mobilenet_v2",), "rtl", clocks=clocks)
    records = {r["variant"]: r for r in table_records(rows)}
    base, half = records["base"], records["half"]
    # the baseline runs on the base array: time = cycles / 200, speedup in time 1
    assert base["time_us"] == round(base["cycles"] / 200, 4) and base["speedup_time"] == 1.0
    # Half FuSe on the FuSe array at half the base clock: time = cycles / 100 and the time
    # speedup is the cycle speedup halved
    assert half["time_us"] == round(half["cycles"] / 100, 4)
    assert half["base_time_us"] == round(half["base_cycles"] / 200, 4)
    assert math.isclose(half["speedup_time"], half["speedup"] / 2, rel_tol=1e-5)
    assert "speedup_time" not in table_records(table_rows(16, 16, ("mobilenet_v2",), "rtl"))[0]


def test_timing_sweep_rows_only_sizes_with_clocks_get_time():
    rows = sweep_rows(
        [(8, 8), (16, 16)], ("mobilenet_v2",), ("base", "full"), "rtl",
        clocks={(16, 16): Clocks(150.0, 300.0)},
    )  # fmt: skip
    timed = [r for r in rows if "time_us" in r]
    assert {(r["arr_x"], r["arr_y"]) for r in timed} == {(16, 16)}
    full = next(r for r in timed if r["variant"] == "full")
    # FuSe array twice as fast as the base array: time speedup = 2 x cycle speedup
    assert full["time_us"] == round(full["cycles"] / 300, 4)
    assert math.isclose(full["speedup_time"], 2 * full["speedup"], rel_tol=1e-5)
