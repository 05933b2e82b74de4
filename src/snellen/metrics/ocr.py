"""The text-gaming check: does a drawing write its concept's name instead of drawing it?

An image-text scorer such as CLIP or SigLIP scores the word APPLE written on a canvas about
as high as a drawing of an apple, so a model can game fidelity by writing words. Every
rendered drawing is read by Tesseract (one process for a whole batch: a file list in, one
TSV of words out, each word tagged with its page), and :func:`names_concept` decides whether
the text read names the concept.

The rule (``docs/metrics.md`` states it too):

1. **Key words.** For a VAD shape (category ``shapes``): the first colour word of the
   description and the head word of its first shape noun (``"a square pyramid painted
   light red"`` -> ``red``, ``pyramid``; ``"a purple ball ..."`` -> ``purple``, ``ball``;
   a plural noun counts as its singular). A description without a colour word (a black
   point) has the shape word alone.
   For any other concept: the words of the description other than articles, prepositions
   and conjunctions (``"teddy bear"`` -> ``teddy``, ``bear``).
2. **Text read.** Tesseract's words with a confidence of at least ``MIN_CONFIDENCE``,
   lowercased, with everything but letters turned into spaces.
3. **A key word is named** when a word read equals it (a trailing plural ``s`` on either
   side ignored), or, for key words of four letters or more, when a word read is within
   ``FUZZY`` similarity of it (difflib ratio: OCR drops or swaps a letter) or it occurs
   inside the words read joined together (OCR splits or joins words).
4. **The drawing names its concept** when it has at least one key word and every key word
   is named.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from snellen.errors import InputError
from snellen.records.checkup import Drawing
from snellen.store import Run

__all__ = [
    "FUZZY",
    "MIN_CONFIDENCE",
    "OcrWord",
    "TextCheck",
    "check_drawings",
    "check_text",
    "key_words",
    "names_concept",
    "read_text",
    "tesseract",
    "tsv_words",
]

#: words Tesseract reads with less confidence than this are left out (drawn strokes read as
#: letters come with low confidence)
MIN_CONFIDENCE = 50.0
#: difflib similarity at which a word read counts as a key word misread
FUZZY = 0.8
#: images per Tesseract process
BATCH = 64

_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "and",
        "or",
        "with",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "into",
        "onto",
        "over",
        "under",
        "its",
        "it",
        "this",
        "that",
        "some",
        "two",
        "three",
        "four",
        "five",
    ]
)


@dataclass(frozen=True)
class TextCheck:
    """What OCR read in one drawing and whether it names the drawing's concept."""

    ocr_text: str
    names_concept: bool
    key_words: tuple[str, ...]


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z]+", " ", text.lower()).split()


def _shape_vocabulary() -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    from snellen.concepts.shapes.describe import NOUNS
    from snellen.concepts.shapes.vocab import COLOUR_NAMES

    phrases = {tuple(_words(p)) for names in NOUNS.values() for p in names}
    # longest first, so "square pyramid" is found before "square"
    return tuple(COLOUR_NAMES), sorted(phrases, key=len, reverse=True)


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def key_words(description: str, category: str) -> tuple[str, ...]:
    """The words whose presence in a drawing's text means it names its concept (rule 1 of
    the module doc)."""
    words = _words(description)
    if category != "shapes":
        return tuple(dict.fromkeys(w for w in words if w not in _STOP))
    colours, nouns = _shape_vocabulary()
    out: list[str] = []
    colour = next((w for w in words if w in colours), None)
    if colour is not None:
        out.append(colour)
    best: tuple[int, str] | None = None  # (position, head word) of the first shape noun
    for phrase in nouns:
        n = len(phrase)
        for i in range(len(words) - n + 1):
            found = all(
                w in (p, p + "s", p + "es") for w, p in zip(words[i : i + n], phrase, strict=True)
            )
            if found and (best is None or i < best[0]):
                best = (i, phrase[-1])
                break
    if best is not None:
        out.append(best[1])
    return tuple(out)


def _named(key: str, read: Sequence[str], joined: str) -> bool:
    k = _singular(key)
    for word in read:
        if _singular(word) == k:
            return True
        if len(key) >= 4 and difflib.SequenceMatcher(None, word, key).ratio() >= FUZZY:
            return True
    return len(key) >= 4 and key in joined


def names_concept(ocr_text: str, keys: Sequence[str]) -> bool:
    """Whether the text read names every key word (rules 2-4 of the module doc)."""
    if not keys:
        return False
    read = _words(ocr_text)
    joined = "".join(read)
    return all(_named(k, read, joined) for k in keys)


def check_text(ocr_text: str, description: str, category: str) -> TextCheck:
    keys = key_words(description, category)
    return TextCheck(ocr_text, names_concept(ocr_text, keys), keys)


_MISSING = (
    "the text-gaming check needs Tesseract OCR: install it with "
    "`apt-get install -y tesseract-ocr` (scripts/setup.sh does), or score with "
    "ocr=False / --no-ocr"
)


def tesseract(missing: str = _MISSING) -> str:
    """The Tesseract executable, or an error saying what needs it and how to install it
    (``missing``: the text-gaming check's words unless a caller has its own)."""
    found = shutil.which("tesseract")
    if found is None:
        raise InputError(missing)
    return found


@dataclass(frozen=True)
class OcrWord:
    """One word of Tesseract's TSV output."""

    page: int  # the image it was read in, from 0 (the position in the file list)
    line: tuple[str, str, str]  # (block, paragraph, line) within its page
    text: str
    confidence: float  # percent


def tsv_words(tsv: str, min_confidence: float) -> Iterator[OcrWord]:
    """The words of Tesseract's TSV output (``tesseract IMAGE_OR_LIST stdout tsv``), in
    reading order: word rows (level 5) with text and at least ``min_confidence`` percent."""
    for line in tsv.splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) < 12 or cols[0] != "5" or not cols[11].strip():
            continue
        try:
            page, conf = int(cols[1]) - 1, float(cols[10])
        except ValueError:
            continue
        if conf >= min_confidence:
            yield OcrWord(page, (cols[2], cols[3], cols[4]), cols[11].strip(), conf)


def read_text(
    images: Sequence[str | os.PathLike[str]],
    *,
    min_confidence: float = MIN_CONFIDENCE,
    batch: int = BATCH,
    timeout: float = 600.0,
) -> list[str]:
    """The text Tesseract reads in each image file, in order (words joined by spaces, lines
    by newlines; ``""`` where it reads nothing). One Tesseract process reads ``batch``
    images from a file list."""
    exe = tesseract()
    out: list[str] = []
    for start in range(0, len(images), batch):
        chunk = [Path(p) for p in images[start : start + batch]]
        out += _read_batch(exe, chunk, min_confidence, timeout)
    return out


def _read_batch(exe: str, paths: list[Path], min_confidence: float, timeout: float) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="snellen-ocr-") as tmp:
        listing = Path(tmp) / "images.txt"
        listing.write_text("".join(f"{p.resolve()}\n" for p in paths))
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # one core per process, as the pool does
        proc = subprocess.run(  # noqa: S603 - tesseract on images snellen rendered; no shell
            [exe, str(listing), "stdout", "tsv"],
            capture_output=True, text=True, timeout=timeout, env=env, check=False,
        )  # fmt: skip
    if proc.returncode != 0:
        raise InputError(
            f"tesseract failed on {len(paths)} image(s) from {paths[0]}: "
            f"{proc.stderr.strip()[-400:]}"
        )
    # page -> (block, paragraph, line) -> words
    pages: list[dict[tuple[str, str, str], list[str]]] = [{} for _ in paths]
    for word in tsv_words(proc.stdout, min_confidence):
        if 0 <= word.page < len(paths):
            pages[word.page].setdefault(word.line, []).append(word.text)
    return ["\n".join(" ".join(ws) for ws in p.values()) for p in pages]


def check_drawings(
    run: Run, drawings: Sequence[Drawing], *, progress: bool = False
) -> list[Drawing]:
    """Read every rendered drawing of ``drawings`` that has no OCR reading yet, store the
    reading in its ``drawings`` record, and return ``drawings`` with their readings."""
    todo = [d for d in drawings if d.ok and d.ocr_text is None]
    if todo:
        texts: list[str] = []
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(todo), unit="img", desc="ocr", mininterval=1.0)
        for start in range(0, len(todo), BATCH):
            chunk = todo[start : start + BATCH]
            texts += read_text([run.resolve_image(str(d.image)) for d in chunk])
            if bar is not None:
                bar.update(len(chunk))
        if bar is not None:
            bar.close()
        updated = {
            d.key: replace(
                d, ocr_text=t, names_concept=names_concept(t, key_words(d.description, d.category))
            )
            for d, t in zip(todo, texts, strict=True)
        }
        run.update_records(updated.values())
        drawings = [updated.get(d.key, d) for d in drawings]
    return list(drawings)
