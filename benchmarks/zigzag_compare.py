"""ZigZag (``zigzag-dse``, its own latency and energy model) on the same baseline network,
array and memories as ``fusesa energy``; prints a per-layer table (cycles, energy) and writes
``build/energy/zigzag_<R>x<C>.csv``. ZigZag has no FuSe mode: baseline only.

The hardware description is written from our figures: the operational array is ``R x C``
with our measured ``gemm`` pJ per PE-cycle as ZigZag's energy per MAC; the per-PE weight and
output registers are free (inside that figure); ``act``/``w``/``acc`` SRAMs with our memory
sizes and our CACTI figures scaled to 180 nm (pJ per word, one word per access); DRAM at our
162.5 pJ/byte. Spatial mapping as our WS array: rows over input channels ``C``, columns over
output channels ``K`` (``sw.mapping.gemm``: tile = Kr rows x N columns); ZigZag's LOMA searches
the temporal mapping (optimising latency). The workload is the MobileNetV2 ONNX bundled with
ZigZag (torchvision's layer names; checked against our trace by name and MAC count).

    python benchmarks/zigzag_compare.py --array 16x16
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import logging
import pickle
import time
from pathlib import Path

from sw.energy.model import network_energy
from sw.energy.params import DRAM_PJ_PER_BYTE


def _mem(name, size_bits, r, w, operands, word_bits, served):
    alloc = []
    for op in operands:
        alloc += [f"{op}, fh", f"{op}, tl"] + ([f"{op}, fl", f"{op}, th"] if op == "O" else [])
    rd = [a for a in alloc if a.endswith(("tl", "th"))]
    wr = [a for a in alloc if a.endswith(("fh", "fl"))]
    lines = [
        f"  {name}:",
        f"    size: {size_bits}",
        f"    r_cost: {r}",
        f"    w_cost: {w}",
        "    area: 0",
        "    latency: 1",
        f"    operands: [{', '.join(operands)}]",
        "    ports:",
        "      - name: r_port_1",
        "        type: read",
        f"        bandwidth_min: {word_bits}",
        f"        bandwidth_max: {word_bits}",
        "        allocation:",
        *[f"          - {a}" for a in rd],
        "      - name: w_port_1",
        "        type: write",
        f"        bandwidth_min: {word_bits}",
        f"        bandwidth_max: {word_bits}",
        "        allocation:",
        *[f"          - {a}" for a in wr],
        f"    served_dimensions: [{', '.join(served)}]",
    ]
    return lines


def hardware_yaml(rep: dict, rows: int, cols: int) -> str:
    m = rep["memories"]
    pe = rep["params"]["array_pj_per_pe_cycle"]["gemm"]
    out = ["name: fusesa_ws", "", "memories:"]
    out += _mem("w_reg", 8, 0, 0, ["I2"], 8, [])
    out += _mem("o_reg", 32, 0, 0, ["O"], 32, [])
    for name, op in (("act", "I1"), ("w", "I2"), ("acc", "O")):
        s = m[name]
        out += _mem(
            f"{name}_sram",
            8 * s["size_bytes"],
            round(s["read_pj"], 3),
            round(s["write_pj"], 3),
            [op],
            8 * s["word_bytes"],
            ["D1", "D2"],
        )
    d = round(DRAM_PJ_PER_BYTE * 8, 3)
    out += _mem("dram", 8 * 10**10, d, d, ["I1", "I2", "O"], 64, ["D1", "D2"])
    out += [
        "",
        "operational_array:",
        f"  unit_energy: {pe}",
        "  unit_area: 1",
        "  dimensions: [D1, D2]",
        f"  sizes: [{rows}, {cols}]",
    ]
    return "\n".join(out) + "\n"


def mapping_yaml(rows: int, cols: int) -> str:
    return (
        "- name: default\n  spatial_mapping:\n"
        f"    D1:\n      - C, {rows}\n    D2:\n      - K, {cols}\n"
        "  memory_operand_links:\n    O: O\n    W: I2\n    I: I1\n"
    )


def _key(onnx_name: str) -> str:
    """ONNX node path -> torch module name:
    ``/features/features.1/conv/conv.0/conv.0.0/Conv`` -> ``features.1.conv.0.0``."""
    name, last = "", ""
    for p in [p for p in onnx_name.strip("/").split("/") if p][:-1]:
        if name and p.startswith(last + "."):
            name += p[len(last) :]
        else:
            name = f"{name}.{p}" if name else p
        last = p
    return name


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--array", default="16x16")
    ap.add_argument("--out", default="build/energy")
    ap.add_argument(
        "--reuse", action="store_true", help="reuse a finished ZigZag run's pickle (tables only)"
    )
    args = ap.parse_args()
    rows, cols = (int(x) for x in args.array.split("x"))
    from zigzag.api import get_hardware_performance_zigzag

    logging.disable(logging.WARNING)
    rep = network_energy("mobilenet_v2", "base", rows, cols)
    out = Path(args.out) / f"zigzag_{rows}x{cols}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "hw.yaml").write_text(hardware_yaml(rep, rows, cols))
    (out / "map.yaml").write_text(mapping_yaml(rows, cols))
    spec = importlib.util.find_spec("zigzag")
    onnx = Path(next(iter(spec.submodule_search_locations))) / "inputs/workload/mobilenetv2.onnx"
    pick = out / "zz" / "cmes.pickle"
    t0 = time.perf_counter()
    if not (args.reuse and pick.exists()):
        get_hardware_performance_zigzag(
            str(onnx),
            str(out / "hw.yaml"),
            str(out / "map.yaml"),
            opt="latency",
            dump_folder=str(out / "zz"),
            pickle_filename=str(pick),
            loma_show_progress_bar=False,
        )
    secs = time.perf_counter() - t0
    with pick.open("rb") as f:
        cmes = pickle.load(f)  # one cost-model evaluation per layer
    energy = sum(c.energy_total for c in cmes)
    latency = sum(c.latency_total2 for c in cmes)
    ours = {le["name"]: le for le in rep["layers"]}
    rows_out = []
    for cme in cmes:
        name = _key(str(cme.layer.name))
        le = ours.get(name)
        rows_out.append(
            {
                "layer": name,
                "zz_macs": int(cme.layer.total_mac_count),
                "our_macs": le["macs"] if le else "",
                "zz_cycles": round(cme.latency_total2),
                "our_cycles": le["cycles"] if le else "",
                "zz_uj": cme.energy_total * 1e-6,
                "zz_mac_uj": cme.mac_energy * 1e-6,
                "our_uj": le["energy_uj"] if le else "",
                "our_array_uj": le["components_uj"]["array"] if le else "",
            }
        )
    with (out.parent / f"zigzag_{rows}x{cols}.csv").open("w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=list(rows_out[0]))
        wr.writeheader()
        wr.writerows(rows_out)
    print(
        f"ZigZag {secs:.0f} s: {energy * 1e-6:.1f} uJ, {latency:.0f} cycles; "
        f"ours: {rep['total_uj']:.1f} uJ, {rep['cycles']} cycles"
    )
    print("| layer | MACs | ZigZag cycles | our cycles | ZigZag uJ | our uJ |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows_out:
        print(
            f"| {r['layer']} | {r['zz_macs']} | {r['zz_cycles']} | {r['our_cycles']} "
            f"| {r['zz_uj']:.1f} | " + (f"{r['our_uj']:.1f}" if r["our_uj"] != "" else "-") + " |"
        )


if __name__ == "__main__":
    main()
