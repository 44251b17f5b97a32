"""Cycles to time (issue 9, item 4): the clock of each array type and time per inference.

The baseline network runs on the base array (hardware 'Systolic', generated with
``fuse=False``) at the base array's clock; FuSe variants run on the FuSe array (hardware
'FuSe') at the FuSe array's clock. Hence::

    time_us       = cycles / f_MHz
    speedup_time  = (base_cycles / f_base) / (cycles / f_hw)

Clocks come from ``--clock-mhz F`` (one clock for both), ``--clock-mhz BASE,FUSE`` or a
``fusesa synth`` report (``synth_<R>x<C>_<method>.json``: ``variants.base.timing.fmax_mhz`` and
``variants.fuse.timing.fmax_mhz``), read here as plain JSON -- ``sw`` never imports ``synth``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Clocks", "find_synth_report"]


def _check_mhz(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} must be a number in MHz, not {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{what} must be a positive clock in MHz, not {value!r}")
    return float(value)


@dataclass(frozen=True)
class Clocks:
    """Clock of the base array and of the FuSe array, in MHz; ``source`` says where from."""

    base_mhz: float
    fuse_mhz: float
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_mhz", _check_mhz(self.base_mhz, "Base clock"))
        object.__setattr__(self, "fuse_mhz", _check_mhz(self.fuse_mhz, "FuSe clock"))

    @classmethod
    def from_arg(cls, text: str) -> Clocks:
        """``"200"`` -> both arrays at 200 MHz; ``"179.4,176.5"`` -> base 179.4, FuSe 176.5."""
        parts = [p.strip() for p in str(text).split(",")]
        try:
            values = [float(p) for p in parts]
        except ValueError:
            values = []
        if len(values) not in (1, 2):
            raise ValueError(
                f"Clock must look like 'F' or 'BASE,FUSE' in MHz (e.g. '200' or "
                f"'179.4,176.5'), not {text!r}"
            )
        if len(values) == 1:
            values *= 2
        for v in values:
            if not math.isfinite(v) or v <= 0:
                raise ValueError(f"Clock must be positive MHz values, not {text!r}")
        return cls(values[0], values[1], source=f"--clock-mhz {text}")

    @classmethod
    def from_synth_json(cls, path: str | Path, rows: int, cols: int) -> Clocks:
        """Base and FuSe Fmax of a ``fusesa synth`` report made for a ``rows x cols`` array."""
        path = Path(path)
        try:
            doc = json.loads(path.read_text())
        except OSError as exc:
            raise ValueError(f"Cannot read synthesis report {str(path)!r}: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise ValueError(f"Synthesis report {str(path)!r} is not valid JSON: {exc}") from exc
        try:
            size = (doc["rows"], doc["cols"])
            variants = {k: doc["variants"][k] for k in ("base", "fuse")}
            fmax = {k: v["timing"]["fmax_mhz"] for k, v in variants.items()}
        except (KeyError, TypeError) as exc:
            raise ValueError(
                f"Synthesis report {str(path)!r} lacks rows/cols or "
                f"variants.base/fuse.timing.fmax_mhz (missing {exc})"
            ) from exc
        if size != (rows, cols):
            raise ValueError(
                f"Synthesis report {str(path)!r} is for a {size[0]}x{size[1]} array, "
                f"not the requested {rows}x{cols}"
            )
        for key, fuse in (("base", False), ("fuse", True)):
            cfg = variants[key].get("config") if isinstance(variants[key], dict) else None
            if isinstance(cfg, dict) and "fuse" in cfg and bool(cfg["fuse"]) != fuse:
                raise ValueError(
                    f"Synthesis report {str(path)!r}: variant {key!r} has fuse={cfg['fuse']!r}"
                )
        return cls(
            _check_mhz(fmax["base"], f"{path}: variants.base.timing.fmax_mhz"),
            _check_mhz(fmax["fuse"], f"{path}: variants.fuse.timing.fmax_mhz"),
            source=str(path),
        )

    def mhz(self, hardware: str) -> float:
        """Clock of the array type ``hardware`` ('Systolic' -> base, 'FuSe' -> FuSe)."""
        if hardware == "Systolic":
            return self.base_mhz
        if hardware == "FuSe":
            return self.fuse_mhz
        raise ValueError(f"Hardware must be 'Systolic' or 'FuSe', not {hardware!r}")

    def time_us(self, cycles: int, hardware: str) -> float:
        """Time of ``cycles`` on the ``hardware`` array, in microseconds (cycles / MHz)."""
        return cycles / self.mhz(hardware)

    def speedup_time(self, base_cycles: int, cycles: int, hardware: str) -> float:
        """Time speedup of ``cycles`` on ``hardware`` over ``base_cycles`` on 'Systolic'."""
        return self.time_us(base_cycles, "Systolic") / self.time_us(cycles, hardware)

    def fields(self, cycles: int, hardware: str, base_cycles: int) -> dict[str, float]:
        """Flat CSV/JSON fields: both clocks, time, baseline time and speedup in time."""
        return {
            "base_mhz": self.base_mhz,
            "fuse_mhz": self.fuse_mhz,
            "time_us": round(self.time_us(cycles, hardware), 4),
            "base_time_us": round(self.time_us(base_cycles, "Systolic"), 4),
            "speedup_time": round(self.speedup_time(base_cycles, cycles, hardware), 5),
        }


def find_synth_report(directory: str | Path, rows: int, cols: int) -> Path | None:
    """The ``synth_<R>x<C>_*.json`` report of one size in ``directory``: the only one, else
    the ``flat`` one; None when there is none; ValueError when several and none is ``flat``."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"Synthesis directory {str(directory)!r} does not exist")
    found = sorted(directory.glob(f"synth_{rows}x{cols}_*.json"))
    if not found:
        return None
    if len(found) == 1:
        return found[0]
    flat = directory / f"synth_{rows}x{cols}_flat.json"
    if flat in found:
        return flat
    names = ", ".join(p.name for p in found)
    raise ValueError(f"Several synthesis reports for {rows}x{cols} in {str(directory)!r}: {names}")
