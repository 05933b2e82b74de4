"""Concepts from a user's file: plain text, CSV or JSON Lines, validated line by line.

- ``.txt``: one description per line; blank lines and lines starting with ``#`` are skipped.
- ``.csv``: a header row with a ``description`` column; optional ``id`` and ``category``;
  other columns become attributes.
- ``.jsonl``: one JSON object per line with ``description``; optional ``id``, ``category``,
  ``attributes`` (an object) and ``programs`` (an object); other fields become attributes.

Every problem raises :class:`~snellen.errors.InputError` naming the file, the line and the fix.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from snellen.concepts.base import Concept
from snellen.errors import InputError

MAX_BYTES = 50 * 1024 * 1024
MAX_LINES = 1_000_000
SUFFIXES = (".txt", ".csv", ".jsonl")


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise InputError(
            f"{path}: no such file; give a .txt, .csv or .jsonl concept file or a concept set name"
        )
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise InputError(
            f"{path}: {size / 1e6:.1f} MB is over the {MAX_BYTES // (1024 * 1024)} MB limit for a concept file; "
            f"split it into smaller files (e.g. `split -l 500000 {path.name} part-`) and load them one by one"
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{path}, line {line}: byte {exc.start} (0x{raw[exc.start]:02x}) is not UTF-8; "
            f"re-save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8 {path.name}`)"
        ) from exc
    if text.startswith("\ufeff"):
        text = text[1:]
    n_lines = text.count("\n") + 1
    if n_lines > MAX_LINES:
        raise InputError(
            f"{path}: {n_lines} lines is over the limit of {MAX_LINES:,} concepts per file; "
            f"split it (e.g. `split -l {MAX_LINES // 2} {path.name} part-`) and load the parts separately"
        )
    if not text.strip():
        raise InputError(f"{path}: the file is empty; write one concept description per line")
    return text


def _concept(
    path: Path,
    line: int,
    description: Any,
    cid: Any,
    category: Any,
    attributes: dict,
    programs: dict,
) -> Concept:
    if not isinstance(description, str) or not description.strip():
        raise InputError(
            f"{path}, line {line}: empty description; write what to draw, or delete the line"
        )
    return Concept(
        id=str(cid) if cid not in (None, "") else f"{path.stem}/{line}",
        category=str(category) if category not in (None, "") else "user",
        description=" ".join(description.split()),
        attributes=attributes,
        programs=programs,
    )


def _from_txt(path: Path, text: str) -> list[tuple[int, Concept]]:
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            out.append((i, _concept(path, i, line, None, None, {}, {})))
    return out


def _from_csv(path: Path, text: str) -> list[tuple[int, Concept]]:
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        fields = reader.fieldnames or []
        if "description" not in fields:
            raise InputError(
                f"{path}, line 1: no 'description' column in the header {fields}; add a header row naming the column 'description'"
            )
        out = []
        for row in reader:
            line = reader.line_num
            if None in row:
                raise InputError(
                    f"{path}, line {line}: more fields than the {len(fields)} header columns; quote values that contain commas"
                )
            if any(v is None for v in row.values()):
                raise InputError(
                    f"{path}, line {line}: fewer fields than the {len(fields)} header columns; fill in the missing values"
                )
            extra = {k: v for k, v in row.items() if k not in ("description", "id", "category")}
            out.append(
                (
                    line,
                    _concept(
                        path,
                        line,
                        row["description"],
                        row.get("id"),
                        row.get("category"),
                        extra,
                        {},
                    ),
                )
            )
    except csv.Error as exc:
        raise InputError(
            f"{path}, line {reader.line_num}: malformed CSV ({exc}); check the quotes on that line"
        ) from exc
    return out


def _from_jsonl(path: Path, text: str) -> list[tuple[int, Concept]]:
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{path}, line {i}: invalid JSON ({exc.msg} at column {exc.colno}); each line must be one JSON object"
            ) from exc
        if not isinstance(obj, dict):
            raise InputError(
                f'{path}, line {i}: expected a JSON object like {{"description": "a red circle"}}, got {type(obj).__name__}'
            )
        if "description" not in obj:
            raise InputError(
                f'{path}, line {i}: no \'description\' field; add "description": "what to draw"'
            )
        attributes = obj.get("attributes") or {}
        programs = obj.get("programs") or {}
        if not isinstance(attributes, dict) or not isinstance(programs, dict):
            raise InputError(f"{path}, line {i}: 'attributes' and 'programs' must be JSON objects")
        extra = {
            k: v
            for k, v in obj.items()
            if k not in ("description", "id", "category", "attributes", "programs")
        }
        out.append(
            (
                i,
                _concept(
                    path,
                    i,
                    obj["description"],
                    obj.get("id"),
                    obj.get("category"),
                    {**extra, **attributes},
                    programs,
                ),
            )
        )
    return out


def load_user_file(source: str | Path) -> list[Concept]:
    """Read and validate a concept file."""
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(
            f"{path}: unknown concept file type {suffix!r}; use .txt (one per line), .csv (with a 'description' column) or .jsonl"
        )
    text = _read_text(path)
    rows = {".txt": _from_txt, ".csv": _from_csv, ".jsonl": _from_jsonl}[suffix](path, text)
    if not rows:
        raise InputError(
            f"{path}: no concepts (only blank or comment lines); write one description per line"
        )
    seen: dict[str, int] = {}
    for line, concept in rows:
        if concept.id in seen:
            raise InputError(
                f"{path}, line {line}: duplicate id {concept.id!r} (first used on line {seen[concept.id]}); give every concept its own id"
            )
        seen[concept.id] = line
    return [concept for _, concept in rows]
