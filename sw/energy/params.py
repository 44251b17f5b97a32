"""Energy parameters of the model, each with its source (issue 20, docs/energy.md).

**Array** (``ARRAY_PJ_PER_PE_CYCLE``): measured with ``benchmarks/energy_actions.py``
(``synth.actions``): flat Yosys synthesis on osu018 (0.18 um, 1.8 V, typical), OpenSTA
``report_power`` at 100 MHz with per-bit switching activity from Verilator SAIF runs of real
workloads; energy per cycle / (rows x cols). Kinds: ``gemm`` (GEMM tile stream), ``fuse``
(1x3 depthwise layer in the FuSe mode, FuSe array only), ``idle`` (clocked, no toggles).
The table holds the measured figures (git ``3cf3cfb``, RTL hashes in docs/energy.md); a
fresh ``build/energy/actions_<N>x<N>.json`` can replace them (``load_actions``). Arrays of
other sizes use the per-PE figure of the largest measured size not above theirs.

**SRAM**: CACTI 7 at 90 nm (``sw.energy.cacti``), scaled to 180 nm by classical scaling:
switched capacitance proportional to the feature size and energy to ``C * Vdd**2``, so
``(180/90) * (1.8/1.2)**2 = 4.5`` for energy (1.2 V: CACTI's own 90 nm ITRS-HP ``Vdd``,
``tech_params/90nm.dat``; 1.8 V: osu018) and ``(180/90)**2 = 4`` for area. SRAM leakage is
reported raw (90 nm) and not added to the energy: CACTI's 90 nm high-performance leakage does
not carry over to a 180 nm process (osu018's logic leakage is ~1e-5 of its total power).

**DRAM** (``DRAM_PJ_PER_BYTE``): M. Horowitz, "Computing's energy problem (and what we can do
about it)", ISSCC 2014, p. 10-14: a 64-bit DRAM access costs 1.3-2.6 nJ (45 nm system); we take
the low end, 1.3 nJ / 8 bytes = 162.5 pJ per byte, not scaled (DRAM energy is the DRAM's and
its interface's, not the accelerator's logic node).
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = [
    "ARRAY_PJ_PER_PE_CYCLE",
    "MEASURED_SIZES",
    "SRAM_ENERGY_SCALE",
    "SRAM_AREA_SCALE",
    "CACTI_VDD_90NM",
    "LOGIC_VDD",
    "DRAM_PJ_PER_BYTE",
    "array_pj_per_pe_cycle",
    "load_actions",
]

#: measured pJ per PE-cycle: ``{size: {"base"|"fuse": {kind: pJ}}}`` (osu018, 100 MHz)
ARRAY_PJ_PER_PE_CYCLE: dict[int, dict[str, dict[str, float]]] = {
    8: {
        "base": {"gemm": 23.8033, "idle": 23.0470},
        "fuse": {"gemm": 24.4549, "fuse": 27.5712, "idle": 23.6198},
    },
    16: {
        "base": {"gemm": 24.5339, "idle": 24.2181},
        "fuse": {"gemm": 25.1390, "fuse": 26.5223, "idle": 24.7388},
    },
}
MEASURED_SIZES = tuple(sorted(ARRAY_PJ_PER_PE_CYCLE))

CACTI_VDD_90NM = 1.2  # CACTI 7 tech_params/90nm.dat, ITRS high-performance Vdd
LOGIC_VDD = 1.8  # osu018
LOGIC_NM, SRAM_NM = 180, 90
SRAM_ENERGY_SCALE = (LOGIC_NM / SRAM_NM) * (LOGIC_VDD / CACTI_VDD_90NM) ** 2  # 4.5
SRAM_AREA_SCALE = (LOGIC_NM / SRAM_NM) ** 2  # 4.0
DRAM_PJ_PER_BYTE = 1300.0 / 8  # Horowitz ISSCC 2014: 1.3 nJ per 64-bit access (low end)


def load_actions(path: str | Path) -> dict[str, dict[str, float]]:
    """``{"base"|"fuse": {kind: pJ per PE-cycle}}`` from a ``benchmarks/energy_actions.py``
    result file."""
    data = json.loads(Path(path).read_text())
    try:
        return {
            v: {k: float(x["pj_per_pe_cycle"]) for k, x in data[v]["kinds"].items()}
            for v in ("base", "fuse")
        }
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not an energy_actions result ({exc!r} missing)") from None


def array_pj_per_pe_cycle(
    rows: int, cols: int, fuse: bool, actions: dict | None = None
) -> dict[str, float]:
    """pJ per PE-cycle per kind for a ``rows x cols`` array (``actions``: a ``load_actions``
    result to use instead of the built-in table)."""
    variant = "fuse" if fuse else "base"
    if actions is not None:
        return dict(actions[variant])
    n = max(rows, cols)
    size = max((s for s in MEASURED_SIZES if s <= n), default=MEASURED_SIZES[0])
    return dict(ARRAY_PJ_PER_PE_CYCLE[size][variant])
