"""SugarCrepe (Hsieh et al., 2023) in its official format, read from ``--root``:
``ROOT/SUBSET.json`` (keyed by index: ``filename``, ``caption``, ``negative_caption``) and the
COCO val2017 images under ``ROOT/val2017/``, as clip_benchmark lays it out. Candidates are
``[caption, negative_caption]``; the metric is text accuracy (clip_benchmark's ``text_acc``)."""

from __future__ import annotations

from functools import partial
from typing import Any

from snellen.datasets.kinds import ImageSource, Selection, read_json, require_root
from snellen.errors import InputError

SUBSETS = (
    "add_att", "add_obj", "replace_att", "replace_obj", "replace_rel", "swap_att", "swap_obj",
)  # fmt: skip


def build(opts: Any, subset: str) -> Selection:
    name = f"sugarcrepe/{subset}"
    root = require_root(opts.root, name)
    ann = root / f"{subset}.json"
    data = read_json(ann, "SugarCrepe annotations keyed by index",
                     f"put SugarCrepe's data/{subset}.json in --root")  # fmt: skip
    if not isinstance(data, dict):
        raise InputError(f"{ann}: expected a JSON object keyed by index")
    images, cands = [], []
    for key, item in data.items():
        try:
            images.append(ImageSource(path=str(root / "val2017" / item["filename"])))
            cands.append([str(item["caption"]), str(item["negative_caption"])])
        except (KeyError, TypeError) as e:
            raise InputError(
                f"{ann}: entry {key!r} lacks {e} (needs filename, caption, negative_caption)"
            ) from None
        if opts.limit is not None and len(images) >= opts.limit:
            break
    return Selection(images, cands, [0] * len(images), [subset] * len(images), chance=0.5)


def _build(opts: Any, arg: str | None, subset: str) -> Selection:
    return build(opts, subset)


def register() -> None:
    from snellen.datasets.base import register_dataset

    for subset in SUBSETS:
        register_dataset(
            f"sugarcrepe/{subset}",
            Selection,
            partial(_build, subset=subset),
            f"SugarCrepe {subset} (--root: {subset}.json + val2017/)",
            task="aro",
            published=True,
        )
