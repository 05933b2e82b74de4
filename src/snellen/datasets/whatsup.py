"""What's Up (Kamath et al., EMNLP 2023) in the layout of its reference repository, read
from ``--root``. In every set the first caption option is the true one.

* ``whatsup/controlled-a``: ``ROOT/controlled_images_dataset.json`` (a list of
  ``{image_path, caption_options}``, four options) and the photographs under
  ``ROOT/controlled_images/``. The JSON's ``image_path`` keeps the repository's ``data/``
  prefix, so images are found by file name. A file is named ``OBJECT_PLACEMENT_OBJECT``
  (``mug_left_of_table.jpeg``): the two objects name the set of four, the placement
  (``left``, ``right``, ``on``, ``under``) its slot; pairs are left/right and on/under.
* ``whatsup/controlled-b``: ``ROOT/controlled_clevr_dataset.json`` and ``ROOT/controlled_clevr/``;
  placements ``left``, ``right``, ``in-front``, ``behind``.
* ``whatsup/coco-qa-one`` / ``-two``: ``ROOT/coco_qa_one_obj.json`` / ``coco_qa_two_obj.json``
  (a list of ``[image_id, true caption, false caption]``) and ``ROOT/val2017/<id, 12
  digits>.jpg``; ``whatsup/vg-qa-one`` / ``-two``: ``ROOT/vg_qa_one_obj.json`` /
  ``vg_qa_two_obj.json`` and ``ROOT/vg_images/<id>.jpg``. Individual accuracy only.

Prepositions are labelled as the reference code labels them.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from snellen.datasets.base import BuildOptions
from snellen.datasets.kinds import ImageSource, Spatial, read_json, require_root
from snellen.errors import InputError

CONTROLLED = {
    "a": ("controlled_images_dataset.json", "controlled_images",
          (("left", "right"), ("on", "under"))),
    "b": ("controlled_clevr_dataset.json", "controlled_clevr",
          (("left", "right"), ("in-front", "behind"))),
}  # fmt: skip
QA = {
    "coco-qa-one": ("coco_qa_one_obj.json", "val2017"),
    "coco-qa-two": ("coco_qa_two_obj.json", "val2017"),
    "vg-qa-one": ("vg_qa_one_obj.json", "vg_images"),
    "vg-qa-two": ("vg_qa_two_obj.json", "vg_images"),
}
FIX = "download What's Up's annotation JSON and image folder (its reference repository's data/) into --root"


def controlled_preposition(name: str, subset: str) -> str:
    """The per-preposition label of a controlled image, as the reference code reads it off
    the file name."""
    if "left_of" in name:
        return "left_of"
    if "right_of" in name:
        return "right_of"
    if subset == "a":
        return "on" if "_on_" in name else "under"
    return "in-front_of" if "_in-front_of_" in name else "behind"


def controlled(opts: BuildOptions, arg: str | None, subset: str) -> Spatial:
    name = f"whatsup/controlled-{subset}"
    filename, folder, pairs = CONTROLLED[subset]
    root = require_root(opts.root, name)
    ann = root / filename
    items = read_json(ann, f"What's Up's {filename} (a list of image_path, caption_options)", FIX)
    if not isinstance(items, list):
        raise InputError(f"{ann}: expected a JSON list of test cases")
    images, cands, groups, keys, slots = [], [], [], [], []
    for n, item in enumerate(items):
        try:
            file = Path(str(item["image_path"])).name
            options = [str(c) for c in item["caption_options"]]
        except (KeyError, TypeError) as e:
            raise InputError(
                f"{ann}: case {n} lacks {e} (needs image_path, caption_options)"
            ) from None
        parts = Path(file).stem.split("_")
        if len(parts) < 3 or len(options) < 2:
            raise InputError(
                f"{ann}: case {n}: {file!r} is not named OBJECT_PLACEMENT_OBJECT, or it has "
                "fewer than two caption options; is this What's Up's controlled set?"
            )
        images.append(ImageSource(path=str(root / folder / file)))
        cands.append(options)
        groups.append(controlled_preposition(file, subset))
        keys.append(f"{parts[0]}|{parts[-1]}")
        slots.append(parts[1])
        if opts.limit is not None and len(images) >= opts.limit:
            break
    return Spatial(images, cands, [0] * len(images), groups, chance=1 / 4,
                   info={"layout": f"whatsup {filename}"}, set_key=keys, slot=slots,
                   pairs=pairs)  # fmt: skip


def qa_preposition(caption: str, which: str) -> str:
    """The reference code's label of a QA case from its true caption."""
    if which.endswith("one"):
        return caption.split()[-1]
    if "left of" in caption:
        return "left"
    if "right of" in caption:
        return "right"
    if which.startswith("coco"):
        return "above" if "above" in caption else "below"
    if "front of" in caption:
        return "front"
    return "behind" if "behind" in caption else "top"


def qa(opts: BuildOptions, arg: str | None, which: str) -> Spatial:
    name = f"whatsup/{which}"
    filename, folder = QA[which]
    root = require_root(opts.root, name)
    ann = root / filename
    items = read_json(ann, f"What's Up's {filename} (a list of [image_id, true, false])", FIX)
    if not isinstance(items, list):
        raise InputError(f"{ann}: expected a JSON list of [image_id, true caption, false caption]")
    images, cands, groups = [], [], []
    for n, item in enumerate(items):
        if not isinstance(item, list) or len(item) < 3:
            raise InputError(f"{ann}: case {n} is not [image_id, true caption, false caption]")
        image_id: Any = item[0]
        file = f"{int(image_id):012d}.jpg" if which.startswith("coco") else f"{image_id}.jpg"
        images.append(ImageSource(path=str(root / folder / file)))
        cands.append([str(item[1]), str(item[2])])
        groups.append(qa_preposition(str(item[1]), which))
        if opts.limit is not None and len(images) >= opts.limit:
            break
    return Spatial(images, cands, [0] * len(images), groups, chance=1 / 2,
                   info={"layout": f"whatsup {filename}"})  # fmt: skip


def register() -> None:
    from snellen.datasets.base import register_dataset

    for subset, (filename, folder, _) in CONTROLLED.items():
        register_dataset(
            f"whatsup/controlled-{subset}",
            Spatial,
            partial(controlled, subset=subset),
            f"What's Up controlled {subset.upper()} (--root: {filename} + {folder}/)",
            task="whatsup",
            published=True,
        )
    for which, (filename, folder) in QA.items():
        register_dataset(
            f"whatsup/{which}",
            Spatial,
            partial(qa, which=which),
            f"What's Up {which.upper()} (--root: {filename} + {folder}/)",
            task="whatsup",
            published=True,
        )
