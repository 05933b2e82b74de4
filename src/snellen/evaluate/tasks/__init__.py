"""Evaluation tasks: each module exposes one ``evaluate(scorer, dataset, ...)`` that returns
a :class:`TaskOutput` (metrics, breakdowns, counts)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class TaskOutput:
    metrics: dict[str, float | None]
    breakdown: dict[str, dict[str, float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    skipped: dict[int, str] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=list)


def none_read(kept: Sequence[int], skipped: dict[int, str], unit: str) -> TaskOutput | None:
    """An output with no metrics when not one image could be read (``unit``: the count the
    task reports, ``images`` or ``cases``), so the run stops with an error that names the
    dataset and the first failure instead of computing over empty tensors; None otherwise."""
    if kept:
        return None
    return TaskOutput(metrics={}, counts={unit: 0, "skipped": len(skipped)}, skipped=dict(skipped))
