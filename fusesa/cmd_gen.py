"""``fusesa gen``: same as ``python -m hw.gen``."""

from __future__ import annotations


def register(sub) -> None:
    from hw import gen

    p = sub.add_parser("gen", help="write the array's Verilog and config.json")
    gen.add_arguments(p)
    p.set_defaults(func=gen.run)
