"""ARO's four sets in their official formats, read from ``--root`` (Yuksekgonul et al.,
2023; the files of the reference repository).

* ``aro/vg-relation``: ``ROOT/visual_genome_relation.json`` (items with ``image_path``,
  ``bbox_x/y/w/h``, ``true_caption``, ``false_caption``, ``relation_name``) and the images
  under ``ROOT/images/``. Each image is cropped to its box; candidates ``[false, true]``.
  Macro accuracy over relations without the symmetric ones, as the paper's notebook.
* ``aro/vg-attribution``: ``ROOT/visual_genome_attribution.json`` (``attributes``: a pair);
  macro accuracy over attribute pairs with at least 25 cases, as the reference.
* ``aro/coco-order`` / ``aro/flickr-order``: the Karpathy test JSON (``ROOT/coco_karpathy_test
  .json`` / ``ROOT/flickr30k_test.json``: items with ``image``, a path under ROOT, and
  ``caption``, a list); one case per caption: the cleaned caption and its four perturbations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from snellen.datasets.kinds import ImageSource, Selection, read_json, require_root
from snellen.datasets.perturb import order_options
from snellen.errors import InputError

# The relations the ARO notebook leaves out of VG-Relation's macro accuracy (swapping their
# arguments does not make a false caption).
SYMMETRIC_RELATIONS = frozenset(
    [
        "adjusting",
        "attached to",
        "between",
        "bigger than",
        "biting",
        "boarding",
        "brushing",
        "chewing",
        "cleaning",
        "climbing",
        "close to",
        "coming from",
        "coming out of",
        "contain",
        "crossing",
        "dragging",
        "draped over",
        "drinking",
        "drinking from",
        "driving",
        "driving down",
        "driving on",
        "eating from",
        "eating in",
        "enclosing",
        "exiting",
        "facing",
        "filled with",
        "floating in",
        "floating on",
        "flying",
        "flying above",
        "flying in",
        "flying over",
        "flying through",
        "full of",
        "going down",
        "going into",
        "going through",
        "grazing in",
        "growing in",
        "growing on",
        "guiding",
        "hanging from",
        "hanging in",
        "hanging off",
        "hanging over",
        "higher than",
        "holding onto",
        "hugging",
        "in between",
        "jumping off",
        "jumping on",
        "jumping over",
        "kept in",
        "larger than",
        "leading",
        "leaning over",
        "leaving",
        "licking",
        "longer than",
        "looking in",
        "looking into",
        "looking out",
        "looking over",
        "looking through",
        "lying next to",
        "lying on top of",
        "making",
        "mixed with",
        "mounted on",
        "moving",
        "on the back of",
        "on the edge of",
        "on the front of",
        "on the other side of",
        "opening",
        "painted on",
        "parked at",
        "parked beside",
        "parked by",
        "parked in",
        "parked in front of",
        "parked near",
        "parked next to",
        "perched on",
        "petting",
        "piled on",
        "playing",
        "playing in",
        "playing on",
        "playing with",
        "pouring",
        "reaching for",
        "reading",
        "reflected on",
        "riding on",
        "running in",
        "running on",
        "running through",
        "seen through",
        "sitting behind",
        "sitting beside",
        "sitting by",
        "sitting in front of",
        "sitting near",
        "sitting next to",
        "sitting under",
        "skiing down",
        "skiing on",
        "sleeping in",
        "sleeping on",
        "smiling at",
        "sniffing",
        "splashing",
        "sprinkled on",
        "stacked on",
        "standing against",
        "standing around",
        "standing behind",
        "standing beside",
        "standing in front of",
        "standing near",
        "standing next to",
        "staring at",
        "stuck in",
        "surrounding",
        "swimming in",
        "swinging",
        "talking to",
        "topped with",
        "touching",
        "traveling down",
        "traveling on",
        "tying",
        "typing on",
        "underneath",
        "wading in",
        "waiting for",
        "walking across",
        "walking by",
        "walking down",
        "walking next to",
        "walking through",
        "working in",
        "working on",
        "worn on",
        "wrapped around",
        "wrapped in",
        "by",
        "of",
        "near",
        "next to",
        "with",
        "beside",
        "on the side of",
        "around",
    ]
)
VG_FIX = "download the ARO files (visual_genome_*.json and the images folder) into --root"
ORDER_FILES = {"coco": "coco_karpathy_test.json", "flickr": "flickr30k_test.json"}


def _vg(opts: Any, which: str) -> Selection:
    root = require_root(opts.root, f"aro/vg-{which}")
    ann = root / f"visual_genome_{which}.json"
    items = read_json(ann, "a JSON list of ARO test cases", VG_FIX)
    if not isinstance(items, list):
        raise InputError(f"{ann}: expected a JSON list of test cases, got {type(items).__name__}")
    if opts.limit is not None:
        items = items[: opts.limit]
    images, cands, groups = [], [], []
    key = "relation_name" if which == "relation" else "attributes"
    for n, item in enumerate(items):
        try:
            bbox = tuple(float(item[f"bbox_{k}"]) for k in "xywh")
            images.append(ImageSource(path=str(root / "images" / item["image_path"]), bbox=bbox))  # type: ignore[arg-type]
            cands.append([str(item["false_caption"]), str(item["true_caption"])])
            g = item[key]
            groups.append(str(g) if which == "relation" else f"{g[0]}_{g[1]}")
        except (KeyError, TypeError, IndexError, ValueError) as e:
            raise InputError(
                f"{ann}: case {n} lacks {e} (needs image_path, bbox_x/y/w/h, true_caption, "
                f"false_caption, {key}); is this ARO's visual_genome_{which}.json?"
            ) from None
    if which == "relation":
        return Selection(images, cands, [1] * len(images), groups, metric="macro",
                         drop_groups=SYMMETRIC_RELATIONS, chance=0.5)  # fmt: skip
    return Selection(images, cands, [1] * len(images), groups, metric="macro", min_count=25,
                     chance=0.5)  # fmt: skip


def vg_relation(opts: Any, arg: str | None) -> Selection:
    return _vg(opts, "relation")


def vg_attribution(opts: Any, arg: str | None) -> Selection:
    return _vg(opts, "attribution")


def karpathy_items(root: Path, filename: str, name: str) -> list[dict[str, Any]]:
    ann = root / filename
    items = read_json(ann, "a Karpathy test JSON (a list of {image, caption: [...]})",
                      f"put {filename} (the BLIP/ARO Karpathy split) in --root")  # fmt: skip
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and "image" in i and "caption" in i for i in items
    ):
        raise InputError(
            f"{ann}: expected a list of {{'image': PATH, 'caption': [...]}} for {name}"
        )
    return items


def _order(opts: Any, which: str) -> Selection:
    name = f"aro/{which}-order"
    root = require_root(opts.root, name)
    items = karpathy_items(root, ORDER_FILES[which], name)
    images, texts = [], []
    for item in items:
        caps = item["caption"] if isinstance(item["caption"], list) else [item["caption"]]
        for c in caps:
            images.append(ImageSource(path=str(root / item["image"])))
            texts.append(str(c))
            if opts.limit is not None and len(texts) >= opts.limit:
                break
        if opts.limit is not None and len(texts) >= opts.limit:
            break

    def draw(seed: int) -> list[list[str]]:
        return order_options(texts, seed)

    return Selection(images, [], [0] * len(images), [which] * len(images), chance=0.2, draw=draw)


def coco_order(opts: Any, arg: str | None) -> Selection:
    return _order(opts, "coco")


def flickr_order(opts: Any, arg: str | None) -> Selection:
    return _order(opts, "flickr")


def register() -> None:
    from snellen.datasets.base import register_dataset

    register_dataset(
        "aro/vg-relation",
        Selection,
        vg_relation,
        "ARO VG-Relation (--root: visual_genome_relation.json + images/)",
        task="aro",
        published=True,
    )
    register_dataset(
        "aro/vg-attribution",
        Selection,
        vg_attribution,
        "ARO VG-Attribution (--root: visual_genome_attribution.json + images/)",
        task="aro",
        published=True,
    )
    register_dataset(
        "aro/coco-order",
        Selection,
        coco_order,
        "ARO COCO-Order (--root: coco_karpathy_test.json + images)",
        task="aro",
        published=True,
    )
    register_dataset(
        "aro/flickr-order",
        Selection,
        flickr_order,
        "ARO Flickr30k-Order (--root: flickr30k_test.json + images)",
        task="aro",
        published=True,
    )
