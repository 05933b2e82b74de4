"""Image-caption selection (ARO, SugarCrepe, VAD-ARO): one image, its true caption and
false ones; right when the true caption scores highest. Random candidate sets (order
perturbations) are drawn for several seeds and the metric is averaged, with its spread."""

from __future__ import annotations

import statistics

from snellen.datasets.kinds import Selection
from snellen.evaluate.checkpoint import Checkpoint
from snellen.evaluate.metrics import selection_accuracy
from snellen.evaluate.tasks import TaskOutput, none_read
from snellen.score.base import Scorer


def evaluate(
    scorer: Scorer, dataset: Selection, batch_size: int = 64, workers: int | None = None,
    seeds: list[int] | None = None, progress: bool = True, checkpoint: Checkpoint | None = None,
) -> TaskOutput:  # fmt: skip
    ck = checkpoint or Checkpoint()
    images = ck.images(scorer, dataset.images, batch_size, workers, progress)
    if (empty := none_read(images.kept, images.skipped, "cases")) is not None:
        return empty
    seeds = list(seeds or [0]) if dataset.draw is not None else [0]
    group = [dataset.group[i] for i in images.kept]
    answer = [dataset.answer[i] for i in images.kept]
    runs = []
    for seed in seeds:
        options = dataset.options(seed)
        flat = [t for i in images.kept for t in options[i]]
        text_emb = ck.texts(scorer, flat)
        scores, start = [], 0
        for row, i in enumerate(images.kept):
            n = len(options[i])
            scores.append(text_emb[start : start + n] @ images.emb[row])
            start += n
        runs.append(
            selection_accuracy(scores, answer, group, dataset.min_count, dataset.drop_groups)
        )
    acc = [r.accuracy for r in runs]
    metrics: dict[str, float | None] = {"accuracy": statistics.fmean(acc)}
    if len(runs) > 1:
        metrics["accuracy_std"] = statistics.stdev(acc)
    if dataset.metric == "macro":
        macro = [r.macro_accuracy for r in runs if r.macro_accuracy is not None]
        metrics["macro_accuracy"] = statistics.fmean(macro) if macro else None
    if dataset.chance is not None:
        metrics["chance"] = dataset.chance
    per_group = {g: statistics.fmean(r.per_group[g] for r in runs) for g in runs[0].per_group}
    breakdown = {"per_group": per_group}
    if dataset.metric == "macro":
        breakdown["groups_in_macro"] = {g: 1.0 for g in runs[0].groups_used}
    if len(runs) > 1:
        breakdown["accuracy_by_seed"] = {str(s): a for s, a in zip(seeds, acc, strict=True)}
    counts = {"cases": len(images.kept), "skipped": len(images.skipped)}
    counts.update({f"group:{g}": n for g, n in runs[0].counts.items()})
    return TaskOutput(metrics, breakdown, counts, images.skipped, seeds)
