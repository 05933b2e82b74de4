"""Embedding a dataset's images and texts once.

Images are decoded, cropped, rendered and resized by ``torch.utils.data.DataLoader`` worker
processes with the scorer's own picklable transform (:meth:`Scorer.image_transform`); the
main process only runs the model. An image that does not decode is skipped and counted, never
fatal. Texts are de-duplicated and embedded once per scorer and kept in an in-memory cache
(keyed by the scorer and its precision), so prompts and candidate captions shared by many cases, or by
several seeds of the order sets, are embedded a single time.
"""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from PIL import Image

from snellen.datasets.kinds import ImageSource
from snellen.score.base import Scorer

log = logging.getLogger(__name__)

#: called with each embedded batch: dataset indices, their embeddings, skipped images
BatchHook = Callable[[list[int], torch.Tensor | None, dict[int, str]], None]

# text embeddings per live scorer and precision: an entry goes when its scorer is collected,
# so a sweep over many models holds only the models still in use; ``_CACHE_LIMIT`` caps the
# texts held across all of them
_TEXT_CACHE: weakref.WeakKeyDictionary[Scorer, dict[str, dict[str, torch.Tensor]]] = (
    weakref.WeakKeyDictionary()
)
_CACHE_LIMIT = 500_000


@dataclass
class ImageEmbeddings:
    """Embeddings [len(kept), D] of the images that loaded; ``kept[j]`` is the dataset index
    of row j; ``skipped`` maps a dataset index to why its image did not load."""

    emb: torch.Tensor
    kept: list[int]
    skipped: dict[int, str]


class _Images(torch.utils.data.Dataset[tuple[int, torch.Tensor | None, str]]):
    def __init__(
        self,
        sources: Sequence[ImageSource],
        transform: Callable[[Image.Image], torch.Tensor] | None,
        render_size: int,
    ) -> None:
        self.sources = sources
        self.transform = transform
        self.render_size = render_size

    def __len__(self) -> int:
        return len(self.sources)

    def __getitem__(self, i: int) -> tuple[int, Any, str]:
        try:
            image = self.sources[i].load(self.render_size)
            return i, image if self.transform is None else self.transform(image), ""
        except (OSError, ValueError, SyntaxError) as e:  # PIL's decode errors
            return i, None, f"{self.sources[i].describe()}: {type(e).__name__}: {e}"


def _collate(batch: list[tuple[int, Any, str]]) -> tuple[list[int], Any, dict[int, str]]:
    ok = [(i, x) for i, x, _ in batch if x is not None]
    bad = {i: why for i, x, why in batch if x is None}
    idx = [i for i, _ in ok]
    items = [x for _, x in ok]
    if items and isinstance(items[0], torch.Tensor):
        return idx, torch.stack(items), bad
    return idx, items, bad


def default_workers() -> int:
    return min(4, max(0, (os.cpu_count() or 1) - 1))


def embed_images(
    scorer: Scorer,
    sources: Sequence[ImageSource],
    batch_size: int = 64,
    workers: int | None = None,
    progress: bool = True,
    on_batch: BatchHook | None = None,
) -> ImageEmbeddings:
    """Embed every image of ``sources`` (see the module doc). ``on_batch(indices, emb,
    skipped)`` sees each batch as soon as it is embedded (``emb`` None when none of its
    images loaded), so a caller can keep it (a resumable run does)."""
    from tqdm import tqdm

    transform = scorer.image_transform()
    render_size = 2 * int(getattr(scorer, "image_size", 112))
    workers = default_workers() if workers is None else workers
    loader = torch.utils.data.DataLoader(
        _Images(sources, transform, render_size),
        batch_size=batch_size,
        num_workers=workers,
        collate_fn=_collate,
        persistent_workers=False,
        prefetch_factor=4 if workers else None,
    )
    chunks, kept, skipped = [], [], {}
    with torch.inference_mode():
        for idx, items, bad in tqdm(
            loader, desc="images", unit="batch", disable=not progress, leave=False
        ):
            skipped.update(bad)
            if not idx:
                if on_batch is not None:
                    on_batch([], None, bad)
                continue
            if transform is None:
                chunks.append(scorer.embed_images(items))
            else:
                chunks.append(scorer.embed_pixels(items))
            kept += idx
            if on_batch is not None:
                on_batch(idx, chunks[-1], bad)
    for i, why in skipped.items():
        log.warning("skipped image %d: %s", i, why)
    dim = chunks[0].shape[1] if chunks else 0
    return ImageEmbeddings(torch.cat(chunks) if chunks else torch.zeros(0, dim), kept, skipped)


def embed_texts(scorer: Scorer, texts: Sequence[str]) -> torch.Tensor:
    """L2-normalised embeddings [len(texts), D]; each distinct text is embedded once per
    scorer and remembered."""
    precision = getattr(scorer, "precision", "fp32")
    cache = _TEXT_CACHE.setdefault(scorer, {}).setdefault(precision, {})
    missing = list(dict.fromkeys(t for t in texts if t not in cache))
    if missing:
        emb = scorer.embed_texts(missing)
        if cached_texts() + len(missing) > _CACHE_LIMIT:
            _TEXT_CACHE.clear()  # every scorer's entries, not only this one's
            cache = _TEXT_CACHE.setdefault(scorer, {}).setdefault(precision, {})
        cache.update(zip(missing, emb, strict=True))
        local = dict(zip(missing, emb, strict=True))
    else:
        local = {}
    rows = [local[t] if t in local else cache[t] for t in texts]
    if not rows:
        return torch.zeros(0, 0)
    return torch.stack(rows)


def cached_texts() -> int:
    """How many text embeddings the cache holds, over every live scorer and precision."""
    return sum(len(c) for by_precision in _TEXT_CACHE.values() for c in by_precision.values())


def clear_text_cache() -> None:
    _TEXT_CACHE.clear()
