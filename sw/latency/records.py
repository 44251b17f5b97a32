"""Per-layer latency records of the analytical model (SPEC section 4): one record per executed
``nn.Conv2d`` / ``nn.Linear`` call, with its shape, mapping kind, cycles and share of the total,
plus CSV/JSON writers and an operator-wise breakdown.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

#: Mapping kinds: dense conv (KxK, groups 1), 1x1 conv, KxK depthwise, FuSe row (1xK) and
#: column (Kx1) depthwise, fully connected.
KINDS: tuple[str, ...] = ("conv", "pointwise", "depthwise", "fuse_row", "fuse_col", "linear")
#: Operator classes used for the paper-style latency breakdown.
OPERATOR_CLASS: dict[str, str] = {
    "conv": "conv",
    "pointwise": "pointwise",
    "depthwise": "depthwise",
    "fuse_row": "fuse 1-D",
    "fuse_col": "fuse 1-D",
    "linear": "linear",
}


@dataclass(frozen=True)
class LayerLatency:
    """Latency of one layer call. ``in_shape`` is the unpadded input (N, C, H, W) (Linear:
    (rows, in_features, 1, 1)); ``padded_hw`` the padded spatial dims the formulas use."""

    name: str
    kind: str
    in_shape: tuple[int, int, int, int]
    padded_hw: tuple[int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    out_channels: int
    cycles: int
    share: float = 0.0


@dataclass
class LatencyReport:
    """Total cycles of a model on one array plus the per-layer records (in execution order)."""

    total: int
    layers: list[LayerLatency] = field(default_factory=list)
    arr_x: int = 0
    arr_y: int = 0
    hardware: str = ""
    mode: str = ""

    def by_kind(self) -> dict[str, int]:
        """Cycles per operator class (conv, pointwise, depthwise, fuse 1-D, linear)."""
        out: dict[str, int] = {}
        for r in self.layers:
            key = OPERATOR_CLASS[r.kind]
            out[key] = out.get(key, 0) + r.cycles
        return out

    def as_dicts(self) -> list[dict[str, object]]:
        """Per-layer records as plain dicts (CSV/JSON-ready)."""
        return [asdict(r) for r in self.layers]

    def write_csv(self, path: str | Path, mhz: float | None = None) -> Path:
        """Write the per-layer records to ``path`` (parents created); with ``mhz`` (the clock
        of this report's array) a ``time_us`` column is added."""
        return write_csv(self.layers, path, mhz)

    def write_json(self, path: str | Path, extra: dict[str, object] | None = None) -> Path:
        """Write totals and per-layer records to ``path`` as JSON; ``extra`` adds top-level
        fields (e.g. clocks and time per inference)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "total": self.total,
            "arr_x": self.arr_x,
            "arr_y": self.arr_y,
            "hardware": self.hardware,
            "mode": self.mode,
            "by_kind": self.by_kind(),
            **(extra or {}),
            "layers": self.as_dicts(),
        }
        path.write_text(json.dumps(doc, indent=1))
        return path


def with_shares(records: Iterable[LayerLatency]) -> tuple[int, list[LayerLatency]]:
    """Total cycles and the records with ``share = cycles / total`` filled in."""
    records = list(records)
    total = sum(r.cycles for r in records)
    return total, [replace(r, share=r.cycles / total if total else 0.0) for r in records]


def write_csv(records: Iterable[LayerLatency], path: str | Path, mhz: float | None = None) -> Path:
    """Write layer records as CSV with one column per ``LayerLatency`` field, plus
    ``time_us = cycles / mhz`` when a clock is given."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = [f.name for f in fields(LayerLatency)]
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([*names, "time_us"] if mhz else names)
        for r in records:
            row = []
            for n in names:
                v = getattr(r, n)
                row.append("x".join(map(str, v)) if isinstance(v, tuple) else v)
            if mhz:
                row.append(round(r.cycles / mhz, 4))
            writer.writerow(row)
    return path
