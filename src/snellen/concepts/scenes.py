"""The ``scenes`` concept set: scene descriptions sampled uniformly from MS-COCO captions.

The package ships no captions. Point ``source`` at either the official captions file
(``captions_train2017.json`` and the like: ``{"annotations": [{"image_id", "id", "caption"}],
"images": [...]}``) or a TSV with a ``title`` column of captions (the NegCLIP/ARO
``valid_neg_clip.tsv`` format: index, title, filepath, neg_caption, neg_image).
"""

from __future__ import annotations

import csv
import json
import random
import sys
from pathlib import Path

from snellen.concepts.base import Concept
from snellen.errors import InputError

HOW = (
    "pass the MS-COCO captions file with --source FILE (CLI) or source=FILE (Python): the official "
    "annotations JSON (e.g. annotations/captions_val2014.json from the COCO 2014/2017 annotation "
    "download) or a TSV with a 'title' column such as valid_neg_clip.tsv"
)


def read_captions(source: str | Path) -> list[tuple[str, str, dict]]:
    """(id, caption, extra attributes) for every caption in ``source``, in file order."""
    path = Path(source)
    if not path.is_file():
        raise InputError(f"{path}: no such captions file; {HOW}")
    if path.suffix.lower() == ".json":
        return _read_json(path)
    return _read_tsv(path)


def _read_json(path: Path) -> list[tuple[str, str, dict]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (byte {exc.start}); save the captions file as UTF-8"
        ) from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}, line {exc.lineno}: invalid JSON ({exc.msg}); {HOW}") from exc
    annotations = data.get("annotations") if isinstance(data, dict) else None
    if not isinstance(annotations, list):
        raise InputError(
            f"{path}: no 'annotations' list; expected the official COCO captions format; {HOW}"
        )
    out = []
    for i, ann in enumerate(annotations):
        if not isinstance(ann, dict) or not str(ann.get("caption", "")).strip():
            raise InputError(
                f"{path}: annotation {i} has no 'caption'; each annotation needs image_id, id and caption"
            )
        caption = " ".join(str(ann["caption"]).split())
        out.append((str(ann.get("id", i)), caption, {"image_id": ann.get("image_id")}))
    if not out:
        raise InputError(f"{path}: the 'annotations' list is empty; {HOW}")
    return out


def _read_tsv(path: Path) -> list[tuple[str, str, dict]]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        with path.open(encoding="utf-8", newline="") as f:
            # captions contain bare quotes; the format has no quoting
            reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
            if reader.fieldnames is None or "title" not in reader.fieldnames:
                raise InputError(
                    f"{path}, line 1: no 'title' column (found {reader.fieldnames}); {HOW}"
                )
            out: list[tuple[str, str, dict]] = []
            for row in reader:
                caption = " ".join((row.get("title") or "").split())
                if not caption:
                    raise InputError(
                        f"{path}, line {reader.line_num}: empty 'title'; every row needs a caption"
                    )
                key = (row.get("") or row.get("index") or str(len(out))).strip()
                extra = {"image": row["filepath"]} if row.get("filepath") else {}
                out.append((key, caption, extra))
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (byte {exc.start}); save the captions file as UTF-8"
        ) from exc
    if not out:
        raise InputError(f"{path}: no captions; {HOW}")
    return out


def load_scenes(source: str | Path | None, n: int | None = None, seed: int = 0) -> list[Concept]:
    """All captions in file order, or ``n`` sampled uniformly without replacement."""
    if source is None:
        raise InputError(f"the scenes concept set needs MS-COCO captions and ships none; {HOW}")
    captions = read_captions(source)
    if n is not None:
        if not 0 <= n <= len(captions):
            raise InputError(f"{source}: has {len(captions)} captions; cannot sample {n}")
        captions = random.Random(seed).sample(captions, n)  # noqa: S311 - seeded sampling for reproducible data, not security
    return [
        Concept(
            id=f"scenes/{key}",
            category="scenes",
            description=caption,
            attributes={"source": Path(source).name, **extra},
        )
        for key, caption, extra in captions
    ]
