"""The transcript TSV of recorded model replies (the shipped ``snellen/data/llm-drawings``): one reader
for everything that reads one (replaying it as a model, rendering its programs).

No header; one row per query, nine tab-separated columns: the prompt, the whole reply with
literal ``\\n`` escapes, then flags and metadata, the fourth column naming the model.
"""

from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from snellen.errors import InputError

__all__ = ["TSV_COLUMNS", "TranscriptRow", "read_transcript", "unescape"]

TSV_COLUMNS = 9
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\"}


def unescape(text: str) -> str:
    """Undo the transcript escapes: ``\\n`` -> newline, ``\\t`` -> tab, ``\\r``, ``\\\\`` ->
    ``\\``; any other backslash is kept as it is."""
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), text)


@dataclass(frozen=True)
class TranscriptRow:
    """One recorded query: ``prompt`` and ``reply`` unescaped, ``raw_reply`` as written."""

    line: int
    prompt: str
    reply: str
    raw_reply: str
    model: str


def read_transcript(path: str | Path) -> list[TranscriptRow]:
    """The rows of a transcript TSV (blank lines skipped). A row with another number of
    columns is an :class:`~snellen.errors.InputError` naming the file and line."""
    csv.field_size_limit(sys.maxsize)
    p = Path(path)
    out = []
    with p.open(newline="", encoding="utf-8") as f:
        for lineno, row in enumerate(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE), 1):
            if not row or not "".join(row).strip():
                continue
            if len(row) != TSV_COLUMNS:
                raise InputError(
                    f"{p}, line {lineno}: a transcript row has {TSV_COLUMNS} tab-separated "
                    f"columns (prompt, reply, flags..., model in column 4), this one {len(row)}; "
                    "check the file is a transcript TSV, or write snellen JSONL instead"
                )
            out.append(
                TranscriptRow(lineno, unescape(row[0]), unescape(row[1]), row[1],
                              row[3].strip() or "unknown")
            )  # fmt: skip
    return out
