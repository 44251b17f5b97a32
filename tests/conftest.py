"""Shared pytest fixtures: simulator selection with a clean skip when a tool or an optional
package is missing, turned into a failure when the environment variable ``CI`` is set (CI
installs every tool, so nothing may be skipped there)."""

from __future__ import annotations

import importlib
import os
import shutil

import pytest

from sim.runner import SIMULATORS, simulator_available


def sim_params():
    """``pytest.param`` per simulator, Verilator ones carrying the ``verilator`` marker."""
    return [
        pytest.param(
            s, marks=[pytest.mark.verilator] if s == "verilator" else [pytest.mark.icarus], id=s
        )
        for s in SIMULATORS
    ]


def skip_or_fail(reason: str) -> None:
    """Skip the test (or the whole module, when called at import time) with ``reason``, except
    when ``CI`` is set: CI installs every tool and package, so a missing one is a failure there
    (the same switch as ``require_simulator``)."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}, but CI must run this test (CI={os.environ['CI']!r})", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def import_or_skip(module: str):
    """``pytest.importorskip`` that fails instead of skipping when ``CI`` is set. For optional
    third-party packages only: the project's own modules are imported plainly (an import error
    there is a bug, never a skip)."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        skip_or_fail(f"cannot import {module} ({e})")


def require_tool(name: str) -> str:
    """Path of the executable ``name``; skips (fails under ``CI``) when it is not on PATH."""
    path = shutil.which(name)
    if path is None:
        skip_or_fail(f"{name} is not installed")
    return path


@pytest.fixture
def require_simulator():
    def check(simulator: str) -> None:
        if not simulator_available(simulator):
            skip_or_fail(f"{simulator} is not installed")

    return check
