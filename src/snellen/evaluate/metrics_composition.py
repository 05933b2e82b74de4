"""Metrics of the compositionality benchmarks that score more than one caption per image,
torchmetrics-style (``update`` / ``compute`` / ``reset``) with functional twins, each as its
authors define it (checked on identical inputs in tests/test_evaluate_composition.py):

* Winoground (Thrush et al., CVPR 2022; ColorSwap uses the same): for two captions c0, c1
  and two images i0, i1 where c describes i, the **text score** is right when each image
  scores its own caption above the other (s(c0,i0) > s(c1,i0) and s(c1,i1) > s(c0,i1)), the
  **image score** when each caption scores its own image above the other (s(c0,i0) >
  s(c0,i1) and s(c1,i1) > s(c1,i0)), the **group score** when both are. Strict
  comparisons: a tie is wrong. Chance: 1/4, 1/4 and 1/6.
* What's Up (Kamath et al., EMNLP 2023): **individual** accuracy (the true caption, the
  first, has the highest score; the first maximum wins a tie, numpy's argmax), **pair**
  accuracy (both placements of a pair, left/right or on/under, right, over half the number
  of cases) and **set** accuracy (all four placements of an object pair right, over a
  quarter of the cases), as the authors' ``evaluate_scores``.
* SugarCrepe++ (Dumpala et al., NeurIPS 2024): **ITT** is right when the image scores both
  positive captions above the negative; **TOT** (text only) when the two positives are closer
  to each other than either is to the negative. Chance: 1/3 each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from snellen.metrics.bootstrap import joint_intervals

WINOGROUND_CHANCE = {"text_score": 0.25, "image_score": 0.25, "group_score": 1 / 6}
TRIPLET_CHANCE = {"itt_accuracy": 1 / 3, "tot_accuracy": 1 / 3}


@dataclass(frozen=True)
class PairCorrect:
    """Per case: whether its text, image and group scores are right."""

    text: list[bool]
    image: list[bool]
    group: list[bool]


def winoground_correct(sims: torch.Tensor) -> PairCorrect:
    """``sims[k, c, i]``: the score of case k's caption c with its image i ([N, 2, 2])."""
    s = sims.double()
    text = (s[:, 0, 0] > s[:, 1, 0]) & (s[:, 1, 1] > s[:, 0, 1])
    image = (s[:, 0, 0] > s[:, 0, 1]) & (s[:, 1, 1] > s[:, 1, 0])
    return PairCorrect(text.tolist(), image.tolist(), (text & image).tolist())


def winoground_scores(sims: torch.Tensor) -> dict[str, float]:
    """``text_score``, ``image_score`` and ``group_score`` (shares of cases) of ``sims``
    [N, 2, 2] (see :func:`winoground_correct`)."""
    c = winoground_correct(sims)
    n = max(1, len(c.text))
    return {
        "text_score": sum(c.text) / n,
        "image_score": sum(c.image) / n,
        "group_score": sum(c.group) / n,
    }


class WinogroundScore:
    """Accumulates [B, 2, 2] score blocks; :meth:`compute` gives :func:`winoground_scores`."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._sims: list[torch.Tensor] = []

    def update(self, sims: torch.Tensor) -> None:
        self._sims.append(sims.detach().double().cpu())

    def compute(self) -> dict[str, float]:
        return winoground_scores(torch.cat(self._sims) if self._sims else torch.zeros(0, 2, 2))


def by_tag(correct: Sequence[bool], tags: Sequence[str]) -> dict[str, float]:
    """The share of right cases within each tag value."""
    per: dict[str, list[bool]] = {}
    for t, c in zip(tags, correct, strict=True):
        per.setdefault(t, []).append(bool(c))
    return {t: sum(v) / len(v) for t, v in sorted(per.items())}


def bootstrap_interval(
    values: Sequence[Sequence[bool]], level: float = 0.95, seed: int = 0
) -> list[tuple[float, float]]:
    """Percentile bootstrap intervals of the means of several per-case 0/1 series, resampling
    the cases jointly (:func:`snellen.metrics.bootstrap.joint_intervals`)."""
    return joint_intervals([[float(v) for v in s] for s in values], seed=seed, level=level)


@dataclass
class SpatialResult:
    accuracy: float
    pair_accuracy: float | None
    set_accuracy: float | None
    correct: list[bool] = field(default_factory=list)
    per_group: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def first_argmax(scores: torch.Tensor) -> int:
    """The index of the first maximum (numpy's argmax; torch's may pick another on ties)."""
    s = torch.as_tensor(scores).double()
    return int((s == s.max()).nonzero()[0, 0])


def whatsup_accuracy(
    scores: Sequence[torch.Tensor],
    answer: Sequence[int],
    group: Sequence[str],
    set_key: Sequence[str] = (),
    slot: Sequence[str] = (),
    pairs: Sequence[tuple[str, str]] = (),
) -> SpatialResult:
    """What's Up's individual, pair and set accuracy (see the module doc). Without
    ``set_key`` (the QA sets) only individual accuracy and its per-preposition breakdown.
    Pair and set accuracy divide by half and a quarter of all cases, as the authors do, so
    a set missing a placement counts that placement wrong."""
    correct = [first_argmax(s) == a for s, a in zip(scores, answer, strict=True)]
    n = len(correct)
    result = SpatialResult(sum(correct) / max(1, n), None, None, correct)
    per: dict[str, list[bool]] = {}
    for g, c in zip(group, correct, strict=True):
        per.setdefault(g, []).append(c)
    result.per_group = {g: sum(v) / len(v) for g, v in sorted(per.items())}
    result.counts = {g: len(v) for g, v in sorted(per.items())}
    if set_key and pairs and n:
        sets: dict[str, dict[str, bool]] = {}
        for k, s, c in zip(set_key, slot, correct, strict=True):
            sets.setdefault(k, {})[s] = c
        pair_right = sum(
            1 for placed in sets.values() for a, b in pairs if placed.get(a) and placed.get(b)
        )
        slots = {s for p in pairs for s in p}
        set_right = sum(1 for placed in sets.values() if all(placed.get(s) for s in slots))
        result.pair_accuracy = pair_right / (n / 2)
        result.set_accuracy = set_right / (n / 4)
    return result


class SpatialAccuracy:
    """Accumulates cases; :meth:`compute` gives :func:`whatsup_accuracy`."""

    def __init__(self, pairs: Sequence[tuple[str, str]] = ()) -> None:
        self.pairs = tuple(pairs)
        self.reset()

    def reset(self) -> None:
        self._scores: list[torch.Tensor] = []
        self._answer: list[int] = []
        self._group: list[str] = []
        self._key: list[str] = []
        self._slot: list[str] = []

    def update(
        self, scores: Sequence[torch.Tensor], answer: Sequence[int], group: Sequence[str],
        set_key: Sequence[str] = (), slot: Sequence[str] = (),
    ) -> None:  # fmt: skip
        self._scores += [torch.as_tensor(s).double().cpu() for s in scores]
        self._answer += list(answer)
        self._group += list(group)
        self._key += list(set_key)
        self._slot += list(slot)

    def compute(self) -> SpatialResult:
        return whatsup_accuracy(
            self._scores, self._answer, self._group, self._key, self._slot, self.pairs
        )


def triplet_correct(
    image_emb: torch.Tensor, pos1: torch.Tensor, pos2: torch.Tensor, neg: torch.Tensor
) -> tuple[list[bool], list[bool]]:
    """Per case, (ITT right, TOT right) for L2-normalised embeddings [N, D] (see the module
    doc)."""

    def dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return (a.double() * b.double()).sum(dim=-1)

    itt = (dot(image_emb, pos1) > dot(image_emb, neg)) & (
        dot(image_emb, pos2) > dot(image_emb, neg)
    )
    p = dot(pos1, pos2)
    tot = (p > dot(pos1, neg)) & (p > dot(pos2, neg))
    return itt.tolist(), tot.tolist()


def triplet_scores(
    image_emb: torch.Tensor, pos1: torch.Tensor, pos2: torch.Tensor, neg: torch.Tensor
) -> dict[str, float]:
    """``itt_accuracy`` and ``tot_accuracy`` (see :func:`triplet_correct`)."""
    itt, tot = triplet_correct(image_emb, pos1, pos2, neg)
    n = max(1, len(itt))
    return {"itt_accuracy": sum(itt) / n, "tot_accuracy": sum(tot) / n}
