"""First slice of the network compiler (issue 18): a ``QuantizedNetwork`` whose layers are
all pointwise convs, ``Linear`` layers and residual adds, compiled into ONE accelerator
program (``sw.mapping.outstage.NetBuilder``: ``GEMM`` + ``REQUANT`` per MAC layer, ``ADD``
per residual add). Only the int8 input, the weights and the parameter blocks are loaded.
Every GEMM reuses the accumulator words from 0 (its ``REQUANT`` consumes them at once);
activation buffers are not reused yet (each tensor gets its own words).
Every intermediate tensor stays in activation memory, and the host does nothing between
layers.

Layout: an ``[N, C, H, W]`` tensor is ``M = N*H*W`` rows (``n, h, w`` order) of ``C``
channels. A pointwise conv is then a GEMM on it, and a ``Linear`` one on ``[N, I]``
(``M = N``).

Not yet on chip, so they raise ``ValueError`` naming the layer: KxK and 1-D convs, which
need address generation; depthwise and FuSe, whose layouts need ``FUSE``-side write-back;
pooling, concat, slice, a stand-alone clamp, and a flatten over more than 1x1 pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hw.config import ArrayConfig
from sw.export.qnet import (
    INPUT,
    QAdd,
    QAvgPool,
    QConcat,
    QConv,
    QFlatten,
    QLinear,
    QMaxPool,
    QSlice,
    QuantizedNetwork,
)
from sw.mapping.accel import AccelProgram
from sw.mapping.outstage import ChainLayer, NetBuilder, OnChip, place_input

__all__ = ["QnetProgram", "compile_qnet"]


@dataclass
class QnetProgram:
    """``compile_qnet``'s answer: the program and where every layer's int8 tensor lives."""

    program: AccelProgram
    tensors: dict[str, OnChip] = field(default_factory=dict)
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # NCHW / NC per layer
    output: str = ""
    mappings: dict[str, str] = field(default_factory=dict)  # layer -> how it runs on chip
    commands: dict[str, tuple[int, int]] = field(default_factory=dict)  # layer -> [start, stop)
    plan: dict[str, int] | None = None  # activation placement (reuse), None: one after another
    overwritten: set[str] = field(default_factory=set)  # tensors reused by later layers

    def read(self, name: str, act_words: dict[int, int] | list[int]) -> np.ndarray:
        """Layer ``name``'s int8 tensor, shaped like the golden's, from activation words."""
        rows = self.tensors[name].read(self.program.cfg, act_words)
        shape = self.shapes[name]
        if len(shape) == 4:
            n, c, h, w = shape
            return rows.reshape(n, h, w, c).transpose(0, 3, 1, 2).astype(np.int8)
        return rows.astype(np.int8)


def _concat(name: str, parts: list[OnChip], cfg: ArrayConfig, check: bool = True) -> OnChip:
    """Channel concat of tensors that lie back to back in activation memory (as the compiler
    allocates FuSe-Half's two branches): one ``OnChip`` over all their planes, no copy."""
    base = parts[0]
    rows: list[int] = []
    plane0 = 0
    addr = base.addr
    for t in parts:
        if t.shape != base.shape or (check and t.addr != addr):
            raise ValueError(
                f"layer {name} (QConcat): input at word {t.addr} (shape {t.shape}) is not "
                f"right after the previous one (word {addr}, shape {base.shape}); only "
                "back-to-back branches concatenate on chip"
            )
        rows += [int(r) + plane0 * cfg.rows for r in t.chan_rows(cfg)]
        plane0 += t.n_planes(cfg)
        addr += t.words(cfg)
    return OnChip(base.addr, base.M, len(rows), base.shape, tuple(rows), plane0)


def _slice(t: OnChip, start: int, stop: int, cfg: ArrayConfig) -> OnChip:
    """Channels ``start:stop`` of ``t``: the same words, fewer channel rows (no copy)."""
    rows = t.chan_rows(cfg)[start:stop]
    return OnChip(t.addr, t.M, stop - start, t.shape, tuple(int(r) for r in rows), t.n_planes(cfg))


#: how each layer kind runs in the one-program path (``QnetProgram.mappings``)
ONCHIP_MAPPINGS = {
    "pointwise": "GEMM",
    "dense": "CONV+GEMM(conv)",
    "depthwise": "GEMM(conv), diagonal tiles per plane",
    "fuse_row": "GEMM(conv), diagonal tiles per plane",
    "fuse_col": "GEMM(conv), diagonal tiles per plane",
    "linear": "GEMM",
    "add": "ADD",
    "avgpool": "GEMM(conv) of ones + REQUANT",
    "maxpool": "MAXPOOL",
    "slice": "none (a view)",
    "concat": "none (adjacent buffers)",
    "flatten": "none (a view)",
}


def compile_qnet(
    qnet: QuantizedNetwork,
    x_q: np.ndarray,
    cfg: ArrayConfig,
    fuse: str = "auto",
    reuse: bool = True,
) -> QnetProgram:
    """ONE program running ``qnet`` on the int8 input ``x_q``, which is placed in activation
    memory as a feature map (channel ``c`` in plane ``c // rows``). Every layer's int8 output
    stays on chip. ``ValueError`` names a layer that cannot run on chip (grouped convs, a
    stand-alone clamp, a flatten over more than 1x1 pixels, a pool over more than 15x15) or a
    memory that is too small.

    ``reuse`` (default): activation buffers are reused once their last reader has run
    (``plan_activations``: a first pass measures every tensor, then first-fit placement by
    liveness; the two branches of a concat are placed back to back). Without it every tensor
    keeps its own words, so all of them can be read back after the run."""
    x_q = np.asarray(x_q)
    if x_q.dtype != np.int8 or x_q.ndim != 4:
        raise ValueError(f"compile_qnet expects an int8 NCHW input, not {x_q.dtype} {x_q.shape}")
    if fuse not in FUSE_MAPPINGS:
        raise ValueError(f"fuse must be one of {FUSE_MAPPINGS}, not {fuse!r}")
    if not reuse:
        return _compile(qnet, x_q, cfg, fuse, "bump")
    sizes = _compile(qnet, x_q, cfg, fuse, None)
    plan, peak = plan_activations(qnet, sizes)
    out = _compile(qnet, x_q, cfg, fuse, plan)
    out.program.act_words = peak
    out.plan = plan
    out.overwritten = _overwritten(qnet, plan, sizes, out)
    return out


def _overwritten(qnet: QuantizedNetwork, plan, sizes, prog: QnetProgram) -> set[str]:
    """Tensors whose words a later layer reuses (so they cannot be read back after the run)."""
    produced = [n for n in [INPUT, *(layer.name for layer in qnet.layers)] if n in plan]
    spans = {n: (plan[n], plan[n] + sizes[n]) for n in produced}
    dead = set()
    for i, a in enumerate(produced):
        lo, hi = spans[a]
        if any(spans[b][0] < hi and lo < spans[b][1] for b in produced[i + 1 :] if sizes[b]):
            dead.add(a)
    out = set()
    for name, t in prog.tensors.items():
        words = range(t.addr, t.addr + t.words(prog.program.cfg))
        if any(spans[d][0] < words.stop and words.start < spans[d][1] for d in dead):
            out.add(name)
    return out


def plan_activations(qnet: QuantizedNetwork, sizes: dict[str, int]) -> tuple[dict[str, int], int]:
    """First-fit placement of every produced tensor (``sizes``: activation words of each
    tensor a layer writes; views such as slices, flattens and concats write none) by
    liveness: a tensor's words are free once the last layer reading it (or a view of it) has
    run; the network output is never freed. The inputs of a concat are placed back to back in
    the order of the concat, as one region allocated when the first of them is written.
    Returns ``({tensor: first word}, peak words)``."""
    owner = {INPUT: INPUT}  # tensor -> the produced tensor whose words it is (or a group)
    group: dict[str, list[str]] = {}  # first member -> members, for concat inputs
    member_of: dict[str, str] = {}
    for layer in qnet.layers:
        if sizes.get(layer.name, 0):
            owner[layer.name] = layer.name
        elif isinstance(layer, QConcat):
            parts = [owner[t] for t in layer.inputs]
            firsts = {member_of.get(p, p) for p in parts}
            flat: list[str] = []
            for f in sorted(firsts, key=lambda f: parts.index(group.get(f, [f])[0])):
                flat += group.pop(f, [f])
            if flat != parts:  # members in concat order only
                flat = parts
            group[flat[0]] = flat
            for p_ in flat:
                member_of[p_] = flat[0]
            owner[layer.name] = flat[0]
        else:
            owner[layer.name] = owner[layer.inputs[0]]
    region = {t: member_of.get(t, t) for t in set(owner.values())}
    last: dict[str, int] = {}
    for i, layer in enumerate(qnet.layers):
        for t in layer.inputs:
            r = region[owner[t]]
            last[r] = max(last.get(r, -1), i)
    last[region[owner[qnet.output]]] = len(qnet.layers) + 1
    live: dict[str, tuple[int, int]] = {}  # region -> (addr, words)
    plan: dict[str, int] = {}
    peak = 0

    def alloc(words: int) -> int:
        spans = sorted(live.values())
        at = 0
        for a, w in spans:
            if a - at >= words:
                return at
            at = max(at, a + w)
        return at

    order = [(INPUT, -1)] + [(layer.name, i) for i, layer in enumerate(qnet.layers)]
    for name, i in order:
        for r in [r for r in live if last.get(r, -1) < i]:
            del live[r]
        if owner.get(name) != name or name in plan:
            continue
        r = region[name]
        members = group.get(r, [name])
        total = sum(sizes[m] for m in members)
        base = alloc(total)
        live[r] = (base, total)
        peak = max(peak, base + total)
        off = base
        for m_ in members:
            plan[m_] = off
            off += sizes[m_]
    return plan, peak


def _compile(qnet: QuantizedNetwork, x_q: np.ndarray, cfg: ArrayConfig, fuse: str, plan):
    """``plan``: ``"bump"`` (every tensor after the previous one), ``None`` (a sizing pass:
    every tensor at word 0; returns ``{tensor: words written}``) or ``{tensor: first word}``."""
    nb = NetBuilder(cfg, reuse_acc=True)
    sizing = plan is None
    out = QnetProgram(program=None, output=qnet.output)  # type: ignore[arg-type]
    if isinstance(plan, dict):
        nb.b.a_next = plan[INPUT]
    env: dict[str, OnChip] = {INPUT: place_input(nb.b, x_q)}
    sizes = {INPUT: env[INPUT].words(cfg)}
    peak = nb.b.a_next
    shapes: dict[str, tuple[int, ...]] = {INPUT: tuple(x_q.shape)}
    for layer in qnet.layers:
        where = f"layer {layer.name} ({type(layer).__name__})"
        src = env[layer.inputs[0]]
        first = len(nb.b.prog.commands)
        if sizing:
            nb.b.a_next = 0
        elif isinstance(plan, dict) and layer.name in plan:
            nb.b.a_next = plan[layer.name]
        start = nb.b.a_next
        try:
            t = _layer(nb, layer, src, env, cfg, fuse, check_adjacent=not sizing)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        sizes[layer.name] = nb.b.a_next - start
        peak = max(peak, nb.b.a_next)
        env[layer.name] = out.tensors[layer.name] = t
        out.commands[layer.name] = (first, len(nb.b.prog.commands))
        n = shapes[INPUT][0]
        shapes[layer.name] = (n, t.N) if t.shape is None else (n, t.N, t.shape[1], t.shape[2])
        kind = layer.op if isinstance(layer, (QConv, QLinear)) else type(layer).__name__[1:].lower()
        out.mappings[layer.name] = ONCHIP_MAPPINGS.get(kind, kind)
        if kind in ("fuse_row", "fuse_col") and any(
            getattr(c, "lines", 0) for c in nb.b.prog.commands[first:]
        ):
            out.mappings[layer.name] = "FUSE(lines) + REQUANT(lines), FuSe mode"
    if sizing:
        return sizes
    nb.b.a_next = peak
    out.program = nb.build()
    out.shapes = shapes
    return out


#: how FuSe (1xK / Kx1 depthwise) layers run: ``"auto"`` (the one the cycle model says is
#: faster, per layer), ``"lines"`` (the array's FuSe mode: ``Fuse(lines=1)`` +
#: ``Requant(lines=1)``; needs ``ArrayConfig.fuse``) or ``"diagonal"`` (GEMM mode, diagonal
#: weight tiles, like a KxK depthwise)
FUSE_MAPPINGS = ("auto", "lines", "diagonal")


def fuse_layer_cycles(layer, in_shape: tuple[int, int, int], planes: int, cfg: ArrayConfig):
    """Modelled cycles of a FuSe layer on ``planes`` activation planes of an ``(n, h, w)`` map:
    ``{"lines": ..., "diagonal": ...}`` (``sw.latency.rtl`` command formulas; one ``CONV``)."""
    from sw.latency.rtl import (
        ACCEL_COMMAND_OVERHEAD,
        accel_fuse_cycles,
        accel_gemm_cycles,
        accel_requant_cycles,
        line_requant_cycles,
    )

    R, C = cfg.rows, cfg.cols
    n, h, w = in_shape
    (kh, kw), (sh, sw), (ph, pw) = layer.kernel, layer.stride, layer.padding
    ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    M = n * ho * wo
    row = kh == 1
    K, length, pad = (kw, w, pw) if row else (kh, h, ph)
    groups = n * (ho if row else wo)
    J = length + 2 * pad - K + 1
    lines = accel_fuse_cycles(groups * R, J, K, R, C) + ACCEL_COMMAND_OVERHEAD
    lines += line_requant_cycles(groups * -(-J // C), R, C)
    diag = accel_gemm_cycles(M, kh * kw * R, R, R, C) + accel_requant_cycles(M, R, R, C)
    return {
        "lines": ACCEL_COMMAND_OVERHEAD + planes * lines,
        "diagonal": ACCEL_COMMAND_OVERHEAD + planes * diag,
    }


def _use_lines(layer, src: OnChip, cfg: ArrayConfig, fuse: str) -> bool:
    possible = cfg.fuse and max(layer.kernel) <= cfg.max_kernel
    if fuse == "lines" and not possible:
        raise ValueError(
            f"fuse='lines' needs a FuSe array with max_kernel >= {max(layer.kernel)} "
            f"(ArrayConfig.fuse={cfg.fuse}, max_kernel={cfg.max_kernel})"
        )
    if fuse != "auto":
        return fuse == "lines"
    if not possible:
        return False
    cost = fuse_layer_cycles(layer, src.shape, src.n_planes(cfg), cfg)
    return cost["lines"] <= cost["diagonal"]


def _layer(
    nb: NetBuilder,
    layer,
    src: OnChip,
    env: dict[str, OnChip],
    cfg: ArrayConfig,
    fuse: str,
    check_adjacent: bool = True,
) -> OnChip:
    if isinstance(layer, QConv):
        op = layer.op
        if op == "pointwise" and layer.stride == (1, 1) and layer.padding == (0, 0):
            chain = ChainLayer(
                layer.weight[:, :, 0, 0].T.astype(np.int64), layer.bias, layer.multiplier,
                layer.clamp,
            )  # fmt: skip
            t = nb.linear(src, chain)
            return OnChip(t.addr, t.M, t.N, src.shape)
        args = (layer.bias, layer.multiplier, layer.clamp, layer.stride, layer.padding)
        if op in ("pointwise", "dense"):
            return nb.conv(src, layer.weight, *args)
        if op in ("fuse_row", "fuse_col") and _use_lines(layer, src, cfg, fuse):
            return nb.fuse_lines(src, layer.weight, *args)
        if op in ("depthwise", "fuse_row", "fuse_col"):
            return nb.depthwise(src, layer.weight, *args)
        raise ValueError(f"op={op!r} (groups={layer.groups}) does not run on chip")
    if isinstance(layer, QLinear):
        chain = ChainLayer(
            layer.weight.T.astype(np.int64), layer.bias, layer.multiplier, layer.clamp
        )
        return nb.linear(src, chain)
    if isinstance(layer, QAdd):
        a, b = (env[t] for t in layer.inputs)
        if a.words(cfg) != b.words(cfg) or not np.array_equal(a.chan_rows(cfg), b.chan_rows(cfg)):
            raise ValueError("the two inputs of the add are laid out differently")
        t = nb.add(a, b, *layer.multipliers, layer.clamp)
        return OnChip(t.addr, a.M, a.N, a.shape, a.rows, a.planes)
    if isinstance(layer, QMaxPool):
        return nb.maxpool(src, layer.kernel, layer.stride, layer.padding)
    if isinstance(layer, QAvgPool):
        return nb.avgpool(src, layer.in_scale, layer.out_scale)
    if isinstance(layer, QSlice):
        return _slice(src, layer.start, layer.stop, cfg)
    if isinstance(layer, QConcat):
        return _concat(layer.name, [env[t] for t in layer.inputs], cfg, check_adjacent)
    if isinstance(layer, QFlatten):
        if src.shape is not None and src.shape[1:] != (1, 1):
            raise ValueError(f"flatten over {src.shape[1]}x{src.shape[2]} pixels is not on chip")
        return OnChip(src.addr, src.M, src.N, None, src.rows, src.planes)
    raise ValueError("not on chip yet (a stand-alone clamp needs a host op)")
