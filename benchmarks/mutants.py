"""Mutation check: deliberate RTL bugs must be killed by the verification suite.

    python benchmarks/mutants.py [--group array|accel|all] [--only NAME] [--formal]
                                 [--suites S1,S2] [--json F]

Each mutant patches the source text of ``hw/*.py`` in a temporary copy of the repository
(never the repo's own files), then runs the suites of its group there and records which of
them fail. A mutant survives if every suite still passes.

- ``array`` mutants (``hw/top.py``, ``hw/pe.py``, ``hw/array.py``) run the robustness, fuzz,
  array, PE and protocol tests; with ``--formal`` also the default PE / array proofs.
- ``onchip`` mutants (``hw/accel.py``'s issue-18 engines: conv and FUSE line addressing, the
  REQUANT corner turn, MAXPOOL) run the Amaranth tests of those commands
  (``tests/hw/test_accel_conv.py``, ``test_accel_requant.py``, ``test_accel_add.py``) and the
  one-program tiny network on Icarus (``tests/sim/test_onechip.py``).
- ``accel`` mutants (``hw/accel.py``, ``hw/mem.py``: decoder, fold counters, FUSE phase,
  accumulate/overwrite, counters, stream handshakes, error checks, memory read port) run the
  Amaranth accelerator tests (``tests/hw/test_accel*.py``), the cocotb accelerator benches on
  Icarus (``tests/sim/test_accel_stream.py``, ``tests/sim/test_accel_rtl.py``), the seeded
  random networks (``tests/sim/test_netfuzz.py``, Icarus) and, with ``--formal``, the default
  accelerator proofs (one command on 1x1, one FUSE command on 2x2).

Each suite runs in a subprocess with a time limit (a hang counts as killed, shown ``timeout``).
The unmutated copy runs first and must pass. Prints a table (and writes it as JSON with
``--json``); exit status 1 if a mutant survived or a patch no longer applies.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITE_TIMEOUT_S = 900

#: name -> (file, original text, mutated text, what it breaks); the array group
ARRAY_MUTANTS = {
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

#: the accelerator group (``hw/accel.py``, ``hw/mem.py``)
ACCEL_MUTANTS = {
    "decoder-kfolds-from-nfolds": (
        "hw/accel.py",
        "kfolds.eq(word.kfolds),",
        "kfolds.eq(word.nfolds),",
        "DECODE latches the GEMM row-fold count from the nfolds field",
    ),
    "row-fold-counter-wraps-late": (
        "hw/accel.py",
        "with m.If(s_kf + 1 == kfolds):",
        "with m.If(s_kf == kfolds):",
        "the streamer's row-fold counter wraps one fold late (wrong activation rows)",
    ),
    "fuse-first-one-phase-late": (
        "hw/accel.py",
        "Mux(f_ph == C - 1, FuseOp.FIRST, FuseOp.ACC)",
        "Mux(f_ph == C, FuseOp.FIRST, FuseOp.ACC)",
        "FUSE: FIRST on the second tap (the first tap adds to the old accumulator)",
    ),
    "fuse-period-one-long": (
        "hw/accel.py",
        "f_period.eq(k + C - 1 if C - 1 >= R else k + R),",
        "f_period.eq(k + C if C - 1 >= R else k + R + 1),",
        "FUSE fold period one cycle longer than the schedule (results right, cycles wrong)",
    ),
    "acc-always-accumulates": (
        "hw/accel.py",
        "Mux(fmode | (o_kf == 0), arr.out_data[c], acc_rd.data[c] + arr.out_data[c])",
        "Mux(fmode, arr.out_data[c], acc_rd.data[c] + arr.out_data[c])",
        "row fold 0 adds to the old accumulator word instead of overwriting it",
    ),
    "acc-always-overwrites": (
        "hw/accel.py",
        "Mux(fmode | (o_kf == 0), arr.out_data[c], acc_rd.data[c] + arr.out_data[c])",
        "Mux(1, arr.out_data[c], acc_rd.data[c] + arr.out_data[c])",
        "later row folds overwrite instead of adding",
    ),
    "stall-counter-skips-fuse": (
        "hw/accel.py",
        "with m.Elif(run):\n                m.d.sync += self.cnt_stall.eq(self.cnt_stall + 1)",
        "with m.Elif(run & ~fmode):\n                m.d.sync += self.cnt_stall.eq(self.cnt_stall + 1)",
        "cnt_stall does not count FUSE stall cycles",
    ),
    "gemm-weight-range-unchecked": (
        "hw/accel.py",
        "& (w_end <= cfg.weight_depth)",
        "",
        "a GEMM whose weights run past weight_depth is accepted (wraps)",
    ),
    "fuse-k-unchecked": (
        "hw/accel.py",
        "& (fword.k <= Kmax)",
        "",
        "a FUSE with k > max_kernel is accepted",
    ),
    "ram-read-two-cycles": (
        "hw/mem.py",
        "m.d.comb += [rp.en.eq(p.en), rp.addr.eq(p.addr), p.data.eq(rp.data)]",
        "m.d.comb += [rp.en.eq(p.en), rp.addr.eq(p.addr)]\n"
        "                m.d.sync += p.data.eq(rp.data)",
        "Amaranth RAM: read data one cycle later (latency 2)",
    ),
    "ram-not-transparent": (
        "hw/mem.py",
        "rp = mem.read_port(transparent_for=tuple(wmap[id(w)] for w in p.transparent_for))",
        "rp = mem.read_port(transparent_for=())",
        "Amaranth RAM: the accumulate read misses a write to the same word in the same cycle",
    ),
    "verilog-ram-not-transparent": (
        "hw/mem.py",
        "if (TRANSP[k*NW + j] && w_en[j]",
        "if (1'b0 && w_en[j]",
        "Verilog RAM model: no read-new-data (what Icarus/Verilator run)",
    ),
    "verilog-ram-ignores-read-enable": (
        "hw/mem.py",
        "      if (r_en[k]) begin",
        "      if (1'b1) begin",
        "Verilog RAM model: en low does not hold data (a stalled rd_data word changes)",
    ),
    # the five stream mutants of docs/verification.md section 6 (once applied by hand)
    "stream-read-ignores-ready": (
        "hw/accel.py",
        "rd_en.eq(~rd_valid | self.rd_data.ready),",
        "rd_en.eq(1),",
        "rd_data advances without ready (words lost)",
    ),
    "stream-load-addr-unchecked": (
        "hw/accel.py",
        "ok = (lp.target == target) & (lp.addr < depth)",
        "ok = lp.target == target",
        "a load word past a memory's depth is written (wraps)",
    ),
    "stream-ready-while-running": (
        "hw/accel.py",
        "host_ok = ~self.running & ~ResetSignal()",
        "host_ok = ~ResetSignal()",
        "load and rd_req ready while the sequencer runs",
    ),
    "stream-start-ignores-readback": (
        "hw/accel.py",
        "m.d.comb += start_go.eq(self.start & ~rd_busy)",
        "m.d.comb += start_go.eq(self.start)",
        "start does not wait for a read-back in flight",
    ),
    "stream-load-width-unchecked": (
        "hw/accel.py",
        "ok = ok & (lp.data[bits:] == 0)",
        "ok = ok",
        "load data bits above the memory word are ignored instead of rejected",
    ),
}
#: the issue-18 engines of ``hw/accel.py``: conv addressing, FUSE line addressing, the
#: REQUANT corner turn, MAXPOOL
ONCHIP_MUTANTS = {
    "conv-no-left-padding": (
        "hw/accel.py",
        '(cur["y"] >= 0) & (cur["y"] < cv.h) & (cur["x"] >= 0) & (cur["x"] < cv.w)',
        '(cur["y"] >= 0) & (cur["y"] < cv.h) & (cur["x"] < cv.w)',
        "conv addressing reads a word left of the map instead of a zero",
    ),
    "conv-ignores-stride": (
        "hw/accel.py",
        'r_x.eq(cur["x"] + cv.sw)',
        'r_x.eq(cur["x"] + 1)',
        "conv addressing steps one pixel along x whatever the stride",
    ),
    "conv-next-image-same-base": (
        "hw/accel.py",
        'r_base.eq(cur["base"] + cv_hw)',
        'r_base.eq(cur["base"])',
        "conv addressing reads image 0 again for every image of a batch",
    ),
    "fuse-lines-no-left-padding": (
        "hw/accel.py",
        "f_in.eq((f_cur_u >= 0) & (f_cur_u < fl_len))",
        "f_in.eq(f_cur_u < fl_len)",
        "FUSE line addressing reads a word before the line instead of a zero",
    ),
    "fuse-lines-column-stride-1": (
        "hw/accel.py",
        "fs_ptr.eq(fs_ptr - Mux(flin, fl_est, 1))",
        "fs_ptr.eq(fs_ptr - 1)",
        "Kx1 lines are read along the row (element stride 1 instead of W)",
    ),
    "corner-turn-ignores-stride": (
        "hw/accel.py",
        "lq_keep.eq(lq_keep + lq_sl)",
        "lq_keep.eq(lq_keep + 1)",
        "the corner turn keeps every line position of a strided FuSe layer",
    ),
    "maxpool-takes-min": (
        "hw/accel.py",
        "(eff > mp_max[r])",
        "(eff < mp_max[r])",
        "MAXPOOL keeps the minimum",
    ),
    "maxpool-pads-with-zero": (
        "hw/accel.py",
        "eff = Mux(mp_in_d, lane, -(1 << (cfg.act_width - 1)))",
        "eff = Mux(mp_in_d, lane, 0)",
        "MAXPOOL padding is 0 instead of -128 (equal after a ReLU: needs negative inputs)",
    ),
}
MUTANTS = {**ARRAY_MUTANTS, **ACCEL_MUTANTS, **ONCHIP_MUTANTS}
GROUPS = {"array": ARRAY_MUTANTS, "accel": ACCEL_MUTANTS, "onchip": ONCHIP_MUTANTS}

#: group -> suite -> pytest arguments (run from the copy's root)
SUITES = {
    "array": {
        "robust": ["tests/hw/test_robust.py"],
        "fuzz": ["tests/hw/test_fuzz.py"],
        "array+pe": ["tests/hw/test_array.py", "tests/hw/test_pe.py"],
    },
    "accel": {
        "amaranth": [
            "tests/hw/test_accel.py",
            "tests/hw/test_accel_fuse.py",
            "tests/hw/test_accel_stream.py",
        ],
        "cocotb": ["tests/sim/test_accel_stream.py", "tests/sim/test_accel_rtl.py", "-k", "icarus"],
        "netfuzz": ["tests/sim/test_netfuzz.py"],
    },
    "onchip": {
        "amaranth": [
            "tests/hw/test_accel_conv.py",
            "tests/hw/test_accel_requant.py",
            "tests/hw/test_accel_add.py",
        ],
        "onechip": ["tests/sim/test_onechip.py", "-k", "tiny and icarus"],
    },
}
FORMAL = {
    "array": {
        "pe-proof": ["tests/formal/test_formal.py", "-k", "formal_pe"],
        "array-proofs": ["tests/formal/test_formal.py", "-k", "miter or array or fold"],
    },
    "accel": {
        "formal": [
            "tests/formal/test_formal.py",
            "-k",
            "accelerator_one_command or accelerator_fuse_command",
        ]
    },
    "onchip": {},  # the formal harness has no output stage (docs/verification.md)
}


def _copy_repo(dst: Path) -> None:
    for name in ("hw", "sw", "sim", "synth", "fusesa", "tests"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, dst / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", dst / "pyproject.toml")


def _run_suite(where: Path, args: list[str]) -> tuple[str, float, str]:
    """``pass``, ``FAIL`` or ``timeout``, the wall time and the first failing assertion."""
    env = dict(
        os.environ,
        FUSESA_BUILD=str(where / "build"),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONPATH=str(where),  # the copy, not the editable install of the repo
    )
    t0 = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *args],
            cwd=where,
            env=env,
            capture_output=True,
            text=True,
            timeout=SUITE_TIMEOUT_S,
        )
        status = "pass" if proc.returncode == 0 else "FAIL"
        if proc.returncode not in (0, 1):  # 5: nothing collected, 2/3/4: usage or crash
            status = f"error {proc.returncode}"
        lines = proc.stdout.splitlines()
        why = next((ln for ln in lines if ln.startswith("E ")), "")
        why = why or next((ln for ln in lines if ln.startswith("FAILED")), "")
    except subprocess.TimeoutExpired:
        status, why = "timeout", ""
    return status, time.monotonic() - t0, why[:160]


def _apply(where: Path, name: str) -> bool:
    file, old, new, _ = MUTANTS[name]
    text = (where / file).read_text()
    if text.count(old) != 1:
        return False
    (where / file).write_text(text.replace(old, new))
    return True


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--group", choices=[*GROUPS, "all"], default="all")
    ap.add_argument("--only", action="append", help="run only this mutant (repeatable)")
    ap.add_argument("--formal", action="store_true", help="also run the default formal proofs")
    ap.add_argument("--suites", help="comma-separated suite names to run (default: all)")
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument(
        "--first-kill",
        action="store_true",
        help="stop a mutant's suites at the first that kills it (later cells: '-')",
    )
    args = ap.parse_args(argv)
    for name in args.only or []:
        if name not in MUTANTS:
            ap.error(f"unknown mutant {name!r}; choose from {', '.join(MUTANTS)}")
    groups = list(GROUPS) if args.group == "all" else [args.group]
    picked = args.suites.split(",") if args.suites else None
    report, bad = [], 0
    for group in groups:
        suites = dict(SUITES[group], **(FORMAL[group] if args.formal else {}))
        if picked:
            suites = {k: v for k, v in suites.items() if k in picked}
        names = [n for n in (args.only or GROUPS[group]) if n in GROUPS[group]]
        if not names or not suites:
            continue
        print(f"== {group} mutants, suites: {', '.join(suites)}", flush=True)
        rows = []
        for name in ["(none)", *names]:
            with tempfile.TemporaryDirectory(prefix=f"fusesa-mutant-{name.strip('()')}-") as tmp:
                where = Path(tmp)
                _copy_repo(where)
                if name != "(none)" and not _apply(where, name):
                    print(f"{name}: patch does not apply to {MUTANTS[name][0]} (RTL changed?)")
                    bad += 1
                    continue
                results = {}
                for suite, suite_args in suites.items():
                    if (
                        args.first_kill
                        and name != "(none)"
                        and any(st != "pass" for st, _ in results.values())
                    ):
                        results[suite] = ("-", 0.0)
                        continue
                    status, secs, why = _run_suite(where, suite_args)
                    results[suite] = (status, secs)
                    print(f"  {name:32s} {suite:12s} {status} ({secs:.0f}s) {why}", flush=True)
            killed = [k for k, (st, _) in results.items() if st not in ("pass", "-")]
            if name == "(none)":
                if killed:
                    print(f"the unmutated copy fails {killed}: fix the suite first")
                    return 1
                continue
            verdict = "killed" if killed else "SURVIVED"
            bad += not killed
            rows.append((name, verdict, results))
        print()
        head = f"| {'mutant':32s} | " + " | ".join(f"{k:12s}" for k in suites) + " | verdict  |"
        print(head)
        print("|" + "|".join("-" * len(c) for c in head.split("|")[1:-1]) + "|")
        for name, verdict, res in rows:
            cells = " | ".join(
                f"{st if st in ('pass', '-') else ('killed' if st == 'FAIL' else st):12s}"
                for st, _ in res.values()
            )
            print(f"| {name:32s} | {cells} | {verdict:8s} |")
            report.append(
                dict(
                    group=group,
                    mutant=name,
                    file=MUTANTS[name][0],
                    breaks=MUTANTS[name][3],
                    verdict=verdict,
                    suites={k: dict(status=st, seconds=round(t, 1)) for k, (st, t) in res.items()},
                )
            )
        print()
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
