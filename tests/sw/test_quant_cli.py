"""``fusesa quantize`` (fusesa/cmd_quantize.py): writes a loadable file and ONNX, prints the
per-layer scales and the agreement figures; bad networks fail with a message, not a trace."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fusesa.cli import main
from sw.export import load_network
from tests.conftest import import_or_skip

torch.set_num_threads(1)


def test_quantize_writes_file_and_reports(tmp_path, capsys):
    import_or_skip("onnxruntime")
    out, onnx_path = tmp_path / "q" / "net.qnet.npz", tmp_path / "net.onnx"
    argv = ["quantize", "--net", "mobilenet_v2", "--variant", "half", "--resolution", "32"]
    argv += ["--calib", "4", "--eval", "4", "--classes", "10", "--seed", "3"]
    assert main([*argv, "--out", str(out), "--onnx", str(onnx_path)]) == 0
    text = capsys.readouterr().out
    assert "features.1.conv.0.row.0" in text and "fuse_row" in text
    assert "top-1 agreement" in text and "logit SNR" in text
    assert "onnxruntime vs golden: logits exact 100.00 %" in text
    qnet = load_network(out)
    assert qnet.input_shape == (3, 32, 32) and onnx_path.stat().st_size > 0
    x_q = np.zeros((1, 3, 32, 32), np.int8)
    assert qnet.run(x_q).shape == (1, 10)


def test_quantize_mobilenet_v3_fails_cleanly(tmp_path, capsys):
    argv = ["quantize", "--net", "mobilenet_v3_small", "--resolution", "32", "--calib", "2"]
    assert main([*argv, "--out", str(tmp_path / "x.npz")]) == 2
    assert "Hswish" in capsys.readouterr().err


def test_quantize_listed_in_help(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "quantize" in capsys.readouterr().out
