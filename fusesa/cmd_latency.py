"""``fusesa latency``: analytical latency of one zoo network on one array (SPEC section 4),
optionally with the per-layer breakdown (name, kind, shape, cycles, share) and a CSV/JSON dump."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

#: Zoo network and variant names, spelled out so that building the parser never imports torch
#: (``sw.models.zoo.NETWORKS`` / ``VARIANTS``; a test keeps them in sync).
NETWORKS = (
    "mnasnet",
    "mobilenet_v1",
    "mobilenet_v2",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    "resnet50",
)
VARIANTS = ("base", "full", "half", "full_hybrid", "half_hybrid")
#: latency modes (``sw.latency.MODES``): ``rtl`` = the accelerator top, ``rtl-array`` = bare array
MODES = ("paper", "scalesim", "rtl", "rtl-array")
#: depthwise mappings (``sw.latency.rtl.DEPTHWISE_MAPPINGS``; a test keeps them in sync)
DEPTHWISE = ("auto", "fuse", "fuse-packed", "baseline")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("latency", help="analytical latency of one network on one array")
    p.add_argument("--net", choices=sorted(NETWORKS), help="network (or --checkpoint)")
    p.add_argument(
        "--checkpoint",
        default=None,
        help="a `fusesa train` checkpoint: cost that model (its width, classes, resolution)",
    )
    p.add_argument("--variant", default="base", help=f"one of {', '.join(VARIANTS)}")
    p.add_argument("--array", default="64x64", help="array size ROWSxCOLS (default 64x64)")
    p.add_argument("--mode", choices=MODES, default="paper")
    p.add_argument(
        "--hardware",
        choices=("Systolic", "FuSe"),
        default=None,
        help="array type (default: Systolic for base, FuSe for FuSe variants)",
    )
    p.add_argument(
        "--depthwise",
        choices=DEPTHWISE,
        default="auto",
        help="depthwise mapping, modes rtl/rtl-array (auto: FuSe line packing where it is "
        "faster; fuse: one line per array row, the mapping before line packing)",
    )
    p.add_argument(
        "--batch",
        type=int,
        default=1,
        help="images per inference (every layer runs over the whole batch); prints latency "
        "(cycles of the batch) and throughput (images per cycle) separately",
    )
    p.add_argument("--per-layer", action="store_true", help="print the per-layer breakdown")
    p.add_argument(
        "--program",
        action="store_true",
        help="mode rtl: the whole network compiled into ONE accelerator program (on-chip "
        "requantization, adds, pools, layouts; sw.latency.program), as sim.run_network runs it",
    )
    p.add_argument("--resolution", type=int, default=224, help="--program: input resolution")
    p.add_argument("--csv", type=Path, default=None, help="write per-layer records as CSV")
    p.add_argument("--json", type=Path, default=None, help="write the report as JSON")
    add_clock_args(p)
    p.set_defaults(func=run)


def add_clock_args(p: argparse.ArgumentParser, synth_dir: bool = False) -> None:
    """``--clock-mhz`` / ``--synth-json`` (/ ``--synth-dir``): time per inference on top of
    cycles; the base array runs at the base clock, the FuSe array at the FuSe clock."""
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--clock-mhz",
        default=None,
        metavar="F|BASE,FUSE",
        help="clock in MHz: one for both arrays, or base-array,FuSe-array; adds time per "
        "inference and speedup in time",
    )
    g.add_argument(
        "--synth-json",
        type=Path,
        default=None,
        metavar="FILE",
        help="take the base and FuSe Fmax from a `fusesa synth` report of the same array size",
    )
    if synth_dir:
        g.add_argument(
            "--synth-dir",
            type=Path,
            default=None,
            metavar="DIR",
            help="per array size, the Fmax of DIR/synth_<R>x<C>_*.json (flat if several); "
            "sizes without a report are skipped",
        )


def clocks_from_args(args: argparse.Namespace, arr_x: int, arr_y: int):
    """The ``Clocks`` chosen by ``--clock-mhz`` / ``--synth-json``, or None."""
    from sw.latency.timing import Clocks

    if args.clock_mhz is not None:
        return Clocks.from_arg(args.clock_mhz)
    if args.synth_json is not None:
        return Clocks.from_synth_json(args.synth_json, arr_x, arr_y)
    return None


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except ValueError as exc:  # user input errors: message names the culprit
        print(f"fusesa latency: error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from sw.latency.table import parse_array, zoo_latency
    from sw.models.zoo import canonical_variant

    arr_x, arr_y = parse_array(args.array)
    clocks = clocks_from_args(args, arr_x, arr_y)
    if args.program:
        return _program(args, arr_x, arr_y, clocks)
    if args.checkpoint:
        rep, net, variant = _checkpoint_latency(args, arr_x, arr_y)
    elif args.net is None:
        raise ValueError("give --net NETWORK or --checkpoint FILE")
    else:
        net, variant = args.net, canonical_variant(args.variant)
        rep = zoo_latency(
            net, variant, arr_x, arr_y, args.hardware, args.mode, args.depthwise, args.batch
        )
    if args.per_layer:
        print(
            f"{'layer':44s} {'kind':10s} {'input NxCxHxW':>18s} {'k':>5s} {'s':>3s} "
            f"{'out':>5s} {'cycles':>10s} {'share':>7s}"
        )
        for r in rep.layers:
            shape = "x".join(map(str, r.in_shape))
            print(
                f"{r.name:44s} {r.kind:10s} {shape:>18s} {r.kernel[0]}x{r.kernel[1]:<3d} "
                f"{r.stride[0]:>3d} {r.out_channels:5d} {r.cycles:10d} {100 * r.share:6.2f}%"
            )
        print()
    for kind, cycles in sorted(rep.by_kind().items(), key=lambda kv: -kv[1]):
        print(f"  {kind:10s} {cycles:12d} cycles ({100 * cycles / rep.total:5.1f} %)")
    head = f"{net} {variant} on {arr_x}x{arr_y} {rep.hardware} ({args.mode} mode): "
    extra: dict | None = None
    if args.batch != 1 or args.depthwise != "auto":
        extra = {"batch": args.batch, "depthwise": args.depthwise}
        extra.update(throughput_fields(rep.total, args.batch))
    if args.batch != 1:
        print(
            f"batch of {args.batch}: latency {rep.total} cycles (every image of the batch is "
            f"done at the end), throughput {args.batch / rep.total:.4g} images/cycle "
            f"({rep.total / args.batch:.1f} cycles per image)"
        )
    if clocks is None:
        print(f"{head}{rep.total} cycles")
        if not args.checkpoint and (variant, rep.hardware) != ("base", "Systolic"):
            base = zoo_latency(
                net, "base", arr_x, arr_y, "Systolic", args.mode, batch=args.batch
            ).total
            print(
                f"{net} base on {arr_x}x{arr_y} Systolic ({args.mode} mode): {base} cycles; "
                f"speedup {base / rep.total:.3f}x in cycles"
            )
            extra = {**(extra or {}), "base_cycles": base, "speedup": round(base / rep.total, 5)}
    else:
        mhz = clocks.mhz(rep.hardware)
        print(
            f"{head}{rep.total} cycles = {clocks.time_us(rep.total, rep.hardware):.1f} us at {mhz:g} MHz"
        )
        extra = {**(extra or {}), "clock_source": clocks.source}
        # the zoo baseline is at the zoo's resolution: no like-for-like base for a checkpoint
        base = (
            None
            if args.checkpoint
            else zoo_latency(
                net, "base", arr_x, arr_y, "Systolic", args.mode, batch=args.batch
            ).total
        )
        if base is None:
            extra |= {
                "base_mhz": clocks.base_mhz,
                "fuse_mhz": clocks.fuse_mhz,
                "time_us": round(clocks.time_us(rep.total, rep.hardware), 4),
            }
        else:
            extra |= clocks.fields(rep.total, rep.hardware, base)
            extra["base_cycles"] = base
            extra["speedup"] = round(base / rep.total, 5)
        if base is not None and (variant, rep.hardware) != ("base", "Systolic"):
            print(
                f"{net} base on {arr_x}x{arr_y} Systolic ({args.mode} mode): {base} cycles"
                f" = {clocks.time_us(base, 'Systolic'):.1f} us at {clocks.base_mhz:g} MHz"
            )
            print(
                f"speedup: {base / rep.total:.3f}x in cycles, "
                f"{clocks.speedup_time(base, rep.total, rep.hardware):.3f}x in time"
                f" (clocks: {clocks.source})"
            )
    if args.csv:
        rep.write_csv(args.csv, None if clocks is None else clocks.mhz(rep.hardware))
    if args.json:
        rep.write_json(args.json, extra)
    return 0


def throughput_fields(cycles: int, batch: int) -> dict[str, object]:
    """Latency and throughput of a batch that takes ``cycles``: every image is done at the
    end, so the latency is ``cycles`` and the throughput ``batch / cycles`` images/cycle."""
    return {
        "latency_cycles": cycles,
        "images_per_cycle": batch / cycles if cycles else 0.0,
        "cycles_per_image": cycles / batch,
    }


def _checkpoint_latency(args: argparse.Namespace, arr_x: int, arr_y: int):
    import torch

    from sw.latency import model_latency
    from sw.models.zoo import default_hardware
    from sw.train import load_checkpoint

    model = load_checkpoint(args.checkpoint)
    meta = model.train_meta
    res = int(meta["resolution"])
    hardware = args.hardware or default_hardware(meta["variant"])
    x = torch.zeros(args.batch, 3, res, res)
    rep = model_latency(model, x, arr_x, arr_y, hardware, args.mode, args.depthwise)
    label = f"{meta['network']} x{meta['width_mult']:g} at {res}x{res} ({args.checkpoint})"
    return rep, label, meta["variant"]


def _program(args: argparse.Namespace, arr_x: int, arr_y: int, clocks) -> int:
    """``--program``: cycles of the one-program network (and of the baseline, for FuSe)."""
    from hw.config import ArrayConfig
    from sw.latency.program import program_latency, quantized_zoo_network
    from sw.models.zoo import canonical_variant

    if args.mode != "rtl" or args.net is None:
        raise ValueError("--program needs --mode rtl and --net NETWORK")
    variant = canonical_variant(args.variant)
    cfg = ArrayConfig(arr_x, arr_y)
    reps = {}
    for v in dict.fromkeys(["base", variant]):
        qnet, x_q = quantized_zoo_network(args.net, v, args.resolution)
        reps[v] = program_latency(qnet, x_q, cfg)
    rep = reps[variant]
    if args.per_layer:
        print(f"{'layer':40s} {'mapping':42s} {'cmds':>5s} {'cycles':>10s}")
        for name, mapping, cmds, cyc in rep.layers:
            print(f"{name:40s} {mapping:42s} {cmds:5d} {cyc:10d}")
        print()
    for kind, cyc in sorted(rep.by_command.items(), key=lambda kv: -kv[1]):
        print(f"  {kind:16s} {cyc:10d} cycles ({100 * cyc / rep.cycles:5.1f} %)")
    head = f"{args.net} {variant} at {args.resolution} on {arr_x}x{arr_y} (rtl, one program)"
    print(
        f"{head}: {rep.cycles} cycles, {rep.commands} commands, {rep.act_words} activation "
        f"and {rep.weight_words} weight words"
    )
    if variant != "base":
        base = reps["base"].cycles
        print(
            f"{args.net} base, same array (one program): {base} cycles; speedup "
            f"{base / rep.cycles:.3f}x"
        )
    if clocks is not None:
        us = clocks.time_us(rep.cycles, "FuSe")
        print(f"time per inference: {us:.1f} us at {clocks.mhz('FuSe'):g} MHz")
    if args.json:
        import json

        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({v: vars(r) for v, r in reps.items()}, indent=1) + "\n")
    return 0
