"""The cost of the FuSe mode against the bare array and against the whole accelerator
(array + SRAMs), issue 20. Prints a markdown table.

Array area/power: flat synthesis from ``build/energy/actions_<N>x<N>.json``
(``benchmarks/energy_actions.py``) where present; 32x32 and 64x64 from the per-PE + glue
sweep in docs/synthesis.md (``HIER`` below, measured at git 72407f3). SRAM area: CACTI 7 at
90 nm scaled by ``sw.energy.params.SRAM_AREA_SCALE`` to 180 nm, for two memory sets:

- ``gemmini``: Gemmini's default proportions at 16x16 (256 KiB scratchpad -> act 128 KiB +
  weights 128 KiB, 64 KiB accumulator) kept per row/column: act 8192 x rows bytes, weights
  8192 x cols bytes (FuSe: max(rows, cols)), acc 1024 x 4*cols bytes, cmd 64 x 16 bytes;
- ``fit``: what the present accelerator needs to run MobileNetV2 (224x224, base and Full)
  layer by layer (``sw.energy.model.memory_sizes``, the larger of the two).

Energy overhead: MobileNetV2 base per inference on the FuSe vs the plain accelerator
(``fusesa energy`` model, ``fit`` and ``gemmini`` memories; measured sizes only).

    python benchmarks/fuse_overhead.py
"""

from __future__ import annotations

import json
from pathlib import Path

from hw.config import ArrayConfig
from sw.energy.cacti import cacti_sram
from sw.energy.model import memory_sizes, network_energy, traced_layer_commands
from sw.energy.params import SRAM_AREA_SCALE
from sw.latency.table import trace_model

#: per-PE + glue results of docs/synthesis.md (um2, mW on the GEMM stream at 100 MHz)
HIER = {
    32: {"base": (22_382_751, 3195.09), "fuse": (23_520_582, 3388.69)},
    64: {"base": (90_004_063, None), "fuse": (97_560_069, None)},
}


def _array(n: int) -> tuple[str, dict]:
    path = Path(f"build/energy/actions_{n}x{n}.json")
    if path.exists():
        d = json.loads(path.read_text())
        return "flat", {
            v: (d[v]["area_um2"], d[v]["kinds"]["gemm"]["power_w"]["total_w"] * 1e3)
            for v in ("base", "fuse")
        }
    return "hier", HIER[n]


def _sram_mm2(sizes: dict) -> float:
    return sum(
        cacti_sram(s["size_bytes"], s["word_bytes"]).area_mm2 * SRAM_AREA_SCALE
        for s in sizes.values()
    )


def _gemmini(n: int) -> dict:
    return {
        "act": {"size_bytes": 8192 * n, "word_bytes": n},
        "w": {"size_bytes": 8192 * n, "word_bytes": n},
        "acc": {"size_bytes": 1024 * 4 * n, "word_bytes": 4 * n},
        "cmd": {"size_bytes": 64 * 16, "word_bytes": 16},
    }


def _fit(n: int) -> dict:
    cfg = ArrayConfig(rows=n, cols=n, fuse=True)
    progs = []
    for variant, hw in (("base", "FuSe"), ("full", "FuSe")):
        for layer in trace_model("mobilenet_v2", variant).layers:
            progs.append(traced_layer_commands(layer, cfg, hw)[1])
    return memory_sizes(progs, cfg)


def main() -> None:
    print(
        "| N | array | base array mm² | FuSe array mm² | area % vs array | SRAM mm² (gemmini) "
        "| area % vs accel (gemmini) | SRAM mm² (fit) | area % vs accel (fit) "
        "| power % vs array | energy % vs accel, fit | energy % vs accel, gemmini |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in (8, 16, 32, 64):
        method, arr = _array(n)
        (ab, pb), (af, pf) = arr["base"], arr["fuse"]
        ab, af = ab / 1e6, af / 1e6
        sg, sf = _sram_mm2(_gemmini(n)), _sram_mm2(_fit(n))
        power = f"{100 * (pf / pb - 1):+.2f}" if pb else "-"
        energy = ["-", "-"]
        if method == "flat":  # measured per-PE energies at this size
            for i, mem in enumerate(("fit", "gemmini")):
                kw = dict(memories=mem)
                e0 = network_energy("mobilenet_v2", "base", n, n, **kw)["total_uj"]
                e1 = network_energy("mobilenet_v2", "base", n, n, hardware="FuSe", **kw)
                energy[i] = f"{100 * (e1['total_uj'] / e0 - 1):+.3f}"
        print(
            f"| {n} | {method} | {ab:.2f} | {af:.2f} | {100 * (af / ab - 1):+.2f} | {sg:.1f} "
            f"| {100 * (af - ab) / (ab + sg):+.2f} | {sf:.0f} | {100 * (af - ab) / (ab + sf):+.3f} "
            f"| {power} | {energy[0]} | {energy[1]} |"
        )


if __name__ == "__main__":
    main()
