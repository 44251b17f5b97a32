"""int8 export of PyTorch layers: symmetric quantization and the integer layer description."""

from sw.export.quant import quantize_symmetric

__all__ = ["quantize_symmetric"]
