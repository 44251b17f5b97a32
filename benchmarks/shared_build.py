"""One simulator build per array: run layers of four different sizes with separate
``sim.run_layer`` calls on one array and count the simulator builds they make, with the wall
time of each call and the simulator's peak RSS (the memories at the command set's full
``2**20`` words, ``memories="shared"``), next to the older per-depth builds (``--memories fit``).

    python benchmarks/shared_build.py --array 16x16 --sim verilator
    python benchmarks/shared_build.py --array 64x64 --sim verilator --rss-only

The build runs in a child process first, so the peak RSS printed (``RUSAGE_CHILDREN`` of this
process afterwards) is the simulator's, not the C++ compiler's.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _layers(channels_scale: int):
    """Four layers of growing size: (name, layer, input shape, depthwise)."""
    import torch

    c = channels_scale
    return [
        ("pw 16->16 8x8", torch.nn.Conv2d(16, 16, 1, bias=False), (1, 16, 8, 8), "auto"),
        ("3x3 dense 8->16 28x28", torch.nn.Conv2d(8, 16, 3, padding=1, bias=False), (1, 8, 28, 28), "auto"),
        (f"dw 3x3 {c}ch 56x56 s2", torch.nn.Conv2d(c, c, 3, 2, 1, groups=c, bias=False), (1, c, 56, 56), "baseline"),
        (f"1x3 {c}ch 112x112", torch.nn.Conv2d(c, c, (1, 3), 1, (0, 1), groups=c, bias=False), (1, c, 112, 112), "fuse"),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--array", default="16x16")
    ap.add_argument("--sim", default="verilator", choices=["verilator", "icarus"])
    ap.add_argument("--memories", default="shared", choices=["shared", "fit"])
    ap.add_argument("--channels", type=int, default=96, help="channels of the two depthwise layers")
    ap.add_argument("--rss-only", action="store_true", help="build and run only the smallest layer")
    args = ap.parse_args()
    import numpy as np
    import torch

    from hw.config import ArrayConfig
    from sim import run_layer
    from sim.runner import BUILD_ROOT
    from sw.latency.table import parse_array
    from sw.mapping.accel import unbounded

    rows, cols = parse_array(args.array)
    cfg = ArrayConfig(rows, cols)
    bdir = BUILD_ROOT / "sim" / args.sim
    before = {p.name for p in bdir.glob("accel_*")} if bdir.exists() else set()
    if args.memories == "shared":
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", "import sys; from hw.config import ArrayConfig; "
             "from sim.runner import build; from sw.mapping.accel import unbounded; "
             f"build(unbounded(ArrayConfig({rows}, {cols})), {args.sim!r}, design='accel')"],
            check=True,
            cwd=ROOT,
        )
        print(f"[bench] shared build {unbounded(cfg).accel_name}: {time.perf_counter() - t0:.1f} s")
    torch.manual_seed(0)
    layers = _layers(args.channels)[: 1 if args.rss_only else None]
    print(f"{'layer':28s} {'cycles':>9s} {'exact':>5s} {'wall s':>7s}  build (memories={args.memories})")
    for name, layer, shape, dw in layers:
        with torch.no_grad():
            layer.weight.copy_(torch.randint(-128, 128, layer.weight.shape))
        x = torch.randint(-128, 128, shape).float()
        t0 = time.perf_counter()
        res = run_layer(layer, x, cfg, args.sim, depthwise=dw, memories=args.memories)
        wall = time.perf_counter() - t0
        ref = torch.nn.functional.conv2d(
            x.double(), layer.weight.double(), None, layer.stride, layer.padding, 1, layer.groups
        )
        exact = np.array_equal(res.output, ref.detach().numpy().astype(np.int64))
        print(f"{name:28s} {res.cycles:9d} {str(exact):>5s} {wall:7.1f}  {res.config.accel_name}")
    after = {p.name for p in bdir.glob("accel_*")}
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"[bench] new simulator builds: {len(after - before)} {sorted(after - before)}")
    print(f"[bench] peak RSS of the simulator processes: {rss:.0f} MB")


if __name__ == "__main__":
    main()
