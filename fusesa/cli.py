"""The ``fusesa`` command line: one subcommand per main job.

Each subcommand lives in its own module ``fusesa/cmd_<name>.py`` exposing
``register(subparsers)``, which adds a parser whose ``func`` attribute runs the job and
returns an exit code. Modules are imported lazily so that ``fusesa table`` never pays for
the HDL stack and ``fusesa gen`` never imports torch.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: (module, subcommand names it registers) -- kept explicit so ``--help`` is cheap and stable.
SUBCOMMANDS: list[tuple[str, str]] = [
    ("fusesa.cmd_demo", "demo: generate an 8x8 array and run a GEMM through it in RTL"),
    ("fusesa.cmd_gen", "gen: write the array's Verilog and config.json"),
    ("fusesa.cmd_table", "table: the 25-row FLOPs/params/speedup table vs the paper"),
    ("fusesa.cmd_latency", "latency: analytical latency of one network on one array"),
    ("fusesa.cmd_sweep", "sweep: latency/speedup over array sizes, CSV + PNG"),
    ("fusesa.cmd_fuse_report", "fuse-report: one depthwise layer as baseline DW vs FuSe in RTL"),
    ("fusesa.cmd_synth", "synth: area/timing/power of the base vs FuSe array"),
    ("fusesa.cmd_energy", "energy: energy per inference and per block on the accelerator"),
    ("fusesa.cmd_quantize", "quantize: int8 post-training quantization, golden, ONNX export"),
    ("fusesa.cmd_train", "train: train a baseline or FuSe network on local data"),
    ("fusesa.cmd_infer", "infer: a whole int8 network through the accelerator in RTL simulation"),
    ("fusesa.cmd_dse", "dse: design-space exploration on Dask, CSV/JSON + Pareto PNGs"),
    ("fusesa.cmd_select", "select: greedy FuSe block selection for a params/latency budget"),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fusesa",
        description="FuSeConv systolic-array co-design toolkit (hardware, models, latency).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module, _ in SUBCOMMANDS:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name == module:  # subcommand not built into this checkout
                continue
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
