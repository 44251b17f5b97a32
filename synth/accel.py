"""Area and Fmax of the whole accelerator (``hw.accel``, top ``fusesa_accel``) on osu018, per
part (issue 18): the array, the output stage, the residual adder, and the rest of the top
(command decode, GEMM streamer with conv addressing, FUSE line addressing, the ``REQUANT`` line
mode's corner-turn double buffer, the MAXPOOL engine, counters, host streams).

Method (per part, like the ``hier`` method of ``synth.flow``): the generated Verilog of the
accelerator has one module per part (``fusesa_accel.array``, ``.outstage``, ``.resadd``, the
top itself). The memories (``fusesa_ram`` instances) are black boxes everywhere: each
instance becomes an instance of its own empty ``(* blackbox *)`` module with that instance's
port widths (``blackbox_ram``; one parameterized black box would be exposed at its default
widths), so their ports are ideal (an SRAM macro's clock-to-output and setup are not
modelled) and their area is not counted. Each part is
synthesized flat with ``synth.yosys.synthesize``; the top ("control") with the array, the
output stage, the residual adder and the memories black-boxed and turned into ports
(``expose -evert``). Area = the sum of the parts.

Timing by boundary budgeting (as ``synth.flow._hier_timing``):

1. each submodule part alone: its worst path with ideal ports, and the worst arrival at each
   of its output pins (``out_data``, ``out``, ``o_valid``, ...);
2. the control part with those pins arriving as step 1 says (the worst over the parts that
   have a pin of that name), reporting the worst arrival at each input pin of each submodule;
3. each submodule part again, its inputs arriving as step 2 says.

The accelerator's Fmax is the worst of steps 2 and 3; memory ports are ideal (0 ns). Nets
between the parts are timed with the loads each side was synthesized for (a BUFX2 driving a
submodule input, 0.02 pF on a control output), not with the real fan-out.

The control part is split further by its flops: each flop's RTL register name (Yosys keeps it
on the ``Q`` net) puts it in one of ``FLOP_GROUPS``; a group's sequential area is its flop
count times the flop cell's area. Combinational cells have no RTL names after ABC; they are
attributed by what they feed (``comb_attribution``: the fan-in cones of each group's flops and
of the control part's output ports; a cell in the cones of several groups is "shared"). ``group_timing`` gives the worst path into each group.
These come from the written netlist, which has the BUFX2s ``insbuf`` adds after ``stat`` (so their
sum is slightly above the part's ``stat`` area).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

from hw.config import ArrayConfig
from hw.mem import RAM_MODULE, RAM_VERILOG
from synth.sta import StaResult, run_sta
from synth.tools import find_liberty
from synth.yosys import SynthResult, synthesize

__all__ = [
    "ACCEL_TOP",
    "PORT_GROUPS",
    "comb_attribution",
    "ram_ports",
    "SUBPARTS",
    "FLOP_GROUPS",
    "blackbox_ram",
    "flop_groups",
    "accel_rtl",
    "synth_accel",
    "synth_accel_flat",
]

ACCEL_TOP = "fusesa_accel"
#: submodule parts of the top (instance name in ``hw.accel``); "control" is the top itself
SUBPARTS = ("array", "outstage", "resadd")
#: (group, regex on the flop's RTL register name), first match wins
FLOP_GROUPS = (
    ("corner-turn buffer (lq_buf)", r"lq_buf\d"),
    ("REQUANT line mode control (lq_*)", r"lq_|lqm$"),
    (
        "conv addressing (cv_, nt_, ct_, r_, c_in)",
        r"cv_|nt_|ct_|r_(x|y|ox|oy|yoff|base)$|c_in|cmode$",
    ),
    ("FUSE + line addressing (f_, fl_, fs_, fo_, d_left)", r"f_|fl_|fs_|fo_|flin$|d_left$"),
    ("MAXPOOL (mp_)", r"mp_|pmode$"),
    (
        "REQUANT/ADD engine (q_, d_, stage operand regs)",
        r"q_|d_|rq_|qmode$|amode$|outstage\.|resadd\.",
    ),
    (
        "GEMM streamer/loader/output (s_, l_, o_, folds)",
        r"s_|l_|o_|a_ptr$|a_base$|w_ptr$|M$|kfolds$|nfolds$|folds$|array\.",
    ),
    ("sequencer, counters, host streams", r"cnt_|pc$|fsm_state$|host_error$|rd_"),
)

_MODULE = re.compile(r"^module (\S+?)\s*\(.*?^endmodule\n", re.S | re.M)


def _say(msg: str, progress: bool) -> None:
    if progress:
        print(msg, file=sys.stderr, flush=True)


_RAM_INST = re.compile(rf"^(\s*){RAM_MODULE} #\((.*?)\)\s*(\w+)\s*\(", re.S | re.M)
_PARAM = re.compile(r"\.(\w+)\((?:\d+'d)?(\d+)\)")


def ram_ports(params: dict[str, int]) -> dict[str, tuple[str, int]]:
    """Port -> (direction, width) of a ``fusesa_ram`` instance with ``params``."""
    nw, nr, ab, w = params["NW"], params["NR"], params["ABITS"], params["WIDTH"]
    return {
        "clk": ("input", 1),
        "w_en": ("input", nw),
        "w_addr": ("input", nw * ab),
        "w_data": ("input", nw * w),
        "r_en": ("input", nr),
        "r_addr": ("input", nr * ab),
        "r_data": ("output", nr * w),
    }


def blackbox_ram(rtl_text: str) -> tuple[str, dict[str, dict[str, tuple[str, int]]]]:
    """The accelerator's Verilog with every ``fusesa_ram`` instance turned into an instance of
    its own empty ``(* blackbox *)`` module ``fusesa_ram_<instance>`` with the instance's port
    widths (a parameterized black box would be exposed with its default widths), and the
    ``fusesa_ram`` model removed. Returns the text and ``{instance: ram_ports}``."""
    if RAM_VERILOG not in rtl_text:
        raise ValueError(f"the Verilog does not contain the {RAM_MODULE} model of hw.mem")
    rams: dict[str, dict[str, tuple[str, int]]] = {}

    def sub(m: re.Match) -> str:
        params = {k: int(v) for k, v in _PARAM.findall(m.group(2))}
        rams[m.group(3)] = ram_ports(params)
        return f"{m.group(1)}{RAM_MODULE}_{m.group(3)} {m.group(3)} ("

    text = _RAM_INST.sub(sub, rtl_text.replace(RAM_VERILOG, ""))
    if not rams:
        raise ValueError(f"the Verilog instantiates no {RAM_MODULE}")
    for inst, ports in rams.items():
        decl = ", ".join(
            f"{d} [{n - 1}:0] {p}" if n > 1 else f"{d} {p}" for p, (d, n) in ports.items()
        )
        text += f"\n(* blackbox *)\nmodule {RAM_MODULE}_{inst}({decl});\nendmodule\n"
    return text, rams


def _check_exposed(netlist: Path, rams: dict[str, dict[str, tuple[str, int]]]) -> None:
    """Every memory pin of every black-boxed memory is a port of ``netlist`` at full width."""
    from synth.sta import netlist_inputs, netlist_outputs

    have = set(netlist_inputs(netlist)) | set(netlist_outputs(netlist))
    for inst, ports in rams.items():
        for p, (_d, n) in ports.items():
            want = [f"{inst}.{p}"] if n == 1 else [f"{inst}.{p}[{i}]" for i in range(n)]
            missing = [b for b in want if b not in have]
            if missing and not (n == 1 and f"{inst}.{p}[0]" in have):
                raise RuntimeError(f"{netlist}: memory pin {missing[0]} is not a port")


def _tag(cfg: ArrayConfig) -> str:
    return "accel_" + cfg.name.removeprefix("array_") + ("" if cfg.fuse else "_base")


def accel_rtl(cfg: ArrayConfig, root: Path) -> tuple[Path, dict]:
    """The accelerator's Verilog with the memories black-boxed, under ``root/rtl/<tag>``, and
    the memories' ports (``blackbox_ram``)."""
    from hw.gen import write_outputs

    full = write_outputs(cfg, Path(root) / "rtl" / _tag(cfg), design="accel")
    text, rams = blackbox_ram(full.read_text())
    rtl = full.with_name(f"{ACCEL_TOP}_bbram.v")
    if not rtl.exists() or rtl.read_text() != text:
        rtl.write_text(text)
    return rtl, rams


def synth_accel_flat(
    cfg: ArrayConfig, out_dir: str | Path, period_ns: float = 10.0, progress: bool = True
) -> dict:
    """The whole top synthesized flat in one run (memories still black boxes, their pins
    ports): the cross-check of the per-part method (ABC sees across the part boundaries,
    and the nets between parts carry their real loads)."""
    root = Path(out_dir).resolve()
    rtl, rams = accel_rtl(cfg, root)
    modules = _module_texts(rtl.read_text())
    key = _part_key(modules, list(modules), period_ns, "flat")
    out = root / "flat" / f"{_tag(cfg)}_{key}"
    syn = _synth_part(
        rtl,
        out,
        period_ns,
        ACCEL_TOP,
        key,
        progress,
        f"{_tag(cfg)} flat",
        extra=[f"expose -evert t:{RAM_MODULE}_*"],
    )
    _check_exposed(syn.netlist, rams)
    t = run_sta(syn.netlist, out, period_ns, top=ACCEL_TOP, tag="timing")
    return {"design": _tag(cfg), **syn.to_dict(), "timing": t.timing_dict()}


def _module_texts(rtl_text: str) -> dict[str, str]:
    return {m.group(1).lstrip("\\"): m.group(0) for m in _MODULE.finditer(rtl_text)}


def _part_key(modules: dict[str, str], names: list[str], period_ns: float, tag: str) -> str:
    h = hashlib.sha256(f"{tag}|{period_ns}".encode())
    for n in sorted(names):
        h.update(n.encode() + modules[n].encode())
    return h.hexdigest()[:16]


def _liberty_areas() -> dict[str, float]:
    text = find_liberty().read_text()
    areas = {}
    for cell, body in re.findall(r"^cell\s*\((\w+)\)\s*\{(.*?)^\}", text, re.S | re.M):
        m = re.search(r"^\s*area\s*:\s*([\d.]+)", body, re.M)
        if m:
            areas[cell] = float(m.group(1))
    return areas


_CELL = re.compile(r"^\s*(\w+)\s+(\S+)\s*\((.*?)\);", re.S | re.M)
_QPIN = re.compile(r"\.Q\(\s*(.*?)\s*\)(?:,|\s*$)", re.S)


def flop_groups(netlist: Path, areas: dict[str, float]) -> dict[str, dict]:
    """Flops of a gate netlist grouped by ``FLOP_GROUPS`` (RTL name of the ``Q`` net):
    ``{group: {"flops": n, "area_um2": a}}``; unnamed or unmatched flops go to "other"."""
    out: dict[str, dict] = defaultdict(lambda: {"flops": 0, "area_um2": 0.0})
    rules = [(g, re.compile(rx)) for g, rx in FLOP_GROUPS]
    for ref, _inst, body in _CELL.findall(Path(netlist).read_text()):
        if ref not in areas or not ref.startswith(("DFF", "LATCH")):
            continue
        q = _QPIN.search(body)
        name = re.sub(r"\s*\[\d+\]$", "", q.group(1).lstrip("\\").strip()) if q else ""
        group = next((g for g, rx in rules if rx.match(name)), "other")
        out[group]["flops"] += 1
        out[group]["area_um2"] += areas[ref]
    order = [g for g, _ in FLOP_GROUPS] + ["other"]
    return {g: dict(out[g]) for g in order if g in out}


def _synth_part(
    rtl: Path,
    out: Path,
    period_ns: float,
    top: str,
    key: str,
    progress: bool,
    label: str,
    blackbox: list[str] | None = None,
    extra: list[str] | None = None,
) -> SynthResult:
    """``synthesize`` unless ``out`` already holds this part's result for the same ``key``
    (hash of the part's Verilog modules and the period): identical modules of two
    configurations (the output stage of base and FuSe) are synthesized once."""
    done = out / "part.json"
    if done.exists():
        rec = json.loads(done.read_text())
        if rec.get("key") == key and Path(rec["netlist"]).exists():
            _say(f"  {label}: reusing {out} (same modules)", progress)
            return SynthResult(
                top,
                rec["area_um2"],
                rec["seq_area_um2"],
                rec["cell_types"],
                Path(rec["netlist"]),
                Path(rec["yosys_log"]),
                rec["seconds"],
            )
    _say(f"  {label}: synthesizing ({top})", progress)
    syn = synthesize(
        rtl, out, period_ns, top=top, blackbox=blackbox, extra=extra, label=label, progress=progress
    )
    done.write_text(json.dumps({"key": key, **syn.to_dict(), "seq_area_um2": syn.seq_area_um2}))
    return syn


def synth_accel(
    cfg: ArrayConfig,
    out_dir: str | Path,
    period_ns: float = 10.0,
    progress: bool = True,
) -> dict:
    """Per-part synthesis of ``cfg``'s accelerator; returns the report entry (a dict)."""
    from hw.accel import has_outstage

    if period_ns <= 0:
        raise ValueError(f"clock period must be positive, not {period_ns!r} ns")
    if not has_outstage(cfg):
        raise ValueError(
            f"{cfg.name}: this accelerator has no output stage (act_width={cfg.act_width}, "
            f"weight_width={cfg.weight_width}, acc_width={cfg.acc_width}; it needs 8, >= 8 and "
            "<= 32 bits): nothing to compare with the array"
        )
    t0 = time.perf_counter()
    root = Path(out_dir).resolve()
    tag = _tag(cfg)
    _say(f"{tag}: generating the accelerator's Verilog", progress)
    rtl, rams = accel_rtl(cfg, root)
    text = rtl.read_text()
    modules = _module_texts(text)
    if ACCEL_TOP not in modules:
        raise RuntimeError(f"{rtl}: no module {ACCEL_TOP}")

    parts: dict[str, SynthResult] = {}
    keys: dict[str, str] = {}
    for part in SUBPARTS:
        top = f"{ACCEL_TOP}.{part}"
        names = [n for n in modules if n == top or n.startswith(top + ".")]
        if not names:
            raise RuntimeError(f"{rtl}: no module {top}")
        keys[part] = key = _part_key(modules, names, period_ns, part)
        parts[part] = _synth_part(
            rtl, root / "parts" / f"{part}_{key}", period_ns, top, key, progress, f"{tag} {part}"
        )
    boxes = [f"{ACCEL_TOP}.{p}" for p in SUBPARTS]
    keys["control"] = key = _part_key(modules, list(modules), period_ns, "control")
    parts["control"] = _synth_part(
        rtl,
        root / "parts" / f"control_{key}",
        period_ns,
        ACCEL_TOP,
        key,
        progress,
        f"{tag} control",
        blackbox=boxes,
        extra=[f"expose -evert {' '.join(f't:{b}' for b in boxes)} t:{RAM_MODULE}_*"],
    )
    unboxed = [c for c in parts["control"].cells if c.startswith((ACCEL_TOP, RAM_MODULE, "$"))]
    if unboxed:
        raise RuntimeError(f"control part still instantiates {unboxed}: expose -evert failed")
    _check_exposed(parts["control"].netlist, rams)

    _say(f"{tag}: timing (boundary budgeting)", progress)
    timing = _timing(parts, root, keys, period_ns)
    ctl_dir = parts["control"].netlist.parent
    gkey = f"{keys['array']}_{keys['outstage']}_{keys['resadd']}"
    groups_t = {
        "all paths": group_timing(
            parts["control"].netlist,
            ctl_dir,
            period_ns,
            input_delays=timing["pin_out"],
            tag=f"groups_{gkey}",
        ),
        "without paths from the command word (cmd_mem.r_data)": group_timing(
            parts["control"].netlist,
            ctl_dir,
            period_ns,
            input_delays=timing["pin_out"],
            false_from="cmd_mem.r_data*",
            tag=f"groups_nocmd_{gkey}",
        ),
    }
    total = sum(p.area_um2 for p in parts.values())
    areas = _liberty_areas()
    entry = {
        "config": cfg.to_dict(),
        "design": tag,
        "period_ns": period_ns,
        "rtl_sha256": hashlib.sha256(text.encode()).hexdigest()[:16],
        "memories": "black boxes (fusesa_ram): area not counted, ports ideal",
        "area_um2": total,
        "seq_area_um2": sum(p.seq_area_um2 for p in parts.values()),
        "cells": sum(p.n_cells for p in parts.values()),
        "flops": sum(p.flops for p in parts.values()),
        "parts": {
            name: {
                "area_um2": p.area_um2,
                "seq_area_um2": p.seq_area_um2,
                "comb_area_um2": p.area_um2 - p.seq_area_um2,
                "share": p.area_um2 / total,
                "cells": p.n_cells,
                "flops": p.flops,
                "fmax_alone_mhz": round(timing["alone"][name].fmax_mhz, 2),
                "timing_in_place": timing["in_place"][name].timing_dict(),
                "synth_seconds": round(p.seconds, 1),
                "dir": str(p.netlist.parent),
            }
            for name, p in parts.items()
        },
        "control_flop_groups": flop_groups(parts["control"].netlist, areas),
        "control_comb_groups": comb_attribution(parts["control"].netlist, areas),
        "control_group_timing": groups_t,
        "timing": timing["worst"],
        "boundary_arrivals_ns": timing["budget"],
        "seconds": round(time.perf_counter() - t0, 1),
    }
    _say(
        f"{tag}: {total:,.0f} um2, Fmax {timing['worst']['fmax_mhz']:.1f} MHz "
        f"({timing['worst']['critical_path']['part']})",
        progress,
    )
    return entry


def _timing(
    parts: dict[str, SynthResult], root: Path, keys: dict[str, str], period_ns: float
) -> dict:
    alone: dict[str, StaResult] = {}
    pin_out: dict[str, float] = {}
    for part in SUBPARTS:
        syn = parts[part]
        t = run_sta(
            syn.netlist,
            syn.netlist.parent,
            period_ns,
            top=f"{ACCEL_TOP}.{part}",
            tag="alone",
            arrivals=True,
        )
        alone[part] = t
        for kind, v in t.arrivals.items():
            pin_out[kind] = max(pin_out.get(kind, 0.0), v)
    ctl = parts["control"]
    ctl_t = run_sta(
        ctl.netlist,
        ctl.netlist.parent,
        period_ns,
        top=ACCEL_TOP,
        tag=f"budget_{keys['array']}_{keys['outstage']}_{keys['resadd']}",
        input_delays=pin_out,
        arrivals=True,
        arrival_groups={p: p for p in SUBPARTS},
    )
    alone["control"] = run_sta(
        ctl.netlist, ctl.netlist.parent, period_ns, top=ACCEL_TOP, tag="alone"
    )
    pin_in: dict[str, dict[str, float]] = defaultdict(dict)
    for lab, v in ctl_t.arrivals.items():
        if ":" in lab:
            part, kind = lab.split(":", 1)
            pin_in[part][kind] = v
    in_place: dict[str, StaResult] = {"control": ctl_t}
    for part in SUBPARTS:
        syn = parts[part]
        in_place[part] = run_sta(
            syn.netlist,
            syn.netlist.parent,
            period_ns,
            top=f"{ACCEL_TOP}.{part}",
            tag=f"in_place_{keys['control']}",
            input_delays=pin_in[part],
        )
    worst_part, worst = min(in_place.items(), key=lambda kv: kv[1].wns_ns)
    w = worst.timing_dict()
    w["critical_path"]["part"] = worst_part
    budget = {f"{k} (submodule out)": round(v, 4) for k, v in sorted(pin_out.items())}
    for part, d in sorted(pin_in.items()):
        for kind, v in sorted(d.items()):
            budget[f"{part}.{kind} (in)"] = round(v, 4)
    return {
        "alone": alone,
        "in_place": in_place,
        "worst": w,
        "budget": budget,
        "pin_out": pin_out,
    }


#: output ports of the control part -> group of ``comb_attribution`` (first match wins)
PORT_GROUPS = (
    ("to the array (array.*)", r"array\."),
    ("to the output stage / adder (outstage.*, resadd.*)", r"outstage\.|resadd\."),
    ("memory ports: address and data select (*_mem.*)", r"\w+_mem\."),
    ("sequencer, counters, host streams", r""),
)
_PIN = re.compile(r"\.(\w+)\(\s*(.*?)\s*\)(?:,|\s*$)", re.S)
_OUT_PINS = ("Y", "Q", "YC", "YS")


def _norm(net: str) -> str:
    return re.sub(r"\s+", "", net.lstrip("\\"))


def comb_attribution(netlist: Path, areas: dict[str, float]) -> dict[str, dict]:
    """Combinational cells of a flat gate netlist attributed by what they feed: walking back
    from every endpoint (a flop's ``D``, grouped by ``FLOP_GROUPS``; an output port, grouped
    by ``PORT_GROUPS``) through combinational cells up to flops and inputs, a cell reached
    from endpoints of one group only belongs to that group, one reached from several to
    "shared (feeds several groups)". ``{group: {"cells": n, "area_um2": a}}``."""
    from synth.sta import netlist_outputs

    rules = [(g, re.compile(rx)) for g, rx in FLOP_GROUPS]
    prules = [(g, re.compile(rx)) for g, rx in PORT_GROUPS]
    cells = []  # (ref, inputs, outputs)
    driver: dict[str, int] = {}
    for ref, _inst, body in _CELL.findall(Path(netlist).read_text()):
        if ref not in areas:  # the module header
            continue
        pins = {p: _norm(n) for p, n in _PIN.findall(body)}
        outs = [n for p, n in pins.items() if p in _OUT_PINS]
        ins = [n for p, n in pins.items() if p not in _OUT_PINS and p != "CLK"]
        for n in outs:
            driver[n] = len(cells)
        cells.append((ref, ins, outs))
    seeds: dict[str, list[str]] = defaultdict(list)
    for ref, ins, outs in cells:
        if ref.startswith(("DFF", "LATCH")):
            name = re.sub(r"\[\d+\]$", "", outs[0]) if outs else ""
            group = next((g for g, rx in rules if rx.match(name)), "other")
            seeds[group] += ins
    for port in netlist_outputs(Path(netlist)):
        seeds[next(g for g, rx in prules if rx.match(port))].append(_norm(port))
    reached: dict[int, set[str]] = defaultdict(set)
    for group, nets in seeds.items():
        stack, seen = list(nets), set()
        while stack:
            i = driver.get(stack.pop())
            if i is None or i in seen or cells[i][0].startswith(("DFF", "LATCH")):
                continue
            seen.add(i)
            reached[i].add(group)
            stack += cells[i][1]
    out: dict[str, dict] = defaultdict(lambda: {"cells": 0, "area_um2": 0.0})
    shared = "shared (feeds several groups)"
    for i, (ref, _ins, _outs) in enumerate(cells):
        if ref.startswith(("DFF", "LATCH")):
            continue
        gs = reached.get(i)
        group = (next(iter(gs)) if len(gs) == 1 else shared) if gs else "unloaded"
        out[group]["cells"] += 1
        out[group]["area_um2"] += areas[ref]
    order = [g for g, _ in FLOP_GROUPS] + [g for g, _ in PORT_GROUPS] + ["other", shared]
    order += ["unloaded"]
    return {g: dict(out[g]) for g in order if g in out}


_END_ROW = re.compile(r"^(\S+?)(?:/\w+)?\s+\(?\w*\)?\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)", re.M)


def group_timing(
    netlist: Path,
    out: Path,
    period_ns: float,
    top: str = ACCEL_TOP,
    input_delays: dict[str, float] | None = None,
    false_from: str | None = None,
    tag: str = "groups",
) -> dict[str, dict]:
    """Worst path into each group of a flat control netlist: every endpoint's slack
    (OpenSTA ``report_checks -format end``), endpoints grouped like ``comb_attribution`` (a
    flop by ``FLOP_GROUPS``, an output port by ``PORT_GROUPS``), then the worst endpoint of each
    group's full path for its startpoint. ``false_from`` (a port glob) excludes the paths
    from those input ports. ``{group: {fmax_mhz, achievable_period_ns, startpoint, endpoint,
    cells_on_path}}``, worst group first."""
    import subprocess

    from synth.sta import _boundary_tcl, _parse, _script, netlist_flops
    from synth.tools import find_sta

    flops = netlist_flops(netlist)
    rules = [(g, re.compile(rx)) for g, rx in FLOP_GROUPS]
    prules = [(g, re.compile(rx)) for g, rx in PORT_GROUPS]
    pre = _boundary_tcl(input_delays, False, None)
    base = _script(netlist, top, period_ns, find_liberty(), None, pre).split("puts ")[0]
    if false_from:
        base += f"set_false_path -from [get_ports {{{false_from}}}]\n"
    prefix = tag

    def sta(tag: str, cmds: str) -> str:
        tcl = out / f"{tag}.tcl"
        tcl.write_text(base + cmds)
        p = subprocess.run(
            [find_sta(), "-no_splash", "-exit", str(tcl)], capture_output=True, text=True
        )
        (out / f"{tag}.log").write_text(p.stdout + p.stderr)
        if p.returncode != 0:
            raise RuntimeError(f"OpenSTA failed on {netlist}; see {out / tag}.log")
        return p.stdout

    text = sta(
        f"{prefix}_end",
        "report_checks -path_delay max -format end -group_count 1000000 -endpoint_count 1 "
        "-digits 4\n",
    )
    worst: dict[str, tuple[float, str, str]] = {}  # group -> (slack, endpoint obj, name)
    for obj, _req, _act, slack in _END_ROW.findall(text.split("Slack", 1)[-1]):
        inst = obj.lstrip("\\")
        if inst in flops:
            name = re.sub(r"\[\d+\]$", "", flops[inst])
            group = next((g for g, rx in rules if rx.match(name)), "other")
            pin = f"[get_pins {{{inst}/D}}]"
        else:
            group = next(g for g, rx in prules if rx.match(inst))
            pin = f"[get_ports {{{inst}}}]"
        if group not in worst or float(slack) < worst[group][0]:
            worst[group] = (float(slack), pin, inst)
    res = {}
    for group, (slack, pin, _inst) in sorted(worst.items(), key=lambda kv: kv[1][0]):
        tag = f"{prefix}_" + re.sub(r"\W+", "_", group).strip("_")
        path = sta(
            tag,
            'puts "FUSESA-BEGIN-PATH"\n'
            f"report_checks -path_delay max -digits 4 -to {pin}\n"
            'puts "FUSESA-END-PATH"\nreport_worst_slack -digits 4\nreport_tns -digits 4\n',
        )
        _w, _t, crit = _parse(path, flops, out / f"{tag}.log")
        period = period_ns - slack
        res[group] = {
            "achievable_period_ns": round(period, 4),
            "fmax_mhz": round(1000.0 / period, 2),
            **crit,
        }
    return res
