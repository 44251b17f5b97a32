"""Array parameters: the one configuration object of the generated hardware (SPEC 3.1).

``ArrayConfig`` is a frozen dataclass (stdlib only, so ``sw/`` and tools can read it without
the HDL stack). Every derived quantity is a property computed from the fields, never stored
twice. It serializes to ``config.json`` next to the generated Verilog.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ArrayConfig", "PRESETS", "DEPTH_FIELDS"]

#: memory depths of the accelerator top (``hw.accel``), in words
DEPTH_FIELDS = ("act_depth", "weight_depth", "acc_depth", "cmd_depth")


def _signed_bits_for(magnitude: int) -> int:
    """Bits of a two's-complement number that must hold values in [-magnitude, magnitude]."""
    return max(1, magnitude.bit_length()) + 1


@dataclass(frozen=True)
class ArrayConfig:
    """Weight-stationary systolic array (rows x cols PEs) with signed int operands.

    - ``rows``: PE rows; the reduction dimension of one GEMM fold (Kr) is laid along them.
    - ``cols``: PE columns; one output channel (filter) per column in GEMM mode.
    - ``act_width``/``weight_width``: signed two's-complement operand widths (default int8).
    - ``acc_width``: partial-sum width; must hold the largest in-array reduction exactly.
    - ``max_kernel``: largest 1-D kernel length K of the FuSe mode (SPEC 3.3).
    - ``fuse``: generate the FuSe 1-D mode (row broadcast bus, per-PE weight-operand mux,
      local accumulation, drain register row). ``False`` gives the plain WS array, the
      baseline of the synthesis overhead comparison.
    - ``act_depth``/``weight_depth``/``acc_depth``/``cmd_depth``: words of the accelerator's
      activation memory (``rows`` lanes), weight memory (``cols`` lanes), int accumulator
      memory (``cols`` lanes of ``acc_width``) and command memory (``hw.isa`` words); used
      only by ``hw.accel``. At most ``2**20`` (the address fields of ``hw.isa``).
    """

    rows: int
    cols: int
    act_width: int = 8
    weight_width: int = 8
    acc_width: int = 32
    max_kernel: int = 7
    fuse: bool = True
    act_depth: int = 1024
    weight_depth: int = 256
    acc_depth: int = 1024
    cmd_depth: int = 64

    def __post_init__(self) -> None:
        if not isinstance(self.fuse, bool):
            raise ValueError(f"ArrayConfig.fuse must be True or False, not {self.fuse!r}")
        for name in ("rows", "cols", "act_width", "weight_width", "acc_width", "max_kernel"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"ArrayConfig.{name} must be an integer, not {value!r}")
        if self.rows < 1:
            raise ValueError(f"ArrayConfig.rows must be a positive integer, not {self.rows!r}")
        if self.cols < 1:
            raise ValueError(f"ArrayConfig.cols must be a positive integer, not {self.cols!r}")
        for name in ("act_width", "weight_width"):
            value = getattr(self, name)
            if not 2 <= value <= 32:
                raise ValueError(f"ArrayConfig.{name} must be in 2..32 bits, not {value!r}")
        if self.max_kernel < 1:
            raise ValueError(
                f"ArrayConfig.max_kernel must be a positive integer, not {self.max_kernel!r}"
            )
        for name in DEPTH_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1 << 20:
                raise ValueError(
                    f"ArrayConfig.{name} must be an integer in 1..2**20, not {value!r}"
                )
        if self.acc_width > 64:
            raise ValueError(
                f"ArrayConfig.acc_width must be at most 64 bits, not {self.acc_width!r}"
            )
        need = self.min_acc_width
        if self.acc_width < need:
            raise ValueError(
                f"ArrayConfig.acc_width={self.acc_width} is too narrow: a {self.reduction_length}-term "
                f"reduction of {self.act_width}x{self.weight_width}-bit signed products needs "
                f"at least {need} bits"
            )

    # -- derived values -----------------------------------------------------------------
    @property
    def max_product(self) -> int:
        """Largest |a*w|: (-2^(A-1)) * (-2^(W-1))."""
        return (1 << (self.act_width - 1)) * (1 << (self.weight_width - 1))

    @property
    def reduction_length(self) -> int:
        """Most products summed inside the array: a column (rows) or a FuSe line (max_kernel)."""
        return max(self.rows, self.max_kernel)

    @property
    def min_acc_width(self) -> int:
        """Narrowest accumulator that holds every in-array partial sum exactly."""
        return _signed_bits_for(self.reduction_length * self.max_product)

    @property
    def act_shape(self):
        from amaranth import signed  # local: config stays importable without the HDL stack

        return signed(self.act_width)

    @property
    def weight_shape(self):
        from amaranth import signed

        return signed(self.weight_width)

    @property
    def acc_shape(self):
        from amaranth import signed

        return signed(self.acc_width)

    def psum_width(self, row: int) -> int:
        """Width of row ``row``'s psum register: it holds at most ``row + 1`` products in GEMM
        mode and ``max_kernel`` products (also while draining) in FuSe mode. Non-decreasing in
        ``row``; the bottom row's value is sign-extended to ``acc_width`` at the output."""
        if not 0 <= row < self.rows:
            raise ValueError(f"row must be in 0..{self.rows - 1}, not {row!r}")
        need = _signed_bits_for((row + 1) * self.max_product)
        if self.fuse:
            need = max(need, _signed_bits_for(self.max_kernel * self.max_product))
        return min(self.acc_width, need)

    @property
    def pes(self) -> int:
        return self.rows * self.cols

    @property
    def latency(self) -> int:
        """Cycles from an activation row entering the array top to its result leaving it.

        Skew (r registers on row r) + the PE pipeline (one register per PE along the
        diagonal path) + de-skew (cols-1-c registers on column c): rows + cols - 1.
        """
        return self.rows + self.cols - 1

    @property
    def name(self) -> str:
        base = f"array_{self.rows}x{self.cols}_a{self.act_width}w{self.weight_width}acc{self.acc_width}"
        return f"{base}_fuse_k{self.max_kernel}" if self.fuse else f"{base}_ws"

    @property
    def accel_name(self) -> str:
        """``name`` plus the memory depths: the build key of the accelerator top."""
        depths = "_".join(str(getattr(self, f)) for f in DEPTH_FIELDS)
        return f"accel_{self.name}_d{depths}"

    # -- serialization --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"
        if path is not None:
            Path(path).write_text(text)
        return text

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArrayConfig:
        if not isinstance(data, dict):
            raise ValueError(f"ArrayConfig JSON must be an object, not {type(data).__name__}")
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - fields)
        if unknown:
            raise ValueError(f"ArrayConfig JSON has unknown field(s) {unknown}")
        missing = sorted(f for f in ("rows", "cols") if f not in data)
        if missing:
            raise ValueError(f"ArrayConfig JSON is missing field(s) {missing}")
        return cls(**data)

    @classmethod
    def from_json(cls, path: str | Path) -> ArrayConfig:
        try:
            data = json.loads(Path(path).read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc})") from exc
        return cls.from_dict(data)

    @classmethod
    def preset(cls, name: str) -> ArrayConfig:
        try:
            return PRESETS[name]
        except KeyError:
            raise ValueError(
                f"unknown ArrayConfig preset {name!r}; choose from {sorted(PRESETS)}"
            ) from None


PRESETS: dict[str, ArrayConfig] = {
    "tiny": ArrayConfig(rows=4, cols=4),
    "small": ArrayConfig(rows=8, cols=8),
    "medium": ArrayConfig(rows=16, cols=16),
    "paper-synth": ArrayConfig(rows=32, cols=32),
    "paper": ArrayConfig(rows=64, cols=64),
}
