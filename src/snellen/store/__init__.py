"""Runs and caches: a run directory with a manifest, an embedded record database,
content-addressed artifacts and Parquet exports.

See ``docs/store.md`` for the design and why SQLite.
"""

from __future__ import annotations

from snellen.store.artifacts import ArtifactStore
from snellen.store.run import Run, RunError, write_json_atomic

__all__ = ["ArtifactStore", "Run", "RunError", "write_json_atomic"]
