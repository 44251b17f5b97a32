"""Typed job and result records of the array bench (``sim.tb_array``), shared by the host side
(``sim.gemm``, ``sim.fuse``, ``synth.activity``) and the bench running inside the simulator.
The accelerator bench's records are ``sim.accel.AccelJob`` / ``AccelResult``."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ArrayJob", "ArrayResult"]


@dataclass
class ArrayJob:
    """One program replayed on ``fusesa_array`` pin by pin.

    ``commands[t]`` holds the values of ``ports`` in cycle ``t``; ``static`` ports are set once
    before the job (e.g. ``mode``). The bench waits for ``n_outputs`` valid output words (at
    most ``timeout_cycles``), then idles ``drain_cycles`` and checks no output appears."""

    name: str
    ports: tuple[str, ...]
    commands: list[tuple[int, ...]]
    n_outputs: int
    timeout_cycles: int
    drain_cycles: int
    static: dict[str, int] = field(default_factory=dict)


@dataclass
class ArrayResult:
    """Every valid output word with the cycle it was seen in (cycle 0: the first command)."""

    name: str
    outputs: list[tuple[int, int]]
