"""A Dask client for fusesa's parallel jobs (``fusesa dse``, ``benchmarks/fuzz.py``): a
``LocalCluster`` of single-threaded worker processes by default, or an existing cluster by
scheduler address (``tcp://HOST:PORT``; its workers must be able to import fusesa, e.g. started
from the repository root with ``dask worker ADDRESS``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["open_client"]


@contextmanager
def open_client(workers: int = 2, scheduler: str | None = None) -> Iterator:
    """``distributed.Client`` on ``scheduler`` or on a new ``LocalCluster`` of ``workers``
    processes (closed on exit)."""
    from distributed import Client, LocalCluster

    if scheduler:
        if not isinstance(scheduler, str) or "://" not in scheduler:
            raise ValueError(
                f"Scheduler address must look like 'tcp://HOST:PORT', not {scheduler!r}"
            )
        client = Client(scheduler)
        try:
            yield client
        finally:
            client.close()
        return
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"Worker count must be a positive integer, not {workers!r}")
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
