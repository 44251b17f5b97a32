"""The declared design space of ``fusesa dse`` (a YAML file) and its expansion into points.

A space file is a mapping with these keys (only ``arrays`` and ``networks`` are required)::

    name: tiny                          # a label for the run (default: the file's stem)
    arrays: [4x4, 8x8]                  # ROWSxCOLS (or N for NxN), each >= 1
    networks: [mobilenet_v2, mobilenet_v3_small]     # zoo keys (sw.models.zoo.NETWORKS)
    variants: [base, full, half]        # zoo variants (default: all five)
    selections:                         # greedy hybrids (sw.models.select), optional
      - {variant: full, fraction: 0.5}           # FuSe on the best half of the blocks
      - {variant: half, budget_latency: "60%"}   # fewest blocks reaching 60 % of the base cycles
      - {variant: full, budget_params: 4.0e6}    # fastest plan within 4.0 M parameters
    memory:                             # on-chip memories to check the layers against, optional
      - {act_kib: 16, weight_kib: 8, acc_kib: 64}
    latency_mode: rtl                   # rtl (default), rtl-array, paper or scalesim
    library: osu018                     # the only cell library the synthesis flow has
    synthesis:                          # optional; without it, no area/power/Fmax columns
      enabled: true
      method: flat                      # flat or hier (per-PE + glue, 32x32 and up)
      period_ns: 10.0
      power: true                       # SAIF power runs (Verilator)
      reports: build/synth              # optional: existing `fusesa synth` reports to reuse
    accuracy: acc.csv                   # optional: CSV network,variant,accuracy[,source]
    energy: energy.csv                  # optional: CSV network,variant,array,energy_uj[,source]

Every bad key or value raises ``ValueError`` naming the file, the key and the value.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Space",
    "Selection",
    "Memory",
    "SynthSpec",
    "load_space",
    "parse_space",
    "LATENCY_MODES",
    "LIBRARIES",
]

LATENCY_MODES = ("rtl", "rtl-array", "paper", "scalesim")
#: cell libraries the synthesis flow (``synth/``) knows
LIBRARIES = ("osu018",)
_TOP_KEYS = (
    "name",
    "arrays",
    "networks",
    "variants",
    "selections",
    "memory",
    "latency_mode",
    "library",
    "synthesis",
    "accuracy",
    "energy",
)
_SYNTH_KEYS = ("enabled", "method", "period_ns", "power", "acc_width", "reports")
_SEL_KEYS = ("variant", "fraction", "budget_latency", "budget_params")
_MEM_KEYS = ("act_kib", "weight_kib", "acc_kib")


@dataclass(frozen=True)
class Selection:
    """A greedy hybrid: FuSe ``variant`` ('full'/'half') on the blocks the greedy picks for
    one goal: ``fraction`` of the blocks, a latency budget (cycles, or ``percent`` of the
    baseline's cycles on the same array) or a parameter budget."""

    variant: str
    fraction: float | None = None
    budget_cycles: int | None = None
    budget_percent: float | None = None
    budget_params: int | None = None

    @property
    def label(self) -> str:
        if self.fraction is not None:
            return f"sel_{self.variant}_frac{self.fraction:g}"
        if self.budget_cycles is not None:
            return f"sel_{self.variant}_lat{self.budget_cycles}"
        if self.budget_percent is not None:
            return f"sel_{self.variant}_lat{self.budget_percent:g}pct"
        return f"sel_{self.variant}_params{self.budget_params}"

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Memory:
    """Sizes of the accelerator's activation, weight and accumulator memories in KiB."""

    act_kib: float
    weight_kib: float
    acc_kib: float

    @property
    def label(self) -> str:
        return f"a{self.act_kib:g}_w{self.weight_kib:g}_acc{self.acc_kib:g}KiB"


@dataclass(frozen=True)
class SynthSpec:
    """How each array size is synthesized (``synth.report.synth_report``)."""

    method: str = "flat"
    period_ns: float = 10.0
    power: bool = True
    acc_width: int = 32
    #: synthesize the sizes without a report (False: leave them without area/Fmax)
    enabled: bool = True
    #: a directory of ``fusesa synth`` reports (``synth_<R>x<C>_<method>.json``) used as they are
    reports: str | None = None


@dataclass(frozen=True)
class Space:
    name: str
    arrays: tuple[tuple[int, int], ...]
    networks: tuple[str, ...]
    variants: tuple[str, ...]
    selections: tuple[Selection, ...] = ()
    memory: tuple[Memory, ...] = ()
    latency_mode: str = "rtl"
    library: str = "osu018"
    synthesis: SynthSpec | None = None
    accuracy: dict[tuple[str, str], tuple[float, str]] = field(default_factory=dict)
    energy: dict[tuple[str, str, str], tuple[float, str]] = field(default_factory=dict)
    accuracy_file: str | None = None
    energy_file: str | None = None

    @property
    def designs(self) -> list[str | Selection]:
        """What runs on each array for each network: zoo variants, then selections."""
        return [*self.variants, *self.selections]


def load_space(path: str | Path) -> Space:
    """Read and validate a space file (YAML)."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ValueError(f"Cannot read space file {str(path)!r}: {exc}") from exc
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"Space file {str(path)!r} is not valid YAML: {exc}") from exc
    return parse_space(doc, source=str(path), base_dir=path.parent, default_name=path.stem)


def _err(source: str, key: str, value: Any, what: str) -> ValueError:
    return ValueError(f"{source}: {key} {what}, not {value!r}")


def _list(doc: dict, key: str, source: str, required: bool) -> list:
    if key not in doc:
        if required:
            raise ValueError(f"{source}: missing required key {key!r}")
        return []
    value = doc[key]
    if not isinstance(value, list) or (required and not value):
        raise _err(source, key, value, "must be a non-empty list" if required else "must be a list")
    return value


def _positive(source: str, key: str, value: Any, integer: bool = False) -> float:
    ok = not isinstance(value, bool) and isinstance(value, int | float) and value > 0
    if integer:
        ok = ok and float(value).is_integer()
    if not ok:
        kind = "a positive integer" if integer else "a positive number"
        raise _err(source, key, value, f"must be {kind}")
    return int(value) if integer else float(value)


def _selection(item: Any, key: str, source: str) -> Selection:
    from sw.models.fuse import FUSE_VARIANTS

    if not isinstance(item, dict):
        raise _err(source, key, item, "must be a mapping like {variant: full, fraction: 0.5}")
    for k in item:
        if k not in _SEL_KEYS:
            raise _err(source, f"{key}.{k}", item[k], f"is not a selection key ({_SEL_KEYS})")
    variant = item.get("variant")
    if variant not in FUSE_VARIANTS:
        raise _err(source, f"{key}.variant", variant, f"must be one of {sorted(FUSE_VARIANTS)}")
    goals = [k for k in ("fraction", "budget_latency", "budget_params") if k in item]
    if len(goals) != 1:
        raise _err(
            source, key, item, "needs exactly one of fraction, budget_latency, budget_params"
        )
    (goal,) = goals
    value = item[goal]
    if goal == "fraction":
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise _err(source, f"{key}.fraction", value, "must be a number in [0, 1]")
        return Selection(variant, fraction=float(value))
    if goal == "budget_latency":
        if isinstance(value, str) and value.strip().endswith("%"):
            try:
                pct = float(value.strip()[:-1])
            except ValueError:
                pct = -1.0
            if not 0 < pct <= 100:
                raise _err(
                    source, f"{key}.budget_latency", value, "must be a percentage in (0, 100]"
                )
            return Selection(variant, budget_percent=pct)
        cycles = _positive(source, f"{key}.budget_latency", value, integer=True)
        return Selection(variant, budget_cycles=int(cycles))
    params = _positive(source, f"{key}.budget_params", value, integer=True)
    return Selection(variant, budget_params=int(params))


def _memory(item: Any, key: str, source: str) -> Memory:
    if not isinstance(item, dict):
        raise _err(source, key, item, "must be a mapping {act_kib: A, weight_kib: W, acc_kib: C}")
    for k in item:
        if k not in _MEM_KEYS:
            raise _err(source, f"{key}.{k}", item[k], f"is not a memory key ({_MEM_KEYS})")
    for k in _MEM_KEYS:
        if k not in item:
            raise ValueError(f"{source}: {key} lacks {k!r} (got {item!r})")
    return Memory(*(_positive(source, f"{key}.{k}", item[k]) for k in _MEM_KEYS))


def _synthesis(value: Any, source: str, base_dir: Path) -> SynthSpec | None:
    if value is None or value is False:
        return None
    if not isinstance(value, dict):
        raise _err(
            source, "synthesis", value, "must be a mapping (enabled, method, period_ns, power)"
        )
    for k in value:
        if k not in _SYNTH_KEYS:
            raise _err(
                source, f"synthesis.{k}", value[k], f"is not a synthesis key ({_SYNTH_KEYS})"
            )
    enabled = value.get("enabled", True)
    if not isinstance(enabled, bool):
        raise _err(source, "synthesis.enabled", enabled, "must be true or false")
    reports = value.get("reports")
    if reports is not None:
        path = Path(reports) if Path(str(reports)).is_absolute() else base_dir / str(reports)
        if not isinstance(reports, str) or not path.is_dir():
            raise _err(source, "synthesis.reports", reports, "must be an existing directory")
        reports = str(path)
    if not enabled and reports is None:
        return None
    method = value.get("method", "flat")
    if method not in ("flat", "hier"):
        raise _err(source, "synthesis.method", method, "must be 'flat' or 'hier'")
    period = _positive(source, "synthesis.period_ns", value.get("period_ns", 10.0))
    power = value.get("power", True)
    if not isinstance(power, bool):
        raise _err(source, "synthesis.power", power, "must be true or false")
    acc = _positive(source, "synthesis.acc_width", value.get("acc_width", 32), integer=True)
    return SynthSpec(method, period, power, int(acc), enabled, reports)


def _table(path_value: Any, key: str, source: str, base_dir: Path, columns: tuple[str, ...]):
    if not isinstance(path_value, str) or not path_value:
        raise _err(source, key, path_value, "must be the path of a CSV file")
    path = Path(path_value)
    if not path.is_absolute():
        path = base_dir / path
    try:
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise _err(source, key, path_value, f"cannot be read ({exc})") from exc
    need = (*columns[:-1], columns[-1])
    if rows and any(c not in rows[0] for c in need):
        raise ValueError(
            f"{source}: {key} file {str(path)!r} needs the columns {', '.join(need)}[, source], "
            f"has {', '.join(rows[0])}"
        )
    return path, rows


def _accuracy(value: Any, source: str, base_dir: Path):
    from sw.models.zoo import canonical_variant

    path, rows = _table(value, "accuracy", source, base_dir, ("network", "variant", "accuracy"))
    out = {}
    for i, r in enumerate(rows, start=2):
        try:
            acc = float(r["accuracy"])
        except ValueError:
            raise ValueError(
                f"{path}:{i}: accuracy must be a number, not {r['accuracy']!r}"
            ) from None
        out[r["network"], canonical_variant(r["variant"])] = (acc, r.get("source") or str(path))
    return str(path), out


def _energy(value: Any, source: str, base_dir: Path):
    from sw.models.zoo import canonical_variant

    path, rows = _table(
        value, "energy", source, base_dir, ("network", "variant", "array", "energy_uj")
    )
    out = {}
    for i, r in enumerate(rows, start=2):
        try:
            e = float(r["energy_uj"])
        except ValueError:
            raise ValueError(
                f"{path}:{i}: energy_uj must be a number, not {r['energy_uj']!r}"
            ) from None
        out[r["network"], canonical_variant(r["variant"]), r["array"]] = (
            e,
            r.get("source") or str(path),
        )
    return str(path), out


def parse_space(
    doc: Any, source: str = "space", base_dir: str | Path = ".", default_name: str = "space"
) -> Space:
    """Validate a parsed space document (see the module docstring)."""
    from sw.latency.table import parse_array
    from sw.models.zoo import NETWORKS, canonical_variant

    base_dir = Path(base_dir)
    if not isinstance(doc, dict):
        raise ValueError(f"{source}: a space file is a mapping of keys, not {doc!r}")
    for k in doc:
        if k not in _TOP_KEYS:
            raise _err(
                source, f"key {k!r}", doc[k], f"is unknown (known keys: {', '.join(_TOP_KEYS)})"
            )
    name = doc.get("name", default_name)
    if not isinstance(name, str) or not name:
        raise _err(source, "name", name, "must be a non-empty string")
    arrays = []
    for i, a in enumerate(_list(doc, "arrays", source, required=True)):
        try:
            arrays.append(parse_array(str(a)))
        except ValueError as exc:
            raise ValueError(f"{source}: arrays[{i}]: {exc}") from None
    networks = []
    for i, n in enumerate(_list(doc, "networks", source, required=True)):
        if n not in NETWORKS:
            raise _err(source, f"networks[{i}]", n, f"must be one of {', '.join(NETWORKS)}")
        networks.append(n)
    if "variants" in doc:
        variants = []
        for i, v in enumerate(_list(doc, "variants", source, required=False)):
            try:
                variants.append(canonical_variant(str(v)))
            except ValueError as exc:
                raise ValueError(f"{source}: variants[{i}]: {exc}") from None
    else:
        from sw.models.zoo import VARIANTS

        variants = list(VARIANTS)
    selections = [
        _selection(s, f"selections[{i}]", source)
        for i, s in enumerate(_list(doc, "selections", source, required=False))
    ]
    if not variants and not selections:
        raise ValueError(f"{source}: give at least one of variants or selections")
    memory = [
        _memory(m, f"memory[{i}]", source)
        for i, m in enumerate(_list(doc, "memory", source, required=False))
    ]
    mode = doc.get("latency_mode", "rtl")
    if mode not in LATENCY_MODES:
        raise _err(source, "latency_mode", mode, f"must be one of {', '.join(LATENCY_MODES)}")
    library = doc.get("library", "osu018")
    if library not in LIBRARIES:
        raise _err(
            source, "library", library, f"must be one of {', '.join(LIBRARIES)} (what synth/ has)"
        )
    synthesis = _synthesis(doc.get("synthesis"), source, base_dir)
    acc_file = energy_file = None
    accuracy: dict = {}
    energy: dict = {}
    if doc.get("accuracy") is not None:
        acc_file, accuracy = _accuracy(doc["accuracy"], source, base_dir)
    if doc.get("energy") is not None:
        energy_file, energy = _energy(doc["energy"], source, base_dir)
    return Space(
        name=name,
        arrays=tuple(dict.fromkeys(arrays)),
        networks=tuple(dict.fromkeys(networks)),
        variants=tuple(dict.fromkeys(variants)),
        selections=tuple(dict.fromkeys(selections)),
        memory=tuple(dict.fromkeys(memory)),
        latency_mode=mode,
        library=library,
        synthesis=synthesis,
        accuracy=accuracy,
        energy=energy,
        accuracy_file=acc_file,
        energy_file=energy_file,
    )
