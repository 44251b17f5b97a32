"""The skip-to-fail switch of ``tests/conftest.py``: a missing optional package or tool skips
locally and fails when ``CI`` is set, also for a module-level import in a real test file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import import_or_skip, require_tool

ROOT = Path(__file__).resolve().parents[1]
MISSING = "fusesa_no_such_module_xyz"


def test_import_or_skip_skips_locally_and_fails_in_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=MISSING):
        import_or_skip(MISSING)
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        require_tool(MISSING)
    assert import_or_skip("json").dumps([1]) == "[1]"
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run this test"):
        import_or_skip(MISSING)
    with pytest.raises(pytest.fail.Exception, match="CI must run this test"):
        require_tool(MISSING)


def test_hidden_onnxruntime_fails_the_onnx_tests_in_ci(tmp_path):
    # a stand-in package that cannot be imported hides the real onnxruntime
    (tmp_path / "onnxruntime.py").write_text("raise ImportError('hidden by the test')\n")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(ROOT)])
    env["CI"] = "true"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"]
        + ["tests/sw/test_quant_onnx.py", "-k", "every_layer"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    out = proc.stdout + proc.stderr
    # a collection error (exit status 2), not "no tests ran" (5) or a skip
    assert proc.returncode == 2 and "cannot import onnxruntime" in out, out
    assert "CI must run this test" in out and "skipped" not in out, out
