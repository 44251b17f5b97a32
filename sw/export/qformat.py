"""Versioned file format of a ``QuantizedNetwork`` (issue 10).

One file, a numpy ``.npz`` archive (zip, deflate) holding:

* ``__graph__``: UTF-8 JSON as a uint8 array: ``{"format": "fusesa-qnet", "version": 1,
  "input_scale", "input_shape", "output", "meta", "layers": [...]}``; each layer record has
  ``kind``, ``name``, ``inputs``, ``out_scale``, ``source``, its scalar attributes (stride,
  padding, groups, clamp, scales...) and ``arrays``: field -> ``{"key", "dtype", "shape",
  "sha256"}``;
* one array per tensor parameter (``L<index>.<field>``: int8 weights, int32 biases, float32
  per-channel weight scales).

Scales are float32 values written as JSON doubles, so they round-trip exactly. ``load_network``
raises ``ValueError`` naming the problem for a missing/truncated/corrupt archive, a wrong format
or version, a checksum/dtype/shape mismatch, unknown or missing fields, and any graph
inconsistency found by ``QuantizedNetwork.validate`` (channels, shapes, scales along edges).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from sw.export.qnet import LAYER_TYPES, LayerKind, QLayer, QuantizedNetwork

__all__ = ["FORMAT", "FORMAT_VERSION", "save_network", "load_network"]

FORMAT = "fusesa-qnet"
FORMAT_VERSION = 1
_GRAPH_KEY = "__graph__"
_BASE_FIELDS = ("name", "inputs", "out_scale", "source")


def _sha256(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def _jsonable(v: Any) -> Any:
    if isinstance(v, tuple | list):
        return [_jsonable(i) for i in v]
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


def save_network(qnet: QuantizedNetwork, path: str | Path) -> None:
    """Write ``qnet`` to ``path`` (any extension; conventionally ``.qnet.npz``)."""
    qnet.validate()
    arrays: dict[str, np.ndarray] = {}
    records = []
    for i, layer in enumerate(qnet.layers):
        rec: dict[str, Any] = {"kind": layer.kind.value}
        arr_meta = {}
        for f in fields(layer):
            v = getattr(layer, f.name)
            if isinstance(v, np.ndarray):
                key = f"L{i}.{f.name}"
                arrays[key] = v
                arr_meta[f.name] = {
                    "key": key,
                    "dtype": str(v.dtype),
                    "shape": list(v.shape),
                    "sha256": _sha256(v),
                }
            else:
                rec[f.name] = _jsonable(v)
        if arr_meta:
            rec["arrays"] = arr_meta
        records.append(rec)
    graph = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "input_scale": qnet.input_scale,
        "input_shape": list(qnet.input_shape),
        "output": qnet.output,
        "meta": qnet.meta,
        "layers": records,
    }
    blob = json.dumps(graph, indent=1).encode()
    arrays[_GRAPH_KEY] = np.frombuffer(blob, np.uint8)
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)


def _read_archive(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError) as exc:
        raise ValueError(
            f"{path}: not a readable fusesa quantized-network file (truncated or corrupt "
            f"archive: {exc})"
        ) from exc


def load_network(path: str | Path) -> QuantizedNetwork:
    """Read a file written by ``save_network``; ``ValueError`` names what is wrong with it."""
    path = Path(path)
    data = _read_archive(path)
    if _GRAPH_KEY not in data:
        raise ValueError(f"{path}: no {_GRAPH_KEY} entry: not a fusesa quantized-network file")
    try:
        graph = json.loads(bytes(data.pop(_GRAPH_KEY).astype(np.uint8)).decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: graph JSON is corrupt: {exc}") from exc
    if not isinstance(graph, dict) or graph.get("format") != FORMAT:
        raise ValueError(f"{path}: format is not {FORMAT!r}")
    version = graph.get("version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{path}: file format version {version!r}; this fusesa reads version {FORMAT_VERSION}"
        )
    for key in ("input_scale", "input_shape", "output", "layers"):
        if key not in graph:
            raise ValueError(f"{path}: graph has no {key!r} field")
    if not isinstance(graph["layers"], list):
        raise ValueError(f"{path}: 'layers' must be a list")
    used: set[str] = set()
    layers = [_layer(path, i, rec, data, used) for i, rec in enumerate(graph["layers"])]
    extra = sorted(set(data) - used)
    if extra:
        raise ValueError(f"{path}: arrays {extra} belong to no layer")
    meta = graph.get("meta", {})
    if not isinstance(meta, dict):
        raise ValueError(f"{path}: 'meta' must be an object")
    try:
        return QuantizedNetwork(
            layers, graph["input_scale"], graph["input_shape"], graph["output"], meta
        )
    except ValueError as exc:
        raise ValueError(f"{path}: inconsistent network: {exc}") from exc


def _layer(path: Path, i: int, rec: Any, data: dict[str, np.ndarray], used: set[str]) -> QLayer:
    where = f"{path}: layer {i}"
    if not isinstance(rec, dict):
        raise ValueError(f"{where}: record must be an object")
    try:
        cls = LAYER_TYPES[LayerKind(rec.get("kind"))]
    except ValueError:
        raise ValueError(f"{where}: unknown layer kind {rec.get('kind')!r}") from None
    where = f"{path}: layer {i} ({rec.get('name', '?')})"
    names = [f.name for f in fields(cls)]
    arrays_meta = rec.get("arrays", {})
    if not isinstance(arrays_meta, dict):
        raise ValueError(f"{where}: 'arrays' must be an object")
    kwargs: dict[str, Any] = {}
    for key, v in rec.items():
        if key in ("kind", "arrays"):
            continue
        if key not in names:
            raise ValueError(f"{where}: unknown field {key!r} for a {cls.kind.value} layer")
        kwargs[key] = v
    for key, meta in arrays_meta.items():
        if key not in names:
            raise ValueError(f"{where}: unknown array field {key!r}")
        kwargs[key] = _array(where, key, meta, data, used)
    missing = [n for n in names if n not in kwargs and n != "source"]
    if missing:
        raise ValueError(f"{where}: missing field(s) {missing}")
    return cls(**kwargs)


def _array(
    where: str, field: str, meta: Any, data: dict[str, np.ndarray], used: set[str]
) -> np.ndarray:
    if not isinstance(meta, dict) or not {"key", "dtype", "shape", "sha256"} <= set(meta):
        raise ValueError(f"{where}: array {field!r} needs key, dtype, shape and sha256")
    key = meta["key"]
    if key not in data:
        raise ValueError(f"{where}: array {field!r} ({key}) is missing from the archive")
    a = data[key]
    if str(a.dtype) != meta["dtype"] or list(a.shape) != list(meta["shape"]):
        raise ValueError(
            f"{where}: array {field!r} is {a.dtype} {list(a.shape)}, the graph says "
            f"{meta['dtype']} {meta['shape']}"
        )
    if _sha256(a) != meta["sha256"]:
        raise ValueError(f"{where}: array {field!r} ({key}) fails its sha256 checksum")
    used.add(key)
    return a
