"""Verilog generator: ``python -m hw.gen --rows R --cols C --out DIR``.

Writes ``DIR/fusesa_array.v`` (top module ``fusesa_array``, no source locations so the output
has no machine paths) and ``DIR/config.json``. Generation is skipped when neither the config
nor the generator's sources (``hw/*.py``) nor the Amaranth version changed since the last run
(a key in ``DIR/.genkey``), and files are rewritten only when their content changed, so
simulator builds keyed on them stay cached.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from hw.config import ArrayConfig

__all__ = ["generate_verilog", "write_outputs", "main", "TOP_NAME", "TOP_NAMES"]

TOP_NAME = "fusesa_array"
#: design -> Verilog top module: the bare array (``hw.top``) or the accelerator (``hw.accel``)
TOP_NAMES = {"array": TOP_NAME, "accel": "fusesa_accel"}


def generate_verilog(cfg: ArrayConfig, design: str = "array") -> str:
    from amaranth.back import verilog

    if design == "array":
        from hw.top import ArrayTop

        top = ArrayTop(cfg)
    elif design == "accel":
        from hw.accel import Accelerator
        from hw.mem import RAM_VERILOG

        # the memories are instances of the behavioural ``fusesa_ram`` (hw.mem): its source
        # follows the generated modules, and the text does not grow with the memory depths
        top = Accelerator(cfg, ram="verilog")
        return verilog.convert(top, name=TOP_NAMES[design], emit_src=False) + "\n" + RAM_VERILOG
    else:
        raise ValueError(f"unknown design {design!r}; choose from {sorted(TOP_NAMES)}")
    return verilog.convert(top, name=TOP_NAMES[design], emit_src=False)


def _write_if_changed(path: Path, text: str) -> bool:
    if path.exists() and path.read_text() == text:
        return False
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return True


def generator_key(cfg: ArrayConfig, design: str = "array") -> str:
    """Hash of everything the generated Verilog depends on: config, hw sources, Amaranth."""
    import amaranth

    h = hashlib.sha256(cfg.to_json().encode() + design.encode())
    h.update(amaranth.__version__.encode())
    for src in sorted(Path(__file__).resolve().parent.glob("*.py")):
        h.update(src.name.encode())
        h.update(src.read_bytes())
    return h.hexdigest()


def write_outputs(cfg: ArrayConfig, out_dir: str | Path, design: str = "array") -> Path:
    """Generate the Verilog of ``cfg`` into ``out_dir`` (if stale); returns the Verilog path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    vpath = out / f"{TOP_NAMES[design]}.v"
    keypath = out / ".genkey"
    key = generator_key(cfg, design)
    if not (vpath.exists() and keypath.exists() and keypath.read_text() == key):
        _write_if_changed(vpath, generate_verilog(cfg, design))
        _write_if_changed(out / "config.json", cfg.to_json())
        keypath.write_text(key)
    return vpath


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rows", type=int, default=8, help="PE rows (default 8)")
    p.add_argument("--cols", type=int, default=8, help="PE columns (default 8)")
    p.add_argument("--act-width", type=int, default=8)
    p.add_argument("--weight-width", type=int, default=8)
    p.add_argument("--acc-width", type=int, default=32)
    p.add_argument(
        "--max-kernel", type=int, default=7, help="largest FuSe kernel length (default 7)"
    )
    p.add_argument(
        "--no-fuse", action="store_true", help="leave the FuSe 1-D mode out (plain WS array)"
    )
    p.add_argument("--out", default="build/gen", help="output directory (default build/gen)")


def config_from_args(args: argparse.Namespace) -> ArrayConfig:
    return ArrayConfig(
        rows=args.rows,
        cols=args.cols,
        act_width=args.act_width,
        weight_width=args.weight_width,
        acc_width=args.acc_width,
        max_kernel=args.max_kernel,
        fuse=not args.no_fuse,
    )


def run(args: argparse.Namespace) -> int:
    try:
        cfg = config_from_args(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    vpath = write_outputs(cfg, args.out)
    print(
        f"wrote {vpath} and {vpath.parent / 'config.json'} ({cfg.rows}x{cfg.cols}, {cfg.pes} PEs)"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m hw.gen", description=__doc__.splitlines()[0])
    add_arguments(p)
    return run(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
