"""The record one evaluation run writes: CLIP_benchmark's JSON fields (``dataset``,
``model``, ``pretrained``, ``task``, ``metrics``, ``language``) and what it lacks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from snellen.records import Record


@dataclass(frozen=True)
class EvalResult(Record):
    """One run of one task on one dataset with one model.

    ``comparable_with_published``: the model is a standard published model (its scorer says
    so) and the dataset is an official benchmark read in its official format; only then may
    ``metrics`` be set beside a paper's numbers (``published`` holds the matching ones).
    ``breakdown``: per class, per relation, per attribute pair or per seed. ``counts``:
    images, texts, cases, skipped images. ``skipped``: why each skipped image failed (first
    100). ``seeds``: the draws averaged for random candidate sets (order perturbations)."""

    kind = "eval"

    task: str
    dataset: str
    model: str
    pretrained: str
    metrics: dict[str, float | None]
    comparable_with_published: bool
    model_labels: dict[str, Any] = field(default_factory=dict)
    breakdown: dict[str, dict[str, float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    published: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    seed: int = 0
    seeds: list[int] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    language: str = "en"
    snellen_version: str = ""
    created: str = ""

    def record_key(self) -> str:
        return f"{self.task}/{self.dataset}/{self.model}/{self.seed}"

    def main_metric(self) -> tuple[str, float | None]:
        """The headline number of the run: macro accuracy where the benchmark reports it, else
        accuracy, top-1 accuracy, or text-to-image recall@1."""
        for name in ("macro_accuracy", "accuracy", "acc1", "image_retrieval_recall@1"):
            if name in self.metrics:
                return name, self.metrics[name]
        return "", None
