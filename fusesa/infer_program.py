"""``fusesa infer`` (default since issue 18): the whole int8 network as ONE accelerator program
(``sim.onechip.run_network_program``, issue 18): the per-layer table (mapping, commands,
modelled cycles, bit-exact), the host-op list (empty when every layer runs on chip), the
measured ``cnt_total`` against the program's cycle model, and with ``--compare`` the measured
speedup of the FuSe variant over the baseline on the same array."""

from __future__ import annotations

import time


def run_one_program(args, cfg, qnet, x_q, label: str, prebuild=None) -> dict:
    """Run and print one network; returns its JSON entry. ``prebuild``: the accelerator's
    ``sim.runner.BackgroundBuild``, started before the network was built."""
    from sim.onechip import run_network_program

    print(
        f"{label}: {len(qnet.layers)} layers as ONE program on the {cfg.rows}x{cfg.cols} "
        f"accelerator ({args.sim}), FuSe layers: {args.fuse_mapping}",
        flush=True,
    )
    t0 = time.perf_counter()
    run = run_network_program(qnet, x_q, cfg, args.sim, args.fuse_mapping, prebuild=prebuild)
    if run.first_bad is not None:
        bad = next(layer for layer in run.layers if layer.name == run.first_bad)
        print(f"MISMATCH at layer {bad.name} ({bad.mapping}): {bad.diff}")
    wall = time.perf_counter() - t0
    if not args.quiet:
        print(
            f"{'layer':34s} {'kind':9s} {'mapping':42s} {'cmds':>5s} {'measured':>9s} "
            f"{'model':>9s} exact"
        )
        for layer in run.layers:
            print(
                f"{layer.name:34s} {layer.kind[1:]:9s} {layer.mapping:42s} {layer.commands:5d} "
                f"{layer.cycles:9d} {layer.model_cycles:9d} "
                f"{'-' if layer.exact is None else 'yes' if layer.exact else 'NO'}"
            )
    s = run.seconds
    print(
        f"total: {run.cycles} cycles measured (cnt_total of {run.programs} program, "
        f"{run.commands} commands), {run.model_cycles} model "
        f"({'equal, every layer too' if run.cycles_match else 'DIFFERENT'}); bit-exact at every layer: "
        f"{'yes' if run.exact else 'NO, first bad layer ' + str(run.first_bad)} "
        f"({run.checked} of {len(run.layers)} read back; {run.act_words} activation words); "
        f"host ops: {', '.join(run.host_ops) if run.host_ops else 'none'}"
    )
    print(
        f"wall {wall:.1f} s: build {s['build']:.1f} s "
        f"({'fresh, in the background' if s['build_fresh'] else 'cached'}; waited "
        f"{s['build_waited']:.1f} s), compile {s['compile']:.1f} s, golden "
        f"{s['golden']:.1f} s, check {s['check']:.1f} s, simulator process "
        f"{s['simulator_process']:.1f} s (run {s['run']:.2f} s, "
        f"{run.cycles / s['run'] / 1e3 if s['run'] else 0:.0f} k cycles/s)"
    )
    return {"network": label, **run.to_dict(), "wall": wall, "_run": run}


def compare(entries: list[dict]) -> dict:
    """Measured one-program speedup of the last entry (FuSe) over the first (baseline)."""
    base, fuse = entries[0], entries[-1]
    speedup = base["cycles"] / fuse["cycles"]
    print(
        f"speedup, one program each, measured: {speedup:.3f}x "
        f"({base['cycles']} -> {fuse['cycles']} cycles)"
    )
    return {"baseline_cycles": base["cycles"], "fuse_cycles": fuse["cycles"], "speedup": speedup}
