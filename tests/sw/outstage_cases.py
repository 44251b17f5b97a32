"""Test vectors of the output stage (``sw.ref.outstage``, ``hw.requant``): edge cases and
seeded random ones, with the golden (``sw.ref.quant.requantize``) as the expected value."""

from __future__ import annotations

import numpy as np

from sw.ref import quant as qref

I32_MIN, I32_MAX = -(2**31), 2**31 - 1
CLAMPS = [(-128, 127), (0, 127), (0, 48), (-5, 5), (-128, -100), (17, 17)]


def golden(v: np.ndarray, m: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """``sw.ref.quant.requantize`` applied element by element (``v`` = acc + bias, int32)."""
    v = np.asarray(v, np.int64)
    assert v.min() >= I32_MIN and v.max() <= I32_MAX
    with np.errstate(over="ignore"):  # float32 max multipliers: the product is inf -> 127
        return qref.requantize(v.astype(np.int32)[None, :], np.asarray(m, np.float32), lo, hi)[0]


def _nudge(m: np.ndarray, k: int) -> np.ndarray:
    for _ in range(abs(k)):
        m = np.nextafter(m, np.float32(np.inf) if k > 0 else np.float32(0))
    return m


def edge_cases() -> tuple[np.ndarray, np.ndarray]:
    """(v, m): extreme accumulators, |v| around 2**24 and 2**25 (int -> float32 rounding),
    exact ties at .5, multipliers of exponents -40..+12, zero and subnormal multipliers,
    saturation on both sides."""
    accs = [0, 1, -1, 2, -2, 3, -3, I32_MAX, I32_MIN, -I32_MAX, 127, 128, -128, -129, 255, 256]
    for base in (2**24, 2**25, 2**26, 2**30):
        for d in range(-3, 4):
            accs += [base + d, -(base + d)]
    mults = [0.0, 1e-45, 1e-40, np.finfo(np.float32).tiny, 1.0, 0.5, 0.25, 0.75, 1.5, 3.0]
    mults += [2.0**k for k in range(-40, 13)] + [1.5 * 2.0**k for k in range(-40, 13)]
    mults += [np.float32(np.finfo(np.float32).max), np.float32(1) - np.float32(2**-24)]
    v, m = np.meshgrid(np.array(accs, np.int64), np.array(mults, np.float32))
    v, m = v.ravel(), m.ravel()
    # exact ties: odd v times 2**-1, 3 * 2**k times 2**-(k+1), each nudged by +-1 ulp
    odd = np.arange(-301, 302, 2, dtype=np.int64)
    tv = [odd, odd * 2**20]
    tm = [np.full(odd.size, 0.5, np.float32), np.full(odd.size, 2.0**-21, np.float32)]
    for k in (-1, 1):
        tv += [odd, odd * 2**20]
        tm += [_nudge(tm[0], k), _nudge(tm[1], k)]
    # float32 product ties: short mantissas on both sides make the dropped bits of the
    # 48-bit mantissa product exactly 100..0 often (e.g. 3 * 2**22 times 1 + 2**-23)
    rng = np.random.default_rng(7)
    a = rng.integers(1, 1 << 12, 3000) | 1
    j = rng.integers(0, 31 - 12, 3000)
    pv = np.minimum(a << j, I32_MAX) * rng.choice([-1, 1], 3000)
    b = rng.integers(0, 1 << 12, 3000)
    bl = np.floor(np.log2(np.abs(pv))).astype(np.int64)
    e = -bl + rng.integers(-2, 8, 3000)
    pm = ((1.0 + b * 2.0**-23) * 2.0 ** e.astype(np.float64)).astype(np.float32)
    tv.append(pv.astype(np.int64))
    tm.append(pm)
    pv, pm = product_tie_cases()
    tv.append(pv)
    tm.append(pm)
    return np.concatenate([v, *tv]), np.concatenate([m, *tm]).astype(np.float32)


def random_cases(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(acc, bias, m) with acc + bias in int32: half of them with magnitudes spread over
    2**0..2**31 and random multipliers 2**-40..2**10, half aimed at products within a few
    float32 ulps of x.5 (where the two float32 roundings decide the result)."""
    rng = np.random.default_rng(seed)
    mag = rng.integers(0, 32, n)
    acc = np.maximum(1, rng.integers(0, 2**31, n) >> (31 - mag)) * rng.choice([-1, 1], n)
    acc = np.clip(acc, I32_MIN, I32_MAX)
    bias = rng.integers(-(2**20), 2**20, n) * (rng.random(n) < 0.5)
    bias = np.clip(acc + bias, I32_MIN, I32_MAX) - acc
    v = acc + bias
    half = n // 2
    exps = rng.integers(-40, 11, n).astype(np.float64)
    m = (rng.uniform(1, 2, n) * 2.0**exps).astype(np.float32)
    tgt = rng.integers(-140, 140, n) + 0.5
    near = (np.abs(tgt) / np.maximum(1, np.abs(v))).astype(np.float32)
    near = np.where(near > 0, near, np.float32(0.5))
    for k in (-2, -1, 1, 2):
        pick = rng.random(n) < 0.2
        near = np.where(pick, _nudge(near, k), near)
    m[half:] = near[half:]
    return acc.astype(np.int64), bias.astype(np.int64), m


def product_tie_cases() -> tuple[np.ndarray, np.ndarray]:
    """(v, m) whose exact product lies exactly halfway between two float32 values one of
    which is an integer + 1/2: the float32 product's round-half-to-even then decides the
    integer result (round half up, or truncation, would give another one). Constructed:
    ``v * M = T -+ 2**(D-1)`` with ``T * 2**e = n + 1/2``, ``M`` a 24-bit mantissa and ``D``
    the bits float32 drops."""
    vs, ms = [], []
    for a in range(3, 200, 2):
        for n in list(range(0, 130, 7)) + [126, 127, 128]:
            t2 = 2 * n + 1  # t = t2 / 2
            # e with t / a * 2**-e in [2**23, 2**24): T = t * 2**-e must be an integer
            for ee in range(-60, 0):
                lo = a * (1 << 23)
                big = t2 << (-ee - 1)  # T = t * 2**-ee
                if lo <= big < 2 * lo:
                    e = ee
                    break
            else:
                continue
            T = t2 << (-e - 1)
            for sgn in (1, -1):
                for d in range(1, 40):
                    q = T - sgn * (1 << (d - 1))
                    if q % a or not (1 << 23) <= q // a < (1 << 24):
                        continue
                    if q.bit_length() - 24 != d:
                        continue
                    M = q // a
                    for k in (0, 3, 9):  # scale the accumulator, keep the product
                        if (a << k) < 2**31:
                            for sign in (1, -1):
                                vs.append(sign * (a << k))
                                ms.append(np.float32(M * 2.0 ** (e - k)))
    return np.array(vs, np.int64), np.array(ms, np.float32)
