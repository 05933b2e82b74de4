"""Grading recognition answers: which option a free-text reply chose, and how highly a
free-form description ranks the true one among the candidates.

Models answer multiple-choice questions in many shapes ("B", "(b)", "Answer: B) a guitar",
"**B**", "2", "the guitar", "I think it is a guitar."); :func:`parse_choice` reads all of them
and returns None rather than guess when a reply is ambiguous.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def letter(i: int) -> str:
    return LETTERS[i]


def format_options(options: Sequence[str]) -> str:
    return "\n".join(f"{letter(i)}) {text}" for i, text in enumerate(options))


def _norm(text: str) -> str:
    text = text.lower().replace("\\n", " ")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return f" {' '.join(text.split())} "


def _strip_article(text: str) -> str:
    return re.sub(r"^ (a|an|the) ", " ", text)


def parse_choice(reply: str, options: Sequence[str]) -> int | None:
    """The index of the option ``reply`` chose, or None when it names none or several.

    Tried in order: an explicit letter (``B``, ``(B)``, ``B)``, ``B.``, ``**B**``,
    ``answer: B``, ``option B``); the text of exactly one option; a number 1..n
    (``2``, ``option 2``).
    """
    n = len(options)
    valid = LETTERS[:n]
    text = (reply or "").strip()
    if not text:
        return None
    head = text.strip().strip("*`'\" ")

    def pick(found: str | None) -> int | None:
        if found and found.upper() in valid:
            return valid.index(found.upper())
        return None

    # The whole reply is a letter, maybe bracketed or followed by punctuation.
    m = re.fullmatch(r"[\(\[]?([A-Za-z])[\)\]]?[.:!]?", head)
    if m and pick(m.group(1)) is not None:
        return pick(m.group(1))
    # "B) text", "(B) text", "B. text", "B: text": the letter the reply opens with
    m = re.match(r"[\(\[]?([A-Z])\s*[\)\]\.:]\s", head + " ")
    if m and pick(m.group(1)) is not None:
        return pick(m.group(1))
    marked = re.findall(r"\(([A-Z])\)|\*\*([A-Z])\*\*|\[([A-Z])\]", text)
    letters = {a or b or c for a, b, c in marked} & set(valid)
    if len(letters) > 1:
        return None
    # "answer is B", "Option (c)", "choice: D"
    m = re.search(
        r"\b(?:answer|option|choice|letter)\b\s*(?:is|would be|:|-)?\s*[\(\[*]*([A-Za-z])\b[\)\]*]*",
        text,
        re.IGNORECASE,
    )
    if m and pick(m.group(1)) is not None and not re.match(r"[a-z]{2}", text[m.start(1) :]):
        return pick(m.group(1))
    # "(B)", "**B**" anywhere
    if len(letters) == 1:
        return pick(letters.pop())
    # The text of exactly one option (the longest wins when one contains another).
    said = _norm(text)
    hits = [i for i, opt in enumerate(options) if _strip_article(_norm(opt)) in said]
    if len(hits) > 1:
        hits = [
            i
            for i in hits
            if not any(
                j != i and _strip_article(_norm(options[i])) in _norm(options[j]) for j in hits
            )
        ]
    if len(hits) == 1:
        return hits[0]
    if hits:
        return None
    # A number 1..n standing alone.
    numbers = {int(x) for x in re.findall(r"(?<![\d.])(\d{1,2})(?![\d.]\d)", text)}
    numbers = {k for k in numbers if 1 <= k <= n}
    if len(numbers) == 1 and re.fullmatch(r"\D*\d{1,2}\D*", text) and len(text) < 40:
        return numbers.pop() - 1
    # A lone letter at the very start ("B - it is the guitar").
    m = re.match(r"([A-Z])\b(?!')", head)
    if m and pick(m.group(1)) is not None and (m.group(1) != "A" or len(head) == 1):
        return pick(m.group(1))
    return None


def rank_percentile(scores: Sequence[float] | np.ndarray, true_index: int) -> tuple[int, float]:
    """(rank, percentile) of candidate ``true_index`` by descending score: rank 1 is the
    best; the percentile is 100 when it is ranked first and 0 when last (ties count half)."""
    s = np.asarray(scores, dtype=np.float64)
    n = len(s)
    if n < 2:
        return 1, 100.0
    target = s[true_index]
    others = np.delete(s, true_index)
    above = float(np.sum(others > target))
    ties = float(np.sum(others == target))
    rank = int(above + 1)
    percentile = 100.0 * (n - 1 - above - ties / 2) / (n - 1)
    return rank, percentile


def clean_free_answer(reply: str, limit: int = 300) -> str:
    """The description in a free-form answer: code fences dropped, stock openings removed."""
    text = re.sub(r"```.*?(```|\Z)", " ", reply or "", flags=re.DOTALL).replace("\\n", " ")
    text = re.sub(
        r"^\s*(the (drawing|image|program|code|picture) (depicts|shows|draws|represents)|"
        r"this (drawing|image|program|code|picture) (depicts|shows|draws|represents)|"
        r"it (depicts|shows|draws|is))\s*:?\s*",
        "",
        text.strip(),
        flags=re.IGNORECASE,
    )
    return " ".join(text.split())[:limit]
