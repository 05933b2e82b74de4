"""What an image source is, and what one slot of a dataset becomes.

A source maps a slot number to a :class:`Planned` image: either finished pixels (procedural
sources draw them in the calling process) or a :class:`~snellen.render.RenderJob` for a
program that must run confined. Sources are plain picklable objects, so a shard job that
carries one can run in a local process or a Ray task unchanged.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from snellen.render.base import RenderJob


@dataclass
class Planned:
    """One slot's image: ``pixels`` when it is drawn already, else ``job`` to render;
    ``meta`` is the JSON metadata stored beside the image (source, program id, concept,
    parameters)."""

    meta: dict[str, Any]
    pixels: np.ndarray | None = None
    job: RenderJob | None = None


def slot_rng(seed: int, index: int, attempt: int = 0, salt: str = "") -> np.random.Generator:
    """The random stream of one slot: a pure function of the dataset seed, the slot and the
    attempt, so any worker anywhere draws the same image for it."""
    digest = hashlib.blake2b(f"{salt}/{seed}/{index}/{attempt}".encode(), digest_size=16).digest()
    return np.random.default_rng(np.frombuffer(digest, dtype=np.uint32).tolist())


@dataclass
class Source:
    """Base of every image source. ``spec`` is the name it was built from (stored in each
    image's metadata and in the manifest)."""

    spec: str
    #: slots of a failed render are retried with another program this many times
    attempts: int = field(default=1, kw_only=True)

    def plan(self, index: int, seed: int, size: int, attempt: int = 0) -> Planned:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"source": self.spec}

    def identity(self) -> str:
        """What a resumed build must match: the spec, unless the source names files (then
        their content, so the same programs resume from a moved checkout)."""
        return self.spec

    def needs_renderer(self) -> bool:
        """Whether slots of this source are programs to run in the render pool."""
        return False
