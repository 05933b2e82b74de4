"""The shapes concept stream: seeded, deduplicated, with reference programs in five languages.

Concept ``i`` of a stream is drawn from ``random.Random(f"{seed}/{split}/{i}/{attempt}")``,
never from the global generator, so a seed always yields byte-identical concepts. Specs that
repeat an earlier one (or its description) are skipped, so a stream never repeats itself.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterator

from snellen.concepts.base import Concept
from snellen.concepts.shapes.describe import describe
from snellen.concepts.shapes.geometry import build_scene
from snellen.concepts.shapes.scene import Scene
from snellen.concepts.shapes.spec import colour_pairs, is_heldout_pair, sample_spec
from snellen.concepts.shapes.types import Spec
from snellen.languages import part, with_part

SPLITS = ("all", "train", "heldout")
MAX_ATTEMPTS = 200


def spec_key(spec: Spec) -> bytes:
    """A digest of what a spec shows (its phrasing left out)."""
    content = {k: v for k, v in spec.items() if k not in ("phrasing", "kinds")}
    return hashlib.blake2b(json.dumps(content, sort_keys=True).encode(), digest_size=12).digest()


def in_split(spec: Spec, split: str) -> bool:
    """``train`` shows no held-out (shape, colour) combination; ``heldout`` shows at least one."""
    if split == "all":
        return True
    held = any(is_heldout_pair(shape, colour) for shape, colour in colour_pairs(spec))
    return held if split == "heldout" else not held


def programs_for(spec: Spec) -> dict[str, str]:
    """The spec's reference program in every language whose record names an emitter
    (:mod:`snellen.languages`), in the languages' registration order."""
    scene = build_scene(spec)
    out: dict[str, str] = {}
    for lang in with_part("emitter"):
        emit: Callable[[Scene], str] = part(lang, "emitter")
        out[lang] = emit(scene)
    return out


def concept_from_spec(spec: Spec, concept_id: str) -> Concept:
    """A full concept (description and five programs) for a spec."""
    return Concept(
        id=concept_id,
        category="shapes",
        description=describe(spec),
        attributes=spec,
        programs=programs_for(spec),
    )


def iter_shapes(
    n: int | None = None,
    seed: int = 0,
    split: str = "all",
    exclude: Callable[[Spec], bool] | None = None,
) -> Iterator[Concept]:
    """Stream ``n`` unique shape concepts (forever if ``n`` is None).

    ``split`` is ``all``, ``train`` (no held-out shape-colour combination) or ``heldout``
    (at least one). ``exclude`` may reject further specs; it must be deterministic.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    seen: set[bytes] = set()
    prefix = "shapes" if split == "all" else f"shapes/{split}"
    i = 0
    while n is None or i < n:
        for attempt in range(MAX_ATTEMPTS):
            spec = sample_spec(random.Random(f"{seed}/{split}/{i}/{attempt}"))  # noqa: S311 - seeded sampling for reproducible data, not security
            if not in_split(spec, split) or (exclude is not None and exclude(spec)):
                continue
            key = spec_key(spec)
            text = describe(spec)
            text_key = hashlib.blake2b(text.encode(), digest_size=12).digest()
            if key in seen or text_key in seen:
                continue
            seen.add(key)
            seen.add(text_key)
            yield Concept(
                id=f"{prefix}/{seed}/{i:06d}",
                category="shapes",
                description=text,
                attributes=spec,
                programs=programs_for(spec),
            )
            break
        else:
            raise RuntimeError(
                f"no new concept after {MAX_ATTEMPTS} attempts at index {i}; the exclude rule is too strict"
            )
        i += 1


def generate_shapes(
    n: int, seed: int = 0, split: str = "all", exclude: Callable[[Spec], bool] | None = None
) -> list[Concept]:
    return list(iter_shapes(n, seed, split, exclude))
