"""Area and Fmax of the accelerator's output stage (``hw.requant.OutputStage``) or residual
adder (``--unit resadd``, ``hw.resadd.ResidualAdd``) on osu018 (issue 18): the same Yosys -> osu018 -> OpenSTA flow as ``synth.flow`` (flat), for a
``lanes``-lane stage (16 at a 16x16 array: ``min(rows, cols)`` lanes). Prints one JSON line
per lane count and writes ``build/synth/outstage_<lanes>/``.

    python benchmarks/synth_outstage.py --lanes 16 --period 10
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from amaranth.back import verilog

from hw.requant import OutputStage
from hw.resadd import ResidualAdd
from synth.sta import run_sta
from synth.yosys import synthesize


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lanes", type=int, nargs="+", default=[16])
    ap.add_argument("--period", type=float, default=10.0, help="target clock period, ns")
    ap.add_argument("--out", default="build/synth")
    ap.add_argument("--unit", choices=["outstage", "resadd"], default="outstage")
    args = ap.parse_args()
    for lanes in args.lanes:
        out = Path(args.out) / f"{args.unit}_{lanes}"
        out.mkdir(parents=True, exist_ok=True)
        top = OutputStage(lanes) if args.unit == "outstage" else ResidualAdd(lanes)
        rtl = out / "outstage.v"
        rtl.write_text(verilog.convert(top, name="fusesa_outstage", emit_src=False))
        t0 = time.time()
        syn = synthesize(rtl, out, args.period, top="fusesa_outstage", progress=False)
        sta = run_sta(syn.netlist, out, args.period, top="fusesa_outstage")
        print(
            json.dumps(
                {
                    "unit": args.unit,
                    "lanes": lanes,
                    "area_um2": round(syn.area_um2),
                    "seq_area_um2": round(syn.seq_area_um2),
                    "cells": syn.n_cells,
                    "period_ns": args.period,
                    "wns_ns": round(sta.wns_ns, 3),
                    "fmax_mhz": round(sta.fmax_mhz, 1),
                    "critical_path": sta.critical_path,
                    "seconds": round(time.time() - t0, 1),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
