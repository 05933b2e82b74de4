"""Winoground and ColorSwap in their released layouts, read from ``--root``.

* ``winoground`` (Thrush et al., CVPR 2022; the ``facebook/winoground`` dataset repository):
  ``ROOT/examples.jsonl``, one JSON object a line with ``id``, ``caption_0``, ``caption_1``,
  ``image_0``, ``image_1`` (image names without extension), ``tag``, ``secondary_tag``,
  ``num_main_preds`` and ``collapsed_tag``; the pictures as ``ROOT/images/<image_N>.png``
  (the release's ``images.zip`` unpacked). ``ROOT/data/`` holding both is read too, as the
  repository lays them out. Scores break down by ``tag``, ``secondary_tag`` (as written),
  ``collapsed_tag`` and ``num_main_preds``.
* ``colorswap`` (Burapacheep et al., 2024; the ``stanfordnlp/colorswap`` dataset repository):
  its Parquet files (``ROOT/**/test-*.parquet`` by default; ``colorswap:train`` reads the
  training split), columns ``id``, ``image_1``, ``image_2`` (the encoded image: a struct with
  ``bytes``), ``caption_1``, ``caption_2``, and ``image_source`` / ``caption_source`` when
  present (breakdowns).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from PIL import Image

from snellen.datasets.base import BuildOptions
from snellen.datasets.kinds import ImagePairs, ImageSource, raw_source, require_file, require_root
from snellen.errors import InputError

WINOGROUND_KEYS = ("id", "caption_0", "caption_1", "image_0", "image_1")
WINOGROUND_TAGS = ("tag", "secondary_tag", "collapsed_tag", "num_main_preds")
WINOGROUND_FIX = (
    "download the Winoground release (examples.jsonl and images.zip, unpacked to images/) "
    "into --root"
)


def winoground(opts: BuildOptions, arg: str | None) -> ImagePairs:
    root = require_root(opts.root, "winoground")
    if not (root / "examples.jsonl").exists() and (root / "data" / "examples.jsonl").exists():
        root = root / "data"
    ann = require_file(root / "examples.jsonl", "Winoground's examples.jsonl", WINOGROUND_FIX)
    images: list[ImageSource] = []
    captions: list[list[str]] = []
    tags: dict[str, list[str]] = {t: [] for t in WINOGROUND_TAGS}
    ids: list[str] = []
    with ann.open(encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(f"{ann}:{line_no}: not valid JSON ({e})") from None
            missing = [k for k in WINOGROUND_KEYS if k not in item]
            if missing:
                raise InputError(
                    f"{ann}:{line_no}: lacks {', '.join(missing)} (needs {', '.join(WINOGROUND_KEYS)}); "
                    "is this Winoground's examples.jsonl?"
                )
            for c in (0, 1):
                images.append(ImageSource(path=str(root / "images" / f"{item[f'image_{c}']}.png")))
            captions.append([str(item["caption_0"]), str(item["caption_1"])])
            ids.append(str(item["id"]))
            for t in WINOGROUND_TAGS:
                tags[t].append(str(item.get(t, "")))
            if opts.limit is not None and len(captions) >= opts.limit:
                break
    if not (root / "images").is_dir():
        raise InputError(f"{root / 'images'} not found: unpack Winoground's images.zip there")
    return ImagePairs(images, captions, tags, ids, {"layout": "winoground examples.jsonl"})


def _parquet_rows(root: Path, split: str) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    files = sorted(root.rglob(f"{split}-*.parquet")) or sorted(root.rglob(f"{split}/*.parquet"))
    if not files:
        raise InputError(
            f"{root}: no {split}-*.parquet found; download the stanfordnlp/colorswap dataset "
            "repository (its Parquet files) into --root"
        )
    rows: list[dict[str, Any]] = []
    for f in files:
        rows += pq.read_table(f).to_pylist()
    return rows


def _encoded(value: Any, where: str) -> ImageSource:
    data = value.get("bytes") if isinstance(value, dict) else value
    if not isinstance(data, bytes):
        raise InputError(f"{where}: expected an encoded image (a struct with bytes)")
    with Image.open(io.BytesIO(data)) as im:
        return raw_source(im)


def colorswap(opts: BuildOptions, arg: str | None) -> ImagePairs:
    root = require_root(opts.root, "colorswap")
    split = arg or "test"
    if split not in ("test", "train"):
        raise InputError(f"colorswap:{split}: the splits are test and train")
    images: list[ImageSource] = []
    captions: list[list[str]] = []
    tags: dict[str, list[str]] = {"image_source": [], "caption_source": []}
    ids: list[str] = []
    for n, row in enumerate(_parquet_rows(root, split)):
        try:
            where = f"colorswap {split} row {n}"
            images += [_encoded(row["image_1"], where), _encoded(row["image_2"], where)]
            captions.append([str(row["caption_1"]), str(row["caption_2"])])
        except KeyError as e:
            raise InputError(
                f"colorswap {split} row {n} lacks {e} (needs image_1, image_2, caption_1, "
                "caption_2); is this the stanfordnlp/colorswap release?"
            ) from None
        ids.append(str(row.get("id", n)))
        for t in tags:
            tags[t].append(str(row.get(t) or ""))
        if opts.limit is not None and len(captions) >= opts.limit:
            break
    if not any(tags["image_source"]):
        tags = {}
    return ImagePairs(images, captions, tags, ids, {"layout": f"colorswap parquet ({split})"})


def register() -> None:
    from snellen.datasets.base import register_dataset

    register_dataset(
        "winoground",
        ImagePairs,
        winoground,
        "Winoground (--root: examples.jsonl + images/): text, image and group scores",
        task="winoground",
        published=True,
    )
    register_dataset(
        "colorswap",
        ImagePairs,
        colorswap,
        "ColorSwap (--root: its Parquet files; colorswap:train for the training split)",
        task="winoground",
        published=True,
    )
