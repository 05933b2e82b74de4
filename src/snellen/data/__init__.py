"""Data that ships inside snellen (all MIT, each folder with its licence and source; see
``README.md`` here): recorded GPT-4 / GPT-3.5 drawing transcripts, the 100 objects they draw,
and MS-COCO captions with hard negatives.

>>> from snellen.data import recording
>>> recording("gpt4").name
'gpt4_default_without_0cot.tsv'
"""

from __future__ import annotations

from pathlib import Path

from snellen.errors import InputError

__all__ = ["ROOT", "RECORDINGS", "captions_path", "objects_100", "path", "recording"]

ROOT = Path(__file__).resolve().parent

# short name -> transcript file under llm-drawings/
RECORDINGS: dict[str, str] = {
    "gpt4": "gpt4_default_without_0cot.tsv",
    "gpt4-cot": "gpt4_default_with_0cot.tsv",
    "gpt3.5": "gpt3.5_default_without_0cot.tsv",
    "gpt3.5-cot": "gpt3.5_default_with_0cot.tsv",
}


def path(relative: str) -> Path:
    """The shipped file at ``relative`` (e.g. ``"captions/coco_val_negclip.tsv"``)."""
    target = ROOT / relative
    if not target.is_file():
        raise InputError(
            f"snellen ships no data file {relative!r}; shipped: "
            + ", ".join(sorted(str(p.relative_to(ROOT)) for p in ROOT.rglob("*.t*") if p.is_file()))
        )
    return target


def recording(name: str) -> Path:
    """The recorded transcript called ``name`` (``gpt4``, ``gpt4-cot``, ``gpt3.5``,
    ``gpt3.5-cot``), or a shipped transcript's file name."""
    key = name.strip().lower()
    file = RECORDINGS.get(key, key if key.endswith(".tsv") else "")
    target = ROOT / "llm-drawings" / file
    if not file or not target.is_file():
        raise InputError(
            f"no recorded transcript called {name!r}; the shipped ones are "
            f"{', '.join(RECORDINGS)} (or give the path of a .tsv or .jsonl file)"
        )
    return target


def objects_100() -> list[str]:
    """The 100 object names the recorded transcripts draw, in file order."""
    text = path("concepts/objects-100.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def captions_path() -> Path:
    """MS-COCO val captions with hard negatives (the NegCLIP authors' file)."""
    return path("captions/coco_val_negclip.tsv")
