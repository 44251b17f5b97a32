"""OpenSTA timing and power of a Yosys netlist on osu018 (SPEC section 7).

Constraints: one ideal clock ``clk`` of the target period (no clock tree: the clock network is
not synthesized, so clock-buffer power is not counted, only the flops' clock-pin power); all
other inputs and all outputs constrained at 0 ns relative to it, inputs driven by a BUFX2,
outputs loaded with 0.02 pF (the same as ABC's ``-constr``). Interconnect: the liberty's
default (no wire-load model in osu018), i.e. pin capacitances only.

Timing: ``report_checks`` worst setup path; WNS = worst slack (negative = violated);
achievable clock period = target period - worst slack (the worst path's arrival + setup),
Fmax = 1 / that.

Power: OpenSTA 2019 has no SAIF/VCD reader and ``set_power_activity -pins`` is broken, so the
per-bit activity of a Verilator SAIF run (``synth.activity``) is applied with
``sta::set_power_pin_activity`` on every flop ``Q`` pin (matched by the RTL register name Yosys
keeps on the ``Q`` net) and ``sta::set_power_input_port_activity`` on every input; OpenSTA
propagates it through the combinational logic. Activities are toggles per clock cycle.
Flops whose ``Q`` net lost its RTL name get the mean activity of the matched ones; the
matched fraction is reported as ``activity_coverage``.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from synth.tools import find_liberty, find_sta
from synth.yosys import DRIVING_CELL, OUTPUT_LOAD_PF

__all__ = [
    "StaResult",
    "run_sta",
    "netlist_flops",
    "netlist_inputs",
    "netlist_outputs",
    "StaError",
]


class StaError(RuntimeError):
    """OpenSTA failed or printed something we could not parse; names the log file."""


@dataclass
class StaResult:
    period_ns: float
    wns_ns: float
    tns_ns: float
    critical_path: dict
    power_w: dict[str, float] | None = None  # internal/switching/leakage/total
    power_groups: dict[str, dict[str, float]] = field(default_factory=dict)
    activity_coverage: float | None = None
    arrivals: dict[str, float] = field(default_factory=dict)
    log: Path | None = None
    seconds: float = 0.0

    @property
    def achievable_period_ns(self) -> float:
        return self.period_ns - self.wns_ns

    @property
    def fmax_mhz(self) -> float:
        return 1000.0 / self.achievable_period_ns

    def timing_dict(self) -> dict:
        return {
            "period_ns": self.period_ns,
            "wns_ns": round(self.wns_ns, 4),
            "tns_ns": round(self.tns_ns, 4),
            "achievable_period_ns": round(self.achievable_period_ns, 4),
            "fmax_mhz": round(self.fmax_mhz, 2),
            "critical_path": self.critical_path,
        }

    def power_dict(self) -> dict:
        return {
            "internal_w": self.power_w["internal"] if self.power_w else None,
            "switching_w": self.power_w["switching"] if self.power_w else None,
            "leakage_w": self.power_w["leakage"] if self.power_w else None,
            "total_w": self.power_w["total"] if self.power_w else None,
            "groups": self.power_groups,
            "activity_coverage": self.activity_coverage,
        }


_CELL = re.compile(r"^\s*(\w+)\s+(\S+)\s*\((.*?)\);", re.S | re.M)
_PIN = re.compile(r"\.(\w+)\(\s*(.*?)\s*\)(?:,|\s*$)", re.S)


def _net(name: str) -> str:
    return name.strip().lstrip("\\").strip()


def netlist_flops(netlist: Path) -> dict[str, str]:
    """``{flop instance: RTL name of its Q net}`` of a Yosys-written gate netlist."""
    flops: dict[str, str] = {}
    for m in _CELL.finditer(Path(netlist).read_text()):
        ref, inst, body = m.groups()
        if not ref.startswith("DFF"):
            continue
        pins = dict((p, _net(n)) for p, n in _PIN.findall(body))
        flops[_net(inst)] = pins.get("Q", "")
    return flops


def _tcl_str(s: str) -> str:
    return "{" + s.replace("{", "\\{").replace("}", "\\}") + "}"


_INPUT = re.compile(r"^\s*input\s+(?:\[(\d+):(\d+)\]\s+)?(\S+)\s*;", re.M)


_OUTPUT = re.compile(r"^\s*output\s+(?:\[(\d+):(\d+)\]\s+)?(\S+)\s*;", re.M)


def netlist_outputs(netlist: Path) -> list[str]:
    """Bit names of the top module's output ports (``name[i]`` for vectors)."""
    return _port_bits(_OUTPUT, netlist)


def _port_bits(rx: re.Pattern, netlist: Path) -> list[str]:
    bits = []
    for hi, lo, name in rx.findall(Path(netlist).read_text()):
        name = _net(name)
        if hi:
            a, b = sorted((int(hi), int(lo)))
            bits += [f"{name}[{i}]" for i in range(a, b + 1)]
        else:
            bits.append(name)
    return bits


def netlist_inputs(netlist: Path) -> list[str]:
    """Bit names of the top module's input ports (``name[i]`` for vectors)."""
    return _port_bits(_INPUT, netlist)


def _activity_tcl(
    flops: dict[str, str], inputs: list[str], bits: dict[str, tuple[float, float]], clock: str
) -> tuple[str, float]:
    lines = ["set pairs {}"]
    matched = {i: bits[q] for i, q in flops.items() if q in bits}
    if matched:
        mean_a = sum(a for a, _ in matched.values()) / len(matched)
        mean_d = sum(d for _, d in matched.values()) / len(matched)
    else:
        mean_a, mean_d = 0.0, 0.5
    for inst, q in flops.items():
        a, d = bits.get(q, (mean_a, mean_d))
        lines.append(
            f"sta::set_power_pin_activity [get_pins {_tcl_str(inst + '/Q')}] {a:.6g} {d:.6g}"
        )
    for name in inputs:
        if name in bits and name != clock:
            a, d = bits[name]
            lines.append(f"lappend pairs {_tcl_str(name)} [list {a:.6g} {d:.6g}]")
    lines.append("array set inact $pairs")
    lines.append(
        "foreach port [all_inputs] {\n"
        "  set n [string map {\\\\ {}} [get_full_name $port]]\n"
        f"  if {{$n == {_tcl_str(clock)}}} continue\n"
        "  if {[info exists inact($n)]} {\n"
        "    sta::set_power_input_port_activity $port [lindex $inact($n) 0] [lindex $inact($n) 1]\n"
        "  } else {\n"
        '    puts "fusesa: no activity for input $n"\n'
        "    sta::set_power_input_port_activity $port 0.0 0.0\n"
        "  }\n"
        "}"
    )
    coverage = len(matched) / len(flops) if flops else 1.0
    return "\n".join(lines) + "\n", coverage


def _boundary_tcl(
    input_delays: dict[str, float] | None,
    arrivals: bool,
    arrival_groups: dict[str, str] | None,
) -> tuple[str, str]:
    """Tcl setting per-port input delays (by port kind: the pin name without bus index or
    instance prefix), and Tcl
    reporting the worst arrival at the output ports of each label: ``group:kind`` for ports
    of an instance in ``arrival_groups`` (``mesh.pe_3_3`` -> its PE class), else ``kind``."""
    pre = []
    if input_delays:
        pre.append(
            "array set indel {"
            + " ".join(f"{_tcl_str(k)} {v:.6g}" for k, v in input_delays.items())
            + "}"
        )
        pre.append(
            "foreach port [all_inputs] {\n"
            "  set n [string map {\\\\ {}} [get_full_name $port]]\n"
            "  set k [lindex [split [lindex [split $n .] end] {[}] 0]\n"
            "  if {[info exists indel($k)]} {\n"
            "    foreach p [sta::get_port_pins_error pins $port] {\n"
            # the raw command takes seconds (the user-level one would convert ns)
            "      sta::set_input_delay_cmd $p rise_fall $clk rise NULL 0 0 min_max 0 "
            "[expr {$indel($k) * 1e-9}]\n"
            "    }\n"
            "  }\n"
            "}"
        )
    post = []
    if arrivals:
        if arrival_groups:
            post.append(
                "array set grp {"
                + " ".join(f"{_tcl_str(k)} {_tcl_str(v)}" for k, v in arrival_groups.items())
                + "}"
            )
        post.append(
            "array set kp {}\n"
            "foreach port [all_outputs] {\n"
            "  set n [string map {\\\\ {}} [get_full_name $port]]\n"
            "  set parts [split $n .]\n"
            "  set k [lindex [split [lindex $parts end] {[}] 0]\n"
            "  set inst [join [lrange $parts 0 end-1] .]\n"
            '  if {[info exists grp($inst)]} { set lab "$grp($inst):$k" } else { set lab $k }\n'
            "  lappend kp($lab) $port\n"
            "}\n"
            "foreach lab [lsort [array names kp]] {\n"
            '  puts "FUSESA-ARRIVAL $lab"\n'
            "  report_checks -path_delay max -digits 4 -to $kp($lab)\n"
            '  puts "FUSESA-ARRIVAL-END"\n'
            "}"
        )
    return "\n".join(pre) + "\n", "\n".join(post) + "\n"


def _script(
    netlist: Path,
    top: str,
    period_ns: float,
    lib: Path,
    act: Path | None,
    boundary: tuple[str, str] = ("", ""),
) -> str:
    power = f"source {act}\nreport_power -digits 6\n" if act else ""
    return f"""read_liberty {lib}
read_verilog {netlist}
link_design {_tcl_str(top)}
create_clock -name clk -period {period_ns} [get_ports clk]
set clk [get_clocks clk]
set ins [delete_from_list [all_inputs] [get_ports clk]]
# set_input_delay/set_output_delay are broken in this OpenSTA build (the proc passes a "NULL"
# reference pin the SWIG layer rejects); call the commands behind them directly.
foreach p [sta::get_port_pins_error pins $ins] {{
  sta::set_input_delay_cmd $p rise_fall $clk rise NULL 0 0 min_max 0 0.0
}}
foreach p [sta::get_port_pins_error pins [all_outputs]] {{
  # the per-PE glue passes the clock to the black-boxed PEs' clk pins: not a data path
  if {{[string match *.clk [get_full_name $p]]}} continue
  sta::set_output_delay_cmd $p rise_fall $clk rise NULL 0 0 min_max 0 0.0
}}
set_driving_cell -lib_cell {DRIVING_CELL} -pin Y $ins
# The synchronous reset is quasi-static (held for several cycles, synchronized and buffered as
# its own tree in a real design): not a single-cycle path. Without this the per-PE + glue
# method, whose glue does not buffer the reset to every black-boxed PE, times the reset net.
if {{[llength [get_ports -quiet rst]]}} {{ set_false_path -from [get_ports rst] }}
set_load {OUTPUT_LOAD_PF} [all_outputs]
{boundary[0]}puts "FUSESA-BEGIN-PATH"
report_checks -path_delay max -digits 4
puts "FUSESA-END-PATH"
report_worst_slack -digits 4
report_tns -digits 4
{boundary[1]}{power}"""


_NUM = r"([-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)"


def _parse(out: str, flops: dict[str, str], log: Path) -> tuple[float, float, dict]:
    m = re.search(r"worst slack " + _NUM, out)
    t = re.search(r"tns " + _NUM, out)
    if not m or not t:
        raise StaError(f"OpenSTA printed no worst slack/tns; see {log}")
    path_txt = out.split("FUSESA-BEGIN-PATH", 1)[-1].split("FUSESA-END-PATH", 1)[0]
    sp = re.search(r"Startpoint: (\S+)(.*)", path_txt)
    ep = re.search(r"Endpoint: (\S+)(.*)", path_txt)
    arr = re.search(_NUM + r"\s+data arrival time", path_txt)
    cells = re.findall(r"\s[\^v]\s+\S+\s+\((\w+)\)", path_txt)

    def who(obj: str) -> str:
        inst = obj.split("/")[0].lstrip("\\")
        return flops.get(inst, obj.replace("\\", ""))

    crit = {
        "startpoint": who(sp.group(1)) if sp else None,
        "endpoint": who(ep.group(1)) if ep else None,
        "arrival_ns": float(arr.group(1)) if arr else None,
        "cells_on_path": len(cells),
    }
    return float(m.group(1)), float(t.group(1)), crit


def _parse_power(out: str, log: Path) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    groups: dict[str, dict[str, float]] = {}
    for name in ("Sequential", "Combinational", "Total"):
        m = re.search(rf"^{name}\s+{_NUM}\s+{_NUM}\s+{_NUM}\s+{_NUM}", out, re.M)
        if not m:
            raise StaError(f"OpenSTA report_power has no {name} row; see {log}")
        vals = [float(x) for x in m.groups()]
        groups[name.lower()] = dict(
            zip(("internal", "switching", "leakage", "total"), vals, strict=True)
        )
    total = groups.pop("total")
    return total, groups


def run_sta(
    netlist: str | Path,
    out_dir: str | Path,
    period_ns: float,
    top: str = "fusesa_array",
    activity: dict[str, tuple[float, float]] | None = None,
    tag: str = "sta",
    clock: str = "clk",
    input_delays: dict[str, float] | None = None,
    arrivals: bool = False,
    arrival_groups: dict[str, str] | None = None,
) -> StaResult:
    """Timing (and, with ``activity``, power) of ``netlist`` at ``period_ns``.

    Hierarchical budgeting (``synth.flow`` hier method): ``input_delays`` maps a port kind
    (the pin name, e.g. ``ctl`` for ``mesh.pe_3_3.ctl[0]``) to the arrival time (ns) of its
    input ports; with ``arrivals`` the worst arrival at the output ports of each
    label (see ``_boundary_tcl``) is reported in ``StaResult.arrivals``."""
    netlist = Path(netlist).resolve()
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    lib = find_liberty()
    sta = find_sta()
    flops = netlist_flops(netlist)
    act_path, coverage = None, None
    if activity is not None:
        act_path = out / f"{tag}_activity.tcl"
        text, coverage = _activity_tcl(flops, netlist_inputs(netlist), activity, clock)
        act_path.write_text(text)
    script = out / f"{tag}.tcl"
    boundary = _boundary_tcl(input_delays, arrivals, arrival_groups)
    script.write_text(_script(netlist, top, period_ns, lib, act_path, boundary))
    log = out / f"{tag}.log"
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sta, "-no_splash", "-exit", str(script)], capture_output=True, text=True, check=False
    )
    text = proc.stdout + proc.stderr
    log.write_text(text)
    if proc.returncode != 0 or re.search(r"^Error", text, re.M):
        raise StaError(f"OpenSTA failed (exit {proc.returncode}) on {netlist}; see {log}")
    wns, tns, crit = _parse(text, flops, log)
    res = StaResult(period_ns, wns, tns, crit, log=log, activity_coverage=coverage)
    for lab, block in re.findall(r"FUSESA-ARRIVAL (\S+)\n(.*?)FUSESA-ARRIVAL-END", text, re.S):
        arr = re.search(_NUM + r"\s+data arrival time", block)
        res.arrivals[lab] = float(arr.group(1)) if arr else 0.0
    if activity is not None:
        res.power_w, res.power_groups = _parse_power(text, log)
    res.seconds = time.perf_counter() - t0
    return res
