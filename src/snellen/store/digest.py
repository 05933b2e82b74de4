"""The sha256 of a file, computed once per version of the file.

Weights files are hundreds of megabytes, and the same file is named again and again (every
``snellen eval`` of a model, every LENS run), so a digest is kept by the file's absolute path,
size and modification time in ``SNELLEN_CACHE_DIR`` (else ``$XDG_CACHE_HOME/snellen``, else
``~/.cache/snellen``) as ``sha256.json``; a file rewritten in place changes its size or
modification time and is hashed again."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

__all__ = ["cache_dir", "file_sha256"]

_LOCK = threading.Lock()
_MEMORY: dict[tuple[str, int, int], str] = {}


def cache_dir() -> Path | None:
    """Where snellen keeps caches: ``SNELLEN_CACHE_DIR`` (``none`` turns them off), else
    ``$XDG_CACHE_HOME/snellen``, else ``~/.cache/snellen``."""
    configured = os.environ.get("SNELLEN_CACHE_DIR")
    if configured:
        return None if configured.lower() == "none" else Path(configured).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "snellen"


def _hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _load(store: Path) -> dict[str, dict[str, object]]:
    try:
        data = json.loads(store.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The hex sha256 of the file at ``path`` (a directory is an error), from the cache when
    the file's size and modification time match the cached ones."""
    p = Path(path).resolve()
    st = p.stat()
    key = (str(p), st.st_size, st.st_mtime_ns)
    with _LOCK:
        if key in _MEMORY:
            return _MEMORY[key]
    where = cache_dir()
    store = where / "sha256.json" if where is not None else None
    if store is not None:
        entry = _load(store).get(key[0])
        if entry and entry.get("size") == key[1] and entry.get("mtime_ns") == key[2]:
            with _LOCK:
                _MEMORY[key] = str(entry["sha256"])
            return _MEMORY[key]
    value = _hash(p)
    with _LOCK:
        _MEMORY[key] = value
    if store is not None:
        _save(store, key, value)
    return value


def _save(store: Path, key: tuple[str, int, int], value: str) -> None:
    # a cache: a failure to write it costs a re-hash next time, never the caller's result
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        data = _load(store)
        data[key[0]] = {"size": key[1], "mtime_ns": key[2], "sha256": value}
        tmp = store.with_name(f".{store.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=0, sort_keys=True), encoding="utf-8")
        tmp.replace(store)
    except OSError:
        return
