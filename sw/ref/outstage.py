"""Integer-only model of the accelerator's output stage (``hw.requant.OutputStage``, issue 18).

The golden requantization (``sw.ref.quant.requantize``, ONNX ``QLinearConv`` as onnxruntime
computes it) is float32 arithmetic::

    y = clamp(saturate_int8(rne(float32(float32(acc + bias) * m))), lo, hi)

with an int32 accumulator ``acc + bias``, a float32 multiplier ``m`` per output channel and
two float32 roundings: ``int32 -> float32`` (exact below ``2**24``, round half to even above)
and the float32 product (round half to even to 24 significant bits). The hardware reproduces
this bit-exactly with integer logic only; this module is that logic written in numpy (int64,
vectorised), step for step as ``hw.requant`` builds it, so a failure can be located by stage.
It is checked against ``sw.ref.quant.requantize`` (numpy float32, the independent golden) on
millions of random and edge cases (``tests/sw/test_outstage_ref.py``).

Steps (``a = |acc + bias|`` with sign ``s``; ``m = (-1)**sm * mm * 2**(em - 150)``,
``mm = 2**23 + frac`` for a normal float32; ``em`` its biased exponent):

1. **int -> float32.** ``lz`` = leading zeros of ``a`` in 33 bits, ``n = a << lz`` (bit 32
   set); ``ma = n[9:33]`` rounded half to even with round bit ``n[8]`` and sticky ``n[0:8]``.
   Below ``2**24`` nothing is dropped (exact). ``float32(a) = ma * 2**(9 - lz)`` with
   ``ma`` in ``[2**23, 2**24]``.
2. **Mantissa product.** ``Q = ma * mm`` (48 bits, ``2**46 <= Q < 2**48``), exact.
3. **float32 product rounding.** Keep the top 24 bits of ``Q`` (``d = 24`` if ``Q[47]`` else
   ``23`` dropped bits), round half to even: ``P = Pm * 2**E``, ``E = em - lz - 141 + d``,
   ``Pm`` in ``[2**23, 2**24]``.
4. **Round to integer.** With ``sh = -E``: ``sh <= 15`` means ``|P| >= 256``: saturate;
   ``sh >= 26`` means ``|P| <= 1/4``: 0; otherwise ``r = rne(Pm / 2**sh)`` (round bit
   ``Pm[sh-1]``, sticky ``Pm[0:sh-1]``), ``r <= 257``.
5. **Saturate and clamp.** ``y = clamp(±r, lo, hi)`` with ``-128 <= lo <= hi <= 127`` (ReLU:
   ``lo = 0``; ReLU6: ``hi = rne(6 / s_out)`` capped at 127; none: ``-128, 127``). Clamping
   to ``[lo, hi]`` inside ``[-128, 127]`` includes the int8 saturation.

Why the shortcuts are exact: float32 rounding and ``rne`` are monotone, so an exact product of
magnitude ``>= 256`` can only give a saturated result, and one below ``1/4`` only 0; in
between the product is a normal float32, where rounding to 24 significant bits is exactly
float32's rounding. A zero or subnormal multiplier (``em = 0``) gives 0 (``|acc| < 2**33``);
``em = 255`` (inf/NaN) saturates unless ``acc + bias = 0``: the compiler never emits one (``multiplier_bits`` rejects
it). ``acc + bias`` is taken in 33 bits, so it never wraps (the golden rejects an int32
overflow; the hardware extends the same formula).
"""

from __future__ import annotations

import numpy as np

__all__ = ["multiplier_bits", "requant_int", "outstage_ref"]


def multiplier_bits(m: np.ndarray | float) -> np.ndarray:
    """The IEEE-754 bits (uint32 as int64) of float32 multipliers; ``ValueError`` for a
    non-finite value."""
    m = np.asarray(m, np.float32)
    if not np.all(np.isfinite(m)):
        raise ValueError(f"requantization multipliers must be finite, not {m[~np.isfinite(m)]!r}")
    return m.view(np.uint32).astype(np.int64)


def _rne_shift(x: np.ndarray, sh: np.ndarray) -> np.ndarray:
    """``rne(x / 2**sh)`` for int64 ``x >= 0`` and ``sh >= 1`` (elementwise)."""
    ip = x >> sh
    rb = (x >> (sh - 1)) & 1
    st = (x & ((np.int64(1) << (sh - 1)) - 1)) != 0
    return ip + (rb & (st | (ip & 1)))


def requant_int(
    acc: np.ndarray,
    bias: np.ndarray,
    mbits: np.ndarray,
    lo: int = -128,
    hi: int = 127,
) -> np.ndarray:
    """Output stage on broadcastable int arrays: ``acc`` (int32 range), ``bias`` (int32),
    ``mbits`` (float32 bit patterns, ``multiplier_bits``), clamp ``[lo, hi]``; returns int8."""
    if not -128 <= lo <= hi <= 127:
        raise ValueError(f"clamp must satisfy -128 <= lo <= hi <= 127, not ({lo!r}, {hi!r})")
    acc, bias, mbits = np.broadcast_arrays(
        np.asarray(acc, np.int64), np.asarray(bias, np.int64), np.asarray(mbits, np.int64)
    )
    v = acc + bias
    s = v < 0
    a = np.abs(v)  # < 2**33
    sm = (mbits >> 31) & 1
    em = (mbits >> 23) & 0xFF
    mm = (mbits & 0x7FFFFF) | (1 << 23)
    # 1. int -> float32: normalise to 33 bits, keep 24, round half to even
    blen = np.zeros_like(a)
    t = a.copy()
    for b in (32, 16, 8, 4, 2, 1):
        big = t >= (np.int64(1) << b)
        blen += np.where(big, b, 0)
        t = np.where(big, t >> b, t)
    blen += t  # t is 0 or 1 now
    lz = 33 - blen
    n = a << lz
    ma = _rne_shift(n, np.full_like(n, 9))
    # 2. exact mantissa product
    q = ma * mm
    # 3. float32 product rounding
    d = np.where(q >> 47 != 0, 24, 23)
    pm = _rne_shift(q, d)
    e = em - lz - 141 + d
    # 4. round to integer
    sh = -e
    mid = np.clip(sh, 16, 25)
    r = _rne_shift(pm, mid)
    r = np.where(sh <= 15, 256, np.where(sh >= 26, 0, r))
    r = np.where(em == 255, 256, r)
    r = np.where((a == 0) | (em == 0), 0, r)
    # 5. sign, saturate, clamp
    y = np.where(s ^ (sm == 1), -r, r)
    return np.clip(y, lo, hi).astype(np.int8)


def outstage_ref(
    acc: np.ndarray, bias: np.ndarray, m: np.ndarray, lo: int = -128, hi: int = 127
) -> np.ndarray:
    """The golden's formula in float32 (``sw.ref.quant.requantize`` semantics) for the
    output stage's inputs: ``acc + bias`` (int32), multiplier ``m`` (float32), clamp."""
    v = np.asarray(acc, np.int64) + np.asarray(bias, np.int64)
    y = np.rint(v.astype(np.float32) * np.asarray(m, np.float32))
    return np.clip(y, max(lo, -128), min(hi, 127)).astype(np.int8)


# -- residual add (``hw.resadd.ResidualAdd``) -------------------------------------------------


def _bitlen(x: np.ndarray) -> np.ndarray:
    """Bit length of int64 ``x >= 0`` (elementwise, ``x < 2**63``)."""
    n = np.zeros_like(x)
    t = x.copy()
    for b in (32, 16, 8, 4, 2, 1):
        big = t >= (np.int64(1) << b)
        n += np.where(big, b, 0)
        t = np.where(big, t >> b, t)
    return n + t


def _fp_product(x: np.ndarray, mbits: np.ndarray):
    """``float32(x * m)`` for int8 ``x`` and a normal float32 ``m``: (sign, 24-bit mantissa
    P in [2**23, 2**24) or 0, exponent E) with value ``P * 2**E``."""
    sm = (mbits >> 31) & 1
    em = (mbits >> 23) & 0xFF
    mm = (mbits & 0x7FFFFF) | (1 << 23)
    s = (x < 0) ^ (sm == 1)
    q = np.abs(x) * mm  # < 2**32
    lz = 32 - _bitlen(q)
    n = (q << lz) & 0xFFFFFFFF  # bit 31 set
    p = _rne_shift(n, np.full_like(n, 8))  # 24 bits (+ carry)
    carry = p >> 24
    p = np.where(carry == 1, p >> 1, p)
    e = em - 150 + 8 - lz + carry
    zero = q == 0
    return s, np.where(zero, 0, p), np.where(zero, -1000, e)


def add_int(
    a: np.ndarray,
    b: np.ndarray,
    mabits: np.ndarray,
    mbbits: np.ndarray,
    lo: int = -128,
    hi: int = 127,
) -> np.ndarray:
    """Residual add ``clamp(sat8(rne(float32(float32(a*m_a) + float32(b*m_b)))), lo, hi)``
    (``sw.ref.quant.add_requant``) for int8 ``a``, ``b`` and normal float32 multipliers with
    ``2**-100 <= |m| < 2**100`` (``add_multipliers_bits`` checks it), in integer steps as
    ``hw.resadd`` computes it: two float32 products (8 x 24-bit product, normalise, round half
    to even), a float32 adder with guard, round and sticky bits (align the smaller operand,
    add or subtract, normalise, round half to even), then round to integer, saturate and clamp
    as ``requant_int``'s steps 4-5."""
    if not -128 <= lo <= hi <= 127:
        raise ValueError(f"clamp must satisfy -128 <= lo <= hi <= 127, not ({lo!r}, {hi!r})")
    a, b, mabits, mbbits = np.broadcast_arrays(
        np.asarray(a, np.int64),
        np.asarray(b, np.int64),
        np.asarray(mabits, np.int64),
        np.asarray(mbbits, np.int64),
    )
    sa, pa, ea = _fp_product(a, mabits)
    sb, pb, eb = _fp_product(b, mbbits)
    # order by magnitude: (exponent, mantissa) of the larger first
    swap = (eb > ea) | ((eb == ea) & (pb > pa))
    sx, px, ex = np.where(swap, sb, sa), np.where(swap, pb, pa), np.where(swap, eb, ea)
    sy, py, ey = np.where(swap, sa, sb), np.where(swap, pa, pb), np.where(swap, ea, eb)
    d = np.minimum(ex - ey, 27)
    x = px << 3  # 27 bits: mantissa, guard, round, sticky
    yfull = py << 3
    y = yfull >> d
    st = (y << d) != yfull
    y = y | st.astype(np.int64)
    z = np.where(sx == sy, x + y, x - y)  # >= 0, < 2**28
    # normalise to bit 26 (the 24-bit mantissa's top), keep the sticky when shifting right
    blen = _bitlen(z)
    right = blen == 28
    z = np.where(right, (z >> 1) | (z & 1), z << np.maximum(27 - blen, 0))
    es = ex + np.where(right, 1, 0) - np.where(right, 0, np.maximum(27 - blen, 0))
    # round half to even on the three low bits
    keep = z >> 3
    g = (z >> 2) & 1
    rs = (z & 3) != 0
    ps = keep + (g & (rs | (keep & 1)))
    carry = ps >> 24
    ps = np.where(carry == 1, ps >> 1, ps)
    es = es + carry
    # round to integer: value ps * 2**es
    sh = -es
    r = _rne_shift(ps, np.clip(sh, 16, 25))
    r = np.where(sh <= 15, 256, np.where(sh >= 26, 0, r))
    r = np.where(z == 0, 0, r)
    y = np.where(sx == 1, -r, r)
    return np.clip(y, lo, hi).astype(np.int8)


def add_multipliers_bits(m_a: float, m_b: float) -> tuple[int, int]:
    """float32 bits of the residual add's two multipliers; ``ValueError`` unless each is a
    normal float32 with ``2**-100 <= |m| < 2**100`` (the range ``add_int`` and the hardware
    handle exactly; the zoo's are near 1)."""
    out = []
    for name, m in (("m_a", m_a), ("m_b", m_b)):
        f = np.float32(m)
        if not (np.isfinite(f) and 2.0**-100 <= abs(float(f)) < 2.0**100):
            raise ValueError(
                f"residual add multiplier {name} must be within 2**-100..2**100, not {m!r}"
            )
        out.append(int(np.array(f, np.float32).view(np.uint32)))
    return out[0], out[1]
