"""SugarCrepe++ (Dumpala et al., NeurIPS 2024) in the layout of its reference repository,
read from ``--root``: ``ROOT/SUBSET.json`` (a list of ``{id, filename, caption, caption2,
negative_caption}``) and the COCO val2017 pictures under ``ROOT/val2017/``. ``caption`` and
``caption2`` are the two true captions, ``negative_caption`` the hard negative; scored by
the ``sugarcrepe++`` task (ITT and TOT)."""

from __future__ import annotations

from functools import partial

from snellen.datasets.base import BuildOptions
from snellen.datasets.kinds import ImageSource, Triplets, read_json, require_root
from snellen.errors import InputError

SUBSETS = ("replace_att", "replace_obj", "replace_rel", "swap_att", "swap_obj")


def build(opts: BuildOptions, arg: str | None, subset: str) -> Triplets:
    name = f"sugarcrepe++/{subset}"
    root = require_root(opts.root, name)
    ann = root / f"{subset}.json"
    items = read_json(ann, "a SugarCrepe++ JSON list of {filename, caption, caption2, "
                      "negative_caption}", f"put SugarCrepe++'s data/{subset}.json in --root")  # fmt: skip
    if isinstance(items, dict):  # tolerate the index-keyed form of SugarCrepe
        items = list(items.values())
    if not isinstance(items, list):
        raise InputError(f"{ann}: expected a JSON list of test cases")
    images, positives, negatives = [], [], []
    for n, item in enumerate(items):
        try:
            images.append(ImageSource(path=str(root / "val2017" / item["filename"])))
            positives.append([str(item["caption"]), str(item["caption2"])])
            negatives.append(str(item["negative_caption"]))
        except (KeyError, TypeError) as e:
            raise InputError(
                f"{ann}: case {n} lacks {e} (needs filename, caption, caption2, "
                "negative_caption); is this SugarCrepe++ (not SugarCrepe)?"
            ) from None
        if opts.limit is not None and len(images) >= opts.limit:
            break
    return Triplets(images, positives, negatives, [subset] * len(images),
                    {"layout": f"sugarcrepe++ {subset}.json"})  # fmt: skip


def register() -> None:
    from snellen.datasets.base import register_dataset

    for subset in SUBSETS:
        register_dataset(
            f"sugarcrepe++/{subset}",
            Triplets,
            partial(build, subset=subset),
            f"SugarCrepe++ {subset} (--root: {subset}.json + val2017/): ITT and TOT",
            task="sugarcrepe++",
            published=True,
        )
