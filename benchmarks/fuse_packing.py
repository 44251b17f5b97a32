"""Line packing's effect on whole networks (issue 22), from the RTL-exact cycle model
(``sw.latency`` mode ``rtl``: what ``cnt_total`` counts on the accelerator; the RTL runs of
``tests/sim/test_fuse_packed.py``, ``tests/sim/test_network.py`` and
``benchmarks/layer_kinds_rtl.py`` check it equals the counters).

1. Speedup over the baseline on the same array, MobileNetV2 and MnasNet base / Full / Half at
   16x16, 32x32 and 64x64: before (``depthwise="fuse"``: one line per array row, the mapping
   before issue 22) and after (``auto``: line packing where it is faster), batch 1.
2. Per layer kind at one array (default 64x64): cycles and utilization (MACs / (PEs *
   cycles)) before/after, the ideal-MAC bound (MACs / PEs cycles) and, for FuSe 1-D layers,
   the input-bandwidth bound of SPEC 4.1 (one input element per row per cycle from the left
   edge; every stride-1 output needs one, so at least ``stride-1 outputs / rows`` cycles).
3. Batch: latency (cycles of the batch) and throughput (images per cycle) for batch 1..N.

Usage: python benchmarks/fuse_packing.py [--arrays 16 32 64] [--kinds-array 64]
       [--batches 1 4 16] [--json build/fuse_packing.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NETS = ("mobilenet_v2", "mnasnet")
VARIANTS = ("base", "full", "half")


def _macs(rec) -> tuple[int, int]:
    """(MACs, stride-1 outputs of a FuSe layer or 0) of a traced layer record."""
    n, c, h, w = rec.in_shape
    hp, wp = rec.padded_hw
    (kh, kw), (sh, sw) = rec.kernel, rec.stride
    ho, wo = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    if rec.kind == "linear":
        return n * c * rec.out_channels, 0
    if rec.kind in ("conv", "pointwise"):
        return n * ho * wo * c * kh * kw * rec.out_channels, 0
    macs = n * ho * wo * c * kh * kw
    if rec.kind == "fuse_row":
        return macs, n * c * ho * (wp - kw + 1)
    if rec.kind == "fuse_col":
        return macs, n * c * wo * (hp - kh + 1)
    return macs, 0


def speedups(arrays, batch: int = 1) -> list[dict]:
    from sw.latency.table import zoo_latency

    out = []
    for net in NETS:
        for a in arrays:
            base = zoo_latency(net, "base", a, a, mode="rtl", batch=batch).total
            for v in VARIANTS[1:]:
                before = zoo_latency(net, v, a, a, mode="rtl", depthwise="fuse", batch=batch)
                after = zoo_latency(net, v, a, a, mode="rtl", batch=batch)
                out.append(
                    dict(
                        net=net,
                        array=a,
                        variant=v,
                        base=base,
                        before=before.total,
                        after=after.total,
                        speedup_before=base / before.total,
                        speedup_after=base / after.total,
                    )  # fmt: skip
                )
    return out


def kinds(net: str, variant: str, a: int) -> list[dict]:
    from sw.latency.records import OPERATOR_CLASS
    from sw.latency.table import zoo_latency

    before = zoo_latency(net, variant, a, a, mode="rtl", depthwise="fuse")
    after = zoo_latency(net, variant, a, a, mode="rtl")
    rows: dict[str, dict] = {}
    for rb, ra in zip(before.layers, after.layers, strict=True):
        k = OPERATOR_CLASS[rb.kind]
        macs, outs1 = _macs(rb)
        d = rows.setdefault(k, dict(kind=k, macs=0, before=0, after=0, bw=0.0))
        d["macs"] += macs
        d["before"] += rb.cycles
        d["after"] += ra.cycles
        d["bw"] += outs1 / a
    pes = a * a
    for d in rows.values():
        d["util_before"] = d["macs"] / (pes * d["before"])
        d["util_after"] = d["macs"] / (pes * d["after"])
        d["ideal"] = d["macs"] / pes
    total = dict(kind="total", macs=sum(d["macs"] for d in rows.values()))
    total.update(
        before=before.total, after=after.total, ideal=total["macs"] / pes,
        bw=sum(d["bw"] for d in rows.values()),
        util_before=total["macs"] / (pes * before.total),
        util_after=total["macs"] / (pes * after.total),
    )  # fmt: skip
    return [*rows.values(), total]


def batches(net: str, variant: str, a: int, sizes) -> list[dict]:
    from sw.latency.table import zoo_latency

    out = []
    for b in sizes:
        base = zoo_latency(net, "base", a, a, mode="rtl", batch=b).total
        cyc = zoo_latency(net, variant, a, a, mode="rtl", batch=b).total
        out.append(
            dict(
                batch=b,
                latency=cyc,
                images_per_cycle=b / cyc,
                cycles_per_image=cyc / b,
                base_cycles_per_image=base / b,
                speedup=base / cyc,
            )  # fmt: skip
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arrays", nargs="+", type=int, default=[16, 32, 64])
    ap.add_argument("--kinds-array", type=int, default=64)
    ap.add_argument("--batches", nargs="+", type=int, default=[1, 4, 16])
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    sp = speedups(args.arrays)
    print("speedup over the baseline on the same array (rtl model = RTL counters), batch 1")
    print(f"{'network':13s} {'array':>6s} {'variant':7s} {'base':>10s} {'before':>10s} "
          f"{'after':>10s} {'x before':>8s} {'x after':>8s}")  # fmt: skip
    for r in sp:
        print(
            f"{r['net']:13s} {r['array']:>3d}^2  {r['variant']:7s} {r['base']:10d} "
            f"{r['before']:10d} {r['after']:10d} {r['speedup_before']:7.2f}x "
            f"{r['speedup_after']:7.2f}x"
        )
    doc = {"speedups": sp, "kinds": {}, "batches": {}}
    a = args.kinds_array
    for net in NETS:
        for v in VARIANTS[1:]:
            ks = kinds(net, v, a)
            doc["kinds"][f"{net}-{v}"] = ks
            print(f"\n{net} {v} at {a}x{a}: per layer kind")
            print(f"{'kind':10s} {'before':>9s} {'after':>9s} {'util before':>11s} "
                  f"{'util after':>10s} {'ideal MAC':>9s} {'FuSe bw':>8s}")  # fmt: skip
            for d in ks:
                bw = f"{d['bw']:8.0f}" if d["bw"] else ""
                print(
                    f"{d['kind']:10s} {d['before']:9d} {d['after']:9d} "
                    f"{100 * d['util_before']:10.1f}% {100 * d['util_after']:9.1f}% "
                    f"{d['ideal']:9.0f} {bw:>8s}"
                )
    for v in ("full", "half"):
        bs = batches("mobilenet_v2", v, a, args.batches)
        doc["batches"][v] = bs
        print(f"\nmobilenet_v2 {v} at {a}x{a}: batch (latency = cycles of the batch)")
        for r in bs:
            print(
                f"  batch {r['batch']:3d}: latency {r['latency']:9d} cycles, throughput "
                f"{r['images_per_cycle']:.3e} images/cycle ({r['cycles_per_image']:.0f} "
                f"cycles/image; baseline {r['base_cycles_per_image']:.0f}), "
                f"speedup {r['speedup']:.2f}x"
            )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
