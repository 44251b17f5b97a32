"""cocotb benches and the glue that runs the generated RTL on Icarus or Verilator."""

from sim.gemm import GemmResult, rtl_gemm, rtl_gemms
from sim.layers import LayerResult, run_layer, run_layers

__all__ = ["run_layer", "run_layers", "LayerResult", "rtl_gemm", "rtl_gemms", "GemmResult"]
