"""What a report shows, read from a run directory: the typed records of the check-up tasks,
the per-drawing fidelity and the metric summary written by the scoring step
(``metrics.json``), and the manifest. Nothing here computes an aggregate: a run without a
``metrics.json`` gets its summary from :func:`snellen.metrics.summary.summarise_run`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from snellen.records.checkup import Drawing, Recognition, Reference
from snellen.records.scores import FidelityScore, MetricsSummary
from snellen.store import Run

__all__ = ["ReportData", "load_report_data"]


@dataclass
class ReportData:
    """Everything one report needs, loaded once."""

    path: Path
    manifest: dict[str, Any]
    drawings: list[Drawing]
    recognition: list[Recognition]
    metrics: MetricsSummary
    fidelity: dict[str, float] = field(default_factory=dict)  # drawing key -> percentile
    # concept id -> artifact ref of the concept's reference rendering (when it has one)
    references: dict[str, str] = field(default_factory=dict)
    _run: Run | None = None

    def artifact(self, ref: str | None) -> bytes | None:
        if not ref or self._run is None:
            return None
        path = self._run.artifacts.path(ref)
        return path.read_bytes() if path.exists() else None


def load_report_data(run: Run | str | Path) -> ReportData:
    """The report's view of ``run`` (a :class:`~snellen.store.Run` or its directory)."""
    from snellen.metrics.summary import summarise_run

    if not isinstance(run, Run):
        run = Run(run)
    metrics_path = run.path / "metrics.json"
    metrics = (
        MetricsSummary.from_row(json.loads(metrics_path.read_text()))
        if metrics_path.exists()
        else summarise_run(run)
    )
    data = ReportData(
        path=run.path,
        manifest=run.manifest,
        drawings=list(run.load_records(Drawing)),
        recognition=list(run.load_records(Recognition)),
        metrics=metrics,
        _run=run,
    )
    scorer = (metrics.scorer or {}).get("name")
    for rec in run.load_records(FidelityScore):
        # A run scored with several scorers keeps each; show the one metrics.json names.
        if scorer and rec.scorer != scorer:
            continue
        if rec.percentile is not None:
            data.fidelity[rec.drawing] = rec.percentile
    for ref in run.load_records(Reference):
        if ref.image:
            data.references[ref.concept_id] = ref.image
    return data
