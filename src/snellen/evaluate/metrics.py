"""The suite's metrics, torchmetrics-style (``update`` / ``compute`` / ``reset``) with
functional twins. Checked against clip_benchmark's own functions on identical inputs
(tests/test_evaluate_reference.py).

* zero-shot: top-1 / top-5 accuracy and mean per-class recall (balanced accuracy);
* retrieval: recall@K in both directions, a text counting as retrieved when its image is in
  the top K and an image when any of its captions is (clip_benchmark's definitions);
* caption selection: accuracy, per-group accuracy, and ARO's macro accuracy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch


def zeroshot_metrics(logits: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """``acc1``, ``acc5`` (NaN under 5 classes) and ``mean_per_class_recall`` for logits
    [N, C] and integer targets [N]. Ties in the top K are broken as ``torch.topk`` does."""
    n, c = logits.shape
    if n == 0:
        raise ValueError("zeroshot_metrics: no images to score (every image failed to load?)")
    top = logits.topk(min(5, c), dim=1).indices
    hit = top.eq(target.view(-1, 1))
    acc1 = float(hit[:, :1].sum()) / n
    acc5 = float(hit[:, :5].sum()) / n if c >= 5 else float("nan")
    pred = logits.argmax(dim=1)
    recalls = [
        float((pred[target == k] == k).double().mean()) for k in range(c) if (target == k).any()
    ]
    return {
        "acc1": acc1,
        "acc5": acc5,
        "mean_per_class_recall": sum(recalls) / len(recalls),
    }


def per_class_recall(
    logits: torch.Tensor, target: torch.Tensor, classnames: Sequence[str]
) -> dict[str, float]:
    pred = logits.argmax(dim=1)
    return {
        name: float((pred[target == k] == k).double().mean())
        for k, name in enumerate(classnames)
        if (target == k).any()
    }


class ZeroShotAccuracy:
    """Accumulates logits and targets batch by batch; :meth:`compute` gives
    :func:`zeroshot_metrics`."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._logits: list[torch.Tensor] = []
        self._target: list[torch.Tensor] = []

    def update(self, logits: torch.Tensor, target: torch.Tensor) -> None:
        self._logits.append(logits.detach().float().cpu())
        self._target.append(target.detach().long().cpu())

    def compute(self) -> dict[str, float]:
        return zeroshot_metrics(torch.cat(self._logits), torch.cat(self._target))


def retrieval_recall(
    image_emb: torch.Tensor,
    text_emb: torch.Tensor,
    text_image: torch.Tensor,
    ks: Sequence[int] = (1, 5, 10),
) -> dict[str, float]:
    """Recall@K for L2-normalised ``image_emb`` [I, D] and ``text_emb`` [T, D], where text t
    describes image ``text_image[t]``. ``image_retrieval_recall@K``: share of texts whose
    image is among the K images closest to it; ``text_retrieval_recall@K``: share of images
    with at least one of their texts among the K closest texts."""
    if len(image_emb) == 0 or len(text_emb) == 0:
        raise ValueError("retrieval_recall: no images or texts to score")
    scores = text_emb @ image_emb.t()  # [T, I]
    positive = torch.zeros_like(scores, dtype=torch.bool)
    positive[torch.arange(len(text_image)), text_image] = True
    out: dict[str, float] = {}
    for k in ks:
        out[f"image_retrieval_recall@{k}"] = _hits(scores, positive, k)
        out[f"text_retrieval_recall@{k}"] = _hits(scores.t(), positive.t(), k)
    return out


def _hits(scores: torch.Tensor, positive: torch.Tensor, k: int, chunk: int = 4096) -> float:
    k = min(k, scores.shape[1])
    found = []
    for s in range(0, len(scores), chunk):
        top = scores[s : s + chunk].topk(k, dim=1).indices
        found.append(positive[s : s + chunk].gather(1, top).any(dim=1))
    return float(torch.cat(found).float().mean())


class RetrievalRecall:
    """Accumulates image embeddings and their captions' embeddings; :meth:`compute` gives
    :func:`retrieval_recall` over everything seen."""

    def __init__(self, ks: Sequence[int] = (1, 5, 10)) -> None:
        self.ks = tuple(ks)
        self.reset()

    def reset(self) -> None:
        self._images: list[torch.Tensor] = []
        self._texts: list[torch.Tensor] = []
        self._owner: list[torch.Tensor] = []
        self._n_images = 0

    def update(
        self, image_emb: torch.Tensor, text_emb: torch.Tensor, text_image: torch.Tensor
    ) -> None:
        """``text_image`` indexes into this batch's images."""
        self._images.append(image_emb.float().cpu())
        self._texts.append(text_emb.float().cpu())
        self._owner.append(text_image.long().cpu() + self._n_images)
        self._n_images += len(image_emb)

    def compute(self) -> dict[str, float]:
        return retrieval_recall(
            torch.cat(self._images), torch.cat(self._texts), torch.cat(self._owner), self.ks
        )


@dataclass
class SelectionResult:
    accuracy: float
    macro_accuracy: float | None
    per_group: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    groups_used: list[str] = field(default_factory=list)


def selection_accuracy(
    scores: Sequence[torch.Tensor] | torch.Tensor,
    answer: Sequence[int] | torch.Tensor,
    group: Sequence[str] | None = None,
    min_count: int = 1,
    drop_groups: frozenset[str] | set[str] = frozenset(),
) -> SelectionResult:
    """A case is right when its true candidate has the highest score, the first maximum
    winning a tie (numpy's and torch's argmax, as the ARO code). ``scores[i]`` holds case
    i's candidate scores. Macro accuracy: the mean of per-group accuracies over groups with at
    least ``min_count`` cases and not in ``drop_groups`` (ARO's VG-Relation drops symmetric
    relations; VG-Attribution keeps attribute pairs with 25 cases or more)."""
    if len(scores) == 0:
        raise ValueError("selection_accuracy: no cases to score (every image failed to load?)")
    pred = torch.tensor([int(torch.as_tensor(s).argmax()) for s in scores])
    correct = pred.eq(torch.as_tensor(list(answer)))
    result = SelectionResult(accuracy=float(correct.double().mean()), macro_accuracy=None)
    if group is None:
        return result
    per: dict[str, list[bool]] = {}
    for g, c in zip(group, correct.tolist(), strict=True):
        per.setdefault(g, []).append(bool(c))
    result.per_group = {g: sum(v) / len(v) for g, v in sorted(per.items())}
    result.counts = {g: len(v) for g, v in sorted(per.items())}
    used = [g for g, v in sorted(per.items()) if len(v) >= min_count and g not in drop_groups]
    result.groups_used = used
    if used:
        result.macro_accuracy = sum(result.per_group[g] for g in used) / len(used)
    return result


class SelectionAccuracy:
    """Accumulates cases batch by batch; :meth:`compute` gives :func:`selection_accuracy`."""

    def __init__(self, min_count: int = 1, drop_groups: frozenset[str] = frozenset()) -> None:
        self.min_count = min_count
        self.drop_groups = drop_groups
        self.reset()

    def reset(self) -> None:
        self._scores: list[torch.Tensor] = []
        self._answer: list[int] = []
        self._group: list[str] = []

    def update(
        self, scores: Sequence[torch.Tensor], answer: Sequence[int], group: Sequence[str]
    ) -> None:
        self._scores += [torch.as_tensor(s).float().cpu() for s in scores]
        self._answer += list(answer)
        self._group += list(group)

    def compute(self) -> SelectionResult:
        return selection_accuracy(
            self._scores, self._answer, self._group, self.min_count, self.drop_groups
        )
