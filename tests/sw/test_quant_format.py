"""The versioned quantized-network file (sw/export/qformat.py): exact round trip, and a
``ValueError`` naming the problem for truncated, corrupt, wrong-version and hand-edited files."""

from __future__ import annotations

import json
from dataclasses import fields

import numpy as np
import pytest
import torch
from quant_models import images, tiny_net

from sw.export import FORMAT_VERSION, load_network, quantize_network

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def qnet():
    return quantize_network(tiny_net(), images(8))


@pytest.fixture
def saved(qnet, tmp_path):
    path = tmp_path / "tiny.qnet.npz"
    qnet.save(path)
    return path


def _rewrite(path, edit):
    """Load the archive, let ``edit(graph, arrays)`` change it, write it back."""
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    graph = json.loads(bytes(arrays.pop("__graph__")).decode())
    edit(graph, arrays)
    arrays["__graph__"] = np.frombuffer(json.dumps(graph).encode(), np.uint8)
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def _conv_record(graph, name="fhalf.row.0"):
    return next(r for r in graph["layers"] if r["name"] == name)


def test_round_trip_is_exact(qnet, saved):
    back = load_network(saved)
    assert back.input_scale == qnet.input_scale and back.input_shape == qnet.input_shape
    assert back.output == qnet.output and back.meta == qnet.meta
    assert len(back.layers) == len(qnet.layers)
    for a, b in zip(qnet.layers, back.layers, strict=True):
        assert type(a) is type(b)
        for f in fields(a):
            va, vb = getattr(a, f.name), getattr(b, f.name)
            if isinstance(va, np.ndarray):
                assert va.dtype == vb.dtype
                np.testing.assert_array_equal(va, vb)
            else:
                assert va == vb, (a.name, f.name)
    x_q = qnet.quantize_input(images(3, seed=5))
    np.testing.assert_array_equal(back.run(x_q), qnet.run(x_q))


def test_truncated_file(saved):
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load_network(saved)


def test_corrupted_bytes(saved):
    data = bytearray(saved.read_bytes())
    for i in range(200, 260):
        data[i] ^= 0x5A
    saved.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupt|checksum"):
        load_network(saved)


def test_not_an_archive(tmp_path):
    p = tmp_path / "junk.npz"
    p.write_text("hello")
    with pytest.raises(ValueError, match="not a readable"):
        load_network(p)


def test_wrong_version(saved):
    _rewrite(saved, lambda g, a: g.__setitem__("version", FORMAT_VERSION + 1))
    with pytest.raises(ValueError, match="version 2"):
        load_network(saved)


def test_wrong_format(saved):
    _rewrite(saved, lambda g, a: g.__setitem__("format", "something-else"))
    with pytest.raises(ValueError, match="format"):
        load_network(saved)


def test_tensor_edited_without_checksum(saved):
    def edit(g, a):
        key = _conv_record(g)["arrays"]["weight"]["key"]
        a[key] = a[key].copy()
        a[key].flat[0] ^= 1

    _rewrite(saved, edit)
    with pytest.raises(ValueError, match=r"fhalf.row.0.*weight.*sha256"):
        load_network(saved)


def test_groups_edited(saved):
    _rewrite(saved, lambda g, a: _conv_record(g).__setitem__("groups", 1))
    with pytest.raises(ValueError, match=r"fhalf.row.0.*channels"):
        load_network(saved)


def test_scale_edited_inconsistently(saved):
    _rewrite(saved, lambda g, a: _conv_record(g).__setitem__("in_scale", 0.5))
    with pytest.raises(ValueError, match=r"fhalf.row.0.*in_scale"):
        load_network(saved)


def test_negative_scale(saved):
    _rewrite(saved, lambda g, a: _conv_record(g).__setitem__("out_scale", -1.0))
    with pytest.raises(ValueError, match=r"fhalf.row.0.*out_scale"):
        load_network(saved)


def test_dangling_input(saved):
    _rewrite(saved, lambda g, a: _conv_record(g).__setitem__("inputs", ["nowhere"]))
    with pytest.raises(ValueError, match="nowhere"):
        load_network(saved)


def test_layer_removed(saved):
    def edit(g, a):
        rec = g["layers"].pop(0)
        for meta in rec.get("arrays", {}).values():
            del a[meta["key"]]

    _rewrite(saved, edit)
    with pytest.raises(ValueError, match="stem.0"):
        load_network(saved)


def test_unknown_kind_and_field(saved):
    _rewrite(saved, lambda g, a: _conv_record(g).__setitem__("kind", "softmax"))
    with pytest.raises(ValueError, match="unknown layer kind 'softmax'"):
        load_network(saved)


def test_unknown_field(saved):
    _rewrite(saved, lambda g, a: _conv_record(g).__setitem__("dilation", [2, 2]))
    with pytest.raises(ValueError, match="unknown field 'dilation'"):
        load_network(saved)


def test_bad_field_type(saved):
    _rewrite(saved, lambda g, a: _conv_record(g).__setitem__("stride", "two"))
    with pytest.raises(ValueError, match=r"fhalf.row.0: stride"):
        load_network(saved)
