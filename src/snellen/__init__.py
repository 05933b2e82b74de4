"""snellen: a vision check-up for language models, and vision systems built out of text.

The Python API mirrors the command line: every ``snellen SUBCOMMAND`` is a function
reachable from here or from the sub-package named after it.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
