"""SugarCrepe++: one image, two captions that describe it in different words and a hard
negative; the image-text score (ITT) and the text-only score (TOT) of the paper, per subset,
with bootstrap intervals."""

from __future__ import annotations

from snellen.datasets.kinds import Triplets
from snellen.evaluate.checkpoint import Checkpoint
from snellen.evaluate.metrics_composition import (
    TRIPLET_CHANCE,
    bootstrap_interval,
    by_tag,
    triplet_correct,
)
from snellen.evaluate.tasks import TaskOutput
from snellen.score.base import Scorer


def evaluate(
    scorer: Scorer, dataset: Triplets, batch_size: int = 64, workers: int | None = None,
    seeds: list[int] | None = None, progress: bool = True, checkpoint: Checkpoint | None = None,
) -> TaskOutput:  # fmt: skip
    ck = checkpoint or Checkpoint()
    images = ck.images(scorer, dataset.images, batch_size, workers, progress)
    kept = images.kept
    texts = [t for i in kept for t in (*dataset.positives[i], dataset.negatives[i])]
    emb = ck.texts(scorer, texts)
    if not kept:
        return TaskOutput({}, counts={"cases": 0, "skipped": len(images.skipped)},
                          skipped=images.skipped)  # fmt: skip
    emb = emb.view(len(kept), 3, -1)
    itt, tot = triplet_correct(images.emb, emb[:, 0], emb[:, 1], emb[:, 2])
    n = len(kept)
    metrics: dict[str, float | None] = {
        "itt_accuracy": sum(itt) / n,
        "tot_accuracy": sum(tot) / n,
        "chance": TRIPLET_CHANCE["itt_accuracy"],
    }
    (itt_lo, itt_hi), (tot_lo, tot_hi) = bootstrap_interval([itt, tot])
    groups = [dataset.group[i] for i in kept]
    breakdown = {
        "itt_by_subset": by_tag(itt, groups),
        "tot_by_subset": by_tag(tot, groups),
        "ci95": {"itt_accuracy_low": itt_lo, "itt_accuracy_high": itt_hi,
                 "tot_accuracy_low": tot_lo, "tot_accuracy_high": tot_hi},
    }  # fmt: skip
    return TaskOutput(metrics, breakdown, {"cases": n, "skipped": len(images.skipped)},
                      images.skipped, [])  # fmt: skip
