"""Energy per inference, per layer and per block on the accelerator top (issue 20).

For each conv/linear layer of a zoo network (traced as ``fusesa latency`` traces it) the
layer's one-layer accelerator program is built from shapes (the commands
``sim.network.layer_commands`` emits, addresses 0, plus ``HALT``); then

- **cycles** = sum of ``sw.latency.rtl.accel_command_cycles`` (= the ``rtl`` latency mode's
  ``accel_layer_program_cycles``, checked in the tests);
- **accesses** per memory = ``sw.energy.access.command_accesses`` summed over the program
  (checked against the RTL in ``tests/hw/test_accel_accesses.py``) plus the host's share: it
  writes the program (``cmd``), the layer's activation and weight words (the commands'
  extents, ``hw.isa``) and reads the accumulator words back;
- **DRAM bytes**, the minimum until the memory-system issue lands: every weight and input
  element read once, every output element written once, one byte each (int8);
- **energy** by component: ``array`` = cycles x rows x cols x pJ per PE-cycle of the running
  command's kind (GEMM -> ``gemm``, FUSE -> ``fuse``, ``HALT`` and FETCH/DECODE of nothing
  else -> ``idle``), one entry per SRAM (``act``, ``w``, ``acc``, ``cmd``: reads x E_read +
  writes x E_write, CACTI at 90 nm scaled to 180 nm), ``dram`` and ``control`` (the
  sequencer: not synthesized yet, 0 and listed under ``unmeasured``).

Memories are sized like ``run_network(memories="fit")``: each depth is the largest layer's
need rounded up to a power of two (at least 64 words); ``memories="gemmini"`` prices the same
accesses in Gemmini-sized SRAMs instead (``GEMMINI_DEPTHS``, a what-if). Words are ``rows`` bytes (act),
``max(rows, cols)`` (FuSe) or ``cols`` bytes (weights), ``cols * acc_width / 8`` (acc) and
16 bytes (commands).

Blocks: layers are grouped by their module path (``features.<i>`` / ``layers.<i>`` ...); the
first group is the ``stem``, groups after the last one holding a depthwise/FuSe layer are the
``head``; the others are named by their path (one inverted-residual / separable block each).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from math import ceil
from pathlib import Path

from hw.config import ArrayConfig
from hw.isa import Command, Fuse, Gemm, Halt
from sw.energy.access import Accesses, program_accesses
from sw.energy.params import (
    DRAM_PJ_PER_BYTE,
    SRAM_AREA_SCALE,
    SRAM_ENERGY_SCALE,
    array_pj_per_pe_cycle,
)
from sw.latency.rtl import (
    _traced_conv,
    accel_command_cycles,
    layer_depthwise_mapping,
    packed_fuse_commands,
)
from sw.mapping.accel import fuse_command, gemm_command

__all__ = [
    "MEMORIES",
    "MEMORY_POLICIES",
    "COMPONENTS",
    "LayerEnergy",
    "traced_layer_commands",
    "memory_sizes",
    "network_energy",
    "block_name_of",
    "write_csv",
    "write_png",
]

MEMORIES = ("act", "w", "acc", "cmd")
COMPONENTS = ("array", "act_sram", "w_sram", "acc_sram", "cmd_sram", "dram", "control")
MIN_DEPTH = 64
DW_KINDS = ("depthwise", "fuse_row", "fuse_col")


def _conv_geom(layer):
    n, c, h, w, (kh, kw), (sh, sw), (ph, pw) = _traced_conv(layer)
    ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    return n, c, h, w, (kh, kw), (sh, sw), (ph, pw), ho, wo


def traced_layer_commands(layer, cfg: ArrayConfig, hardware: str, depthwise: str = "auto"):
    """``(mapping, commands)`` of one traced layer (``sw.latency.records.LayerLatency``), the
    commands ``sim.network.layer_commands`` emits for the same layer (``HALT`` excluded)."""
    R, C = cfg.rows, cfg.cols
    mapping = layer_depthwise_mapping(layer, R, C, hardware, depthwise)
    n, c, h, w, (kh, kw), (sh, sw), (ph, pw), ho, wo = _conv_geom(layer)
    if layer.kind == "linear":
        return mapping, [gemm_command(n, c, layer.out_channels, cfg)]
    if mapping == "gemm":
        return mapping, [gemm_command(n * ho * wo, c * kh * kw, layer.out_channels, cfg)]
    if mapping == "depthwise-baseline":
        return mapping, [gemm_command(n * ho * wo, kh * kw, 1, cfg)] * c
    if mapping == "fuse-packed":
        geom = (n, c, h, w, (kh, kw), (sh, sw), (ph, pw), R, C)
        return mapping, [fuse_command(L, J, K, cfg) for L, J, K in packed_fuse_commands(*geom)]
    if kh == 1:  # 1xK: lines are every sh-th padded row
        lines, positions, k = n * c * ((h + 2 * ph - 1) // sh + 1), w + 2 * pw - kw + 1, kw
    else:  # Kx1: lines are every sw-th padded column
        lines, positions, k = n * c * ((w + 2 * pw - 1) // sw + 1), h + 2 * ph - kh + 1, kh
    return mapping, [fuse_command(lines, positions, k, cfg)]


def _extents(cmds: list[Command], cfg: ArrayConfig) -> tuple[int, int, int]:
    ext = [cmd.extents(cfg.rows, cfg.cols) for cmd in cmds]
    return tuple(sum(e[i] for e in ext) for i in range(3))


def _pow2(n: int) -> int:
    return max(MIN_DEPTH, 1 << max(0, n - 1).bit_length())


#: memory sizing policies of ``memory_sizes``
MEMORY_POLICIES = ("fit", "gemmini")
#: ``gemmini`` depths: Gemmini's default proportions at 16x16 (256 KiB scratchpad -> act
#: 128 KiB + weights 128 KiB, 64 KiB accumulator), kept per row / column at other sizes
GEMMINI_DEPTHS = {"act": 8192, "w": 8192, "acc": 1024, "cmd": 64}


def memory_sizes(
    programs: list[list[Command]], cfg: ArrayConfig, policy: str = "fit"
) -> dict[str, dict[str, int]]:
    """``{memory: {"depth", "word_bytes", "size_bytes"}}``: ``fit`` = fitted to the largest
    program (``run_network(memories="fit")``); ``gemmini`` = ``GEMMINI_DEPTHS`` whatever the
    programs need (a what-if for the energy per access: the layers would have to be tiled)."""
    if policy not in MEMORY_POLICIES:
        raise ValueError(f"memory policy must be one of {MEMORY_POLICIES}, not {policy!r}")
    need = dict.fromkeys(MEMORIES, 1)
    for cmds in programs:
        act, wgt, acc = _extents(cmds, cfg)
        need["act"] = max(need["act"], act)
        need["w"] = max(need["w"], wgt)
        need["acc"] = max(need["acc"], acc)
        need["cmd"] = max(need["cmd"], len(cmds) + 1)
    w_lanes = max(cfg.rows, cfg.cols) if cfg.fuse else cfg.cols
    word = {
        "act": ceil(cfg.rows * cfg.act_width / 8),
        "w": ceil(w_lanes * cfg.weight_width / 8),
        "acc": ceil(cfg.cols * cfg.acc_width / 8),
        "cmd": 16,
    }
    depth = {m: _pow2(need[m]) for m in MEMORIES} if policy == "fit" else dict(GEMMINI_DEPTHS)
    return {
        m: {"depth": depth[m], "word_bytes": word[m], "size_bytes": depth[m] * word[m]}
        for m in MEMORIES
    }


def block_name_of(name: str) -> str:
    """The module path a layer's block is keyed by: ``features.3.conv.1`` -> ``features.3``."""
    parts = name.split(".")
    for i, p in enumerate(parts[:-1]):
        if p.isdigit():
            return ".".join(parts[: i + 1])
    return parts[0]


def _layer_macs(layer) -> int:
    n, c, _, _, (kh, kw), _, _, ho, wo = _conv_geom(layer)
    if layer.kind == "linear":
        return n * c * layer.out_channels
    per_out = kh * kw if layer.kind in DW_KINDS else c * kh * kw
    return n * ho * wo * layer.out_channels * per_out


def _layer_dram_bytes(layer) -> int:
    n, c, h, w, (kh, kw), _, _, ho, wo = _conv_geom(layer)
    if layer.kind == "linear":
        weights = c * layer.out_channels
        return weights + n * c + n * layer.out_channels
    weights = layer.out_channels * kh * kw * (1 if layer.kind in DW_KINDS else c)
    return weights + n * c * h * w + n * layer.out_channels * ho * wo


@dataclass
class LayerEnergy:
    name: str
    kind: str
    mapping: str
    block: str
    cycles: int
    macs: int
    commands: int
    accesses: Accesses
    dram_bytes: int
    components_pj: dict[str, float] = field(default_factory=dict)

    @property
    def energy_pj(self) -> float:
        return sum(self.components_pj.values())


def _sram_figures(sizes: dict, cache) -> dict[str, dict]:
    from sw.energy.cacti import cacti_sram

    out = {}
    for mem, s in sizes.items():
        f = cacti_sram(s["size_bytes"], s["word_bytes"], cache=cache)
        out[mem] = {
            **s,
            "cacti_90nm": f.to_dict(),
            "read_pj": f.read_nj * 1e3 * SRAM_ENERGY_SCALE,
            "write_pj": f.write_nj * 1e3 * SRAM_ENERGY_SCALE,
            "area_mm2": f.area_mm2 * SRAM_AREA_SCALE,
        }
    return out


def _blocks(layers: list[LayerEnergy]) -> list[dict]:
    order: list[str] = []
    groups: dict[str, list[LayerEnergy]] = {}
    for le in layers:
        if le.block not in groups:
            order.append(le.block)
            groups[le.block] = []
        groups[le.block].append(le)
    last_dw = max(
        (i for i, b in enumerate(order) if any(le.kind in DW_KINDS for le in groups[b])),
        default=len(order) - 1,
    )
    named: list[tuple[str, list[LayerEnergy]]] = []
    for i, b in enumerate(order):
        label = "stem" if i == 0 else "head" if i > last_dw else b
        if named and named[-1][0] == label:
            named[-1][1].extend(groups[b])
        else:
            named.append((label, list(groups[b])))
    out = []
    for label, les in named:
        comp = {k: sum(le.components_pj[k] for le in les) * 1e-6 for k in COMPONENTS}
        out.append(
            {
                "name": label,
                "layers": [le.name for le in les],
                "cycles": sum(le.cycles for le in les),
                "macs": sum(le.macs for le in les),
                "energy_uj": sum(comp.values()),
                "components_uj": comp,
                # the fusion-timeloop-model style split of an inverted-residual block
                "by_kind": {
                    kind: {
                        "cycles": sum(le.cycles for le in les if le.kind == kind),
                        "energy_uj": sum(le.energy_pj for le in les if le.kind == kind) * 1e-6,
                    }
                    for kind in sorted({le.kind for le in les})
                },
            }
        )
    return out


def network_energy(
    network: str,
    variant: str,
    rows: int,
    cols: int,
    depthwise: str = "auto",
    batch: int = 1,
    actions: dict | None = None,
    cacti_cache: str | Path = "build/energy/cacti",
    layers=None,
    hardware: str | None = None,
    memories: str = "fit",
) -> dict:
    """The energy report of ``network``/``variant`` on a ``rows x cols`` accelerator (by
    default the base variant on the plain array, FuSe variants on the FuSe array;
    ``hardware="FuSe"`` runs the base variant on the FuSe array, the cost of carrying the FuSe
    mode). ``layers``: traced records to use instead of tracing the zoo model (tests)."""
    from sw.models.zoo import canonical_variant, default_hardware

    variant = canonical_variant(variant)
    if hardware not in (None, "Systolic", "FuSe"):
        raise ValueError(f"hardware must be 'Systolic' or 'FuSe', not {hardware!r}")
    if hardware == "Systolic" and default_hardware(variant) == "FuSe":
        raise ValueError(f"variant {variant!r} needs the FuSe array, not hardware='Systolic'")
    hardware = hardware or default_hardware(variant)
    cfg = ArrayConfig(rows=rows, cols=cols, fuse=hardware == "FuSe")
    if layers is None:
        from sw.latency.table import trace_model, with_batch

        layers = with_batch(trace_model(network, variant).layers, batch)
    pe_pj = array_pj_per_pe_cycle(rows, cols, cfg.fuse, actions)
    pes = rows * cols
    programs = []
    for layer in layers:
        mapping, cmds = traced_layer_commands(layer, cfg, hardware, depthwise)
        programs.append((layer, mapping, cmds))
    sizes = memory_sizes([p[2] for p in programs], cfg, memories)
    srams = _sram_figures(sizes, cacti_cache)
    out_layers: list[LayerEnergy] = []
    for layer, mapping, cmds in programs:
        prog = [*cmds, Halt()]
        cycles = 0
        array_pj = 0.0
        for cmd in prog:
            cyc = accel_command_cycles(cmd, rows, cols)
            kind = "gemm" if isinstance(cmd, Gemm) else "fuse" if isinstance(cmd, Fuse) else "idle"
            cycles += cyc
            array_pj += cyc * pes * pe_pj[kind]
        act, wgt, acc = _extents(cmds, cfg)
        acc_ = program_accesses(prog, rows, cols) + Accesses(
            cmd_write=len(prog), act_write=act, w_write=wgt, acc_read=acc
        )
        dram = _layer_dram_bytes(layer)
        comp = dict.fromkeys(COMPONENTS, 0.0)
        comp["array"] = array_pj
        for mem in MEMORIES:
            s = srams[mem]
            comp[f"{mem}_sram"] = (
                getattr(acc_, f"{mem}_read") * s["read_pj"]
                + getattr(acc_, f"{mem}_write") * s["write_pj"]
            )
        comp["dram"] = dram * DRAM_PJ_PER_BYTE
        out_layers.append(
            LayerEnergy(
                layer.name,
                layer.kind,
                mapping,
                block_name_of(layer.name),
                cycles,
                _layer_macs(layer),
                len(cmds),
                acc_,
                dram,
                comp,
            )
        )
    comp_total = {k: sum(le.components_pj[k] for le in out_layers) * 1e-6 for k in COMPONENTS}
    total_uj = sum(comp_total.values())
    cycles = sum(le.cycles for le in out_layers)
    macs = sum(le.macs for le in out_layers)
    return {
        "network": network,
        "variant": variant,
        "hardware": hardware,
        "array": f"{rows}x{cols}",
        "depthwise": depthwise,
        "batch": batch,
        "memory_policy": memories,
        "total_uj": total_uj,
        "components_uj": comp_total,
        "cycles": cycles,
        "macs": macs,
        "pj_per_mac": total_uj * 1e6 / macs if macs else None,
        "utilization": macs / (cycles * pes) if cycles else None,
        "unmeasured": ["control"],
        "blocks": _blocks(out_layers),
        "layers": [
            {
                "name": le.name,
                "kind": le.kind,
                "mapping": le.mapping,
                "block": le.block,
                "commands": le.commands,
                "cycles": le.cycles,
                "macs": le.macs,
                "utilization": le.macs / (le.cycles * pes),
                "accesses": le.accesses.as_dict(),
                "dram_bytes": le.dram_bytes,
                "energy_uj": le.energy_pj * 1e-6,
                "pj_per_mac": le.energy_pj / le.macs if le.macs else None,
                "components_uj": {k: v * 1e-6 for k, v in le.components_pj.items()},
            }
            for le in out_layers
        ],
        "memories": srams,
        "params": {
            "array_pj_per_pe_cycle": pe_pj,
            "sram_energy_scale_90_to_180nm": SRAM_ENERGY_SCALE,
            "sram_area_scale_90_to_180nm": SRAM_AREA_SCALE,
            "dram_pj_per_byte": DRAM_PJ_PER_BYTE,
        },
    }


def write_csv(report: dict, path: str | Path) -> Path:
    """One row per block: cycles, MACs, energy (uJ) by component, and per layer kind
    (``<kind>_c`` cycles, ``<kind>_e`` uJ; the fusion-timeloop-model's PW1_e/DW_e.. style)."""
    kinds = sorted({k for b in report["blocks"] for k in b["by_kind"]})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(
            ["block", "cycles", "macs", "energy_uj", *[f"{c}_uj" for c in COMPONENTS]]
            + [f"{k}_e" for k in kinds]
            + [f"{k}_c" for k in kinds]
        )
        for b in report["blocks"]:
            bk = b["by_kind"]
            wr.writerow(
                [b["name"], b["cycles"], b["macs"], f"{b['energy_uj']:.4f}"]
                + [f"{b['components_uj'][c]:.4f}" for c in COMPONENTS]
                + [f"{bk[k]['energy_uj']:.4f}" if k in bk else "" for k in kinds]
                + [bk[k]["cycles"] if k in bk else "" for k in kinds]
            )
        wr.writerow(
            ["total", report["cycles"], report["macs"], f"{report['total_uj']:.4f}"]
            + [f"{report['components_uj'][c]:.4f}" for c in COMPONENTS]
            + [""] * (2 * len(kinds))
        )
    return path


def write_png(reports: list[dict], path: str | Path) -> Path:
    """Stacked bars of energy per inference by component, one bar per report."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1.8 + 1.3 * len(reports), 4.2))
    labels = [f"{r['variant']}\n{r['array']}" for r in reports]
    bottom = [0.0] * len(reports)
    for comp in COMPONENTS:
        vals = [r["components_uj"][comp] for r in reports]
        if not any(vals):
            continue
        ax.bar(labels, vals, bottom=bottom, label=comp)
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    ax.set_ylabel("energy per inference (uJ)")
    ax.set_title(f"{reports[0]['network']}: energy by component")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
