"""A whole int8 network as ONE accelerator program (issue 18): ``sw.mapping.qnetwork``
compiles a ``QuantizedNetwork`` into one command sequence (CONV/GEMM/REQUANT/ADD, every
intermediate int8 tensor kept in activation memory); the bench loads the input, the weights
and the program once, pulses ``start`` once, waits for ``done`` and reads the whole activation
memory back, so every layer's int8 output is compared with the golden executor's trace
exactly. ``cnt_total`` must equal ``sw.latency.rtl.accel_commands_cycles`` of the program.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hw.config import ArrayConfig
from sim.accel import AccelJob, run_programs
from sw.latency.rtl import accel_commands_cycles
from sw.mapping.accel import unbounded

__all__ = ["ProgramLayer", "ProgramRun", "run_network_program"]


@dataclass
class ProgramLayer:
    """One layer of a one-program run: how it ran, its commands' modelled cycles, exactness."""

    name: str
    kind: str
    mapping: str
    commands: int
    model_cycles: int
    shape: tuple[int, ...]
    exact: bool | None  # None: its words were reused by a later layer, not read back
    mismatches: int = 0
    diff: str = ""
    cycles: int = -1  # measured: cnt_total at its last command's end minus at its first's


@dataclass
class ProgramRun:
    """``run_network_program``'s answer."""

    output: np.ndarray  # the network output read from activation memory (int8)
    golden_output: np.ndarray
    layers: list[ProgramLayer]
    cycles: int  # cnt_total of the one program
    model_cycles: int  # accel_commands_cycles of the program
    busy: int
    stall: int
    commands: int
    cfg: ArrayConfig
    act_words: int  # activation words the program uses (peak, with buffer reuse)
    simulator: str
    programs: int = 1
    host_ops: list[str] = field(default_factory=list)  # ops computed on the host: none
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def exact(self) -> bool:
        return all(layer.exact is not False for layer in self.layers) and bool(
            np.array_equal(self.output, self.golden_output)
        )

    @property
    def checked(self) -> int:
        """Layers whose int8 tensor was read back and compared (the others' words were
        reused by later layers: activation buffer reuse)."""
        return sum(layer.exact is not None for layer in self.layers)

    @property
    def first_bad(self) -> str | None:
        return next((layer.name for layer in self.layers if layer.exact is False), None)

    @property
    def cycles_match(self) -> bool:
        """The total and every layer's measured cycles equal the model."""
        return self.cycles == self.model_cycles and all(
            layer.cycles == layer.model_cycles for layer in self.layers
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "programs": self.programs,
            "host_ops": list(self.host_ops),
            "cycles": self.cycles,
            "model_cycles": self.model_cycles,
            "exact": self.exact,
            "checked_layers": self.checked,
            "act_words": self.act_words,
            "commands": self.commands,
            "busy": self.busy,
            "stall": self.stall,
            "array": self.cfg.name,
            "simulator": self.simulator,
            "layers": [vars(layer) | {"shape": list(layer.shape)} for layer in self.layers],
            "seconds": self.seconds,
        }


def run_network_program(
    qnet,
    x_q: np.ndarray,
    cfg: ArrayConfig,
    simulator: str = "verilator",
    fuse: str = "auto",
    golden=None,
    reuse: bool | None = None,
    prebuild=None,
) -> ProgramRun:
    """Run ``qnet`` on the int8 input ``x_q`` as ONE program on the accelerator of ``cfg``
    (memories at the shared maximum depths: one build per array). ``ValueError`` names a
    layer that cannot run on chip before anything is built. ``reuse``: activation buffer
    reuse (``compile_qnet``); ``None`` (default) reuses only when the network does not fit
    otherwise, since a reused tensor cannot be read back (its layer reports ``exact=None``). ``fuse``: how FuSe layers run
    (``sw.mapping.qnetwork.FUSE_MAPPINGS``). Every layer is compared with ``golden``'s
    (default ``qnet``) trace. ``prebuild``: a ``sim.runner.BackgroundBuild`` of this array's
    accelerator started earlier (``fusesa infer``); the run waits for it."""
    from sim.network import diff_summary
    from sw.mapping.qnetwork import compile_qnet

    cfg = unbounded(cfg)
    t0 = time.perf_counter()
    if reuse is None:
        try:  # every tensor in its own words, so that every layer can be read back
            prog = compile_qnet(qnet, np.asarray(x_q), cfg, fuse, reuse=False)
        except ValueError as exc:
            if "act_depth" not in str(exc):
                raise
            prog = compile_qnet(qnet, np.asarray(x_q), cfg, fuse, reuse=True)
    else:
        prog = compile_qnet(qnet, np.asarray(x_q), cfg, fuse, reuse=reuse)
    p = prog.program
    model = accel_commands_cycles(p.commands, cfg.rows, cfg.cols)
    t_compile = time.perf_counter() - t0
    t1 = time.perf_counter()
    golden = qnet if golden is None else golden
    trace = golden.run(x_q, trace=True)
    t_golden = time.perf_counter() - t1
    job = AccelJob(
        "network", p.act, p.weight, p.words, 0, 2 * model + 64, act_words=p.act_words,
        trace_pc=True,
    )  # fmt: skip
    from sim.runner import build

    waited = 0.0
    if prebuild is not None:
        bg_info, waited = prebuild.result()
    info = build(cfg, simulator, design="accel")  # run_programs finds it cached
    if prebuild is not None and not info.fresh:
        info = bg_info  # the build's own time, not the wait
    t2 = time.perf_counter()
    (res,) = run_programs([job], cfg, simulator)
    t_sim = time.perf_counter() - t2
    if res.error:
        raise RuntimeError("the accelerator raised error on the compiled network program")
    t3 = time.perf_counter()
    act = res.act
    at = {0: 0}  # command index -> cnt_total when the program counter reached it
    for pc, cnt in res.pc_trace:
        at.setdefault(pc, cnt)
    layers = []
    for layer in qnet.layers:
        a, b = prog.commands[layer.name]
        model_cycles = accel_commands_cycles(p.commands[a:b], cfg.rows, cfg.cols)
        measured = at[b] - at[a] if a in at and b in at else -1
        if layer.name in prog.overwritten:
            layers.append(
                ProgramLayer(
                    layer.name, type(layer).__name__, prog.mappings[layer.name], b - a,
                    model_cycles, tuple(prog.shapes[layer.name]), None, cycles=measured,
                )
            )  # fmt: skip
            continue
        got = prog.read(layer.name, act)
        want = np.asarray(trace.tensors[layer.name])
        want = want.reshape(got.shape) if want.size == got.size else want
        ok = got.shape == want.shape and bool(np.array_equal(got, want))
        n_bad, _, diff = diff_summary(got, want)
        layers.append(
            ProgramLayer(
                name=layer.name,
                kind=type(layer).__name__,
                mapping=prog.mappings[layer.name],
                commands=b - a,
                model_cycles=model_cycles,
                cycles=measured,
                shape=tuple(got.shape),
                exact=ok,
                mismatches=n_bad,
                diff=diff,
            )
        )
    golden_out = np.asarray(trace.output)
    output = prog.read(qnet.output, act).reshape(golden_out.shape)
    return ProgramRun(
        output=output,
        golden_output=golden_out,
        layers=layers,
        cycles=res.total,
        model_cycles=model,
        busy=res.busy,
        stall=res.stall,
        commands=len(p.commands),
        cfg=cfg,
        act_words=p.act_words,
        simulator=simulator,
        seconds=dict(
            compile=t_compile,
            golden=t_golden,
            build=info.seconds,
            build_fresh=float(info.fresh),
            build_waited=waited,
            simulator_process=t_sim,
            run=res.run_seconds,
            load=res.load_seconds,
            check=time.perf_counter() - t3,
        ),
    )
