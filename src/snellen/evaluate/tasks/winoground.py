"""Winoground-style matching (Winoground, ColorSwap, VAD-Winoground): two images and two
captions per case, scored in both directions; the text, image and group scores of the
paper, broken down by each of the set's tags, with a bootstrap interval over the cases."""

from __future__ import annotations

import torch

from snellen.datasets.kinds import ImagePairs
from snellen.evaluate.checkpoint import Checkpoint
from snellen.evaluate.metrics_composition import (
    WINOGROUND_CHANCE,
    bootstrap_interval,
    by_tag,
    winoground_correct,
)
from snellen.evaluate.tasks import TaskOutput
from snellen.score.base import Scorer

SCORES = ("text_score", "image_score", "group_score")


def evaluate(
    scorer: Scorer, dataset: ImagePairs, batch_size: int = 64, workers: int | None = None,
    seeds: list[int] | None = None, progress: bool = True, checkpoint: Checkpoint | None = None,
) -> TaskOutput:  # fmt: skip
    ck = checkpoint or Checkpoint()
    images = ck.images(scorer, dataset.images, batch_size, workers, progress)
    row = {i: r for r, i in enumerate(images.kept)}
    # a case needs both of its images; one that did not load drops the case
    cases = [k for k in range(len(dataset)) if 2 * k in row and 2 * k + 1 in row]
    texts = [c for k in cases for c in dataset.captions[k]]
    text_emb = ck.texts(scorer, texts)
    if not cases:
        return TaskOutput({}, counts={"cases": 0, "images": 0, "skipped": len(images.skipped)},
                          skipped=images.skipped)  # fmt: skip
    t = text_emb.view(len(cases), 2, -1).double()
    rows = torch.tensor([[row[2 * k], row[2 * k + 1]] for k in cases], dtype=torch.long)
    v = images.emb.double()[rows]  # [N, 2 images, D]
    sims = torch.einsum("kcd,kid->kci", t, v)
    c = winoground_correct(sims)
    series = {"text_score": c.text, "image_score": c.image, "group_score": c.group}
    n = len(cases)
    metrics: dict[str, float | None] = {k: sum(v_) / n for k, v_ in series.items()}
    metrics["chance"] = WINOGROUND_CHANCE["group_score"]
    for k in SCORES:
        metrics[f"{k}_chance"] = WINOGROUND_CHANCE[k]
    intervals = bootstrap_interval([series[k] for k in SCORES])
    breakdown: dict[str, dict[str, float]] = {
        "ci95": {
            f"{k}_{end}": b
            for k, (lo, hi) in zip(SCORES, intervals, strict=True)
            for end, b in (("low", lo), ("high", hi))
        },  # fmt: skip
    }
    # Why a score falls below chance: when both images prefer the same caption (a caption
    # the model likes whatever the picture) the text score cannot be right, and likewise
    # for the image score; with no such preference each happens half the time.
    same_caption = ((sims[:, 0, 0] > sims[:, 1, 0]) == (sims[:, 0, 1] > sims[:, 1, 1])).double()
    same_image = ((sims[:, 0, 0] > sims[:, 0, 1]) == (sims[:, 1, 0] > sims[:, 1, 1])).double()
    breakdown["preference"] = {
        "both_images_prefer_one_caption": float(same_caption.mean()),
        "both_captions_prefer_one_image": float(same_image.mean()),
    }
    counts = {"cases": n, "images": len(images.kept), "skipped": len(images.skipped),
              "skipped_cases": len(dataset) - n}  # fmt: skip
    for name, values in dataset.tags.items():
        kept = [values[k] for k in cases]
        for k in SCORES:
            breakdown[f"{k}_by_{name}"] = by_tag(series[k], kept)
        for value in sorted(set(kept)):
            counts[f"{name}:{value}"] = kept.count(value)
    return TaskOutput(metrics, breakdown, counts, images.skipped, [])
