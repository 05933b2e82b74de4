"""The aggregates of a run that need no network: render outcomes, recognition accuracy,
fidelity by correction round and parametric diversity, counted from the typed records and
the per-drawing fidelity. :func:`~snellen.metrics.run.score_run` adds them to
``metrics.json``; the report only formats them.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from statistics import fmean
from typing import Any

from snellen.errors import InputError
from snellen.metrics.bootstrap import add_interval
from snellen.records.checkup import Drawing, Recognition, Status
from snellen.records.scores import (
    FidelityScore,
    MetricsSummary,
    RecognitionSummary,
    RenderSummary,
    Tables,
)
from snellen.store import Run

__all__ = [
    "as_run",
    "correction_summary",
    "first_line",
    "headline",
    "parametric_summary",
    "recognition_summary",
    "render_summary",
    "summarise_run",
    "write_summary",
]

Row = dict[str, Any]
_FRAME = re.compile(r"^(line \d+, in \S+|File .*, line \d+)")
TASK_ORDER = {"draw": 0, "correct": 1, "parametric": 2}


def first_line(text: str, limit: int = 140) -> str:
    """The line that says what went wrong: for a traceback (frames first, the exception
    last) the exception with the innermost frame, otherwise the first line."""
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    line = lines[0] if lines else ""
    if len(lines) > 1 and _FRAME.match(lines[0]):
        frames = [ln for ln in lines if _FRAME.match(ln)]
        line = f"{lines[-1]} ({frames[-1]})"
    return line[:limit] + ("…" if len(line) > limit else "")


def _mean(xs: Sequence[float]) -> float | None:
    return fmean(xs) if xs else None


def _by(columns: Sequence[str]) -> Callable[[Any], tuple[Any, ...]]:
    """The group key of a record: its values of ``columns``."""
    return lambda record: tuple(getattr(record, c) for c in columns)


def _groups(
    items: Iterable[Any], key: Callable[[Any], tuple[Any, ...]]
) -> dict[tuple[Any, ...], list[Any]]:
    out: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    for item in items:
        out[key(item)].append(item)
    return dict(sorted(out.items(), key=lambda kv: tuple(str(x) for x in kv[0])))


def _fid_stats(
    recs: Iterable[Drawing],
    fidelity: Mapping[str, float | None],
    meaningful: Callable[[str], bool] = lambda _c: True,
) -> Row:
    """Mean fidelity of the scored drawings among ``recs`` whose category the scorer can
    judge (``fidelity`` None when there are none)."""
    values = [v for d in recs if meaningful(d.category) and (v := fidelity.get(d.key)) is not None]
    return dict(
        add_interval({"fidelity": _mean(values), "scored": len(values)}, "fidelity", values)
    )


def _rate(recs: Sequence[Drawing]) -> Row:
    """Drawings, rendered, render rate and its interval."""
    outcomes = [float(d.status is Status.OK) for d in recs]
    row: Row = {"drawings": len(recs), "rendered": int(sum(outcomes)),
                "rate": sum(outcomes) / len(recs)}  # fmt: skip
    return dict(add_interval(row, "rate", outcomes))


def render_summary(
    drawings: Sequence[Drawing],
    fidelity: Mapping[str, float | None],
    meaningful: Callable[[str], bool] = lambda _c: True,
    reasons: int = 25,
) -> RenderSummary:
    """Drawings, rendered and render rate (with the mean fidelity of the scored ones) per
    ``task,language`` and ``task,category,language`` (and the same split by ``constraint``
    when a run holds free and grammar-constrained drawings); status counts per language; the
    most common failure reasons."""
    tables = Tables()
    groupings: list[tuple[str, ...]] = [("task", "language"), ("task", "category", "language")]
    if len({d.constraint for d in drawings}) > 1:
        # free and grammar-constrained drawings of one run, side by side
        groupings += [
            ("task", "constraint", "language"),
            ("task", "category", "constraint", "language"),
        ]
    for cols in groupings:
        rows = []
        for group, recs in _groups(drawings, _by(cols)).items():
            rows.append({**dict(zip(cols, group, strict=True)), **_rate(recs),
                         **_fid_stats(recs, fidelity, meaningful)})  # fmt: skip
        tables.put(cols, rows)
    counts = Counter((d.status.value, d.language) for d in drawings)
    totals = Counter(d.status.value for d in drawings)
    statuses = [
        {"status": s, "language": lang, "count": counts[(s, lang)]}
        for s, _ in totals.most_common()
        for lang in sorted({d.language for d in drawings})
    ]
    why = Counter(
        (d.status.value, first_line(d.reason)) for d in drawings if d.status is not Status.OK
    )
    top = [{"status": s, "reason": r, "count": n} for (s, r), n in why.most_common(reasons)]
    return RenderSummary(by=tables, statuses=statuses, reasons=top)


def correction_summary(
    drawings: Sequence[Drawing],
    fidelity: Mapping[str, float | None],
    meaningful: Callable[[str], bool] = lambda _c: True,
) -> Tables | None:
    """Render rate and fidelity per correction round (round 0: the first draw-task sample
    of each corrected concept and language), overall and per language."""
    corr = [d for d in drawings if d.task == "correct"]
    if not corr:
        return None
    chains = {(d.concept_id, d.language) for d in corr}
    first = [
        d for d in drawings
        if d.task == "draw" and d.sample == 0 and (d.concept_id, d.language) in chains
    ]  # fmt: skip
    tables = Tables()
    for cols in (("round",), ("round", "language")):
        rows = []
        for group, recs in _groups(first + corr, _by(cols)).items():
            rows.append({**dict(zip(cols, group, strict=True)), **_rate(recs),
                         **_fid_stats(recs, fidelity, meaningful)})  # fmt: skip
        tables.put(cols, rows)
    return tables


def parametric_summary(drawings: Sequence[Drawing]) -> list[Row] | None:
    """Per language: parametric variants, their render rate and the mean number of
    parameters found in the model's programs."""
    par = [d for d in drawings if d.task == "parametric"]
    if not par:
        return None
    rows = []
    for (lang,), recs in _groups(par, lambda d: (d.language,)).items():
        params = [d.n_params or 0 for d in recs if d.sample == 0]
        rate = _rate(recs)
        rows.append({"language": lang, "variants": len(recs), "rendered": rate["rendered"],
                     "rate": rate["rate"], "rate_lo": rate["rate_lo"], "rate_hi": rate["rate_hi"],
                     "parameters": _mean(params) or 0.0})  # fmt: skip
    return rows


def recognition_summary(recognition: Sequence[Recognition]) -> RecognitionSummary | None:
    """Questions, correct answers, accuracy, chance, answers read and the mean rank
    percentile (free form) per ``mode,category,language``, ``mode`` and ``mode,n_options``."""
    if not recognition:
        return None
    tables = Tables()
    for cols in (("mode", "category", "language"), ("mode",), ("mode", "n_options")):
        rows = []
        for group, recs in _groups(recognition, _by(cols)).items():
            correct = sum(r.correct for r in recs)
            pct = [r.percentile for r in recs if r.percentile is not None]
            row: Row = {
                **dict(zip(cols, group, strict=True)),
                "questions": len(recs),
                "correct": correct,
                "accuracy": correct / len(recs),
                "chance": fmean(1 / max(1, r.n_options or 1) for r in recs),
                "parsed": sum(r.parsed for r in recs) / len(recs),
                "percentile": _mean(pct),
            }
            add_interval(row, "accuracy", [float(r.correct) for r in recs])
            add_interval(row, "percentile", pct)
            rows.append(row)
        tables.put(cols, rows)
    return RecognitionSummary(questions=len(recognition), by=tables)


def headline(
    drawings: Sequence[Drawing],
    recognition: Sequence[Recognition],
    fidelity: Mapping[str, float | None],
    meaningful: Callable[[str], bool] = lambda _c: True,
) -> Row:
    """The report's headline numbers. ``fidelity`` is the mean over the drawings of the
    categories the scorer can judge (``None`` when it can judge none of them)."""
    ok = sum(d.status is Status.OK for d in drawings)
    judged = [
        v for d in drawings if meaningful(d.category) and (v := fidelity.get(d.key)) is not None
    ]
    choice = [r for r in recognition if r.mode == "choice"]
    row: Row = {
        "drawings": len(drawings),
        "rendered": ok,
        "render_rate": ok / len(drawings) if drawings else None,
        "fidelity": _mean(judged),
        "fidelity_scored": len(judged),
        "concepts": len({d.concept_id for d in drawings}),
        "languages": len({d.language for d in drawings}),
        "recognition_choice": (sum(r.correct for r in choice) / len(choice)) if choice else None,
    }
    add_interval(row, "render_rate", [float(d.status is Status.OK) for d in drawings])
    add_interval(row, "fidelity", judged)
    add_interval(row, "recognition_choice", [float(r.correct) for r in choice])
    return row


def as_run(run_or_path: Run | str | os.PathLike[str]) -> Run:
    if isinstance(run_or_path, Run):
        return run_or_path
    if not (Path(run_or_path) / "records.sqlite").exists():
        raise InputError(f"{run_or_path} is not a snellen run directory (no records.sqlite)")
    return Run(run_or_path)


def summarise_run(
    run_or_path: Run | str | os.PathLike[str],
    meaningful: Callable[[str], bool] = lambda _c: True,
    scorer: str | None = None,
) -> MetricsSummary:
    """The aggregates that need no scorer (render outcomes, recognition, correction rounds,
    parametric), from the records alone, with the per-drawing fidelity already stored
    (``scorer``'s, when named; averaged over the categories ``meaningful`` accepts)."""
    run = as_run(run_or_path)
    drawings = list(run.load_records(Drawing))
    recognition = list(run.load_records(Recognition))
    scores = {
        f.drawing: f.percentile
        for f in run.load_records(FidelityScore)
        if scorer is None or f.scorer == scorer
    }
    return MetricsSummary(
        run=str(run.path),
        drawings=len(drawings),
        rendered=sum(d.ok for d in drawings),
        render=render_summary(drawings, scores, meaningful),
        recognition=recognition_summary(recognition),
        correction=correction_summary(drawings, scores, meaningful),
        parametric=parametric_summary(drawings),
        headline=headline(drawings, recognition, scores, meaningful),
    )


def write_summary(run_or_path: Run | str | os.PathLike[str]) -> MetricsSummary:
    """Write ``metrics.json`` for a run with nothing to score (no drawings: a recognition
    run), from its records alone."""
    run = as_run(run_or_path)
    summary = summarise_run(run)
    write_json(run.path / "metrics.json", summary.to_json())
    return summary


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=2, default=str)
    os.replace(tmp, path)
