"""Image-text retrieval: recall@1/5/10 in both directions over the whole test set."""

from __future__ import annotations

import torch

from snellen.datasets.kinds import Retrieval
from snellen.evaluate.checkpoint import Checkpoint
from snellen.evaluate.metrics import retrieval_recall
from snellen.evaluate.tasks import TaskOutput, none_read
from snellen.score.base import Scorer

KS = (1, 5, 10)


def evaluate(
    scorer: Scorer, dataset: Retrieval, batch_size: int = 64, workers: int | None = None,
    seeds: list[int] | None = None, progress: bool = True, checkpoint: Checkpoint | None = None,
) -> TaskOutput:  # fmt: skip
    ck = checkpoint or Checkpoint()
    images = ck.images(scorer, dataset.images, batch_size, workers, progress)
    if (empty := none_read(images.kept, images.skipped, "images")) is not None:
        return empty
    texts = [c for i in images.kept for c in dataset.captions[i]]
    owner = torch.tensor(
        [row for row, i in enumerate(images.kept) for _ in dataset.captions[i]], dtype=torch.long
    )
    text_emb = ck.texts(scorer, texts)
    metrics = retrieval_recall(images.emb, text_emb, owner, KS)
    return TaskOutput(
        metrics=dict(metrics),
        counts={"images": len(images.kept), "texts": len(texts), "skipped": len(images.skipped)},
        skipped=images.skipped,
    )
