"""The VAD shape descriptions cannot change by accident: the exported descriptions (and hard
negatives) for fixed seeds are pinned to what this version of snellen writes. A change to
the phrasing (a new synonym, a renumbered phrasing site) fails here; if it is meant, it is a
new version of the dataset: regenerate the pinned file and say so in the changelog."""

from __future__ import annotations

import hashlib
import json
import zlib
from pathlib import Path

import pytest

from snellen.concepts import iter_concepts
from snellen.concepts.shapes import hard_negatives
from snellen.concepts.shapes.describe import Chooser, Site

PINNED = Path(__file__).parent / "data" / "shapes-descriptions-seed7.jsonl"


def test_descriptions_and_negatives_of_seed_7_are_pinned() -> None:
    expected = [json.loads(line) for line in PINNED.read_text(encoding="utf-8").splitlines()]
    got = [
        {"id": c.id, "description": c.description, "negatives": hard_negatives(c)[:3]}
        for c in iter_concepts("shapes", len(expected), seed=7)
    ]
    assert len(got) == len(expected) == 200
    for want, have in zip(expected, got, strict=True):
        assert have == want


@pytest.mark.parametrize(
    ("n", "seed", "split", "digest"),
    [
        (3000, 0, "all", "736da2e2e8c1bc18a9f5c45b6d2a9df7c1b3bd799da6cd4c8210df552361d9ef"),
        (500, 11, "heldout", "a9908a31fdadd7ad645e2fe1dfb4800b0ba233148305c2d8dc6774c86c1e1f83"),
    ],
)
def test_a_larger_export_is_pinned_by_its_digest(
    n: int, seed: int, split: str, digest: str
) -> None:
    h = hashlib.sha256()
    for c in iter_concepts("shapes", n, seed=seed, split=split):
        h.update((c.description + "\n").encode())
    assert h.hexdigest() == digest


def test_phrasing_sites_keep_their_numbers() -> None:
    """A site's number is part of every choice's key: the names may move, the numbers not."""
    assert len({int(s) for s in Site}) == len(Site) == 39
    assert [int(s) for s in Site] == list(range(1, 40))
    assert Site.SHAPE_NOUN == 4 and Site.RELATION == 33 and Site.ABOVE_BELOW_TURN == 39
    # the key is the number, not the name: a Site and its plain int choose alike
    rng = Chooser(5, "a")
    assert rng.choice(Site.SIZE_WORD, tuple("abcdefg")) == "abcdefg"[zlib.crc32(b"5:a:5") % 7]
