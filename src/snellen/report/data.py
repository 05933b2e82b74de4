"""What a report shows, read from a run directory: the records of the check-up tasks, the
per-drawing scores and the aggregate metrics written by the scoring step, the manifest."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DRAWINGS = "drawings"
RECOGNITION = "recognition"
# Per-drawing score records of the scoring step: kind -> the fields holding the percentile.
FIDELITY_KINDS = {"fidelity": ("percentile", "fidelity")}


@dataclass
class ReportData:
    """Everything one report needs, loaded once."""

    path: Path
    manifest: dict[str, Any]
    drawings: list[dict[str, Any]]
    recognition: list[dict[str, Any]]
    fidelity: dict[str, float] = field(default_factory=dict)  # drawing key -> percentile
    # (task, category, language) -> mean pairwise distance within a concept
    diversity: dict[tuple[str, str, str], float] = field(default_factory=dict)
    diversity_label: str = ""
    realism: list[tuple[str, str, float]] = field(default_factory=list)  # (set, metric, value)
    metric_labels: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    _run: Any = None

    def artifact(self, ref: str | None) -> bytes | None:
        if not ref or self._run is None:
            return None
        path = self._run.artifacts.path(ref)
        return path.read_bytes() if path.exists() else None


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _read_metrics(data: ReportData, metrics: dict[str, Any]) -> None:
    """Diversity, realism and the non-standard labels from ``metrics.json``."""
    data.metrics = metrics
    data.metric_labels = [str(x) for x in metrics.get("labels") or []]
    div = metrics.get("diversity") or {}
    data.diversity_label = str(div.get("metric", ""))
    for row in (div.get("by") or {}).get("task,category,language") or []:
        value = _number(row.get("mean"))
        if value is not None:
            key = (
                str(row.get("task") or "draw"),
                str(row.get("category")),
                str(row.get("language")),
            )
            data.diversity[key] = value
    realism = metrics.get("realism") or {}
    for name, value in realism.items():
        if name.startswith(("fid[", "kid[")) and _number(value) is not None:
            data.realism.append(("all", name, float(value)))
    for language, scores in sorted((realism.get("by_language") or {}).items()):
        for name, value in (scores or {}).items():
            if name.startswith(("fid[", "kid[")) and _number(value) is not None:
                data.realism.append((language, name, float(value)))


def load_report_data(run: Any) -> ReportData:
    """The report's view of ``run`` (a :class:`~snellen.store.Run` or its directory)."""
    from snellen.store import Run

    if not isinstance(run, Run):
        run = Run(run)
    data = ReportData(
        path=run.path,
        manifest=run.manifest,
        drawings=list(run.records(DRAWINGS)),
        recognition=list(run.records(RECOGNITION)),
        _run=run,
    )
    metrics_path = run.path / "metrics.json"
    if metrics_path.exists():
        _read_metrics(data, json.loads(metrics_path.read_text()))
    scorer = (data.metrics.get("scorer") or {}).get("name")
    for kind, names in FIDELITY_KINDS.items():
        for rec in run.records(kind):
            # A run scored with several scorers keeps each; show the one metrics.json names.
            if scorer and rec.get("scorer") not in (None, scorer):
                continue
            value = next((rec[n] for n in names if _number(rec.get(n)) is not None), None)
            if value is not None:
                data.fidelity[rec.get("drawing") or rec["key"]] = float(value)
    return data
