"""SPEC section 6 / section 4 reference numbers, copied here from the spec (not from the code
under test) so the tests compare against an independent source."""

VARIANTS = ("base", "full", "half", "full_hybrid", "half_hybrid")

# network: (FLOPs M, params M, speedup at 64x64), in VARIANTS order.
SEED = {
    "mobilenet_v1": (
        (589, 1122, 573, 764, 578),
        (4.23, 7.36, 4.20, 4.35, 4.22),
        (1, 4.1, 6.76, 2.3, 2.36),
    ),
    "mobilenet_v2": (
        (315, 430, 300, 361, 305),
        (3.50, 4.46, 3.46, 3.61, 3.49),
        (1, 5.1, 7.23, 2.0, 2.1),
    ),
    "mnasnet": (
        (325, 440, 305, 361, 312),
        (4.38, 5.66, 4.25, 4.47, 4.35),
        (1, 5.06, 7.15, 1.88, 1.97),
    ),
    "mobilenet_v3_small": (
        (66, 84, 61, 73, 63),
        (2.93, 4.44, 2.89, 3.18, 2.92),
        (1, 3.02, 4.16, 1.6, 1.68),
    ),
    "mobilenet_v3_large": (
        (238, 322, 225, 264, 230),
        (5.47, 10.57, 5.40, 5.57, 5.46),
        (1, 3.61, 5.45, 1.76, 1.83),
    ),
}

ROWS = [
    (net, v, SEED[net][0][i], SEED[net][1][i], SEED[net][2][i])
    for net in SEED
    for i, v in enumerate(VARIANTS)
]

# SPEC section 4 (64x64 array).
MOBILENET_V2_BASE_CYCLES = 2_961_936
MOBILENET_V2_FULL_CYCLES = 576_542
LINEAR_1280_1000_CYCLES = 21_480
# SPEC section 6 text: pthflops count_ops on 1x3x224x224.
MOBILENET_V2_BASE_FLOPS_M = 314.35
MOBILENET_V2_FULL_FLOPS_M = 430.16
