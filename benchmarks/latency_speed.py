"""Benchmark: wall time and peak memory of the analytical model (SPEC section 4) on the full
25-model table at 64x64 (tracing, FLOPs, params, latency) and on a 5-size array sweep.
Timings are taken without tracemalloc (which slows Python several-fold); peak Python heap
is measured in a second, traced run.

    python benchmarks/latency_speed.py
"""

from __future__ import annotations

import resource
import time
import tracemalloc

SIZES = [(8, 8), (16, 16), (32, 32), (64, 64), (128, 128)]


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _peak(fn) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    t0 = time.perf_counter()
    from sw.latency.table import sweep_rows, table_rows, trace_model

    t_import = time.perf_counter() - t0
    rows, t_table = _timed(lambda: table_rows(64, 64))
    cells, t_sweep = _timed(lambda: sweep_rows(SIZES))
    trace_model.cache_clear()
    _, t_cold = _timed(lambda: sweep_rows(SIZES))
    trace_model.cache_clear()
    peak_table = _peak(lambda: table_rows(64, 64))
    peak_sweep = _peak(lambda: sweep_rows(SIZES))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"import sw.latency / sw.models (torch): {t_import:6.2f} s")
    print(
        f"25-model table at 64x64 (cold)       : {t_table:6.2f} s  {len(rows)} rows, "
        f"peak Python heap {peak_table:.1f} MiB"
    )
    print(
        f"5-size sweep, 25 traces cached       : {t_sweep:6.2f} s  {len(cells)} cells, "
        f"peak Python heap {peak_sweep:.1f} MiB"
    )
    print(f"5-size sweep, cold (traces 25 models): {t_cold:6.2f} s")
    print(f"process peak RSS                     : {rss:6.0f} MiB")


if __name__ == "__main__":
    main()
