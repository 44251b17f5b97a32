"""Make ``tests/sw`` importable for the shared seed values (no package __init__ here)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
