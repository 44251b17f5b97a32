"""Integer conv2d golden via im2col (NCHW, OIHW, like torch), exact int64."""

from __future__ import annotations

import numpy as np

from sw.ref.gemm import gemm_ref

__all__ = ["im2col", "conv2d_ref", "conv_out_size"]


def _pair(v: int | tuple[int, int], name: str) -> tuple[int, int]:
    if isinstance(v, int):
        v = (v, v)
    if len(v) != 2 or not all(isinstance(i, int) for i in v):
        raise ValueError(f"{name} must be an int or a pair of ints, not {v!r}")
    return int(v[0]), int(v[1])


def conv_out_size(size: int, k: int, stride: int, pad: int) -> int:
    out = (size + 2 * pad - k) // stride + 1
    if out < 1:
        raise ValueError(f"kernel {k} with padding {pad} does not fit an input of size {size}")
    return out


def im2col(
    x: np.ndarray, kernel: tuple[int, int], stride=1, padding=0
) -> tuple[np.ndarray, tuple[int, int]]:
    """Lower ``x[N, C, H, W]`` to ``cols[N*Ho*Wo, C*kh*kw]`` (row order n, ho, wo; column
    order c, i, j, matching ``weight.reshape(O, -1)`` of an OIHW tensor)."""
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"im2col expects NCHW input, got shape {x.shape}")
    kh, kw = _pair(kernel, "kernel")
    sh, sw = _pair(stride, "stride")
    ph, pw = _pair(padding, "padding")
    n, c, h, w = x.shape
    ho, wo = conv_out_size(h, kh, sh, ph), conv_out_size(w, kw, sw, pw)
    xp = np.pad(x.astype(np.int64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    cols = np.empty((n, ho, wo, c, kh, kw), dtype=np.int64)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, :, :, i, j] = xp[:, :, i : i + sh * ho : sh, j : j + sw * wo : sw].transpose(
                0, 2, 3, 1
            )
    return cols.reshape(n * ho * wo, c * kh * kw), (ho, wo)


def conv2d_ref(
    x: np.ndarray, weight: np.ndarray, stride=1, padding=0, groups: int = 1
) -> np.ndarray:
    """Integer ``F.conv2d(x, weight, stride, padding, groups=groups)`` as int64 NCHW."""
    weight = np.asarray(weight)
    x = np.asarray(x)
    if weight.ndim != 4:
        raise ValueError(f"conv2d_ref expects an OIHW weight, got shape {weight.shape}")
    o, cpg, kh, kw = weight.shape
    n, c = x.shape[:2]
    if c % groups or o % groups or c // groups != cpg:
        raise ValueError(
            f"conv2d_ref: input channels {c}, weight {weight.shape} and groups={groups} disagree"
        )
    opg = o // groups
    outs = []
    for g in range(groups):
        xg = x[:, g * cpg : (g + 1) * cpg]
        cols, (ho, wo) = im2col(xg, (kh, kw), stride, padding)
        wg = weight[g * opg : (g + 1) * opg].reshape(opg, -1).T
        y = gemm_ref(cols, wg).reshape(n, ho, wo, opg).transpose(0, 3, 1, 2)
        outs.append(y)
    return np.concatenate(outs, axis=1)
