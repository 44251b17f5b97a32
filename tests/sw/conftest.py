"""Shared helpers of the sw tests: ``tests/sw`` importable for the seed values (no package
__init__ here) and a synthesis-report fixture."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


def write_synth_report(path: Path, rows: int, cols: int, base_mhz, fuse_mhz) -> Path:
    """A minimal ``fusesa synth`` report with the real layout (``synth/report.py``): size at
    the top, ``variants.<base|fuse>.timing.fmax_mhz`` and ``config.fuse`` per variant."""
    import json

    doc = {
        "rows": rows,
        "cols": cols,
        "method": "flat",
        "period_ns": 10.0,
        "variants": {
            key: {
                "config": {"rows": rows, "cols": cols, "fuse": fuse},
                "timing": {"fmax_mhz": mhz, "wns_ns": 4.8, "period_ns": 10.0},
            }
            for key, fuse, mhz in (("base", False, base_mhz), ("fuse", True, fuse_mhz))
        },
        "overhead_pct": {"fmax": 0.0},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, sort_keys=True))
    return path


@pytest.fixture
def synth_json():
    """Factory: ``synth_json(path, rows, cols, base_mhz, fuse_mhz)`` writes a report fixture."""
    return write_synth_report
