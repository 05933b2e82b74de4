"""The record one evaluation run writes (``snellen eval``): CLIP_benchmark's JSON fields
(``dataset``, ``model``, ``pretrained``, ``task``, ``metrics``, ``language``) and what it
lacks. The evaluation suite writes it; ``snellen eval table`` and the report read it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from snellen.errors import InputError
from snellen.records import Record, ScorerLabels

__all__ = ["EvalResult", "PublishedNumber", "read_eval_results"]


@dataclass(frozen=True)
class PublishedNumber:
    """A number a paper reports: ``model`` (as the paper names it) scored ``value`` on
    ``metric`` of ``dataset`` (``source``: which paper and table)."""

    model: str
    metric: str
    value: float
    source: str
    dataset: str = ""


@dataclass(frozen=True)
class EvalResult(Record):
    """One run of one task on one dataset with one model.

    ``comparable_with_published``: the model runs released weights (its scorer's
    :class:`~snellen.records.ScorerLabels` say standard), the dataset is an official benchmark
    read whole in its official format (no ``--limit``), the precision is exact (fp32) and no
    image was skipped; only then may ``metrics`` be set beside a paper's numbers
    (``published`` holds the matching ones). Otherwise ``not_comparable_because`` says why,
    one reason per entry.
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
    model_labels: ScorerLabels = field(default_factory=ScorerLabels)
    breakdown: dict[str, dict[str, float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    published: list[PublishedNumber] = field(default_factory=list)
    seconds: float = 0.0
    seed: int = 0
    seeds: list[int] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    language: str = "en"
    #: what a resumed run took from its ``--out`` directory instead of computing:
    #: ``images`` and ``texts`` embedded by an earlier, interrupted session
    resumed: dict[str, int] = field(default_factory=dict)
    snellen_version: str = ""
    created: str = ""
    not_comparable_because: list[str] = field(default_factory=list)

    def record_key(self) -> str:
        return f"{self.task}/{self.dataset}/{self.model}/{self.seed}"

    def why_not_comparable(self) -> list[str]:
        """Why this run's numbers may not sit beside a paper's (empty: they may). A record
        written by an older snellen, which marked runs on a subset or in reduced precision
        comparable, is checked again against its own options."""
        if self.not_comparable_because:
            return list(self.not_comparable_because)
        if not self.comparable_with_published:
            return ["not a released model on an official benchmark"]
        limit, precision = self.options.get("limit"), self.options.get("precision") or "fp32"
        skipped = int(self.counts.get("skipped", 0))
        because = [f"--limit {limit}: a subset, not the full official split"] if limit else []
        if precision != "fp32":
            because.append(f"precision {precision}: not exact (run with --precision fp32)")
        if skipped:
            because.append(f"{skipped} image(s) could not be read and were skipped")
        if not self.model_labels.standard:
            because.append("model: not a known release of published weights")
        return because

    def main_metric(self) -> tuple[str, float | None]:
        """The headline number of the run: macro accuracy where the benchmark reports it, else
        accuracy, top-1 accuracy, text-to-image recall@1, Winoground's group score or
        SugarCrepe++'s image-text score."""
        for name in (
            "macro_accuracy", "accuracy", "acc1", "image_retrieval_recall@1", "group_score",
            "itt_accuracy",
        ):  # fmt: skip
            if name in self.metrics:
                return name, self.metrics[name]
        return "", None


def read_eval_results(path: str | Path) -> list[EvalResult]:
    """Every run record in a directory (recursively; other JSON files are passed over) or
    one JSON file."""
    p = Path(path)
    files = sorted(p.rglob("*.json")) if p.is_dir() else [p]
    if not files or not files[0].exists():
        raise InputError(f"{path}: no evaluation JSON files found (write them with --out)")
    out = []
    for f in files:
        try:
            row = json.loads(f.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise InputError(f"{f}: not valid JSON ({e})") from None
        if isinstance(row, dict) and {"task", "dataset", "model", "metrics"} <= set(row):
            out.append(EvalResult.from_row(row))
    if not out:
        raise InputError(f"{path}: none of the JSON files is an evaluation result")
    return out
