"""Shared pytest fixtures: simulator selection with a clean skip when a tool is missing
(CI installs every tool, so nothing is skipped there)."""

from __future__ import annotations

import os

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


@pytest.fixture
def require_simulator():
    def check(simulator: str) -> None:
        if not simulator_available(simulator):
            if os.environ.get("CI"):
                pytest.fail(f"{simulator} is not installed, but CI must run every simulator test")
            pytest.skip(f"{simulator} not installed")

    return check
