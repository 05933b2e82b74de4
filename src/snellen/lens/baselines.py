"""LENS's baselines that use no reasoner: the vision model alone (zero-shot over the
classes, the answer vocabulary or the two meme prompts) and the majority answer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from snellen.datasets import VQA
from snellen.lens.records import LensAnswer, LensItem
from snellen.lens.vocab import scorer_identity
from snellen.metrics.vqa import vqa_score
from snellen.store.run import content_key


def open_image(path: str) -> Image.Image:
    with Image.open(path) as im:
        return im.convert("RGB")


def item_score(task: str, item: LensItem, prediction: str) -> float:
    """The item's metric: official VQA accuracy, else 1 for the right label."""
    if task == "vqa":
        return vqa_score(prediction, item.answers)
    return float(prediction == item.label)


def vision_baseline(
    task: str, ds: VQA, items: Sequence[LensItem], train: Sequence[LensItem],
    scorer: Any, emb_dir: Path,
) -> list[LensAnswer]:  # fmt: skip
    """The vision model alone: zero-shot over the classes, the answer vocabulary, or the two
    meme prompts."""
    from snellen.lens.vocab import text_embeddings

    if task == "classify":
        candidates = list(ds.classes)
        prompts = [ds.class_template.format(c) for c in candidates]
    elif task == "vqa":
        candidates = sorted({it.label for it in (train or items)})
        prompts = candidates
    else:
        candidates = ["0", "1"]
        prompts = ["a meme", "a hateful meme"]
    text_emb = text_embeddings(scorer, prompts, emb_dir)
    img_emb = scorer.embed_images([open_image(it.image) for it in items])
    sims = img_emb @ text_emb.t()
    setting = content_key("vision", scorer_identity(scorer), prompts)[:16]
    out = []
    for it, row in zip(items, sims, strict=True):
        pred = candidates[int(row.argmax())]
        conf = float(torch.softmax(row * 100, 0)[1]) if task == "binary" else float(row.max())
        out.append(LensAnswer(it.id, "vision", setting, pred, item_score(task, it, pred), conf))
    return out


def majority_baseline(
    task: str, items: Sequence[LensItem], train: Sequence[LensItem], notes: list[str]
) -> list[LensAnswer]:
    """Every item answered with the most common label of the train split (of the evaluated
    items when there is none, said in ``notes``)."""
    pool = train or items
    if not train:
        notes.append("majority answer taken from the evaluation split (no train split)")
    top = Counter(it.label for it in pool).most_common(1)[0][0]
    setting = content_key("majority", top)[:16]
    confidence = float(top == "1") if task == "binary" else 0.0
    return [
        LensAnswer(it.id, "majority", setting, top, item_score(task, it, top), confidence)
        for it in items
    ]
