"""Mutation check: deliberate RTL bugs must be killed by the verification suite.

    python benchmarks/mutants.py [--only NAME] [--formal]

Each mutant patches the source text of ``hw/*.py`` in a temporary copy of the repository
(never the repo's own files), then runs the fast suites there (the robustness, fuzz, array,
PE and protocol tests; with ``--formal`` also the default SymbiYosys proofs) and records which
of them fail. A mutant survives if every suite still passes. Prints a table; exit status 1 if
a mutant survived or a patch no longer applies.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: name -> (file, original text, mutated text, what it breaks)
MUTANTS = {
    "tap-zeroing-removed": (
        "hw/top.py",
        "mesh.tap_in[r].eq(Mux(prod, self.tap[r], 0))",
        "mesh.tap_in[r].eq(self.tap[r])",
        "HOLD/SHIFT cycles pass the host's tap through",
    ),
    "swap-one-cycle-late": (
        "hw/pe.py",
        "m.d.comb += w_use.eq(Mux(self.swap_in, w_shadow, w_active))",
        "m.d.comb += w_use.eq(w_active)",
        "the tag's own row still uses the old tile's weight",
    ),
    "first-not-clearing": (
        "hw/top.py",
        "ctl_r.keep.eq(is_fuse & ((op == FuseOp.HOLD) | (op == FuseOp.ACC)))",
        "ctl_r.keep.eq(is_fuse & ((op == FuseOp.HOLD) | (op == FuseOp.ACC) | (op == FuseOp.FIRST)))",
        "FIRST keeps the old accumulator",
    ),
    "fuse-drain-off-by-one": (
        "hw/top.py",
        "m.d.comb += self.out_valid.eq(Mux(fuse, shift, valid))",
        "shift_late = Signal()\n        m.d.sync += shift_late.eq(shift)\n"
        "        m.d.comb += self.out_valid.eq(Mux(fuse, shift_late, valid))",
        "FuSe out_valid one cycle late",
    ),
    "gemm-valid-off-by-one": (
        "hw/top.py",
        "for k in range(cfg.latency):",
        "for k in range(cfg.latency - 1):",
        "GEMM out_valid one cycle early",
    ),
    "accumulator-one-bit-short": (
        "hw/pe.py",
        "self.psum_width = psum_width or cfg.acc_width",
        "self.psum_width = (psum_width or cfg.acc_width) - 1",
        "every psum register one bit narrower",
    ),
    "row-control-stuck-at-gemm": (
        "hw/top.py",
        "m.d.comb += mesh.ctl[r].eq(ctl_r)",
        "m.d.comb += mesh.ctl[r].eq(ctl_r if r != cfg.rows - 1 else "
        "Signal(PeControl, init=PE_CONTROL_GEMM, name='stuck'))",
        "the bottom row's control register stays GEMM",
    ),
    "shadow-write-wrong-row": (
        "hw/array.py",
        "pe.w_we.eq(self.w_we & (self.w_row == r))",
        "pe.w_we.eq(self.w_we & (self.w_row == (r if r else cfg.rows - 1)))",
        "row 0 writes land in the last row",
    ),
}

SUITES = {
    "robust": ["tests/hw/test_robust.py"],
    "fuzz": ["tests/hw/test_fuzz.py"],
    "array+pe": ["tests/hw/test_array.py", "tests/hw/test_pe.py"],
}
FORMAL = {"formal": ["tests/formal/test_formal.py"]}


def _copy_repo(dst: Path) -> None:
    for name in ("hw", "sw", "sim", "tests"):
        shutil.copytree(ROOT / name, dst / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", dst / "pyproject.toml")


def _run_suite(where: Path, files: list[str]) -> tuple[bool, float]:
    env = dict(os.environ, FUSESA_BUILD=str(where / "build"), PYTHONDONTWRITEBYTECODE="1")
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *files],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
    )
    return proc.returncode == 0, time.monotonic() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--only", action="append", help="run only this mutant (repeatable)")
    ap.add_argument("--formal", action="store_true", help="also run the default formal proofs")
    args = ap.parse_args(argv)
    suites = dict(SUITES, **(FORMAL if args.formal else {}))
    names = args.only or list(MUTANTS)
    rows, bad = [], 0
    for name in ["(none)", *names]:
        with tempfile.TemporaryDirectory(prefix=f"fusesa-mutant-{name.strip('()')}-") as tmp:
            where = Path(tmp)
            _copy_repo(where)
            if name != "(none)":
                file, old, new, _ = MUTANTS[name]
                text = (where / file).read_text()
                if text.count(old) != 1:
                    print(f"{name}: patch does not apply to {file} (RTL changed?)")
                    bad += 1
                    continue
                (where / file).write_text(text.replace(old, new))
            results = {}
            for suite, files in suites.items():
                ok, secs = _run_suite(where, files)
                results[suite] = (ok, secs)
                print(
                    f"  {name:28s} {suite:9s} {'pass' if ok else 'FAIL'} ({secs:.0f}s)", flush=True
                )
        killed = [s for s, (ok, _) in results.items() if not ok]
        if name == "(none)":
            if killed:
                print(f"the unmutated copy fails {killed}: fix the suite first")
                return 1
            continue
        verdict = "killed" if killed else "SURVIVED"
        bad += not killed
        rows.append((name, MUTANTS[name][3], verdict, results))
    print()
    head = f"| {'mutant':28s} | " + " | ".join(f"{s:9s}" for s in suites) + " | verdict  |"
    print(head)
    print("|" + "|".join("-" * (len(c) + 0) for c in head.split("|")[1:-1]) + "|")
    for name, _, verdict, res in rows:
        cells = " | ".join(f"{'killed' if not ok else 'pass':9s}" for ok, _ in res.values())
        print(f"| {name:28s} | {cells} | {verdict:8s} |")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
