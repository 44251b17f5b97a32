"""Measure the array's per-action energies (pJ per PE-cycle per kind) on osu018 and write
``build/energy/actions_<R>x<C>.json``; prints a table. Long: flat synthesis of both arrays plus
three Verilator SAIF runs per size (8x8: minutes, 16x16: tens of minutes on 2 cores).

    python benchmarks/energy_actions.py 8 16
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from synth.actions import action_energies


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("sizes", nargs="+", type=int, help="square array sizes, e.g. 8 16")
    ap.add_argument("--out", default="build/energy", help="output directory")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for n in args.sizes:
        res = action_energies(n, n, out / "synth")
        path = out / f"actions_{n}x{n}.json"
        path.write_text(json.dumps(res, indent=1))
        print(f"{n}x{n} ({res['seconds']:.0f} s) -> {path}")
        print(f"  {'variant':8s} {'kind':5s} {'P mW':>9s} {'pJ/cycle':>10s} {'pJ/PE-cycle':>12s}")
        for key in ("base", "fuse"):
            for kind, k in res[key]["kinds"].items():
                print(
                    f"  {key:8s} {kind:5s} {k['power_w']['total_w'] * 1e3:9.3f} "
                    f"{k['pj_per_cycle']:10.2f} {k['pj_per_pe_cycle']:12.4f}"
                )


if __name__ == "__main__":
    main()
