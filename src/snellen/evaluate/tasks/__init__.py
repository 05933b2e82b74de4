"""Evaluation tasks: each module exposes one ``evaluate(scorer, dataset, ...)`` that returns
a :class:`TaskOutput` (metrics, breakdowns, counts)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TaskOutput:
    metrics: dict[str, float | None]
    breakdown: dict[str, dict[str, float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    skipped: dict[int, str] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=list)
