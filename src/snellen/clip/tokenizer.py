"""A word-level tokenizer built from a caption vocabulary, small enough to ship inside a
checkpoint (it is saved as its word list)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import torch

_WORD = re.compile(r"[a-z]+|[0-9]+|[^\sa-z0-9]")

PAD, UNK, CLS = "<pad>", "<unk>", "<cls>"
SPECIALS = (PAD, UNK, CLS)


def words(text: str) -> list[str]:
    """Lower-cased words, numbers and single punctuation marks."""
    return _WORD.findall(text.lower())


class WordTokenizer:
    """Maps captions to fixed-length id tensors: ``<cls>`` first (the text encoder pools it),
    then the words, padded with ``<pad>`` (id 0); unknown words become ``<unk>``."""

    def __init__(self, vocab: Sequence[str], max_length: int = 48) -> None:
        if tuple(vocab[: len(SPECIALS)]) != SPECIALS:
            raise ValueError(f"a vocabulary starts with {SPECIALS}")
        self.vocab = list(vocab)
        self.index = {w: i for i, w in enumerate(self.vocab)}
        self.max_length = max_length

    @classmethod
    def build(
        cls, captions: Iterable[str], min_count: int = 1, max_length: int = 48
    ) -> WordTokenizer:
        counts = Counter(w for c in captions for w in words(c))
        kept = sorted(w for w, n in counts.items() if n >= min_count)
        return cls([*SPECIALS, *kept], max_length)

    def __len__(self) -> int:
        return len(self.vocab)

    def __call__(self, texts: Sequence[str]) -> torch.Tensor:
        out = torch.zeros(len(texts), self.max_length, dtype=torch.long)
        unk, cls_id = self.index[UNK], self.index[CLS]
        for row, text in enumerate(texts):
            ids = [cls_id] + [self.index.get(w, unk) for w in words(text)]
            ids = ids[: self.max_length]
            out[row, : len(ids)] = torch.tensor(ids)
        return out

    def unknown_rate(self, texts: Iterable[str]) -> float:
        """Share of words outside the vocabulary (a caption domain check)."""
        total = unknown = 0
        for t in texts:
            for w in words(t):
                total += 1
                unknown += w not in self.index
        return unknown / total if total else 0.0
