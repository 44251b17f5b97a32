"""Integer golden kernels of the int8 network executor (SPEC section 5, issue 10).

Every kernel takes int8 tensors and returns int8 (or the int32 accumulator before
requantization). The requantization is that of ONNX ``QLinearConv`` / ``QLinearMatMul`` as
onnxruntime computes it on CPU, checked bit-exactly by ``tests/sw/test_quant_onnx.py``:

    y = clamp(saturate_int8(round_half_even(float32(acc) * M)), lo, hi)
    M = float32(float32(s_in) * float32(s_w[c])) / float32(s_out)      (float32 arithmetic)

Zero points are all 0 (symmetric activations and weights), so a conv is a pure
``int8 x int8 -> int32`` sum of products, the contract of the array (SPEC 3.2/3.3); padded taps
are 0. Residual add and global average pooling use the same float32 multiply/round/saturate on
their own integer inputs (see ``add_requant`` and ``global_avgpool``).

Accumulations are computed as float64 matrix products: every partial sum of int8 x int8
products stays below 2**53 for any layer of the zoo (Kr < 2**38), so the result is exact.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "INT8_MIN",
    "INT8_MAX",
    "WEIGHT_QMAX",
    "check_int8",
    "conv2d_acc",
    "linear_acc",
    "conv_multiplier",
    "requantize",
    "add_multipliers",
    "add_requant",
    "avgpool_multiplier",
    "global_avgpool",
    "maxpool2d",
    "quantize_float",
]

INT8_MIN, INT8_MAX = -128, 127
#: Weights use the symmetric range [-127, 127] (zero point 0).
WEIGHT_QMAX = 127
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


def check_int8(a: np.ndarray, name: str) -> np.ndarray:
    """Return ``a`` as an int8 array; raise ``ValueError`` naming ``name`` if it is not an
    integer array within the int8 range."""
    a = np.asarray(a)
    if a.dtype == np.int8:
        return a
    if not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{name} must be an int8 (integer) array, not {a.dtype}")
    if a.size and (a.min() < INT8_MIN or a.max() > INT8_MAX):
        raise ValueError(
            f"{name} holds values outside the int8 range: [{a.min()}, {a.max()}] "
            f"not within [{INT8_MIN}, {INT8_MAX}]"
        )
    return a.astype(np.int8)


def _to_int32(acc: np.ndarray, what: str) -> np.ndarray:
    if acc.size and (acc.min() < _INT32_MIN or acc.max() > _INT32_MAX):
        raise ValueError(f"{what}: accumulation overflows int32")
    return acc.astype(np.int32)


def conv2d_acc(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: tuple[int, int] = (1, 1),
    padding: tuple[int, int] = (0, 0),
    groups: int = 1,
) -> np.ndarray:
    """int32 accumulator of ``conv2d(x, weight) + bias`` (NCHW, OIHW, zero padding, like
    ``torch.nn.functional.conv2d``) for int8 ``x`` and ``weight`` and an int32 ``bias``."""
    x = check_int8(x, "conv input")
    weight = check_int8(weight, "conv weight")
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(f"conv expects NCHW input and OIHW weight, got {x.shape}, {weight.shape}")
    n, c, h, w = x.shape
    o, cpg, kh, kw = weight.shape
    if groups < 1 or c % groups or o % groups or c // groups != cpg:
        raise ValueError(
            f"conv input channels {c}, weight {weight.shape} and groups={groups} disagree"
        )
    (sh, sw), (ph, pw) = stride, padding
    ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    if ho < 1 or wo < 1:
        raise ValueError(f"conv kernel {kh}x{kw}, padding {padding} does not fit input {h}x{w}")
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))).astype(np.float64)
    wf = weight.astype(np.float64)
    acc = np.zeros((n, o, ho, wo), np.float64)
    opg = o // groups
    depthwise = cpg == 1 and opg == 1
    for i in range(kh):
        for j in range(kw):
            tap = xp[:, :, i : i + sh * (ho - 1) + 1 : sh, j : j + sw * (wo - 1) + 1 : sw]
            if depthwise:
                acc += tap * wf[None, :, 0, i, j, None, None]
                continue
            for g in range(groups):
                xs = tap[:, g * cpg : (g + 1) * cpg]
                ws = wf[g * opg : (g + 1) * opg, :, i, j]  # [opg, cpg]
                part = np.tensordot(xs, ws, axes=([1], [1]))  # [n, ho, wo, opg], BLAS
                acc[:, g * opg : (g + 1) * opg] += part.transpose(0, 3, 1, 2)
    if bias is not None:
        acc += _bias(bias, o)[None, :, None, None]
    return _to_int32(np.rint(acc).astype(np.int64), "conv")


def linear_acc(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """int32 accumulator of ``x @ weight.T + bias`` for int8 ``x[N, I]``, ``weight[O, I]``."""
    x = check_int8(x, "linear input")
    weight = check_int8(weight, "linear weight")
    if x.ndim != 2 or weight.ndim != 2 or x.shape[1] != weight.shape[1]:
        raise ValueError(f"linear input {x.shape} and weight {weight.shape} disagree")
    acc = x.astype(np.float64) @ weight.astype(np.float64).T
    if bias is not None:
        acc += _bias(bias, weight.shape[0])[None, :]
    return _to_int32(np.rint(acc).astype(np.int64), "linear")


def _bias(bias: np.ndarray, o: int) -> np.ndarray:
    bias = np.asarray(bias)
    if bias.shape != (o,) or not np.issubdtype(bias.dtype, np.integer):
        raise ValueError(
            f"bias must be an integer vector of {o} values, got {bias.shape} {bias.dtype}"
        )
    return bias.astype(np.float64)


def conv_multiplier(in_scale: float, w_scale: np.ndarray, out_scale: float) -> np.ndarray:
    """Per-channel float32 multiplier ``(s_in * s_w[c]) / s_out`` in float32 arithmetic, the
    order onnxruntime's QLinearConv uses."""
    return (np.float32(in_scale) * np.asarray(w_scale, np.float32)) / np.float32(out_scale)


def requantize(
    acc: np.ndarray, multiplier: np.ndarray | float, lo: int = INT8_MIN, hi: int = INT8_MAX
) -> np.ndarray:
    """int32 ``acc[N, C, ...]`` -> int8: ``float32(acc) * multiplier[c]`` (float32), round half
    to even, saturate to int8, then clamp to ``[lo, hi]`` (ReLU / ReLU6)."""
    acc = np.asarray(acc)
    if not np.issubdtype(acc.dtype, np.integer):
        raise ValueError(f"requantize expects an integer accumulator, not {acc.dtype}")
    m = np.asarray(multiplier, np.float32)
    if m.ndim == 1:
        if acc.ndim < 2 or acc.shape[1] != m.shape[0]:
            raise ValueError(f"{m.shape[0]} multipliers for an accumulator shaped {acc.shape}")
        m = m.reshape((1, -1) + (1,) * (acc.ndim - 2))
    y = np.rint(acc.astype(np.float32) * m)
    return np.clip(y, max(lo, INT8_MIN), min(hi, INT8_MAX)).astype(np.int8)


def add_multipliers(a_scale: float, b_scale: float, out_scale: float) -> tuple[float, float]:
    """float32 ``(s_a / s_out, s_b / s_out)`` of the residual add."""
    so = np.float32(out_scale)
    return np.float32(a_scale) / so, np.float32(b_scale) / so


def add_requant(
    a: np.ndarray,
    b: np.ndarray,
    m_a: float,
    m_b: float,
    lo: int = INT8_MIN,
    hi: int = INT8_MAX,
) -> np.ndarray:
    """Residual add: ``clamp(sat(rne(float32(a) * m_a + float32(b) * m_b)), lo, hi)``, each
    product and the sum in float32."""
    a, b = check_int8(a, "add input a"), check_int8(b, "add input b")
    if a.shape != b.shape:
        raise ValueError(f"add inputs differ in shape: {a.shape} vs {b.shape}")
    y = a.astype(np.float32) * np.float32(m_a) + b.astype(np.float32) * np.float32(m_b)
    return np.clip(np.rint(y), max(lo, INT8_MIN), min(hi, INT8_MAX)).astype(np.int8)


def avgpool_multiplier(in_scale: float, out_scale: float, count: int) -> np.float32:
    """float32 ``s_in / (s_out * count)`` of a global average pool over ``count`` pixels."""
    return np.float32(in_scale) / (np.float32(out_scale) * np.float32(count))


def global_avgpool(x: np.ndarray, in_scale: float, out_scale: float) -> np.ndarray:
    """Global average pool ``[N, C, H, W] -> [N, C, 1, 1]``: the exact int32 sum over the
    ``H*W`` pixels, then ``sat(rne(float32(sum) * avgpool_multiplier))``."""
    x = check_int8(x, "avgpool input")
    if x.ndim != 4:
        raise ValueError(f"avgpool expects NCHW input, got shape {x.shape}")
    total = x.astype(np.int32).sum(axis=(2, 3), keepdims=True, dtype=np.int32)
    return requantize(total, avgpool_multiplier(in_scale, out_scale, x.shape[2] * x.shape[3]))


def maxpool2d(
    x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int]
) -> np.ndarray:
    """int8 max pool (padding never wins: padded with -128); the scale passes through."""
    x = check_int8(x, "maxpool input")
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    n, c, h, w = x.shape
    ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    if ho < 1 or wo < 1:
        raise ValueError(f"maxpool kernel {kernel} does not fit input {h}x{w}")
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=INT8_MIN)
    out = np.full((n, c, ho, wo), INT8_MIN, np.int8)
    for i in range(kh):
        for j in range(kw):
            tap = xp[:, :, i : i + sh * (ho - 1) + 1 : sh, j : j + sw * (wo - 1) + 1 : sw]
            np.maximum(out, tap, out=out)
    return out


def quantize_float(x: np.ndarray, scale: float) -> np.ndarray:
    """ONNX ``QuantizeLinear`` with zero point 0: ``sat(rne(float32(x) / float32(scale)))``."""
    y = np.rint(np.asarray(x, np.float32) / np.float32(scale))
    return np.clip(y, INT8_MIN, INT8_MAX).astype(np.int8)
