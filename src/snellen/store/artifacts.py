"""Content-addressed artifacts (programs, images) written atomically.

An artifact is named by the SHA-256 of its bytes, so writing the same content twice is a
no-op and a writer killed half-way leaves at worst a temporary file, never a torn artifact.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path


class ArtifactStore:
    """Files under ``root/ab/abcdef...<suffix>``, addressed by content hash."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def put(self, data: bytes, suffix: str = "") -> str:
        """Store ``data`` and return its reference (a path relative to the store root)."""
        digest = hashlib.sha256(data).hexdigest()
        ref = f"{digest[:2]}/{digest}{suffix}"
        path = self.root / ref
        if path.exists():
            return ref
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return ref

    def path(self, ref: str) -> Path:
        return self.root / ref

    def get(self, ref: str) -> bytes:
        return (self.root / ref).read_bytes()

    def __contains__(self, ref: str) -> bool:
        return (self.root / ref).exists()
