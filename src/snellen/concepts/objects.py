"""The ``objects`` concept set: 1,000 common object names shipped with the package.

See ``data/objects.txt`` (its header says where the names come from) and
``scripts/build_objects_list.py``, which rebuilds it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from functools import cache
from importlib import resources

from snellen.concepts.base import Concept


@cache
def object_names() -> tuple[str, ...]:
    text = (
        resources.files("snellen.concepts").joinpath("data/objects.txt").read_text(encoding="utf-8")
    )
    return tuple(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def _concept(name: str) -> Concept:
    return Concept(
        id=f"objects/{name.replace(' ', '_')}",
        category="objects",
        description=name,
        attributes={"object": name},
    )


def _sample(set_name: str, names: Sequence[str], n: int | None, seed: int) -> list[Concept]:
    """All ``names`` in list order, or a uniform sample of ``n`` without replacement."""
    if n is None:
        return [_concept(name) for name in names]
    if not 0 <= n <= len(names):
        raise ValueError(f"{set_name} has {len(names)} concepts; cannot sample {n}")
    return [_concept(name) for name in random.Random(seed).sample(list(names), n)]  # noqa: S311 - seeded sampling for reproducible data, not security


def load_objects(n: int | None = None, seed: int = 0) -> list[Concept]:
    """All objects in list order, or a uniform sample of ``n`` without replacement."""
    return _sample("objects", object_names(), n, seed)


def recorded_objects(n: int | None = None, seed: int = 0) -> list[Concept]:
    """The 100 objects that the shipped GPT-4 / GPT-3.5 transcripts draw, as ``objects``
    concepts (so replayed replies align with them by name), or a sample of ``n``."""
    from snellen.data import objects_100

    return _sample("recorded-objects", objects_100(), n, seed)
