"""fusesa: FuSeConv on systolic arrays -- RTL generator, models, latency model, sim, synthesis."""

__version__ = "0.1.0"
