"""SCALE-Sim-style weight-stationary latency (SPEC section 4, mode ``scalesim``).

SCALE-Sim v3's closed form for one GEMM on a weight-stationary R x C array: the filter matrix
(``Kr = R_f*S_f*C_in`` rows by ``N`` filters) is folded onto the array, each fold streams the
``T`` output pixels through it::

    cycles = ceil(Kr/R) * ceil(N/C) * (2R + C + T - 2) - 1

A depthwise layer is one such sub-GEMM per channel (``Kr = R_f*S_f``, ``N = 1``). This lets users
compare the paper-mode numbers with the tool they know; SCALE-Sim has no FuSe mode, so FuSe 1-D
layers on 'FuSe' hardware keep the paper's FuSe formula in this mode.
"""

from __future__ import annotations


def scalesim_gemm_cycles(arr_x: int, arr_y: int, kr: int, n: int, t: int) -> int:
    """``ceil(Kr/R)*ceil(N/C)*(2R + C + T - 2) - 1`` for an ``arr_x x arr_y`` (R x C) array."""
    for label, v in (("Kr", kr), ("N", n), ("T", t)):
        if v < 1:
            raise ValueError(f"SCALE-Sim GEMM dimension {label} must be positive, not {v!r}")
    folds = -(-kr // arr_x) * -(-n // arr_y)
    return folds * (2 * arr_x + arr_y + t - 2) - 1


def scalesim_conv_cycles(
    arr_x: int,
    arr_y: int,
    h: int,
    w: int,
    r: int,
    s: int,
    c: int,
    m: int,
    stride_h: int = 1,
    stride_w: int = 1,
    n: int = 1,
) -> int:
    """SCALE-Sim WS cycles of a dense conv on a padded ``h x w`` input (im2col GEMM)."""
    e = (h - r + stride_h) // stride_h
    f = (w - s + stride_w) // stride_w
    return scalesim_gemm_cycles(arr_x, arr_y, r * s * c, m, n * e * f)
