"""The original ``traincifar224.py`` entry point, as a thin alias of ``fusesa train``:

python scripts/traincifar224.py -D CIFAR10 -N MobileNetV2 -n run1 -v full [--resume]
    [--data-dir DIR]   (every other ``fusesa train`` flag works too)
"""

import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    # Run from a checkout without installing: make the repository root importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from fusesa.cli import main as fusesa_main

    return fusesa_main(["train", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
