"""``run_network``: a whole int8 network (``sw.export.QuantizedNetwork``) through the generated
accelerator (``hw.accel``) in RTL simulation, layer by layer, bit-exact against the golden
executor (issue 11, docs/inference.md).

One simulator process (one build) runs the whole network: the cocotb bench ``sim.tb_network``
walks the network's layers itself. Per conv/linear layer it compiles one accelerator program
(``sw.mapping.accel.compile_layers``), loads it by backdoor, runs it (``start`` -> ``done``),
reads the int32 accumulators back, compares them exactly with the golden executor's
``accumulate`` of the same input, and requantizes them with the golden's ``requantize``. The
accelerator has no requantization, no im2col and none of the other ops (add, pools, concat,
slice, flatten, clamp) yet, so those run on the host in the golden executor, and every layer's
input is loaded again (activations do not stay in the accelerator's memories between layers).

Memory depths: by default (``memories="shared"``) the accelerator is built with every memory at
the command set's full ``2**20`` words (``sw.mapping.accel.unbounded``), so every network on one
array runs on ONE simulator build. ``memories="fit"``: ``network_config`` sizes the depths from
the largest layer (command extents from shapes, ``hw.isa``), each rounded up to a power of two;
``memories="given"``: ``cfg``'s depths as they are. A layer that does not fit ``2**20`` words
raises ``ValueError`` naming it.

Cycles: each layer's ``cnt_total`` must equal ``layer_model_cycles`` (``sw.latency.rtl``'s
accelerator formulas plus ``2`` for the program's ``HALT``).
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hw.config import DEPTH_FIELDS, ArrayConfig
from sw.latency.rtl import (
    ACCEL_COMMAND_OVERHEAD,
    accel_depthwise_baseline_cycles,
    accel_fuse_conv_cycles,
    accel_gemm_cycles,
    accel_packed_fuse_conv_cycles,
    fuse_conv_mapping,
    packed_fuse_commands,
)
from sw.mapping.accel import (
    DEPTHWISE_MAPPINGS,
    check_memory_policy,
    fuse_command,
    gemm_command,
    unbounded,
)

__all__ = [
    "DEPTH_LIMIT",
    "LayerRun",
    "NetworkJob",
    "NetworkResult",
    "NetworkMismatchError",
    "layer_mapping",
    "layer_commands",
    "layer_model_cycles",
    "layer_macs",
    "network_config",
    "memory_config",
    "program_extents",
    "run_network",
    "dump_layer_waves",
]

#: largest memory depth the command set can address (``hw.isa`` address fields, 20 bits)
DEPTH_LIMIT = 1 << 20
#: smallest depth ``network_config`` chooses (keeps tiny networks on one shared build)
MIN_DEPTH = 64


# -- shapes, mappings, models -------------------------------------------------------------


def _conv_out(layer, in_shape: tuple[int, ...]) -> tuple[int, int]:
    _, h, w = in_shape
    (kh, kw), (sh, sw), (ph, pw) = layer.kernel, layer.stride, layer.padding
    return (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1


def _is_linear(layer) -> bool:
    return layer.kind.value == "linear"


def layer_mapping(
    layer, cfg: ArrayConfig, depthwise: str = "auto", in_shape=None, batch: int = 1
) -> str:
    """How ``compile_layers`` runs a conv/linear record: ``gemm``, ``fuse``, ``fuse-packed``
    or ``depthwise-baseline`` (``ValueError`` for a layer the accelerator cannot run). Without
    ``in_shape`` (``(C, H, W)``) a 1-D layer under ``auto`` reads ``fuse`` (FuSe mode; whether
    packed depends on the shape, ``sw.latency.rtl.fuse_conv_mapping``)."""
    if depthwise not in DEPTHWISE_MAPPINGS:
        raise ValueError(
            f"depthwise mapping must be one of {DEPTHWISE_MAPPINGS}, not {depthwise!r}"
        )
    if _is_linear(layer) or layer.groups == 1:
        return "gemm"
    op = layer.op
    if op == "grouped":
        raise ValueError(
            f"layer {layer.name}: grouped convolution (groups={layer.groups}) is neither dense "
            "nor depthwise; the accelerator compiler has no mapping for it"
        )
    one_d = op in ("fuse_row", "fuse_col")
    k = max(layer.kernel)
    if depthwise == "baseline":
        return "depthwise-baseline"
    if depthwise in ("fuse", "fuse-packed"):
        if not one_d:
            raise ValueError(
                f"layer {layer.name}: FuSe mode runs 1xK / Kx1 kernels, not {layer.kernel}"
            )
        if not cfg.fuse or k > cfg.max_kernel:
            raise ValueError(
                f"layer {layer.name}: array {cfg.name} cannot run a {layer.kernel} kernel in FuSe "
                f"mode (fuse={cfg.fuse}, max_kernel={cfg.max_kernel})"
            )
        return depthwise
    if not (one_d and cfg.fuse and k <= cfg.max_kernel):
        return "depthwise-baseline"
    if in_shape is None:
        return "fuse"
    c, h, w = in_shape
    geom = (batch, c, h, w, tuple(layer.kernel), tuple(layer.stride), tuple(layer.padding))
    return fuse_conv_mapping(*geom, cfg.rows, cfg.cols)


def layer_commands(layer, in_shape: tuple[int, ...], batch: int, cfg: ArrayConfig, depthwise: str):
    """The accelerator commands (``hw.isa``, addresses 0) of one layer, from shapes only."""
    mapping = layer_mapping(layer, cfg, depthwise, in_shape, batch)
    if _is_linear(layer):
        out_f, in_f = layer.weight.shape
        return [gemm_command(batch, in_f, out_f, cfg)]
    c = in_shape[0]
    ho, wo = _conv_out(layer, in_shape)
    kh, kw = layer.kernel
    if mapping == "gemm":
        return [gemm_command(batch * ho * wo, c * kh * kw, layer.out_channels, cfg)]
    if mapping == "depthwise-baseline":
        return [gemm_command(batch * ho * wo, kh * kw, 1, cfg)] * c
    _, h, w = in_shape
    (sh, sw), (ph, pw) = layer.stride, layer.padding
    if mapping == "fuse-packed":
        geom = (batch, c, h, w, (kh, kw), (sh, sw), (ph, pw), cfg.rows, cfg.cols)
        return [fuse_command(L, J, K, cfg) for L, J, K in packed_fuse_commands(*geom)]
    if kh == 1:  # 1xK: lines are every sh-th padded row
        lines, positions, k = batch * c * ((h + 2 * ph - 1) // sh + 1), w + 2 * pw - kw + 1, kw
    else:  # Kx1: lines are every sw-th padded column
        lines, positions, k = batch * c * ((w + 2 * pw - 1) // sw + 1), h + 2 * ph - kh + 1, kh
    return [fuse_command(lines, positions, k, cfg)]


def program_extents(qnet, cfg: ArrayConfig, depthwise: str = "auto", batch: int = 1):
    """Per conv/linear layer: ``(name, act_words, weight_words, acc_words, command_words)`` of
    its one-layer program (command words include the ``HALT``)."""
    from hw.isa import check_command

    out = []
    for layer in qnet.mac_layers():
        cmds = layer_commands(layer, qnet.shapes[layer.inputs[0]], batch, cfg, depthwise)
        try:  # field ranges (e.g. GEMM m <= 65535); memory depths are checked by the caller
            check_command(cmds[0])
        except ValueError as exc:
            raise ValueError(
                f"layer {layer.name} cannot be one accelerator command: {exc}"
            ) from None
        ext = [cmd.extents(cfg.rows, cfg.cols) for cmd in cmds]
        act, wgt, acc = (sum(e[i] for e in ext) for i in range(3))
        out.append((layer.name, act, wgt, acc, len(cmds) + 1))
    return out


def _pow2(n: int) -> int:
    return max(MIN_DEPTH, 1 << max(0, n - 1).bit_length())


def network_config(qnet, cfg: ArrayConfig, depthwise: str = "auto", batch: int = 1) -> ArrayConfig:
    """``cfg`` with its memory depths set so that every conv/linear layer of ``qnet`` is one
    program: the largest layer's words per memory, rounded up to a power of two (at least
    ``MIN_DEPTH``). ``ValueError`` names a layer that does not fit ``2**20`` words."""
    names = ("act_depth", "weight_depth", "acc_depth", "cmd_depth")
    need = dict.fromkeys(names, 1)
    for name, *words in program_extents(qnet, cfg, depthwise, batch):
        for field_name, n in zip(names, words, strict=True):
            if n > DEPTH_LIMIT:
                raise ValueError(
                    f"layer {name} needs {n} words of {field_name.removesuffix('_depth')} memory "
                    f"on a {cfg.rows}x{cfg.cols} array, more than the 2**20 the command set "
                    f"addresses (use a larger array or a lower resolution)"
                )
            need[field_name] = max(need[field_name], n)
    return dataclasses.replace(cfg, **{k: min(DEPTH_LIMIT, _pow2(v)) for k, v in need.items()})


def memory_config(
    qnet,
    cfg: ArrayConfig,
    depthwise: str = "auto",
    batch: int = 1,
    memories: str = "shared",
    size_memories: bool | None = None,
) -> ArrayConfig:
    """The configuration ``run_network`` builds and runs for ``memories`` (see the module
    docstring); every layer is checked to fit it (``ValueError`` naming the layer)."""
    if size_memories is not None:
        memories = "fit" if size_memories else "given"
    check_memory_policy(memories)
    fitted = network_config(qnet, cfg, depthwise, batch)  # checks every layer fits 2**20
    if memories == "fit":
        return fitted
    if memories == "shared":
        return unbounded(cfg)
    for f in DEPTH_FIELDS:
        if getattr(fitted, f) > getattr(cfg, f):
            need = max(
                r[1 + DEPTH_FIELDS.index(f)] for r in program_extents(qnet, cfg, depthwise, batch)
            )
            if need > getattr(cfg, f):
                raise ValueError(
                    f"a layer needs {need} words of {f.removesuffix('_depth')} memory, more than "
                    f"ArrayConfig.{f}={getattr(cfg, f)} (use memories='shared' or 'fit')"
                )
    return cfg


def layer_model_cycles(
    layer, in_shape: tuple[int, ...], batch: int, cfg: ArrayConfig, mapping: str
) -> int:
    """``cnt_total`` of a one-layer program by ``sw.latency.rtl``'s accelerator formulas:
    the layer's commands plus ``2`` for ``HALT``."""
    R, C = cfg.rows, cfg.cols
    if _is_linear(layer):
        out_f, in_f = layer.weight.shape
        body = accel_gemm_cycles(batch, in_f, out_f, R, C)
    else:
        c, h, w = in_shape
        ho, wo = _conv_out(layer, in_shape)
        kh, kw = layer.kernel
        geom = (batch, c, h, w, layer.kernel, layer.stride, layer.padding, R, C)
        if mapping == "gemm":
            body = accel_gemm_cycles(batch * ho * wo, c * kh * kw, layer.out_channels, R, C)
        elif mapping == "fuse":
            body = accel_fuse_conv_cycles(*geom)
        elif mapping == "fuse-packed":
            body = accel_packed_fuse_conv_cycles(*geom)
        else:
            body = accel_depthwise_baseline_cycles(*geom)
    return body + ACCEL_COMMAND_OVERHEAD


def layer_macs(layer, in_shape: tuple[int, ...], batch: int) -> int:
    """Useful multiply-accumulates of a conv/linear layer (padding taps excluded are not
    subtracted: every output sums ``Cin/groups * kh * kw`` products)."""
    if _is_linear(layer):
        return batch * layer.weight.size
    ho, wo = _conv_out(layer, in_shape)
    return batch * ho * wo * layer.weight.size


# -- records ----------------------------------------------------------------------------


@dataclass
class LayerRun:
    """One layer of a network run. MAC layers (``accel=True``) carry the counters and the
    comparison; host layers only their name, kind and host time.

    ``utilization`` = MACs / (rows * cols * measured cycles): the fraction of the array's
    PE-cycles doing useful products over the whole program (fill, drain, FETCH/DECODE and
    HALT included). ``busy_fraction`` = ``cnt_busy / cnt_total``: cycles in which an
    activation row entered the array."""

    name: str
    kind: str  # the record's op: dense, pointwise, depthwise, fuse_row, fuse_col, linear, add, ...
    out_shape: tuple[int, ...]
    accel: bool = False
    mapping: str = "host"
    cycles: int = 0
    model_cycles: int = 0
    busy: int = 0
    stall: int = 0
    macs: int = 0
    pes: int = 1
    commands: int = 0
    exact: bool = True
    mismatches: int = 0
    max_abs_diff: int = 0
    diff: str = ""
    error: bool = False
    words: dict[str, int] = field(default_factory=dict)  # act, weight, cmd written; acc read
    seconds: dict[str, float] = field(default_factory=dict)  # compile, load, run, read, check, host

    @property
    def cycles_match(self) -> bool:
        return self.cycles == self.model_cycles

    @property
    def utilization(self) -> float:
        return self.macs / (self.pes * self.cycles) if self.cycles else 0.0

    @property
    def busy_fraction(self) -> float:
        return self.busy / self.cycles if self.cycles else 0.0

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["out_shape"] = list(self.out_shape)
        d["utilization"] = round(self.utilization, 6)
        d["busy_fraction"] = round(self.busy_fraction, 6)
        d["cycles_match"] = self.cycles_match
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LayerRun:
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        kw["out_shape"] = tuple(kw["out_shape"])
        return cls(**kw)


@dataclass
class NetworkJob:
    """What ``sim.tb_network`` runs: the network run by the hardware, the network whose
    ``accumulate`` is the reference (usually the same), the int8 input and options."""

    qnet: Any
    golden: Any
    x_q: np.ndarray
    cfg: ArrayConfig
    depthwise: str = "auto"
    keep_going: bool = False
    progress_path: str = ""
    only_layer: str = ""  # waves: run the layers before it on the host, it on the RTL, stop


@dataclass
class NetworkResult:
    """``run_network``'s answer. ``output``: the int8 output computed from the RTL's
    accumulators; ``golden_output``: the golden executor's on the same input."""

    output: np.ndarray
    golden_output: np.ndarray
    layers: list[LayerRun]
    cfg: ArrayConfig
    simulator: str
    depthwise: str
    stopped_at: str | None = None  # first mismatching layer (run stopped there unless keep_going)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def accel_layers(self) -> list[LayerRun]:
        return [r for r in self.layers if r.accel]

    @property
    def cycles(self) -> int:
        """Total measured cycles: the sum of every layer program's ``cnt_total``."""
        return sum(r.cycles for r in self.accel_layers)

    @property
    def model_cycles(self) -> int:
        return sum(r.model_cycles for r in self.accel_layers)

    @property
    def macs(self) -> int:
        return sum(r.macs for r in self.accel_layers)

    @property
    def utilization(self) -> float:
        return self.macs / (self.cfg.pes * self.cycles) if self.cycles else 0.0

    @property
    def exact(self) -> bool:
        """Every layer's accumulators matched the golden and the output matches the golden's."""
        return (
            all(r.exact for r in self.layers)
            and self.output.shape == self.golden_output.shape
            and bool(np.array_equal(self.output, self.golden_output))
        )

    @property
    def cycles_match(self) -> bool:
        return all(r.cycles_match for r in self.accel_layers)

    @property
    def mismatched(self) -> list[LayerRun]:
        return [r for r in self.layers if not r.exact]

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.cfg.to_dict(),
            "simulator": self.simulator,
            "depthwise": self.depthwise,
            "cycles": self.cycles,
            "model_cycles": self.model_cycles,
            "macs": self.macs,
            "utilization": round(self.utilization, 6),
            "exact": self.exact,
            "cycles_match": self.cycles_match,
            "stopped_at": self.stopped_at,
            "output": self.output.tolist(),
            "golden_output": self.golden_output.tolist(),
            "seconds": {k: round(v, 4) for k, v in self.seconds.items()},
            "layers": [r.to_dict() for r in self.layers],
        }


class NetworkMismatchError(AssertionError):
    """A layer's RTL accumulators differ from the golden's; ``result`` holds the run so far."""

    def __init__(self, message: str, result: NetworkResult) -> None:
        super().__init__(message)
        self.result = result


def diff_summary(got: np.ndarray, want: np.ndarray, limit: int = 4) -> tuple[int, int, str]:
    """``(mismatches, max |diff|, text)`` of two integer arrays of the same shape: how many
    elements differ, the channels they are in, and the first few ``index: got != want``."""
    got, want = np.asarray(got, np.int64), np.asarray(want, np.int64)
    if got.shape != want.shape:
        return int(want.size), 0, f"shape {got.shape} != golden {want.shape}"
    bad = np.argwhere(got != want)
    if not len(bad):
        return 0, 0, ""
    d = np.abs(got - want)
    chans = sorted({int(i[1]) for i in bad}) if got.ndim >= 2 else []
    first = ", ".join(
        f"{tuple(int(v) for v in i)}: {int(got[tuple(i)])} != {int(want[tuple(i)])}"
        for i in bad[:limit]
    )
    chan_txt = (
        f"; channels {chans[:8]}{' ...' if len(chans) > 8 else ''} ({len(chans)} of {got.shape[1]})"
        if chans
        else ""
    )
    text = (
        f"{len(bad)} of {got.size} values differ (max |diff| {int(d.max())}){chan_txt}; "
        f"first: {first}"
    )
    return int(len(bad)), int(d.max()), text


def format_mismatch(r: LayerRun) -> str:
    return f"layer {r.name} ({r.kind}, {r.mapping}, output {'x'.join(map(str, r.out_shape))}): {r.diff}"


# -- running ------------------------------------------------------------------------------


class _ProgressTail:
    """Polls the bench's progress file (one JSON line per layer) in a thread and calls
    ``callback(LayerRun)`` for every new line."""

    def __init__(self, path: Path, callback: Callable[[LayerRun], None]) -> None:
        self.path, self.callback = path, callback
        self.stop = threading.Event()
        self.pos = 0
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _poll(self) -> None:
        if not self.path.exists():
            return
        with open(self.path) as f:
            f.seek(self.pos)
            while True:
                line = f.readline()
                if not line.endswith("\n"):
                    break
                self.pos = f.tell()
                self.callback(LayerRun.from_dict(json.loads(line)))

    def _loop(self) -> None:
        while not self.stop.wait(0.2):
            self._poll()

    def __enter__(self) -> _ProgressTail:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()
        self._poll()


def run_network(
    qnet,
    x_q: np.ndarray,
    cfg: ArrayConfig,
    simulator: str = "verilator",
    depthwise: str = "auto",
    *,
    keep_going: bool = False,
    golden=None,
    on_layer: Callable[[LayerRun], None] | None = None,
    memories: str = "shared",
    size_memories: bool | None = None,
    per_layer: bool = False,
):
    """Run ``qnet`` on the int8 input ``x_q`` (``[N, C, H, W]``) through the accelerator of
    ``cfg`` in ``simulator``.

    By default (``per_layer=False``) the whole network is ONE program
    (``sim.onechip.run_network_program``): the input, the weights and the program are loaded
    once, ``start`` is pulsed once, and every layer's int8 tensor is read back from activation
    memory and compared with ``golden``'s trace; the result is a ``sim.onechip.ProgramRun``
    (``programs`` 1, ``host_ops`` [], ``cycles``, ``model_cycles``, ``exact``, per-layer
    modelled cycles). ``depthwise`` picks how FuSe layers run there (``"auto"``; ``"fuse"`` /
    ``"fuse-packed"``: the FuSe mode, ``"baseline"``: diagonal GEMMs); ``on_layer`` is not
    called (the program runs at once); ``memories`` must be ``"shared"``. The first mismatching
    layer raises ``NetworkMismatchError`` unless ``keep_going``.

    ``per_layer=True`` (debugging; the path before issue 18): every conv/linear layer on the
    accelerator (one program each), the other ops on the host (golden executor). Every layer's int accumulators are compared
    exactly with ``golden`` (default ``qnet``) ``.accumulate`` of the same input; the first
    mismatch raises ``NetworkMismatchError`` naming the layer, its shape and a diff summary,
    unless ``keep_going`` (then ``result.mismatched`` lists them all).

    ``memories``: ``"shared"`` (default: every memory at ``2**20`` words, one build per
    array), ``"fit"`` (``network_config``'s depths) or ``"given"`` (``cfg``'s);
    ``size_memories`` is the older spelling (``True`` = ``"fit"``, ``False`` = ``"given"``).
    ``on_layer`` is called with each ``LayerRun`` while the simulator runs."""
    from sim.runner import build, run_bench
    from sw.export.qnet import QuantizedNetwork

    if not isinstance(qnet, QuantizedNetwork):
        raise ValueError(f"run_network needs a QuantizedNetwork, not {type(qnet).__name__}")
    golden = qnet if golden is None else golden
    x_q = np.asarray(x_q)
    if x_q.dtype != np.int8 or x_q.ndim != 4 or tuple(x_q.shape[1:]) != qnet.input_shape:
        raise ValueError(
            f"input must be int8 [N, {', '.join(map(str, qnet.input_shape))}] (see "
            f"quantize_input), not {x_q.dtype} {list(x_q.shape)}"
        )
    if not per_layer:
        return _run_one_program(
            qnet, x_q, cfg, simulator, depthwise, keep_going, golden, memories, size_memories
        )
    for layer in qnet.mac_layers():
        layer_mapping(layer, cfg, depthwise)  # unsupported layers fail before any build
    cfg = memory_config(qnet, cfg, depthwise, x_q.shape[0], memories, size_memories)
    info = build(cfg, simulator, design="accel")  # run_bench finds it cached
    t0 = time.perf_counter()
    golden_out = golden.run(x_q)
    t_golden = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="fusesa_net_") as tmp:
        progress = Path(tmp) / "progress.jsonl"
        job = NetworkJob(qnet, golden, x_q, cfg, depthwise, keep_going, str(progress))
        t1 = time.perf_counter()
        if on_layer is None:
            (out,) = run_bench(cfg, simulator, "sim.tb_network", [job], design="accel")
        else:
            with _ProgressTail(progress, on_layer):
                (out,) = run_bench(cfg, simulator, "sim.tb_network", [job], design="accel")
        t_sim = time.perf_counter() - t1
    layers = [LayerRun.from_dict(d) for d in out["layers"]]
    seconds = dict(out["seconds"])
    seconds.update(
        simulator_process=t_sim, golden_run=t_golden, build=info.seconds, build_fresh=info.fresh
    )
    result = NetworkResult(
        output=out["output"],
        golden_output=golden_out,
        layers=layers,
        cfg=cfg,
        simulator=simulator,
        depthwise=depthwise,
        stopped_at=out["stopped_at"],
        seconds=seconds,
    )
    if result.stopped_at is not None and not keep_going:
        bad = next(r for r in layers if r.name == result.stopped_at)
        raise NetworkMismatchError(format_mismatch(bad), result)
    return result


#: ``run_network``'s ``depthwise`` -> ``compile_qnet``'s ``fuse`` in the one-program path
ONE_PROGRAM_FUSE = {"auto": "auto", "fuse": "lines", "fuse-packed": "lines", "baseline": "diagonal"}


def _run_one_program(qnet, x_q, cfg, simulator, depthwise, keep_going, golden, memories, sized):
    from sim.onechip import run_network_program

    if depthwise not in ONE_PROGRAM_FUSE:
        raise ValueError(
            f"depthwise mapping must be one of {tuple(ONE_PROGRAM_FUSE)}, not {depthwise!r}"
        )
    if check_memory_policy(memories) != "shared" or sized is not None:
        raise ValueError(
            "one program runs on the shared build (every memory at the full 2**20 words): "
            f"memories={memories!r} / size_memories={sized!r} need per_layer=True"
        )
    run = run_network_program(qnet, x_q, cfg, simulator, ONE_PROGRAM_FUSE[depthwise], golden)
    if run.first_bad is not None and not keep_going:
        bad = next(layer for layer in run.layers if layer.name == run.first_bad)
        raise NetworkMismatchError(
            f"layer {bad.name} ({bad.kind}, {bad.mapping}, output "
            f"{'x'.join(map(str, bad.shape))}): {bad.diff}",
            run,
        )
    return run


def layer_table(result: NetworkResult) -> list[str]:
    """Plain-text per-layer table of the accelerator layers, then the totals."""
    lines = [
        f"{'layer':34s} {'kind':9s} {'mapping':18s} {'cmds':>4s} {'measured':>10s} "
        f"{'model':>10s} {'util':>6s} {'busy':>6s} {'exact':>5s}"
    ]
    for r in result.accel_layers:
        lines.append(
            f"{r.name[:34]:34s} {r.kind:9s} {r.mapping:18s} {r.commands:4d} {r.cycles:10d} "
            f"{r.model_cycles:10d} {100 * r.utilization:5.1f}% {100 * r.busy_fraction:5.1f}% "
            f"{'yes' if r.exact else 'NO':>5s}"
        )
    n = len(result.accel_layers)
    lines.append(
        f"{'total (' + str(n) + ' accelerator layers)':63s} {result.cycles:10d} "
        f"{result.model_cycles:10d} {100 * result.utilization:5.1f}%"
    )
    return lines


def dump_layer_waves(
    qnet,
    x_q: np.ndarray,
    cfg: ArrayConfig,
    layer_name: str,
    out: str | Path,
    simulator: str = "verilator",
    depthwise: str = "auto",
    memories: str = "shared",
    size_memories: bool | None = None,
) -> LayerRun:
    """Waveforms of one conv/linear layer: the layers before it run on the host (golden
    executor), the layer runs on the accelerator in a trace-enabled build of its own
    (``<build>_waves``), and the dump (Verilator: VCD, Icarus: FST) is copied to ``out``.
    Returns the layer's record (checked against the golden like in ``run_network``)."""
    from sim.runner import run_bench

    names = [layer.name for layer in qnet.mac_layers()]
    if layer_name not in names:
        raise ValueError(
            f"--waves-layer {layer_name!r} is not a conv/linear layer of the network; "
            f"choose one of {', '.join(names[:6])}, ..."
        )
    cfg = memory_config(qnet, cfg, depthwise, x_q.shape[0], memories, size_memories)
    job = NetworkJob(qnet, qnet, x_q, cfg, depthwise, False, "", only_layer=layer_name)
    (res,) = run_bench(cfg, simulator, "sim.tb_network", [job], design="accel", waves_out=out)
    return LayerRun.from_dict(res["layers"][-1])
