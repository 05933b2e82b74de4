"""The summary of runs repeated over data seeds that the eval page draws."""

from __future__ import annotations

import statistics

import pytest

from snellen.metrics.seeds import summarize_seeds
from snellen.records.evaluation import EvalResult


def _run(dataset: str, model: str, seed: int, value: float) -> EvalResult:
    return EvalResult(task="aro", dataset=dataset, model=model, pretrained="",
                      metrics={"accuracy": value, "chance": 0.5},
                      comparable_with_published=False, seed=seed)  # fmt: skip


def test_mean_and_sample_std_over_seeds_per_dataset_and_model():
    runs = [_run("a", "m", s, v) for s, v in enumerate([0.5, 0.6, 0.7])]
    runs += [_run("a", "n", 0, 0.9), _run("b", "m", 1, 0.4)]
    out = {(s.dataset, s.model): s for s in summarize_seeds(runs)}
    assert list(out) == [("a", "m"), ("a", "n"), ("b", "m")]
    am = out[("a", "m")]
    assert am.metric == "accuracy" and am.seeds == (0, 1, 2) and am.chance == 0.5
    assert am.mean == pytest.approx(0.6) and am.std == pytest.approx(
        statistics.stdev([0.5, 0.6, 0.7])
    )
    assert out[("a", "n")].std is None and out[("b", "m")].seeds == (1,)
