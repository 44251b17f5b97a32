"""int8 export of PyTorch layers and whole networks: symmetric quantization, post-training
quantization of zoo networks (``quantize_network``), the integer golden executor
(``QuantizedNetwork.run``), the versioned file format (``load_network``) and ONNX export."""

from sw.export.ptq import compare_float_int8, quantize_network, set_bn_statistics
from sw.export.qformat import FORMAT_VERSION, load_network, save_network
from sw.export.qnet import LayerKind, QConv, QLinear, QuantizedNetwork, Trace
from sw.export.quant import quantize_symmetric

__all__ = [
    "quantize_symmetric",
    "quantize_network",
    "set_bn_statistics",
    "compare_float_int8",
    "load_network",
    "save_network",
    "FORMAT_VERSION",
    "QuantizedNetwork",
    "LayerKind",
    "QConv",
    "QLinear",
    "Trace",
]
