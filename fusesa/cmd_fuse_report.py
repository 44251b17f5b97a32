"""``fusesa fuse-report``: one MobileNetV2 depthwise layer, scaled down, run in RTL as the
baseline depthwise mapping and as FuSe Half on several array sizes; prints measured cycles,
RTL-model cycles, the paper model's cycles and the speedups; writes JSON. ``--backend accel``
(default): each layer one program on the accelerator top; ``array``: the bare array."""

from __future__ import annotations

import json
from pathlib import Path


def _array(text: str) -> tuple[int, int]:
    try:
        r, c = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"array size must look like 8x8, not {text!r}") from None
    return r, c


def register(sub) -> None:
    p = sub.add_parser("fuse-report", help="baseline depthwise vs FuSe Half for one layer, in RTL")
    p.add_argument(
        "--arrays", nargs="+", default=["8x8", "16x16"], help="array sizes (default 8x8 16x16)"
    )
    p.add_argument(
        "--layer", type=int, default=3, help="index of MobileNetV2's depthwise layer (default 3)"
    )
    p.add_argument("--channels", type=int, default=32, help="scaled channel count (default 32)")
    p.add_argument("--size", type=int, default=28, help="scaled input height/width (default 28)")
    p.add_argument("--simulator", choices=["verilator", "icarus"], default="verilator")
    p.add_argument(
        "--backend",
        choices=["accel", "array"],
        default="accel",
        help="accel: the accelerator top, one program per layer (default); array: bare array",
    )
    p.add_argument("--out", default="build/fuse_report.json")
    p.set_defaults(func=run)


def run(args) -> int:
    from sim.fuse_report import compare_depthwise

    try:
        arrays = [_array(a) for a in args.arrays]
        rows = compare_depthwise(
            arrays, args.layer, args.channels, args.size, args.simulator, backend=args.backend
        )
    except ValueError as exc:
        print(f"error: {exc}")
        return 2
    print(f"\n{rows[0].layer} ({args.simulator}, backend {args.backend})")
    hdr = f"{'array':7s} {'base meas':>10s} {'base model':>10s} {'base paper':>10s} {'FuSe meas':>10s} {'FuSe model':>10s} {'FuSe paper':>10s} {'speedup':>8s} {'paper':>7s} exact"
    print(hdr)
    for r in rows:
        print(
            f"{r.array:7s} {r.baseline_measured:10d} {r.baseline_model:10d} {r.baseline_paper:10d} "
            f"{r.fuse_measured:10d} {r.fuse_model:10d} {r.fuse_paper:10d} {r.speedup:8.2f} {r.paper_speedup:7.2f} {r.outputs_exact}"
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([r.to_dict() for r in rows], indent=2) + "\n")
    print(f"wrote {out}")
    ok = all(
        r.outputs_exact
        and r.baseline_measured == r.baseline_model
        and r.fuse_measured == r.fuse_model
        for r in rows
    )
    return 0 if ok else 1
