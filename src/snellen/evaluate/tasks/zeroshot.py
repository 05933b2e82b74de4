"""Zero-shot classification: each class is the mean of its prompts' normalised text
embeddings (re-normalised), logits are 100 x cosine, as CLIP and clip_benchmark do."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from snellen.datasets.kinds import Classification
from snellen.evaluate.checkpoint import Checkpoint
from snellen.evaluate.embed import embed_texts
from snellen.evaluate.metrics import per_class_recall, zeroshot_metrics
from snellen.evaluate.tasks import TaskOutput, none_read
from snellen.score.base import Scorer


def classifier(
    scorer: Scorer, classnames: list[str], templates: list[str],
    embed: Callable[[Scorer, Sequence[str]], torch.Tensor] = embed_texts,
) -> torch.Tensor:  # fmt: skip
    """Class weights [D, C]."""
    texts = [t.format(c=name) for name in classnames for t in templates]
    emb = embed(scorer, texts).view(len(classnames), len(templates), -1)
    return F.normalize(emb.mean(dim=1), dim=-1).t()


def evaluate(
    scorer: Scorer, dataset: Classification, batch_size: int = 64, workers: int | None = None,
    seeds: list[int] | None = None, progress: bool = True, checkpoint: Checkpoint | None = None,
) -> TaskOutput:  # fmt: skip
    ck = checkpoint or Checkpoint()
    weights = classifier(scorer, dataset.classnames, dataset.templates, ck.texts)
    images = ck.images(scorer, dataset.images, batch_size, workers, progress)
    if (empty := none_read(images.kept, images.skipped, "images")) is not None:
        return empty
    target = torch.tensor([dataset.labels[i] for i in images.kept], dtype=torch.long)
    logits = 100.0 * images.emb @ weights
    metrics: dict[str, float | None] = dict(zeroshot_metrics(logits, target))
    if len(dataset.classnames) < 5:
        metrics["acc5"] = None
    return TaskOutput(
        metrics=metrics,
        breakdown={"per_class_recall": per_class_recall(logits, target, dataset.classnames)},
        counts={
            "images": len(images.kept),
            "skipped": len(images.skipped),
            "classes": len(dataset.classnames),
            "templates": len(dataset.templates),
        },
        skipped=images.skipped,
    )
