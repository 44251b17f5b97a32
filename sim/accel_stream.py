"""Host-stream runs of the accelerator top (``hw.accel.Accelerator.load`` / ``rd_req`` /
``rd_data``): the program and its operands are pushed through the ``load`` stream, results
come back on ``rd_data``, with seeded random input gaps (``valid`` low) and output
backpressure (``ready`` low). The bench is ``sim.tb_accel_stream``.

``StreamJob``/``StreamResult`` are the typed job and result records; ``program_loads`` turns a
compiled ``sw.mapping.accel.AccelProgram`` into its ``load`` stream words.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hw import isa
from hw.config import ArrayConfig
from sim.runner import run_bench
from sw.mapping.accel import AccelProgram

__all__ = ["StreamJob", "StreamResult", "program_loads", "run_stream_jobs"]


def program_loads(prog: AccelProgram) -> list[int]:
    """``load`` payloads of ``prog``: activation words, weight words, then the command words."""
    cfg = prog.cfg
    out = [pack(isa.Target.ACT, a, v, cfg) for a, v in sorted(prog.act.items())]
    out += [pack(isa.Target.WEIGHT, a, v, cfg) for a, v in sorted(prog.weight.items())]
    out += [pack(isa.Target.CMD, a, v, cfg) for a, v in enumerate(prog.words)]
    return out


def pack(target: isa.Target, addr: int, data: int, cfg: ArrayConfig) -> int:
    return isa.pack_load(target, addr, data, cfg)


@dataclass
class StreamJob:
    """One bench run.

    - ``loads``: ``load`` payloads pushed in order before ``start`` (``valid`` high with
      probability ``valid_prob`` each cycle, from ``random.Random(seed)``);
    - ``reset_after``: if set, ``start`` is pulsed, ``rst`` is raised ``reset_after`` cycles
      later for two cycles (a reset in the middle of the program), the state after it is
      recorded, then ``reload`` payloads (if any) are pushed again before the real ``start``;
    - ``reads``: ``(addr, count)`` read-back requests after ``done``; ``rd_data.ready`` is
      high with probability ``ready_prob`` each cycle.
    """

    name: str
    loads: list[int]
    reads: list[tuple[int, int]]
    seed: int = 0
    valid_prob: float = 1.0
    ready_prob: float = 1.0
    reset_after: int | None = None
    reload: list[int] = field(default_factory=list)
    timeout_cycles: int = 100_000


@dataclass
class StreamResult:
    """What the bench saw. ``words`` are every ``rd_data`` transfer in order; ``violations``
    lists handshake-rule breaches the bench monitor caught (it must stay empty)."""

    name: str
    words: list[int]
    total: int
    busy: int
    stall: int
    error: bool
    host_error_before_start: bool
    host_error_end: bool  # after the read requests (an out-of-range request sets it)
    load_cycles: int
    read_cycles: int
    after_reset: dict[str, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    running_cycles: int = 0  # cycles the monitor saw ``running`` high (it watched the run)


def run_stream_jobs(
    jobs: list[StreamJob], cfg: ArrayConfig, simulator: str = "verilator"
) -> list[StreamResult]:
    """Run the jobs back to back in one simulator process (one build per config)."""
    return run_bench(cfg, simulator, "sim.tb_accel_stream", jobs, design="accel")
