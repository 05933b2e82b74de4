"""A run: one directory holding everything a job produced, safe to kill and resume.

Layout::

    RUN/
      manifest.json      config, seeds, package and model versions, start/end of each session
      records.sqlite     every finished record (SQLite in WAL mode) and the LLM reply cache
      artifacts/         content-addressed programs and images
      *.parquet          exports of the record tables, for pandas

A record is written in one transaction keyed by ``(kind, key)``; writing a key that is
already there is a no-op. So a job that is killed and started again skips what is finished
and never duplicates it. Many worker processes may write at once (WAL + busy timeout).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from snellen.errors import InputError, SnellenError
from snellen.records import Record
from snellen.store.artifacts import ArtifactStore

R = TypeVar("R", bound=Record)

MANIFEST = "manifest.json"
DATABASE = "records.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind    TEXT NOT NULL,
    key     TEXT NOT NULL,
    data    TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cache (
    key     TEXT PRIMARY KEY,
    model   TEXT NOT NULL,
    data    TEXT NOT NULL,
    created REAL NOT NULL
) WITHOUT ROWID;
"""

_VERSIONED_PACKAGES = (
    "snellen",
    "torch",
    "torchvision",
    "transformers",
    "open_clip_torch",
    "numpy",
    "matplotlib",
    "py5",
    "pymupdf",
    "resvg-py",
)


class RunError(SnellenError):
    """A run directory cannot be used as asked (the message says why and what to do)."""


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no spaces: equal values give equal strings."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def content_key(*parts: Any) -> str:
    """A stable SHA-256 key over JSON-serialisable parts."""
    return hashlib.sha256(canonical_json(list(parts)).encode()).hexdigest()


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write ``obj`` as JSON to ``path`` so that a reader sees the old file or the new one,
    never half of one (a temporary file, synced, renamed into place)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True, default=str)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _VERSIONED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def _stored_row(record: Record) -> dict[str, Any]:
    """A record's row as stored: a ``key`` field equal to the record's key lives in the key
    column only (:meth:`Run.records` puts it back), as for untyped records."""
    row = record.to_row()
    if row.get("key") == record.record_key():
        del row["key"]
    return row


class Run:
    """A run directory. Open it with :meth:`Run.open`; it is safe to share across processes
    by path (each process opens its own database connection)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not (self.path / MANIFEST).exists():
            raise RunError(
                f"{self.path} is not a snellen run (no {MANIFEST}); "
                "pass the directory a snellen command wrote with --out"
            )
        self.artifacts = ArtifactStore(self.path / "artifacts")
        self._conn: sqlite3.Connection | None = None
        self._pid = -1

    # -- opening ---------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        command: str,
        config: Mapping[str, Any] | None = None,
        seeds: Mapping[str, int] | None = None,
        models: Mapping[str, str] | None = None,
        prepared: Sequence[str] = (),
    ) -> Run:
        """Create the run at ``path``, or resume it when it holds the same command and config.

        Resuming with a different config would mix two experiments in one table, so it is
        refused with a message naming the differing settings. A new run needs an empty
        folder, but for the entries named in ``prepared`` (what the caller itself wrote there
        before opening, e.g. a dataset it built into ``OUT/data``).
        """
        root = Path(path)
        if root.exists() and not root.is_dir():
            raise RunError(f"{root} exists and is not a directory; choose another --out")
        root.mkdir(parents=True, exist_ok=True)
        manifest_path = root / MANIFEST
        config_json = json.loads(canonical_json(dict(config or {})))
        now = time.time()
        if manifest_path.exists():
            manifest = json.loads(manifest_path.read_text())
            if manifest.get("command") != command:
                raise RunError(
                    f"{root} holds a '{manifest.get('command')}' run, not '{command}'; "
                    "choose another --out directory"
                )
            old = manifest.get("config", {})
            diff = sorted(
                k for k in set(old) | set(config_json) if old.get(k) != config_json.get(k)
            )
            if diff:
                detail = ", ".join(f"{k}: {old.get(k)!r} -> {config_json.get(k)!r}" for k in diff)
                raise RunError(
                    f"{root} was started with other settings ({detail}); resume it with the "
                    "same settings, or choose another --out directory"
                )
            manifest["sessions"].append({"start": now, "end": None, "status": "running"})
        else:
            if any(p.name not in prepared for p in root.iterdir()):
                raise RunError(
                    f"{root} is not empty and is not a snellen run; choose an empty or new --out"
                )
            manifest = {
                "format": 1,
                "command": command,
                "config": config_json,
                "seeds": dict(seeds or {}),
                "models": dict(models or {}),
                "versions": _package_versions(),
                "host": {"machine": platform.machine(), "system": platform.system()},
                "created": now,
                "sessions": [{"start": now, "end": None, "status": "running"}],
            }
        write_json_atomic(manifest_path, manifest)
        run = cls(root)
        run._connect()
        return run

    # -- manifest ----------------------------------------------------------------------
    @property
    def manifest(self) -> dict[str, Any]:
        manifest: dict[str, Any] = json.loads((self.path / MANIFEST).read_text())
        return manifest

    def update_manifest(self, **fields: Any) -> None:
        """Merge ``fields`` into the manifest (e.g. models actually used)."""
        manifest = self.manifest
        for name, value in fields.items():
            if isinstance(value, Mapping) and isinstance(manifest.get(name), dict):
                manifest[name].update(value)
            else:
                manifest[name] = value
        write_json_atomic(self.path / MANIFEST, manifest)

    def finish(self, status: str = "finished") -> None:
        manifest = self.manifest
        if manifest["sessions"]:
            manifest["sessions"][-1].update(end=time.time(), status=status)
        write_json_atomic(self.path / MANIFEST, manifest)

    # -- database ----------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        # A sqlite connection must not cross a fork: reopen in every process.
        if self._conn is None or self._pid != os.getpid():
            conn = sqlite3.connect(self.path / DATABASE, timeout=60.0, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL survives a killed process (not a power cut) at a fraction of FULL's cost.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def put(self, kind: str, key: str, data: Mapping[str, Any]) -> bool:
        """Store one finished record; returns False when ``(kind, key)`` was already stored."""
        cur = self._connect().execute(
            "INSERT OR IGNORE INTO records VALUES (?, ?, ?, ?)",
            (kind, key, canonical_json(dict(data)), time.time()),
        )
        return cur.rowcount == 1

    def put_many(self, kind: str, items: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
        """Store many records in one transaction; returns how many were new."""
        conn = self._connect()
        now = time.time()
        rows = [(kind, k, canonical_json(dict(d)), now) for k, d in items]
        conn.execute("BEGIN IMMEDIATE")
        try:
            before = conn.total_changes
            conn.executemany("INSERT OR IGNORE INTO records VALUES (?, ?, ?, ?)", rows)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return conn.total_changes - before

    def delete(self, kind: str, keys: Iterable[str]) -> int:
        """Forget records (a re-run the user forced); returns how many were removed."""
        conn = self._connect()
        before = conn.total_changes
        conn.executemany(
            "DELETE FROM records WHERE kind = ? AND key = ?", [(kind, k) for k in keys]
        )
        return conn.total_changes - before

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        row = (
            self._connect()
            .execute("SELECT data FROM records WHERE kind = ? AND key = ?", (kind, key))
            .fetchone()
        )
        return None if row is None else json.loads(row[0])

    def keys(self, kind: str) -> set[str]:
        rows = self._connect().execute("SELECT key FROM records WHERE kind = ?", (kind,))
        return {r[0] for r in rows}

    def count(self, kind: str) -> int:
        row = self._connect().execute("SELECT COUNT(*) FROM records WHERE kind = ?", (kind,))
        return int(row.fetchone()[0])

    def kinds(self) -> list[str]:
        rows = self._connect().execute("SELECT DISTINCT kind FROM records ORDER BY kind")
        return [r[0] for r in rows]

    def records(self, kind: str) -> Iterator[dict[str, Any]]:
        """Records of one kind in insertion order, each with its ``key``."""
        rows = self._connect().execute(
            "SELECT key, data FROM records WHERE kind = ? ORDER BY created, key", (kind,)
        )
        for key, data in rows:
            record = json.loads(data)
            record.setdefault("key", key)
            yield record

    # -- typed records -----------------------------------------------------------------
    def put_record(self, record: Record) -> bool:
        """Store a typed record under its own kind and key; False when already stored."""
        return self.put(record.kind, record.record_key(), _stored_row(record))

    def put_records(self, records: Iterable[Record]) -> int:
        """Store typed records (of any kinds) in one transaction per kind; returns how many
        were new."""
        by_kind: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
        for record in records:
            by_kind.setdefault(record.kind, []).append((record.record_key(), _stored_row(record)))
        return sum(self.put_many(kind, items) for kind, items in by_kind.items())

    def update_records(self, records: Iterable[Record]) -> int:
        """Rewrite stored records in place (a step that adds columns to records another step
        wrote, such as the OCR reading of a drawing), in one transaction, keeping their
        order; returns how many were found and rewritten."""
        rows = [(canonical_json(dict(_stored_row(r))), r.kind, r.record_key()) for r in records]
        conn = self._connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            before = conn.total_changes
            conn.executemany("UPDATE records SET data = ? WHERE kind = ? AND key = ?", rows)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return conn.total_changes - before

    def load_records(self, cls: type[R]) -> Iterator[R]:
        """The stored records of ``cls.kind``, as ``cls`` instances, in insertion order."""
        for row in self.records(cls.kind):
            yield cls.from_row(row)

    def get_record(self, cls: type[R], key: str) -> R | None:
        row = self.get(cls.kind, key)
        return None if row is None else cls.from_row({"key": key, **row})

    def resolve_image(self, ref: str) -> Path:
        """The file of an image field of a record: an artifact reference, or a path
        (absolute, or relative to the run directory)."""
        p = Path(ref)
        if p.is_absolute() and p.exists():
            return p
        art = self.artifacts.path(ref)
        if art.exists():
            return art
        local = self.path / ref
        if local.exists():
            return local
        raise InputError(f"{self.path}: image {ref!r} is neither an artifact nor a file")

    # -- reply cache -------------------------------------------------------------------
    def cache_get(self, key: str) -> dict[str, Any] | None:
        row = self._connect().execute("SELECT data FROM cache WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def cache_put(self, key: str, model: str, data: Mapping[str, Any]) -> None:
        self._connect().execute(
            "INSERT OR IGNORE INTO cache VALUES (?, ?, ?, ?)",
            (key, model, canonical_json(dict(data)), time.time()),
        )

    def cache_count(self) -> int:
        return int(self._connect().execute("SELECT COUNT(*) FROM cache").fetchone()[0])

    def cache_entries(self) -> Iterator[dict[str, Any]]:
        """Every cached reply entry, oldest first (ties by key)."""
        rows = self._connect().execute("SELECT data FROM cache ORDER BY created, key")
        for (data,) in rows:
            yield json.loads(data)

    # -- exports -----------------------------------------------------------------------
    def dataframe(self, kind: str) -> Any:
        """The records of one kind as a pandas DataFrame (nested values as JSON strings)."""
        import pandas as pd

        rows = []
        for record in self.records(kind):
            rows.append(
                {
                    k: canonical_json(v) if isinstance(v, dict | list) else v
                    for k, v in record.items()
                }
            )
        return pd.DataFrame(rows)

    def export_parquet(self, kind: str, path: str | os.PathLike[str] | None = None) -> Path:
        """Write the records of ``kind`` to ``RUN/<kind>.parquet`` (or ``path``), atomically."""
        target = Path(path) if path is not None else self.path / f"{kind}.parquet"
        frame = self.dataframe(kind)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".parquet")
        os.close(fd)
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, target)
        return target

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        # Runs travel to worker processes (and later Ray tasks) by path only.
        return {"path": str(self.path)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"])  # type: ignore[misc]
