"""A LENS run's numbers: each method's task metric with a bootstrap interval (overall and
per question type), paired differences between methods, and the typed :class:`LensReport`
that ``metrics.json`` holds (written atomically, one entry per task)."""

from __future__ import annotations

import json
import os
import tempfile
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from snellen.lens.records import LensAnswer, LensItem
from snellen.metrics.bootstrap import RESAMPLES, joint_intervals
from snellen.metrics.vqa import BinaryAUC, VQAAccuracy, normalize_answer

BOOTSTRAP = RESAMPLES
LEVEL = 0.95


def bootstrap_interval(
    scores: Sequence[float], *, resamples: int = BOOTSTRAP, seed: int = 0, level: float = LEVEL
) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean of ``scores`` (items resampled with
    replacement; seeded, so a rerun prints the same interval); the one bootstrap of
    :mod:`snellen.metrics.bootstrap`."""
    return joint_intervals([scores], resamples=resamples, seed=seed, level=level)[0]


@dataclass(frozen=True)
class MethodScore:
    """One method's metric: ``accuracy`` (VQA accuracy, or share correct) with its 95%
    bootstrap ``interval``, per question type with theirs, and the task's other figures in
    ``details`` (per answer type, AUC, per class)."""

    accuracy: float
    n: int
    interval: tuple[float, float]
    per_question_type: dict[str, float] = field(default_factory=dict)
    per_question_type_interval: dict[str, tuple[float, float]] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {**self.details, "accuracy": self.accuracy, "n": self.n,
                               "interval": list(self.interval)}  # fmt: skip
        if self.per_question_type:
            out["per_question_type"] = dict(self.per_question_type)
            out["per_question_type_interval"] = {
                k: list(v) for k, v in self.per_question_type_interval.items()
            }
        return out


@dataclass(frozen=True)
class Comparison:
    """``method`` minus ``baseline`` on the same items, with the paired bootstrap interval
    of the difference (overall and per question type)."""

    method: str
    baseline: str
    difference: float
    interval: tuple[float, float]
    per_question_type: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method, "baseline": self.baseline, "difference": self.difference,
            "interval": list(self.interval),
            "per_question_type": {k: list(v) for k, v in self.per_question_type.items()},
        }  # fmt: skip


@dataclass(frozen=True)
class LensReport:
    """Everything one LENS evaluation reports (``metrics.json`` holds one per task)."""

    task: str
    dataset: str
    split: str
    n: int
    methods: dict[str, MethodScore]
    answer_in_text: dict[str, float | int]
    settings: dict[str, Any]
    modules: dict[str, str]
    mode: str
    llm: Any
    shot_items: list[str]
    timing: dict[str, Any]
    labels: list[str]
    vision_labels: dict[str, Any]
    comparisons: list[Comparison] = field(default_factory=list)
    # the answers behind the numbers, per method in the order of ``items`` (not written to
    # metrics.json: the run's records hold them)
    items: list[LensItem] = field(default_factory=list, repr=False, compare=False)
    answers: dict[str, list[LensAnswer]] = field(default_factory=dict, repr=False, compare=False)

    def accuracy(self, method: str) -> float:
        return self.methods[method].accuracy

    def to_dict(self) -> dict[str, Any]:
        return {
            "answer_in_text": self.answer_in_text, "task": self.task, "dataset": self.dataset,
            "split": self.split, "n": self.n,
            "methods": {m: s.to_dict() for m, s in self.methods.items()},
            "comparisons": [c.to_dict() for c in self.comparisons],
            "settings": self.settings, "modules": self.modules, "mode": self.mode,
            "llm": self.llm, "shot_items": self.shot_items, "timing": self.timing,
            "labels": self.labels, "vision_labels": self.vision_labels,
        }  # fmt: skip


def write_metrics(out: Path, report: LensReport) -> Path:
    """Put ``report`` under its task in ``out/metrics.json``, written to a temporary file and
    renamed, so an interrupted write never leaves half a file."""
    path = Path(out) / "metrics.json"
    existing = json.loads(path.read_text()) if path.is_file() else {}
    existing[report.task] = report.to_dict()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".metrics.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(json.dumps(existing, indent=2, default=str))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _by_type(items: Sequence[LensItem], scores: Sequence[float]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = defaultdict(list)
    for it, s in zip(items, scores, strict=True):
        if it.question_type:
            out[it.question_type].append(s)
    return dict(sorted(out.items()))


def summarize(
    task: str, items: Sequence[LensItem], answers: Sequence[LensAnswer], seed: int = 0
) -> MethodScore:
    """The task metric for one method's answers (answers in the order of ``items``)."""
    scores = [a.score for a in answers]
    interval = bootstrap_interval(scores, seed=seed)
    if task == "vqa":
        metric = VQAAccuracy()
        metric.update([a.prediction for a in answers], [it.answers for it in items],
                      [it.answer_type for it in items])  # fmt: skip
        result = dict(metric.compute())
        by_type = _by_type(items, scores)
        return MethodScore(
            float(result.pop("accuracy")), int(result.pop("n")), interval,  # type: ignore[arg-type]
            {q: sum(v) / len(v) for q, v in by_type.items()},
            {q: bootstrap_interval(v, seed=seed) for q, v in by_type.items()},
            result,
        )  # fmt: skip
    if task == "binary":
        auc = BinaryAUC()
        auc.update([a.confidence for a in answers], [int(it.label) for it in items])
        binary: dict[str, Any] = dict(auc.compute())
        return MethodScore(float(binary.pop("accuracy")), int(binary.pop("n")), interval,
                           details=binary)  # fmt: skip
    per: dict[str, list[float]] = defaultdict(list)
    for it, a in zip(items, answers, strict=True):
        per[it.label].append(a.score)
    return MethodScore(
        sum(scores) / len(scores), len(scores), interval,
        details={
            "per_class": {c: sum(v) / len(v) for c, v in sorted(per.items())},
            "mean_per_class": sum(sum(v) / len(v) for v in per.values()) / len(per),
        },
    )  # fmt: skip


def compare(
    items: Sequence[LensItem], a: Sequence[LensAnswer], b: Sequence[LensAnswer], seed: int = 0
) -> Comparison:
    """``a`` minus ``b`` item by item, with paired bootstrap intervals."""
    diff = [x.score - y.score for x, y in zip(a, b, strict=True)]
    per = {
        q: (sum(v) / len(v), *bootstrap_interval(v, seed=seed))
        for q, v in _by_type(items, diff).items()
    }
    return Comparison(
        a[0].method if a else "", b[0].method if b else "",
        sum(diff) / len(diff) if diff else float("nan"), bootstrap_interval(diff, seed=seed), per,
    )  # fmt: skip


def answer_in_text(
    items: Sequence[LensItem], texts: Mapping[str, Mapping[str, Sequence[str]]],
    task: str = "vqa", key: Any = None,
) -> dict[str, float | int]:  # fmt: skip
    """How often the right answer is written somewhere in the modules' text (normalised as
    VQA answers are, whole words): an upper bound for a reasoner that only reads, which
    separates what the vision modules missed from what the LLM failed to use. Yes/no and
    binary items are left out (their answer is never written). ``key`` maps an item to its
    image's key in ``texts``."""
    hits, n = 0, 0
    for it in items:
        if it.answer_type == "yes/no" or task == "binary":
            continue
        words = (t for v in texts.get(key(it) if key else it.image, {}).values() for t in v)
        blob = " " + normalize_answer(" ".join(words)) + " "
        n += 1
        hits += f" {normalize_answer(it.label)} " in blob
    return {"rate": hits / n if n else float("nan"), "n": n}
