"""The vision-from-text study: a thin caller of ``snellen reproduce vision`` (see
docs/vision.md), kept so that older instructions still work. Every option is passed on.

    PYTHONPATH=src .venv/bin/python benchmarks/study_vision.py --preset cpu \
        --sources dead-leaves,transcripts --out runs/vision
"""

from __future__ import annotations

import sys

from snellen.cli import main

if __name__ == "__main__":
    sys.exit(main(["reproduce", "vision", *sys.argv[1:]]))
