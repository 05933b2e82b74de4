"""Runs of one evaluation repeated over data seeds, summarised: the mean and the sample
standard deviation of each run's headline metric over the seeds (the report formats these;
it never averages runs itself)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from snellen.records.evaluation import EvalResult


@dataclass(frozen=True)
class SeedSummary:
    """One (task, dataset, model) over the data seeds it was run with."""

    task: str
    dataset: str
    model: str
    metric: str
    mean: float | None
    std: float | None  # sample standard deviation over the seeds; None with one seed
    seeds: tuple[int, ...]
    chance: float | None


def summarize_seeds(results: Sequence[EvalResult]) -> list[SeedSummary]:
    """One summary per (task, dataset, model), in the order they first appear."""
    groups: dict[tuple[str, str, str], list[EvalResult]] = {}
    for r in results:
        groups.setdefault((r.task, r.dataset, r.model), []).append(r)
    out = []
    for (task, dataset, model), runs in groups.items():
        metric = runs[0].main_metric()[0]
        values = [v for r in runs if (v := r.metrics.get(metric)) is not None]
        chances = {c for r in runs if (c := r.metrics.get("chance")) is not None}
        out.append(
            SeedSummary(
                task=task,
                dataset=dataset,
                model=model,
                metric=metric,
                mean=statistics.fmean(values) if values else None,
                std=statistics.stdev(values) if len(values) > 1 else None,
                seeds=tuple(sorted(r.seed for r in runs)),
                chance=float(chances.pop()) if len(chances) == 1 else None,
            )
        )
    return out
