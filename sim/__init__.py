"""cocotb benches and the glue that runs the generated RTL on Icarus or Verilator."""

from sim.gemm import GemmResult, rtl_gemm, rtl_gemms
from sim.layers import LayerResult, run_layer, run_layers

__all__ = [
    "run_layer",
    "run_layers",
    "LayerResult",
    "rtl_gemm",
    "rtl_gemms",
    "GemmResult",
    "run_network",
    "NetworkResult",
]


def __getattr__(name: str):
    # lazy: ``sim.network`` imports ``sw.latency`` (torch), which the simulator processes of
    # the benches (they import this package) must not pay for
    if name in ("run_network", "NetworkResult"):
        from sim import network

        return getattr(network, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
