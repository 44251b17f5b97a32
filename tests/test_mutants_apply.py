"""Every mutant of ``benchmarks/mutants.py`` still applies: its context text occurs exactly once
in its file. An RTL edit that moves a mutant's context would otherwise make the mutation check
skip it silently ("not applied") instead of testing anything."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _mutants():
    spec = importlib.util.spec_from_file_location("mutants", ROOT / "benchmarks" / "mutants.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.MUTANTS


@pytest.mark.parametrize("name", sorted(_mutants()))
def test_mutant_context_occurs_once(name):
    file, old, new, *_ = _mutants()[name]
    assert old != new
    assert (ROOT / file).read_text().count(old) == 1, f"{name}: context not found once in {file}"
