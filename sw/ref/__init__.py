"""Integer golden models (numpy, exact int64) of every operation the hardware performs."""

from sw.ref.conv import conv2d_ref, im2col
from sw.ref.gemm import gemm_ref

__all__ = ["gemm_ref", "conv2d_ref", "im2col"]
