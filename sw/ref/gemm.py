"""Integer GEMM golden: ``Y = X @ W`` in exact int64 arithmetic."""

from __future__ import annotations

import numpy as np

__all__ = ["gemm_ref"]


def gemm_ref(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``x[M, Kr] @ w[Kr, N]`` with int64 accumulation (inputs must hold integers)."""
    x = np.asarray(x)
    w = np.asarray(w)
    if x.ndim != 2 or w.ndim != 2:
        raise ValueError(f"gemm_ref needs 2-D operands, got shapes {x.shape} and {w.shape}")
    if x.shape[1] != w.shape[0]:
        raise ValueError(f"gemm_ref inner dimensions differ: {x.shape} @ {w.shape}")
    for name, a in (("x", x), ("w", w)):
        if not np.issubdtype(a.dtype, np.integer):
            raise ValueError(f"gemm_ref operand {name} must be an integer array, not {a.dtype}")
    return x.astype(np.int64) @ w.astype(np.int64)
