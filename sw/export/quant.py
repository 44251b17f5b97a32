"""Symmetric per-tensor quantization to signed integers (int8 by default).

``q = clamp(round(t / scale), -(2^(b-1) - 1), 2^(b-1) - 1)`` with ``scale = max|t| / (2^(b-1)-1)``;
the integer tensor is what the hardware and the integer goldens consume.
"""

from __future__ import annotations

import numpy as np

__all__ = ["quantize_symmetric"]


def quantize_symmetric(t, bits: int = 8) -> tuple[np.ndarray, float]:
    """Return ``(q, scale)``: ``q`` int64 with values in the signed ``bits`` range."""
    if not 2 <= bits <= 32:
        raise ValueError(f"quantization bits must be in 2..32, not {bits!r}")
    a = t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError("cannot quantize a tensor holding NaN or inf")
    qmax = (1 << (bits - 1)) - 1
    peak = float(np.abs(a).max()) if a.size else 0.0
    scale = peak / qmax if peak > 0 else 1.0
    q = np.clip(np.round(a / scale), -qmax, qmax).astype(np.int64)
    return q, scale
