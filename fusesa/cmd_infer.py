"""``fusesa infer``: a whole int8 network through the generated accelerator in RTL simulation
(``sim.network.run_network``, docs/inference.md): per-layer progress, the per-layer table
(measured vs model cycles, utilization, mapping, bit-exact), totals, time per inference at a
clock, top-5 of the RTL's int8 output vs the float model, JSON; ``--compare`` runs the
baseline network and the FuSe variant on the same array; ``--checkpoint CKPT --dataset NAME
--count N`` runs N real test images of a trained network and reports its top-1 accuracy in RTL
(``sim.dataset_eval``)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from fusesa.cmd_latency import NETWORKS, VARIANTS, add_clock_args, clocks_from_args

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "infer", help="run a whole int8 network through the accelerator in RTL simulation"
    )
    p.add_argument("--net", choices=sorted(NETWORKS), help="zoo network (or --checkpoint/--qnet)")
    p.add_argument("--variant", default="half", help=f"one of {', '.join(VARIANTS)}")
    p.add_argument("--array", default="8x8", help="array size ROWSxCOLS (default 8x8)")
    p.add_argument("--resolution", type=int, default=32, help="input resolution (default 32)")
    p.add_argument("--width-mult", type=float, default=1.0, help="channel width multiplier")
    p.add_argument("--classes", type=int, default=1000, help="classifier outputs (default 1000)")
    p.add_argument("--sim", choices=("verilator", "icarus"), default="verilator")
    p.add_argument(
        "--depthwise",
        choices=("auto", "fuse", "fuse-packed", "baseline"),
        default="auto",
        help="depthwise mapping (auto: FuSe for 1xK/Kx1, with line packing where the cycle "
        "model says it is faster; per-channel GEMMs otherwise)",
    )
    p.add_argument(
        "--batch",
        type=int,
        default=None,
        help="images per inference (default 1): every layer runs over the whole batch; the "
        "report gives latency (cycles of the batch) and throughput (images per cycle); with "
        "--dataset, images per simulator run (default: as many as fit the memories)",
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        "--image",
        type=Path,
        default=None,
        help="input image: .npy (uint8 pixels or normalized float, CHW or HWC) or binary "
        ".ppm/.pgm (any size; resized, ImageNet-normalized)",
    )
    src.add_argument("--seed", type=int, default=None, help="random N(0,1) input image (seed)")
    model = p.add_mutually_exclusive_group()
    model.add_argument(
        "--checkpoint", type=Path, default=None, help="a `fusesa train` checkpoint to quantize"
    )
    model.add_argument(
        "--qnet", type=Path, default=None, help="a quantized file (`fusesa quantize --out`)"
    )
    p.add_argument(
        "--calib",
        type=int,
        default=None,
        help="calibration images: random ones (default 4), or with --dataset the first N "
        "training images (default 256)",
    )
    data = p.add_argument_group("real test images (with --checkpoint)")
    data.add_argument(
        "--dataset",
        default=None,
        help="run the first --count test images of this dataset (the checkpoint's, e.g. "
        "FASHIONMNIST) through the RTL; the JSON report gets dataset_eval",
    )
    data.add_argument("--count", type=int, default=100, help="test images (default 100)")
    data.add_argument("--data-dir", default=None, help="the dataset's files (as fusesa train)")
    data.add_argument(
        "--weights",
        choices=("ema", "raw"),
        default="ema",
        help="the checkpoint's EMA weights (default) or its raw ones (what "
        "benchmarks/train_fashion.py scores)",
    )
    p.add_argument("--weights-seed", type=int, default=0, help="seed of the random weights")
    p.add_argument("--keep-going", action="store_true", help="do not stop at the first mismatch")
    p.add_argument(
        "--compare",
        action="store_true",
        help="also run the baseline network (KxK depthwise as per-channel GEMMs) on the same "
        "array and report the measured speedup next to the paper and rtl models",
    )
    p.add_argument("--json", type=Path, default=None, help="write the report as JSON")
    p.add_argument(
        "--waves",
        type=Path,
        default=None,
        metavar="FILE",
        help="also dump the waveform (Verilator: VCD, Icarus: FST) of one layer "
        "(--waves-layer) from a separate trace-enabled build",
    )
    p.add_argument(
        "--waves-layer",
        default=None,
        metavar="NAME",
        help="the conv/linear layer for --waves (default: the first FuSe layer, else the first)",
    )
    p.add_argument("--quiet", action="store_true", help="no per-layer progress lines")
    p.add_argument(
        "--per-layer",
        action="store_true",
        help="the pre-issue-18 path: one program per conv/linear layer, requantization, adds, "
        "pooling and layouts on the host (default: the whole network as ONE accelerator "
        "program, no host op; docs/accelerator.md)",
    )
    p.add_argument(
        "--fuse-mapping",
        choices=("auto", "lines", "diagonal"),
        default="auto",
        help="one program: FuSe layers in the array's FuSe mode (lines), as diagonal GEMMs, "
        "or whichever the cycle model says is faster per layer (auto, the default)",
    )
    add_clock_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sim.network import NetworkMismatchError

    try:
        return _run(args)
    except NetworkMismatchError as exc:
        print(f"fusesa infer: MISMATCH: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # user input errors: message names the culprit
        print(f"fusesa infer: error: {exc}", file=sys.stderr)
        return 2


# -- inputs and models ----------------------------------------------------------------------


def _read_pnm(path: Path):
    import numpy as np

    data = path.read_bytes()
    fields, pos = [], 0
    while len(fields) < 4:  # magic, width, height, maxval (comments start with '#')
        while pos < len(data) and data[pos : pos + 1].isspace():
            pos += 1
        if data[pos : pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        end = pos
        while end < len(data) and not data[end : end + 1].isspace():
            end += 1
        fields.append(data[pos:end].decode("ascii", "replace"))
        pos = end
    magic, w, h, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    if magic not in ("P5", "P6") or maxval > 255:
        raise ValueError(f"{path}: only binary 8-bit PGM (P5) / PPM (P6) are read, not {magic}")
    ch = 3 if magic == "P6" else 1
    px = np.frombuffer(data[pos + 1 : pos + 1 + w * h * ch], np.uint8)
    if px.size != w * h * ch:
        raise ValueError(f"{path}: truncated image data")
    img = px.reshape(h, w, ch).transpose(2, 0, 1)
    return np.repeat(img, 3, 0) if ch == 1 else img


def load_image(path: Path, resolution: int):
    """A ``[1, 3, R, R]`` float tensor from ``path`` (see ``--image``)."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    if not path.exists():
        raise ValueError(f"image file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        try:
            a = np.load(path, allow_pickle=False)
        except Exception as exc:
            raise ValueError(f"cannot read {path} as a numpy array: {exc}") from None
        if a.ndim == 3 and a.shape[-1] == 3 and a.shape[0] != 3:
            a = a.transpose(2, 0, 1)
        if a.ndim != 3 or a.shape[0] != 3:
            raise ValueError(f"{path}: need a 3xHxW or HxWx3 image, got shape {a.shape}")
    elif suffix in (".ppm", ".pgm", ".pnm"):
        a = _read_pnm(path)
    else:
        try:
            from PIL import Image
        except ImportError:
            raise ValueError(
                f"{path}: unsupported image type {suffix!r} (use .npy or .ppm/.pgm; other "
                "formats need Pillow)"
            ) from None
        with Image.open(path) as img:
            a = np.asarray(img.convert("RGB")).transpose(2, 0, 1)
    x = torch.tensor(np.ascontiguousarray(a), dtype=torch.float32)[None]
    if a.dtype == np.uint8:
        mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
        x = (x / 255.0 - mean) / std
    if x.shape[-2:] != (resolution, resolution):
        x = F.interpolate(x, size=(resolution, resolution), mode="bilinear", align_corners=False)
    return x


def _float_model(args, variant: str):
    """(float model, label) of the zoo network or the checkpoint, in eval mode."""
    import torch

    from sw.export import set_bn_statistics
    from sw.models.zoo import build_model

    if args.checkpoint is not None:
        from sw.train import load_checkpoint

        model = load_checkpoint(args.checkpoint, ema=getattr(args, "weights", "ema") == "ema")
        meta = model.train_meta
        args.resolution = int(meta["resolution"])
        return model.eval(), f"{meta['network']} {meta['variant']} ({args.checkpoint})"
    torch.manual_seed(args.weights_seed)
    model = build_model(args.net, variant, args.classes, width_mult=args.width_mult)
    g = torch.Generator().manual_seed(args.weights_seed + 1)
    bn = torch.randn(8, 3, args.resolution, args.resolution, generator=g)
    set_bn_statistics(model, bn)
    return model.eval(), f"{args.net} {variant} x{args.width_mult:g}"


def _input(args):
    """``[batch, 3, R, R]``: the image repeated ``--batch`` times, or ``--batch`` random images."""
    import torch

    if args.image is not None:
        x = load_image(args.image, args.resolution)
        return x.repeat(args.batch, 1, 1, 1), str(args.image)
    seed = 0 if args.seed is None else args.seed
    g = torch.Generator().manual_seed(10_000 + seed)
    x = torch.randn(args.batch, 3, args.resolution, args.resolution, generator=g)
    return x, f"N(0,1) seed {seed}"


def _quantized(args, model, x):
    import torch

    from sw.export import quantize_network

    g = torch.Generator().manual_seed(args.weights_seed + 2)
    n_calib = 4 if args.calib is None else args.calib
    if n_calib < 0:
        raise ValueError(f"--calib must not be negative, not {n_calib}")
    calib = torch.randn(n_calib, 3, args.resolution, args.resolution, generator=g)
    return quantize_network(model, torch.cat([calib, x]))


# -- reporting ------------------------------------------------------------------------------


def _progress(total: int):
    count = {"n": 0}

    def show(r) -> None:
        count["n"] += 1
        if not r.accel:
            return
        flag = "exact" if r.exact else "MISMATCH"
        cyc = "" if r.cycles_match else f" (model {r.model_cycles})"
        t = sum(r.seconds.values())
        print(
            f"  [{count['n']:3d}/{total}] {r.name[:36]:36s} {r.mapping:18s} "
            f"{r.cycles:9d} cycles{cyc} {flag} {t:6.2f} s",
            flush=True,
        )

    return show


def _top5(values) -> list[int]:
    import numpy as np

    return [int(i) for i in np.argsort(-np.asarray(values, dtype=np.float64), kind="stable")[:5]]


def _run_one(args, cfg, qnet, x_q, label: str, depthwise: str):
    from sim.network import layer_table, run_network

    print(
        f"{label}: {len(qnet.mac_layers())} conv/linear layers on the {cfg.rows}x{cfg.cols} "
        f"accelerator ({args.sim}), memories act {cfg.act_depth} / weight {cfg.weight_depth} / "
        f"acc {cfg.acc_depth} / cmd {cfg.cmd_depth} words",
        flush=True,
    )
    on_layer = None if args.quiet else _progress(len(qnet.layers))
    t0 = time.perf_counter()
    res = run_network(
        qnet,
        x_q,
        cfg,
        args.sim,
        depthwise,
        keep_going=args.keep_going,
        on_layer=on_layer,
        memories="given",
        per_layer=True,
    )
    res.seconds["wall"] = time.perf_counter() - t0
    print()
    print("\n".join(layer_table(res)))
    return res


def _clock_fields(cycles: int, clocks, batch: int) -> dict:
    """Latency/throughput and, given a clock, the time per inference (printed)."""
    from fusesa.cmd_latency import throughput_fields

    out = {"batch": batch, **throughput_fields(cycles, batch)}
    if clocks is not None:
        us = clocks.time_us(cycles, "FuSe")
        print(f"time per inference: {us:.1f} us at {clocks.mhz('FuSe'):g} MHz ({clocks.source})")
        out |= {
            "fuse_mhz": clocks.mhz("FuSe"),
            "time_us": round(us, 4),
            "clock_source": clocks.source,
        }
    return out


def _summary(res, clocks, batch: int = 1) -> dict:
    s = res.seconds
    sim_cycles_per_s = res.cycles / s["run"] if s.get("run") else 0.0
    print(
        f"total: {res.cycles} cycles measured, {res.model_cycles} model "
        f"({'equal' if res.cycles_match else 'DIFFERENT'}), utilization "
        f"{100 * res.utilization:.1f} %, bit-exact: {'yes' if res.exact else 'NO'}"
    )
    print(
        f"wall {s['wall']:.1f} s: build {s['build']:.1f} s "
        f"({'fresh' if s['build_fresh'] else 'cached'}), simulator process "
        f"{s['simulator_process']:.1f} s (compile {s['compile']:.1f} s, load {s['load']:.1f} s, "
        f"run {s['run']:.1f} s = {sim_cycles_per_s / 1e3:.0f} k cycles/s, read-back "
        f"{s['read']:.1f} s, check {s['check']:.1f} s)"
    )
    if batch > 1:
        print(
            f"batch of {batch}: latency {res.cycles} cycles (every image is done at the end), "
            f"throughput {batch / res.cycles:.4g} images/cycle ({res.cycles / batch:.1f} cycles "
            "per image)"
        )
    return _clock_fields(res.cycles, clocks, batch)


def _run(args: argparse.Namespace) -> int:

    import torch

    from hw.config import ArrayConfig
    from sw.latency.table import parse_array

    torch.set_num_threads(1)
    rows, cols = parse_array(args.array)
    clocks = clocks_from_args(args, rows, cols)
    if args.resolution < 1:
        raise ValueError(f"--resolution must be positive, not {args.resolution}")
    if args.batch is not None and args.batch < 1:
        raise ValueError(f"--batch must be positive, not {args.batch}")
    if args.dataset is not None:
        return _run_dataset(args, rows, cols)
    if args.batch is None:
        args.batch = 1
    if args.qnet is None and args.checkpoint is None and args.net is None:
        raise ValueError("give --net NETWORK, --checkpoint FILE or --qnet FILE")
    if args.compare and (args.qnet is not None or args.checkpoint is not None):
        raise ValueError("--compare builds the zoo network's base and FuSe variants: use --net")
    prebuild = None
    if not args.per_layer:
        # one program: the build depends on the array only, so it starts now, in a child
        # process, and overlaps building, quantizing and compiling the network
        from sim.runner import BackgroundBuild
        from sw.mapping.accel import unbounded

        prebuild = BackgroundBuild(unbounded(ArrayConfig(rows, cols)), args.sim)
    try:
        return _run_net(args, rows, cols, clocks, prebuild)
    finally:
        if prebuild is not None:
            prebuild.close()


def _run_net(args: argparse.Namespace, rows: int, cols: int, clocks, prebuild) -> int:
    from hw.config import ArrayConfig
    from sim.network import memory_config
    from sw.models.zoo import canonical_variant

    variant = canonical_variant(args.variant)
    t0 = time.perf_counter()
    if args.qnet is not None:
        from sw.export import load_network

        qnet, model = load_network(args.qnet), None
        label = str(args.qnet)
        args.resolution = qnet.input_shape[1]
        x, src = _input(args)
    else:
        model, label = _float_model(args, variant)
        x, src = _input(args)
        qnet = _quantized(args, model, x)
    # one build per array: every memory at the command set's full range (memories="shared")
    cfg = memory_config(qnet, ArrayConfig(rows, cols), args.depthwise, batch=args.batch)
    runs = [(qnet, model, label, args.depthwise)]
    if args.compare:
        bmodel, blabel = _float_model(args, "base")
        bq = _quantized(args, bmodel, x)
        memory_config(
            bq, cfg, "auto", batch=args.batch
        )  # the baseline fits too (ValueError naming the layer)
        runs.insert(0, (bq, bmodel, blabel, "auto"))
    t_quant = time.perf_counter() - t0
    print(
        f"input: {src}, {args.resolution}x{args.resolution}; built and quantized in {t_quant:.1f} s"
    )
    report: dict = {
        "array": f"{rows}x{cols}",
        "resolution": args.resolution,
        "simulator": args.sim,
        "input": src,
        "runs": [],
    }
    if not args.per_layer:
        from fusesa.infer_program import compare, run_one_program

        entries = []
        for q, m, lab, _ in runs:
            entry = run_one_program(
                args, ArrayConfig(rows, cols), q, q.quantize_input(x), lab, prebuild
            )
            entry.update(_clock_fields(entry["cycles"], clocks, args.batch))
            entry["top5"] = _top5_report(q, m, x, entry.pop("_run"))
            entries.append(entry)
            print()
        report["runs"] = entries
        if args.compare:
            report["compare"] = compare(entries)
        _finish_report(args, report, cfg, runs[-1], x)
        return 0 if all(e["exact"] and e["cycles"] == e["model_cycles"] for e in entries) else 1
    results = []
    for q, m, lab, dw in runs:
        xq = q.quantize_input(x)
        res = _run_one(args, cfg, q, xq, lab, dw)
        entry = {"network": lab, **res.to_dict()}
        entry.update(_summary(res, clocks, args.batch))
        entry["top5"] = _top5_report(q, m, x, res)
        report["runs"].append(entry)
        results.append((res, m))
        print()
    if args.compare:
        report["compare"] = _compare(args, rows, cols, results, x)
    _finish_report(args, report, cfg, runs[-1], x)
    ok = all(r.exact and r.cycles_match for r, _ in results)
    return 0 if ok else 1


def _finish_report(args: argparse.Namespace, report: dict, cfg, last_run, x) -> None:
    """``--waves`` of the last network, then the ``--json`` report."""
    if args.waves is not None:
        report["waves"] = _waves(args, cfg, last_run, x)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1, default=_json_default) + "\n")
        print(f"wrote {args.json}")


def _run_dataset(args: argparse.Namespace, rows: int, cols: int) -> int:
    """``--dataset``: the first ``--count`` test images of the checkpoint's dataset through the
    RTL (``sim.dataset_eval``); exit 1 unless every logit equals the golden's and every
    batch's cycles equal the model."""
    from hw.config import ArrayConfig
    from sim.dataset_eval import run_dataset_eval
    from sw.export import quantize_network
    from sw.train.eval import calibration_images, checkpoint_dataset, eval_images

    if args.checkpoint is None:
        raise ValueError("--dataset needs --checkpoint (a fusesa train checkpoint)")
    for flag, bad in (
        ("--image", args.image is not None),
        ("--seed", args.seed is not None),
        ("--compare", args.compare),
        ("--waves", args.waves is not None),
    ):
        if bad:
            raise ValueError(f"{flag} cannot be combined with --dataset")
    if args.count < 1:
        raise ValueError(f"--count must be a positive integer, not {args.count}")
    t0 = time.perf_counter()
    model, label = _float_model(args, "base")
    res = args.resolution
    data = checkpoint_dataset(model, args.dataset, args.data_dir)
    n_calib = min(256, len(data.train)) if args.calib is None else args.calib
    if n_calib < 1:
        raise ValueError(f"--calib must be positive with --dataset, not {n_calib}")
    qnet = quantize_network(model, calibration_images(data, n_calib, res))
    x, labels = eval_images(data, args.count, res)
    print(
        f"{label}: {args.count} {data.name} test images, {res}x{res}, calibrated on {n_calib} "
        f"training images; quantized in {time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    cfg = ArrayConfig(rows, cols)

    def on_batch(start, r) -> None:
        n = r.golden_output.shape[0]
        print(
            f"  images {start}..{start + n - 1}: {r.cycles} cycles "
            f"({'= model' if r.cycles_match else f'model {r.model_cycles}'}), "
            f"{'exact' if r.exact else 'MISMATCH'}, {r.seconds.get('simulator_process', 0):.1f} s",
            flush=True,
        )

    ev = run_dataset_eval(
        qnet, x, labels, cfg, args.sim, args.depthwise, model=model, batch=args.batch,
        on_batch=on_batch, on_layer=None if args.quiet else _progress(len(qnet.layers)),
    )  # fmt: skip
    d = ev.to_dict()
    print(
        f"top-1 on {ev.count} images: RTL {ev.rtl_top1:.4f}, golden int8 {ev.golden_top1:.4f}, "
        f"float {ev.float_top1:.4f}; RTL logits equal the golden's: "
        f"{'yes' if ev.agree else 'NO'}; {ev.cycles} cycles in {len(ev.batches)} batch(es), "
        f"{'equal to' if ev.cycles_match else 'DIFFERENT from'} the model"
    )
    report = {
        "array": f"{rows}x{cols}",
        "resolution": res,
        "simulator": args.sim,
        "input": f"{data.name} test images 0..{args.count - 1}",
        "network": label,
        "weights": args.weights,
        "calibration_images": n_calib,
        "dataset_eval": d,
        "runs": [
            {k: v for k, v in r.to_dict().items() if k not in ("output", "golden_output")}
            for r in ev.batches
        ],
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1, default=_json_default) + "\n")
        print(f"wrote {args.json}")
    return 0 if ev.agree and ev.cycles_match else 1


def _waves(args, cfg, run, x) -> dict:
    from sim.network import dump_layer_waves

    qnet, _, _, depthwise = run
    macs = qnet.mac_layers()
    name = args.waves_layer or next(
        (m.name for m in macs if getattr(m, "op", "") in ("fuse_row", "fuse_col")), macs[0].name
    )
    t0 = time.perf_counter()
    rec = dump_layer_waves(
        qnet, qnet.quantize_input(x), cfg, name, args.waves, args.sim, depthwise, False
    )
    print(
        f"waves of {name} ({rec.mapping}, {rec.cycles} cycles, "
        f"{'exact' if rec.exact else 'MISMATCH'}): {args.waves} ({time.perf_counter() - t0:.1f} s)"
    )
    return {"layer": name, "file": str(args.waves), "cycles": rec.cycles, "exact": rec.exact}


def _json_default(o):
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(type(o).__name__)


def _top5_report(qnet, model, x, res) -> dict:
    import numpy as np
    import torch

    rtl = np.asarray(res.output)
    if rtl.size == 0:
        print("top-5: no output (the run stopped at a mismatch)")
        return {}
    rtl = rtl[0].astype(np.int64)
    rtl_top = _top5(rtl)
    out: dict = {"rtl": rtl_top, "rtl_int8": [int(rtl[i]) for i in rtl_top]}
    line = "top-5 int8 RTL: " + ", ".join(f"{i} ({rtl[i]})" for i in rtl_top)
    if model is not None:
        with torch.no_grad():
            ref = model(x)[0].double().numpy()
        ref_top = _top5(ref)
        out.update(float=ref_top, float_logits=[round(float(ref[i]), 4) for i in ref_top])
        out["overlap"] = len(set(ref_top) & set(rtl_top))
        out["top1_agree"] = ref_top[0] == rtl_top[0]
        line += "\ntop-5 float:    " + ", ".join(f"{i} ({ref[i]:.3f})" for i in ref_top)
        line += f"\n  {out['overlap']}/5 in common, top-1 {'agrees' if out['top1_agree'] else 'differs'}"
    print(line)
    return out


def _compare(args, rows: int, cols: int, results, x) -> dict:
    from sw.latency import model_latency

    (base, bmodel), (fuse, fmodel) = results
    measured = base.cycles / fuse.cycles
    paper = (
        model_latency(bmodel, x, rows, cols, "Systolic", "paper").total
        / model_latency(fmodel, x, rows, cols, "FuSe", "paper").total
    )
    rtl_b = model_latency(bmodel, x, rows, cols, "Systolic", "rtl").total
    rtl_f = model_latency(fmodel, x, rows, cols, "FuSe", "rtl").total
    accel_model = base.model_cycles / fuse.model_cycles
    print(
        f"baseline vs FuSe on the {rows}x{cols} array: measured {base.cycles} / {fuse.cycles} "
        f"cycles = {measured:.3f}x speedup"
    )
    print(
        f"  models: accelerator (sw.latency.rtl accel formulas) {accel_model:.3f}x, rtl mode "
        f"(bare array) {rtl_b}/{rtl_f} = {rtl_b / rtl_f:.3f}x, paper mode {paper:.3f}x"
    )
    return {
        "base_cycles": base.cycles,
        "fuse_cycles": fuse.cycles,
        "measured_speedup": round(measured, 5),
        "accel_model_speedup": round(accel_model, 5),
        "rtl_model_speedup": round(rtl_b / rtl_f, 5),
        "rtl_model_cycles": [rtl_b, rtl_f],
        "paper_model_speedup": round(paper, 5),
    }
