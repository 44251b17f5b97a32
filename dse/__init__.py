"""Design-space exploration (``fusesa dse``): a declared space of array sizes, networks,
variants, greedy selections and memory sizes, evaluated point by point on a Dask cluster
(a ``LocalCluster`` by default), every task cached on disk by the hash of its spec, and the
results written as CSV/JSON with Pareto plots. See docs/dse.md.

``dse`` sits beside ``sim`` and ``synth``: it imports ``sw`` (latency, models) and, inside
synthesis tasks only, ``synth`` (which imports Amaranth); ``sw`` never imports ``dse``.
"""

from dse.space import Space, load_space, parse_space

__all__ = ["Space", "load_space", "parse_space"]
