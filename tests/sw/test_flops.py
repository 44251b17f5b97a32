"""FLOPs counter: the seed table's FLOPs column (pthflops JIT rules) and agreement with the real
pthflops package (FX mode) on the models it can trace."""

import pytest
import torch
from seed_values import MOBILENET_V2_BASE_FLOPS_M, MOBILENET_V2_FULL_FLOPS_M, ROWS
from torch import nn

from sw.models.flops import count_flops
from sw.models.shapes import build_meta
from sw.models.zoo import build_model
from tests.conftest import import_or_skip

X224 = torch.zeros(1, 3, 224, 224)


@pytest.mark.parametrize(("net", "variant", "flops", "params", "speedup"), ROWS)
def test_count_flops_matches_seed_table(net, variant, flops, params, speedup):
    got = count_flops(build_meta(net, variant), X224).total / 1e6
    assert abs(got - flops) < 1.0


def test_count_flops_mobilenet_v2_two_decimals_as_spec():
    base = count_flops(build_meta("mobilenet_v2", "base"), X224).total / 1e6
    full = count_flops(build_meta("mobilenet_v2", "full"), X224).total / 1e6
    assert round(base, 2) == MOBILENET_V2_BASE_FLOPS_M
    assert round(full, 2) == MOBILENET_V2_FULL_FLOPS_M


class _Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1, bias=True)
        self.bn = nn.BatchNorm2d(4)
        self.relu = nn.ReLU()
        self.dw = nn.Conv2d(4, 4, 3, stride=2, padding=1, groups=4, bias=False)
        self.relu6 = nn.ReLU6()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, 5)

    def forward(self, x):
        y = self.relu(self.bn(self.conv(x)))
        y = y + torch.nn.functional.relu(y)
        z = self.relu6(self.dw(y))
        return self.fc(self.pool(z).flatten(1) * 2.0)


def test_count_flops_seed_rules_by_hand():
    # 8x8 input. conv: (3*9 + 1 bias) * 4*8*8; bn: 2*256; nn.ReLU and F.relu: 2*256 each;
    # add: 256; dw: 9 * 4*4*4; relu6: 0; global pool: input numel 64; mul: 4; fc: 4*5.
    want = 28 * 256 + 512 + 512 + 512 + 256 + 9 * 64 + 64 + 4 + 20
    assert count_flops(_Tiny(), torch.rand(1, 3, 8, 8)).total == want


def test_count_flops_fx_rules_by_hand():
    # FX: conv + bias 4*64*... as pthflops 0.4.2: conv 27*256 + 4*64 bias; bn 512; nn.ReLU 512;
    # F.relu not counted; add: 2 args * 256; dw 9*64; pool H*W*out = 16*4; mul 2 args * 4;
    # fc in.numel*5 + bias 5.
    want = 27 * 256 + 256 + 512 + 512 + 512 + 9 * 64 + 64 + 8 + 20 + 5
    assert count_flops(_Tiny(), torch.rand(1, 3, 8, 8), rules="fx").total == want


_FAST_PTH = [("mobilenet_v2", "full_hybrid"), ("mobilenet_v3_small", "full")]
_ALL_PTH = [
    (n, v)
    for n in ("mobilenet_v1", "mobilenet_v2", "mnasnet", "mobilenet_v3_small", "mobilenet_v3_large")
    for v in ("base", "full", "full_hybrid")
]


@pytest.mark.parametrize(
    ("net", "variant"),
    [p if p in _FAST_PTH else pytest.param(*p, marks=pytest.mark.slow) for p in _ALL_PTH],
)
def test_count_flops_fx_rules_equal_real_pthflops(net, variant):
    pthflops = import_or_skip("pthflops")
    model = build_model(net, variant).eval()
    x = torch.rand(1, 3, 64, 64)  # small input keeps the real forward cheap; rules are exact
    with torch.no_grad():
        want, _ = pthflops.count_ops(model, x, print_readable=False, verbose=False)
    assert count_flops(model, x, rules="fx").total == want


def test_pthflops_fx_cannot_trace_half_models():
    # Why this counter exists: pthflops' FX interpreter crashes on tuple-returning nodes
    # (x.chunk in every FuSe-Half block), and its JIT mode needs torch.onnx._optimize_trace.
    pthflops = import_or_skip("pthflops")
    model = build_model("mobilenet_v2", "half").eval()
    with pytest.raises(IndexError):
        pthflops.count_ops(model, torch.rand(1, 3, 64, 64), print_readable=False, verbose=False)
    assert not hasattr(torch.onnx, "_optimize_trace")


@pytest.mark.parametrize("rules", ["seed", "fx"])
@pytest.mark.parametrize(("net", "variant"), [("mobilenet_v3_large", "half"), ("mnasnet", "full")])
def test_count_flops_shape_only_equals_real_run(net, variant, rules):
    x = torch.rand(1, 3, 96, 96)
    real = count_flops(build_model(net, variant), x, rules=rules)
    fast = count_flops(build_meta(net, variant), torch.zeros(1, 3, 96, 96), rules=rules)
    assert fast.total == real.total
    assert fast.ops == real.ops


def test_count_flops_restores_training_mode():
    model = _Tiny().train()
    count_flops(model, torch.rand(1, 3, 8, 8))
    assert model.training


def test_count_flops_unknown_rules_raises():
    with pytest.raises(ValueError, match="'onnx'"):
        count_flops(_Tiny(), torch.rand(1, 3, 8, 8), rules="onnx")
