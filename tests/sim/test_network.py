"""Whole int8 networks through the accelerator top in RTL simulation (``sim.run_network``,
``sim.tb_network``, ``fusesa infer``; issue 11).

Expected values come from models independent of the RTL run: the int8 output from the golden
executor (``QuantizedNetwork.run``, numpy), every layer's cycles from the documented
``sw.latency.rtl`` accelerator formulas applied here to the golden trace's tensor shapes, and
the size of a deliberate mismatch from the golden's ``accumulate`` with the corrupted weight."""

from __future__ import annotations

import copy
import json
import re

import numpy as np
import pytest

from hw.config import ArrayConfig
from sw.latency.rtl import (
    ACCEL_COMMAND_OVERHEAD,
    accel_depthwise_baseline_cycles,
    accel_fuse_conv_cycles,
    accel_gemm_cycles,
    accel_packed_fuse_conv_cycles,
)
from tests.conftest import import_or_skip

torch = import_or_skip("torch")

ARRAY = (8, 8)


def _mnv2_half(res: int = 32, width: float = 0.25, classes: int = 10, seed: int = 0):
    from sw.export import quantize_network, set_bn_statistics
    from sw.models.zoo import build_model

    torch.manual_seed(seed)
    model = build_model("mobilenet_v2", "half", classes, width_mult=width)
    g = torch.Generator().manual_seed(seed + 1)
    data = torch.randn(7, 3, res, res, generator=g)
    set_bn_statistics(model, data[:4])
    qnet = quantize_network(model, data[4:6])
    return qnet, qnet.quantize_input(data[6:7])


@pytest.fixture(scope="module")
def mnv2():
    return _mnv2_half()


def _expected_cycles(layer, x: np.ndarray, rows: int, cols: int) -> tuple[str, int]:
    """(mapping, cnt_total) of a one-layer program, by the documented formulas
    (docs/accelerator.md, 'Whole layers'): per command FETCH+DECODE+1+array schedule, HALT 2."""
    halt = ACCEL_COMMAND_OVERHEAD
    if layer.kind.value == "linear":
        o, i = layer.weight.shape
        return "gemm", accel_gemm_cycles(x.shape[0], i, o, rows, cols) + halt
    n, c, h, w = x.shape
    kh, kw = layer.weight.shape[2:]
    (sh, sw), (ph, pw) = layer.stride, layer.padding
    ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    geom = (n, c, h, w, (kh, kw), layer.stride, layer.padding, rows, cols)
    if layer.groups == 1:
        return "gemm", accel_gemm_cycles(
            n * ho * wo, c * kh * kw, layer.weight.shape[0], rows, cols
        ) + halt
    if (kh == 1) != (kw == 1):  # 1xK / Kx1 on a FuSe array with max_kernel 7
        plain, packed = accel_fuse_conv_cycles(*geom), accel_packed_fuse_conv_cycles(*geom)
        if packed < plain:  # depthwise="auto" packs lines where that is strictly faster
            return "fuse-packed", packed + halt
        return "fuse", plain + halt
    return "depthwise-baseline", accel_depthwise_baseline_cycles(*geom) + halt


def _check_against_golden(qnet, x_q, res, rows, cols):
    trace = qnet.run(x_q, trace=True)
    np.testing.assert_array_equal(res.output, trace.output)
    assert res.output.dtype == np.int8
    runs = {r.name: r for r in res.layers}
    assert [r.name for r in res.layers] == [layer.name for layer in qnet.layers]
    total = 0
    for layer in qnet.mac_layers():
        r = runs[layer.name]
        mapping, cycles = _expected_cycles(layer, trace.tensors[layer.inputs[0]], rows, cols)
        assert r.accel and r.exact and r.mismatches == 0, (layer.name, r.diff)
        assert (r.mapping, r.cycles) == (mapping, cycles), layer.name
        assert r.out_shape == trace.accumulators[layer.name].shape
        assert r.busy + r.stall + 2 * (r.commands + 1) == r.cycles, layer.name
        total += cycles
    assert res.cycles == total
    assert res.exact and res.cycles_match


@pytest.mark.verilator
def test_mobilenet_v2_fuse_half_end_to_end(require_simulator, mnv2):
    """MobileNetV2-FuSe-Half (width 0.25, 32x32, 10 classes) on 8x8: every conv/FuSe/linear
    layer on the accelerator, bit-exact layer by layer, cycles == model, output == golden."""
    from sim import run_network

    require_simulator("verilator")
    qnet, x_q = mnv2
    seen = []
    res = run_network(
        qnet, x_q, ArrayConfig(*ARRAY), "verilator", on_layer=seen.append, per_layer=True
    )
    _check_against_golden(qnet, x_q, res, *ARRAY)
    assert [r.name for r in seen] == [r.name for r in res.layers]  # progress saw every layer
    kinds = {r.kind for r in res.accel_layers}
    assert {"dense", "pointwise", "fuse_row", "fuse_col", "linear"} <= kinds
    assert res.cfg.act_depth & (res.cfg.act_depth - 1) == 0  # sized to powers of two
    util = [r.utilization for r in res.accel_layers]
    assert all(0 < u <= 1 for u in util)


def _tiny_qnet(seed: int = 0):
    from sw.export import quantize_network
    from tests.sw.quant_models import images, tiny_net

    qnet = quantize_network(tiny_net(seed), images(4, 16, seed + 1))
    return qnet, qnet.quantize_input(images(2, 16, seed + 7))


@pytest.mark.verilator
def test_every_layer_kind_batch_2(require_simulator, mnv2):
    """TinyNet (dense 3x3/2, max pool, FuSe-Half 3x1/1x3 stride 2, FuSe-Full, add, KxK
    depthwise as per-channel GEMMs, avg pool, linear), batch 2, on 8x8: the same build as the
    MobileNetV2 test (the array's one shared build; Icarus: ``test_tiny_icarus``)."""
    from sim import run_network
    from sw.mapping.accel import unbounded

    require_simulator("verilator")
    qnet, x_q = _tiny_qnet()
    res = run_network(qnet, x_q, ArrayConfig(*ARRAY), "verilator", per_layer=True)
    assert res.cfg == unbounded(ArrayConfig(*ARRAY))
    _check_against_golden(qnet, x_q, res, *ARRAY)
    assert {r.mapping for r in res.accel_layers} >= {"gemm", "depthwise-baseline"}
    assert {r.mapping for r in res.accel_layers} & {"fuse", "fuse-packed"}


@pytest.mark.icarus
def test_tiny_icarus(require_simulator):
    """TinyNet, batch 1, on 4x4 in Icarus (about 9 s with the build)."""
    from sim import run_network

    require_simulator("icarus")
    qnet, x_q = _tiny_qnet()
    res = run_network(qnet, x_q[:1], ArrayConfig(4, 4), "icarus", per_layer=True)
    _check_against_golden(qnet, x_q[:1], res, 4, 4)


def _corrupt_weight(qnet, name: str, index: tuple[int, ...]):
    bad = copy.deepcopy(qnet)
    w = bad.layer(name).weight
    w[index] = np.int8(-w[index] if w[index] != 0 else 1)
    return bad


@pytest.mark.verilator
def test_mismatch_stops_with_layer_shape_and_diff(require_simulator, mnv2):
    """A corrupted weight in the network the hardware runs (golden = the original) stops the run
    at that layer; the error names the layer and its shape, and counts exactly the outputs the
    golden's own accumulate says change."""
    from sim import run_network
    from sim.network import NetworkMismatchError

    require_simulator("verilator")
    qnet, x_q = mnv2
    name = "features.2.conv.1.row.0"
    bad = _corrupt_weight(qnet, name, (3, 0, 0, 1))
    x_in = qnet.run(x_q, trace=True).tensors[qnet.layer(name).inputs[0]]
    want_diff = int((bad.layer(name).accumulate(x_in) != qnet.layer(name).accumulate(x_in)).sum())
    assert want_diff > 0
    with pytest.raises(NetworkMismatchError) as info:
        run_network(bad, x_q, ArrayConfig(*ARRAY), "verilator", golden=qnet, per_layer=True)
    msg = str(info.value)
    shape = "x".join(map(str, qnet.run(x_q, trace=True).accumulators[name].shape))
    assert f"layer {name} (fuse_row, fuse, output {shape})" in msg
    assert f"{want_diff} of " in msg and "channels [3]" in msg
    res = info.value.result
    assert res.stopped_at == name and res.layers[-1].name == name
    assert res.output.size == 0  # stopped: no network output


@pytest.mark.verilator
def test_keep_going_collects_every_mismatch(require_simulator, mnv2):
    """Two corrupted layers with ``keep_going``: both reported, every other layer exact (each
    layer is checked on the input it actually got), the run reaches the end."""
    from sim import run_network

    require_simulator("verilator")
    qnet, x_q = mnv2
    bad = _corrupt_weight(qnet, "features.1.conv.1", (0, 0, 0, 0))
    # the hardware runs ``bad`` exactly, so its inputs are ``bad``'s golden chain: corrupt a
    # classifier weight whose input feature is nonzero
    feats = bad.run(x_q, trace=True).tensors[bad.layer("classifier.1").inputs[0]]
    bad = _corrupt_weight(bad, "classifier.1", (2, int(np.abs(feats[0]).argmax())))
    res = run_network(
        bad, x_q, ArrayConfig(*ARRAY), "verilator", keep_going=True, golden=qnet, per_layer=True
    )
    assert [r.name for r in res.mismatched] == ["features.1.conv.1", "classifier.1"]
    assert res.stopped_at == "features.1.conv.1"
    assert res.output.shape == (1, 10) and not res.exact
    assert res.cycles_match  # the cycle counts do not depend on the values


def test_unsupported_networks_and_inputs_raise_valueerror():
    """No simulator needed: these fail before any build."""
    from sim import run_network
    from sim.network import network_config
    from sw.export.qnet import QConv, QuantizedNetwork

    cfg = ArrayConfig(1, 1)

    def conv(name, cin, cout, k=1, groups=1, inputs=("input",)):
        return QConv(
            name=name,
            inputs=inputs,
            out_scale=1.0,
            weight=np.ones((cout, cin // groups, k, k), np.int8),
            bias=np.zeros(cout, np.int32),
            w_scale=np.ones(cout, np.float32),
            in_scale=1.0,
            groups=groups,
            padding=(k // 2, k // 2),
        )

    big = QuantizedNetwork([conv("huge_pw", 4, 128)], 1.0, (4, 128, 128), "huge_pw")
    with pytest.raises(ValueError, match="layer huge_pw needs 2097152 words of acc memory"):
        network_config(big, cfg)
    grouped = QuantizedNetwork([conv("grp", 4, 4, 3, groups=2)], 1.0, (4, 8, 8), "grp")
    with pytest.raises(ValueError, match="layer grp: grouped convolution"):
        run_network(grouped, np.zeros((1, 4, 8, 8), np.int8), cfg, per_layer=True)
    with pytest.raises(ValueError, match=r"layer grp \(QConv\): op='grouped'"):
        run_network(grouped, np.zeros((1, 4, 8, 8), np.int8), cfg)  # one program
    with pytest.raises(ValueError, match="memories='fit'.*per_layer=True"):
        run_network(grouped, np.zeros((1, 4, 8, 8), np.int8), cfg, memories="fit")
    ok = QuantizedNetwork([conv("pw", 4, 4)], 1.0, (4, 8, 8), "pw")
    with pytest.raises(ValueError, match="int8"):
        run_network(ok, np.zeros((1, 4, 8, 8), np.int32), cfg)
    with pytest.raises(ValueError, match="QuantizedNetwork"):
        run_network(object(), np.zeros((1, 4, 8, 8), np.int8), cfg)
    with pytest.raises(ValueError, match="depthwise mapping"):
        run_network(ok, np.zeros((1, 4, 8, 8), np.int8), cfg, depthwise="fast")
    # sizing: every layer fits, depths are powers of two covering the largest program
    sized = network_config(ok, ArrayConfig(2, 2))
    assert (sized.act_depth, sized.acc_depth) == (128, 128)  # 2 row folds x 64 px; 2 col folds


def test_cli_rejects_mobilenet_v3(capsys):
    from fusesa.cli import main

    code = main(
        ["infer", "--net", "mobilenet_v3_small", "--resolution", "32", "--width-mult", "0.25"]
    )
    assert code == 2
    assert "cannot quantize Hswish" in capsys.readouterr().err


@pytest.mark.verilator
def test_cli_infer_json(require_simulator, tmp_path, capsys):
    from fusesa.cli import main

    require_simulator("verilator")
    out = tmp_path / "r.json"
    args = ["infer", "--net", "mobilenet_v2", "--variant", "half", "--array", "8x8"]
    args += ["--resolution", "32", "--width-mult", "0.25", "--classes", "10", "--seed", "3"]
    assert main(args + ["--json", str(out), "--clock-mhz", "500", "--per-layer"]) == 0
    text = capsys.readouterr().out
    assert "bit-exact: yes" in text and "top-5 int8 RTL" in text
    assert re.search(r"\[\s*1/\d+\] features\.0\.0 .* exact", text)  # progress line
    rep = json.loads(out.read_text())
    (run,) = rep["runs"]
    assert run["exact"] and run["cycles_match"] and run["cycles"] == run["model_cycles"]
    assert run["time_us"] == pytest.approx(run["cycles"] / 500, rel=1e-6)
    assert len(run["top5"]["rtl"]) == 5 and len(run["output"][0]) == 10


@pytest.mark.verilator
def test_cli_infer_one_program_json(require_simulator, tmp_path, capsys):
    """``fusesa infer`` (default: ONE program): every layer exact, no host op, cycles ==
    model, the per-layer table, top-5 and the time at a clock; ``--compare`` gives the
    measured speedup of the two one-program runs."""
    from fusesa.cli import main

    require_simulator("verilator")
    out = tmp_path / "r.json"
    args = ["infer", "--net", "mobilenet_v2", "--variant", "half", "--array", "8x8"]
    args += ["--resolution", "32", "--width-mult", "0.25", "--classes", "10", "--seed", "3"]
    assert main(args + ["--json", str(out), "--clock-mhz", "500", "--compare"]) == 0
    text = capsys.readouterr().out
    assert "host ops: none" in text and "bit-exact at every layer: yes" in text
    m = re.search(r"features\.0\.0 +Conv +CONV\+GEMM\(conv\) +3 +(\d+) +(\d+) yes", text)
    assert m and m[1] == m[2]  # measured == model
    rep = json.loads(out.read_text())
    base, fuse = rep["runs"]
    for run in (base, fuse):
        assert run["exact"] and run["programs"] == 1 and run["host_ops"] == []
        assert run["cycles"] == run["model_cycles"]
        assert run["time_us"] == pytest.approx(run["cycles"] / 500, rel=1e-6)
        assert len(run["top5"]["rtl"]) == 5
    assert rep["compare"]["speedup"] == pytest.approx(base["cycles"] / fuse["cycles"])


#: one build for every zoo network at 32x32 on 8x8 (the array's shared build)
ZOO_CFG = ArrayConfig(8, 8)


@pytest.mark.slow
@pytest.mark.verilator
@pytest.mark.parametrize("variant", ["base", "full", "half", "full_hybrid", "half_hybrid"])
@pytest.mark.parametrize("net", ["mobilenet_v1", "mobilenet_v2", "mnasnet", "resnet50"])
def test_zoo_at_32_on_8x8(net, variant, require_simulator):
    """Every zoo network/variant that quantization supports, resolution 32, on 8x8."""
    from sim import run_network
    from sw.export import quantize_network, set_bn_statistics
    from sw.models.zoo import build_model

    require_simulator("verilator")
    torch.manual_seed(0)
    model = build_model(net, variant, 100)
    data = torch.randn(6, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    set_bn_statistics(model, data[:4])
    qnet = quantize_network(model, data[4:5])
    x_q = qnet.quantize_input(data[5:6])
    res = run_network(qnet, x_q, ZOO_CFG, "verilator", per_layer=True)
    _check_against_golden(qnet, x_q, res, 8, 8)


def test_cli_image_loading(tmp_path):
    """``--image``: binary PPM and .npy (HWC uint8) give the same ImageNet-normalized tensor;
    a constant image stays constant through the resize."""
    from fusesa.cmd_infer import IMAGENET_MEAN, IMAGENET_STD, load_image

    img = np.zeros((6, 10, 3), np.uint8)
    img[..., 0], img[..., 1], img[..., 2] = 255, 0, 51
    ppm = tmp_path / "a.ppm"
    ppm.write_bytes(b"P6\n# comment\n10 6\n255\n" + img.tobytes())
    np.save(tmp_path / "a.npy", img)
    a, b = load_image(ppm, 8), load_image(tmp_path / "a.npy", 8)
    assert tuple(a.shape) == (1, 3, 8, 8)
    torch.testing.assert_close(a, b)
    want = [
        (v / 255 - m) / s for v, m, s in zip((255, 0, 51), IMAGENET_MEAN, IMAGENET_STD, strict=True)
    ]
    for c in range(3):
        torch.testing.assert_close(a[0, c], torch.full((8, 8), want[c]), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="does not exist"):
        load_image(tmp_path / "missing.ppm", 8)
    (tmp_path / "bad.npy").write_bytes(b"not numpy")
    with pytest.raises(ValueError, match="cannot read"):
        load_image(tmp_path / "bad.npy", 8)


@pytest.mark.slow
@pytest.mark.verilator
def test_cli_compare(require_simulator, tmp_path):
    """``--compare``: baseline (3x3 depthwise as per-channel GEMMs) and FuSe-Half on one 8x8
    build; measured speedup == the ratio of the formula cycles; rtl/paper figures from
    ``sw.latency`` on the same float models."""
    from fusesa.cli import main

    require_simulator("verilator")
    out = tmp_path / "c.json"
    args = ["infer", "--net", "mobilenet_v2", "--variant", "half", "--array", "8x8"]
    args += ["--resolution", "32", "--width-mult", "0.25", "--classes", "10", "--compare"]
    assert main(args + ["--quiet", "--json", str(out), "--per-layer"]) == 0
    rep = json.loads(out.read_text())
    base, fuse = rep["runs"]
    assert "base" in base["network"] and "half" in fuse["network"]
    assert {r["mapping"] for r in base["layers"] if r["accel"]} == {"gemm", "depthwise-baseline"}
    assert all(r["exact"] and r["cycles_match"] for run in rep["runs"] for r in run["layers"])
    cmp = rep["compare"]
    assert cmp["measured_speedup"] == pytest.approx(base["cycles"] / fuse["cycles"], abs=1e-5)
    assert cmp["measured_speedup"] == cmp["accel_model_speedup"]
    assert cmp["measured_speedup"] > 1 and cmp["paper_model_speedup"] > 1


def test_layer_too_large_for_one_command():
    """A GEMM with more than 65535 activation rows (the ``m`` field) names the layer."""
    from sim.network import network_config
    from sw.export.qnet import QConv, QuantizedNetwork

    pw = QConv(
        name="wide_pw",
        inputs=("input",),
        out_scale=1.0,
        weight=np.ones((2, 2, 1, 1), np.int8),
        bias=np.zeros(2, np.int32),
        w_scale=np.ones(2, np.float32),
        in_scale=1.0,
    )
    net = QuantizedNetwork([pw], 1.0, (2, 256, 257), "wide_pw")  # M = 65792
    with pytest.raises(ValueError, match=r"layer wide_pw cannot be one accelerator command: .*m"):
        network_config(net, ArrayConfig(4, 4))


def test_waves_layer_must_be_a_mac_layer(mnv2):
    from sim.network import dump_layer_waves

    qnet, x_q = mnv2
    with pytest.raises(ValueError, match="'add' is not a conv/linear layer"):
        dump_layer_waves(qnet, x_q, ArrayConfig(*ARRAY), "add", "/nonexistent/w.vcd")


@pytest.mark.slow
@pytest.mark.verilator
def test_waves_of_one_layer(require_simulator, mnv2, tmp_path):
    """``dump_layer_waves``: one FuSe layer in a trace-enabled build; the VCD covers that layer
    only (its last time stamp is about the layer's cycles, not the network's)."""
    from sim.network import dump_layer_waves, layer_model_cycles

    require_simulator("verilator")
    qnet, x_q = mnv2
    name = "features.2.conv.1.row.0"
    out = tmp_path / "w.vcd"
    rec = dump_layer_waves(qnet, x_q, ArrayConfig(*ARRAY), name, out)
    layer = qnet.layer(name)
    shape = qnet.shapes[layer.inputs[0]]
    assert rec.name == name and rec.exact and rec.mapping == "fuse"
    assert rec.cycles == layer_model_cycles(layer, shape, 1, ArrayConfig(*ARRAY), "fuse")
    text = out.read_text()
    assert "$enddefinitions" in text and "cnt_total" in text
    last = max(int(t[1:]) for t in re.findall(r"^#\d+", text, re.M))
    # 10 ns clock, ps timescale: reset + load + run + read back, one layer only
    assert last < (rec.cycles + 20) * 10_000
