"""Check-up runs side by side: one row per run, every mean with its 95% bootstrap interval,
and the pairwise differences between runs on the concepts they share, with paired
bootstrap intervals (:mod:`snellen.metrics.bootstrap`).

Per run (a scored check-up directory): model, languages and constraint from its manifest;
render rate; fidelity per scorer that scored it (every ``fidelity`` record set in the run),
raw and over the drawings that do not write their concept (the OCR check); judge accuracy;
multiple-choice recognition accuracy; correction gain (fidelity of the last correction
round minus the first drawing, over the chains that have both); diversity; FID (a set
statistic: no interval); mean program characters and drawing calls.

A difference ``b - a`` pairs the two runs concept by concept: each run's per-concept mean
(over its drawings of that concept) on the concepts both drew, resampled together.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean
from typing import Any

from snellen.errors import InputError
from snellen.metrics.bootstrap import RESAMPLES, SEED, add_interval, paired_difference
from snellen.records.checkup import Drawing, Recognition, Status
from snellen.records.scores import FidelityScore, JudgeAnswer, MetricsSummary, ProgramScore
from snellen.store import Run

__all__ = ["HEADLINE", "Comparison", "MetricInfo", "compare_runs"]

Row = dict[str, Any]


@dataclass(frozen=True)
class MetricInfo:
    """A compared metric: its column name, what it is, and its unit on the page."""

    name: str
    title: str
    percent: bool = False  # a 0..1 share shown as a percentage
    note: str = ""


#: the headline metrics: a plot each, and pairwise differences
HEADLINE: tuple[MetricInfo, ...] = (
    MetricInfo("render_rate", "render rate", percent=True),
    MetricInfo("fidelity", "fidelity (%)"),
    MetricInfo("fidelity_text_free", "fidelity, text-free (%)"),
    MetricInfo("judge_accuracy", "judge accuracy", percent=True),
    MetricInfo("recognition", "recognition accuracy (choice)", percent=True),
    MetricInfo("characters", "program characters"),
)


@dataclass(frozen=True)
class Comparison:
    """The runs' rows (one dict per run: identity columns, then each metric with ``_lo``/
    ``_hi``), the metrics compared, and the pairwise differences (``a``, ``b``, ``metric``,
    ``difference``, ``lo``, ``hi``, ``concepts``)."""

    rows: list[Row]
    metrics: list[MetricInfo]
    differences: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    method: str = (
        f"95% percentile bootstrap, {RESAMPLES} resamples, seed {SEED}; differences b - a "
        "resample the concepts both runs drew (paired)"
    )

    def columns(self) -> list[str]:
        """The CSV columns: identity columns, then every metric's value, ``_lo`` and ``_hi``."""
        ident = ["run", "label", "model", "languages", "constraint", "drawings", "concepts",
                 "scorer", "flagged", "fid"]  # fmt: skip
        out = list(ident)
        for m in self.metrics:
            out += [m.name, f"{m.name}_lo", f"{m.name}_hi"]
        return out


def _mean(values: Sequence[float]) -> float | None:
    return fmean(values) if values else None


def _per_concept(
    drawings: Sequence[Drawing], value: Callable[[Drawing], float | None]
) -> dict[str, float]:
    """Per concept: the mean of ``value`` over its drawings that have one."""
    groups: dict[str, list[float]] = defaultdict(list)
    for d in drawings:
        v = value(d)
        if v is not None:
            groups[d.concept_id].append(v)
    return {k: fmean(v) for k, v in groups.items()}


@dataclass
class _RunData:
    label: str
    path: Path
    row: Row
    # metric name -> {concept: mean} for the paired differences
    units: dict[str, dict[str, float]]


def _load(path: Path, label: str) -> _RunData:
    if not (path / "records.sqlite").exists():
        raise InputError(f"{path} is not a snellen run directory (no records.sqlite)")
    if not (path / "metrics.json").exists():
        raise InputError(f"{path} has no metrics.json: score it first (`snellen score {path}`)")
    run = Run(path)
    manifest = json.loads((path / "manifest.json").read_text())
    config = manifest.get("config") or {}
    metrics = MetricsSummary.from_row(json.loads((path / "metrics.json").read_text()))
    drawings = [d for d in run.load_records(Drawing) if d.task == "draw"]
    constrain = config.get("constrain") or "none"
    row: Row = {
        "run": str(path),
        "label": label,
        "model": config.get("model", ""),
        "languages": ",".join(config.get("languages") or sorted({d.language for d in drawings})),
        "constraint": ",".join(constrain) if isinstance(constrain, list) else str(constrain),
        "drawings": len(drawings),
        "concepts": len({d.concept_id for d in drawings}),
    }
    units: dict[str, dict[str, float]] = {}

    def put(name: str, values: Sequence[float], per_concept: dict[str, float] | None) -> None:
        row[name] = _mean(values)
        add_interval(row, name, values)
        if per_concept is not None:
            units[name] = per_concept

    def ok(d: Drawing) -> float:
        return float(d.status is Status.OK)

    put("render_rate", [ok(d) for d in drawings], _per_concept(drawings, ok))

    # fidelity per scorer, raw and text-free, over the categories each scorer can judge
    fid = metrics.fidelity
    meaningful = fid.meaningful if fid is not None else (lambda _c: True)
    by_scorer: dict[str, dict[str, float | None]] = defaultdict(dict)
    for s in run.load_records(FidelityScore):
        by_scorer[s.scorer][s.drawing] = s.percentile
    current = (metrics.scorer or {}).get("name")
    for scorer, scores in sorted(by_scorer.items()):
        # the run's own scorer says which categories it can judge; others are taken whole
        judged = [d for d in drawings if scorer != current or meaningful(d.category)]
        clean = [d for d in judged if d.names_concept is False]

        def score(d: Drawing, table: dict[str, float | None] = scores) -> float | None:
            return table.get(d.key)

        raw_values = [v for d in judged if (v := score(d)) is not None]
        clean_values = [v for d in clean if (v := score(d)) is not None]
        suffix = "" if scorer == current else f"[{scorer}]"
        put(f"fidelity{suffix}", raw_values, _per_concept(judged, score) if not suffix else None)
        put(f"fidelity_text_free{suffix}", clean_values,
            _per_concept(clean, score) if not suffix else None)  # fmt: skip
    if current is not None and fid is not None and fid.not_meaningful:
        row["fidelity_note"] = f"not meaningful for {', '.join(fid.not_meaningful)} with {current}"
    row["flagged"] = sum(bool(d.names_concept) for d in drawings if d.ok)
    row["scorer"] = current or ""

    answers = [a for a in run.load_records(JudgeAnswer)]
    judges = sorted({a.judge for a in answers})
    if judges:
        last = [a for a in answers if a.judge == judges[-1]]
        keyed = {a.drawing: float(a.correct) for a in last}
        put("judge_accuracy", list(keyed.values()),
            _per_concept(drawings, lambda d: keyed.get(d.key)))  # fmt: skip
        row["judge"] = judges[-1]
    choice = [r for r in run.load_records(Recognition) if r.mode == "choice"]
    rec_groups: dict[str, list[float]] = defaultdict(list)
    for r in choice:
        rec_groups[r.concept_id].append(float(r.correct))
    put("recognition", [float(r.correct) for r in choice],
        {k: fmean(v) for k, v in rec_groups.items()})  # fmt: skip

    _correction(run, metrics, row, units)
    div = [r for r in (metrics.diversity.by.get("task") if metrics.diversity else [])
           if r.get("task") == "draw"]  # fmt: skip
    row["diversity"] = div[0]["mean"] if div else None
    row["diversity_lo"] = div[0].get("mean_lo") if div else None
    row["diversity_hi"] = div[0].get("mean_hi") if div else None
    row["fid"] = metrics.realism.overall.fid if metrics.realism else None

    programs = {p.drawing: p for p in run.load_records(ProgramScore)}
    rendered = [d for d in drawings if d.ok and d.key in programs]
    for name in ("characters", "calls"):

        def measure(d: Drawing, name: str = name) -> float | None:
            p = programs.get(d.key)
            return float(getattr(p, name)) if p is not None and d.ok else None

        put(name, [float(getattr(programs[d.key], name)) for d in rendered],
            _per_concept(rendered, measure))  # fmt: skip
    return _RunData(label, path, row, units)


def _correction(
    run: Run, metrics: MetricsSummary, row: Row, units: dict[str, dict[str, float]]
) -> None:
    """Correction gain: per (concept, language) chain, the fidelity of its last correction
    round minus that of its first drawing."""
    drawings = list(run.load_records(Drawing))
    fid = {s.drawing: s.percentile for s in run.load_records(FidelityScore)
           if s.scorer == (metrics.scorer or {}).get("name")}  # fmt: skip
    first: dict[tuple[str, str], float] = {}
    last: dict[tuple[str, str], tuple[int, float]] = {}
    for d in drawings:
        v = fid.get(d.key)
        if v is None:
            continue
        chain = (d.concept_id, d.language)
        if d.task == "draw" and d.sample == 0:
            first[chain] = v
        elif d.task == "correct" and (chain not in last or d.round > last[chain][0]):
            last[chain] = (d.round, v)
    gains = {c: last[c][1] - first[c] for c in last if c in first}
    per_concept: dict[str, list[float]] = defaultdict(list)
    for (concept, _lang), g in gains.items():
        per_concept[concept].append(g)
    row["correction_gain"] = _mean(list(gains.values()))
    add_interval(row, "correction_gain", list(gains.values()))
    if gains:
        units["correction_gain"] = {k: fmean(v) for k, v in per_concept.items()}


def compare_runs(
    runs: Sequence[str | os.PathLike[str]], labels: Sequence[str] | None = None
) -> Comparison:
    """Compare scored check-up runs: one row per run and the pairwise differences on the
    concepts each pair shares. ``labels`` name the runs (default: their directory names)."""
    if not runs:
        raise InputError("compare needs at least one run directory")
    paths = [Path(r) for r in runs]
    names = list(labels) if labels else [p.name for p in paths]
    if len(names) != len(paths):
        raise InputError(f"{len(names)} labels for {len(paths)} runs: give one label per run")
    data = [_load(p, n) for p, n in zip(paths, names, strict=True)]
    names_seen: set[str] = set()
    metrics: list[MetricInfo] = []
    for info in (*HEADLINE, MetricInfo("correction_gain", "correction gain (fidelity points)"),
                 MetricInfo("diversity", "diversity"), MetricInfo("calls", "drawing calls")):  # fmt: skip
        metrics.append(info)
        names_seen.add(info.name)
    for d in data:  # fidelity under further scorers
        for key in d.row:
            further = key.startswith("fidelity") and "[" in key
            if further and not key.endswith(("_lo", "_hi")) and key not in names_seen:
                names_seen.add(key)
                metrics.append(MetricInfo(key, key.replace("_", " ")))
    differences = []
    for i, a in enumerate(data):
        for b in data[i + 1 :]:
            for info in metrics:
                if info.name not in a.units or info.name not in b.units:
                    continue
                diff = paired_difference(a.units[info.name], b.units[info.name])
                if diff.units == 0:
                    continue
                differences.append({
                    "a": a.label, "b": b.label, "metric": info.name,
                    "difference": diff.difference, "lo": diff.lo, "hi": diff.hi,
                    "concepts": diff.units,
                })  # fmt: skip
    notes = sorted({str(d.row["fidelity_note"]) for d in data if d.row.get("fidelity_note")})
    if any(d.row.get("fid") is not None for d in data):
        notes.append("FID is a statistic of a whole set of images: shown without an interval")
    return Comparison([d.row for d in data], metrics, differences, notes)


def comparison_json(comparison: Comparison) -> Mapping[str, Any]:
    """The comparison as plain JSON."""
    return {
        "method": comparison.method,
        "metrics": [m.__dict__ for m in comparison.metrics],
        "rows": comparison.rows,
        "differences": comparison.differences,
        "notes": comparison.notes,
    }
