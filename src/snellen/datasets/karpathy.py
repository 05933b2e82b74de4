"""COCO and Flickr30k retrieval on the Karpathy test split, read from ``--root``:
``ROOT/coco_karpathy_test.json`` or ``ROOT/flickr30k_test.json`` (BLIP's and ARO's files: a
list of ``{"image": PATH under ROOT, "caption": [five captions]}``). Recall@1/5/10 in both
directions; captions are used as written (as clip_benchmark does)."""

from __future__ import annotations

from typing import Any

from snellen.datasets.aro import karpathy_items
from snellen.datasets.kinds import ImageSource, Retrieval, require_root

FILES = {"coco": "coco_karpathy_test.json", "flickr": "flickr30k_test.json"}


def build(opts: Any, which: str) -> Retrieval:
    name = f"retrieval/{which}"
    root = require_root(opts.root, name)
    items = karpathy_items(root, FILES[which], name)
    if opts.limit is not None:
        items = items[: opts.limit]
    images = [ImageSource(path=str(root / i["image"])) for i in items]
    captions = [
        [str(c) for c in (i["caption"] if isinstance(i["caption"], list) else [i["caption"]])]
        for i in items
    ]
    return Retrieval(images, captions)


def register() -> None:
    from snellen.datasets.base import register_dataset

    register_dataset(
        "retrieval/coco",
        Retrieval,
        lambda o, a: build(o, "coco"),
        "COCO Karpathy test retrieval (--root: coco_karpathy_test.json + images)",
        task="retrieval",
        published=True,
    )
    register_dataset(
        "retrieval/flickr",
        Retrieval,
        lambda o, a: build(o, "flickr"),
        "Flickr30k Karpathy test retrieval (--root: flickr30k_test.json + images)",
        task="retrieval",
        published=True,
    )
