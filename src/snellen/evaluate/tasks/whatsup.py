"""Spatial-preposition selection (What's Up, VAD-What's Up): one image, the true caption
first and the same objects in other placements after it; individual, pair and set accuracy
as the authors compute them, per preposition, with a bootstrap interval on individual
accuracy."""

from __future__ import annotations

import torch

from snellen.datasets.kinds import Spatial
from snellen.evaluate.checkpoint import Checkpoint
from snellen.evaluate.metrics_composition import (
    bootstrap_interval,
    first_argmax,
    whatsup_accuracy,
)
from snellen.evaluate.tasks import TaskOutput
from snellen.score.base import Scorer


def evaluate(
    scorer: Scorer, dataset: Spatial, batch_size: int = 64, workers: int | None = None,
    seeds: list[int] | None = None, progress: bool = True, checkpoint: Checkpoint | None = None,
) -> TaskOutput:  # fmt: skip
    ck = checkpoint or Checkpoint()
    images = ck.images(scorer, dataset.images, batch_size, workers, progress)
    options = dataset.options(0)
    flat = [t for i in images.kept for t in options[i]]
    text_emb = ck.texts(scorer, flat)
    scores, start = [], 0
    for r, i in enumerate(images.kept):
        n = len(options[i])
        scores.append(text_emb[start : start + n].double() @ images.emb[r].double())
        start += n
    kept = images.kept
    sets = bool(dataset.set_key)
    res = whatsup_accuracy(
        scores, [dataset.answer[i] for i in kept], [dataset.group[i] for i in kept],
        [dataset.set_key[i] for i in kept] if sets else (),
        [dataset.slot[i] for i in kept] if sets else (), dataset.pairs if sets else (),
    )  # fmt: skip
    n_options = max((len(options[i]) for i in kept), default=2)
    chance = 1 / n_options
    metrics: dict[str, float | None] = {"accuracy": res.accuracy, "chance": chance}
    if res.pair_accuracy is not None:
        metrics["pair_accuracy"] = res.pair_accuracy
        metrics["pair_accuracy_chance"] = chance**2
    if res.set_accuracy is not None:
        metrics["set_accuracy"] = res.set_accuracy
        metrics["set_accuracy_chance"] = chance**4
    ((lo, hi),) = bootstrap_interval([res.correct])
    breakdown = {"per_preposition": res.per_group,
                 "ci95": {"accuracy_low": lo, "accuracy_high": hi}}  # fmt: skip
    if sets:
        breakdown["predicted_by_gold"] = _confusion(dataset, kept, scores)
    counts = {"cases": len(kept), "skipped": len(images.skipped)}
    counts.update({f"preposition:{g}": c for g, c in res.counts.items()})
    if sets:
        counts["sets"] = len({dataset.set_key[i] for i in kept})
    return TaskOutput(metrics, breakdown, counts, images.skipped, [])


def _confusion(dataset: Spatial, kept: list[int], scores: list[torch.Tensor]) -> dict[str, float]:
    """``GOLD->PREDICTED``: the share of each gold placement's cases whose chosen caption is
    the true caption of that placement in the same set (the reference's ``prep_counts``,
    read off the set instead of the caption's words)."""
    options = dataset.options(0)
    slot_of = {(dataset.set_key[i], options[i][dataset.answer[i]]): dataset.slot[i] for i in kept}
    counts: dict[tuple[str, str], int] = {}
    totals: dict[str, int] = {}
    for r, i in enumerate(kept):
        chosen = options[i][first_argmax(scores[r])]
        pred = slot_of.get((dataset.set_key[i], chosen), "?")
        counts[(dataset.slot[i], pred)] = counts.get((dataset.slot[i], pred), 0) + 1
        totals[dataset.slot[i]] = totals.get(dataset.slot[i], 0) + 1
    return {f"{g}->{p}": c / totals[g] for (g, p), c in sorted(counts.items())}
