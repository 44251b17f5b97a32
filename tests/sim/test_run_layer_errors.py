"""run_layer rejects what the hardware cannot run, naming the culprit, before simulating."""

import numpy as np
import pytest
import torch

from hw.config import ArrayConfig
from sim import rtl_gemm, run_layer

CFG = ArrayConfig(rows=2, cols=2)


def test_run_layer_rejects_unsupported_layers():
    with pytest.raises(ValueError, match="not ReLU"):
        run_layer(torch.nn.ReLU(), torch.zeros(1, 1, 2, 2), CFG, "icarus")
    dil = torch.nn.Conv2d(2, 2, 3, dilation=2, bias=False)
    with pytest.raises(ValueError, match="dilation"):
        run_layer(dil, torch.zeros(1, 2, 6, 6), CFG, "icarus")
    grouped = torch.nn.Conv2d(4, 8, 3, groups=2, bias=False)
    with pytest.raises(ValueError, match="groups=2"):
        run_layer(grouped, torch.zeros(1, 4, 6, 6), CFG, "icarus")
    refl = torch.nn.Conv2d(2, 2, 3, padding=1, padding_mode="reflect", bias=False)
    with pytest.raises(ValueError, match="reflect"):
        run_layer(refl, torch.zeros(1, 2, 6, 6), CFG, "icarus")


def test_run_layer_rejects_non_int8_data():
    conv = torch.nn.Conv2d(2, 2, 1, bias=False)
    with torch.no_grad():
        conv.weight.fill_(1.0)
    with pytest.raises(ValueError, match="integer values"):
        run_layer(conv, torch.full((1, 2, 3, 3), 0.5), CFG, "icarus")
    with pytest.raises(ValueError, match="outside the 8-bit range"):
        run_layer(conv, torch.full((1, 2, 3, 3), 200.0), CFG, "icarus")
    with pytest.raises(ValueError, match=r"input must be \[N, 2, H, W\]"):
        run_layer(conv, torch.zeros(1, 3, 3, 3), CFG, "icarus")


def test_rtl_gemm_rejects_bad_simulator_and_shapes():
    with pytest.raises(ValueError, match="'modelsim'"):
        rtl_gemm(np.ones((1, 1), int), np.ones((1, 1), int), CFG, "modelsim")
    with pytest.raises(ValueError, match=r"X\[M, Kr\] and W\[Kr, N\]"):
        rtl_gemm(np.ones((2, 3), int), np.ones((2, 3), int), CFG, "icarus")
