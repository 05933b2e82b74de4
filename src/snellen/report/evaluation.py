"""One self-contained HTML page for a directory of ``snellen eval`` runs (``snellen report
DIR``, ``snellen eval table DIR --out page.html``): every run's headline metric per dataset
and model, beside chance and the published numbers it may be compared with, the per-group
breakdowns (relations, attribute pairs, classes), the spread over perturbation seeds, every
metric, and how each run was made. Plots are inline SVG; nothing is fetched.

The page formats what the runs' JSON files hold (:class:`EvalResult`); it computes no
metric of its own."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from snellen.metrics.seeds import summarize_seeds
from snellen.records.evaluation import EvalResult, read_eval_results
from snellen.report.html import _CSS, esc, table
from snellen.report.plots import bar_chart, line_chart

__all__ = ["render_eval_page", "write_eval_report"]

_EXTRA_CSS = ".wide{overflow-x:auto;max-width:100%}\n"
MAX_GROUPS = 40  # breakdowns with more groups (ImageNet's classes) are tables, not plots
_BREAKDOWNS = ("per_group", "per_class_recall")


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _order(results: Sequence[EvalResult]) -> list[EvalResult]:
    return sorted(results, key=lambda r: (r.task, r.dataset, r.model, r.seed))


def _unique(labels: list[str]) -> list[str]:
    """Labels made distinct (two runs that differ only in options get #2, #3, ...)."""
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        seen[lab] = seen.get(lab, 0) + 1
        out.append(lab if seen[lab] == 1 else f"{lab} #{seen[lab]}")
    return out


def _std(r: EvalResult, metric: str) -> float | None:
    return r.metrics.get(f"{metric}_std") if metric == "accuracy" else None


def _task_section(task: str, runs: list[EvalResult]) -> str:
    """The headline metric per dataset (one bar per model) with chance and published
    numbers, and the table of the same numbers."""
    summaries = summarize_seeds(runs)
    over_seeds = any(len(s.seeds) > 1 for s in summaries)
    groups = list(dict.fromkeys(s.dataset for s in summaries))
    models = list(dict.fromkeys(s.model for s in summaries))
    value: dict[tuple[str, str], float | None] = {}
    error: dict[tuple[str, str], float | None] = {}
    chance: dict[str, float] = {}
    published: dict[str, dict[str, float]] = defaultdict(dict)
    metrics = list(dict.fromkeys(s.metric for s in summaries))
    for s in summaries:
        value[(s.dataset, s.model)] = None if s.mean is None else 100 * s.mean
        if over_seeds:
            error[(s.dataset, s.model)] = None if s.std is None else 100 * s.std
        if s.chance is not None:
            chance[s.dataset] = 100 * s.chance
    if not over_seeds:  # one run each: the spread over perturbation draws, where there is one
        for r in runs:
            std = _std(r, r.main_metric()[0])
            error[(r.dataset, r.model)] = None if std is None else 100 * std
    for r in runs:
        name = r.main_metric()[0]
        for a in r.published if not r.why_not_comparable() else []:
            if a.metric == name:
                published[f"published: {a.model}"][r.dataset] = 100 * float(a.value)
    series: dict[str, list[float | None]] = {m: [value.get((g, m)) for g in groups] for m in models}
    errors = {m: [error.get((g, m)) for g in groups] for m in models}
    for name, by_group in published.items():
        series[name] = [by_group.get(g) for g in groups]
    line = None
    if chance and len(set(chance.values())) == 1 and len(chance) == len(groups):
        line = next(iter(chance.values()))
    elif chance:
        series["chance"] = [chance.get(g) for g in groups]
    metric = metrics[0] if len(metrics) == 1 else "headline metric"
    n_seeds = max(len(s.seeds) for s in summaries)
    spread = (
        f" (mean ± standard deviation over {n_seeds} data seeds)"
        if over_seeds
        else " (± standard deviation over perturbation seeds)"
        if any(e is not None for e in error.values())
        else ""
    )
    plot = bar_chart(
        groups, series, plot_id=f"{task}-plot", errors=errors, chance=line, ylim=(0, 100),
        title=f"{task}: {metric} per dataset and model" + spread, ylabel=f"{metric} (%)",
    )  # fmt: skip
    rows = []
    for r in runs:
        name, v = r.main_metric()
        std = _std(r, name)
        because = r.why_not_comparable()
        anchors = "; ".join(f"{a.model}: {_pct(a.value)} ({a.source})" for a in r.published)
        rows.append((
            r.dataset, r.model, r.seed, name, _pct(v), "–" if std is None else _pct(std),
            _pct(r.metrics.get("chance")), (anchors or "–") if not because else "–",
            "yes" if not because else "no: " + "; ".join(because),
            r.counts.get("cases", r.counts.get("images", "–")), r.counts.get("skipped", 0),
            len(r.seeds) or 1, f"{r.seconds:.1f}",
        ))  # fmt: skip
    header = ["dataset", "model", "seed", "metric", "value", "± std", "chance", "published",
              "comparable", "cases", "skipped", "draws", "seconds"]  # fmt: skip
    return f'<h2 id="task-{esc(task)}">{esc(task)}</h2><div class="plots">{plot}</div>' + _wide(
        table(header, rows, left=4, cls=f"eval-results task-{esc(task)}")
    )


def _breakdowns(results: list[EvalResult]) -> str:
    """Per relation / attribute pair / class, one bar per run of the same task and dataset."""
    by_set: dict[tuple[str, str, str], list[EvalResult]] = defaultdict(list)
    for r in results:
        for name in _BREAKDOWNS:
            if r.breakdown.get(name):
                by_set[(r.task, r.dataset, name)].append(r)
    out = []
    for n, ((task, dataset, name), runs) in enumerate(sorted(by_set.items())):
        many_seeds = len({r.seed for r in runs}) > 1
        labels = _unique([f"{r.model} (seed {r.seed})" if many_seeds else r.model for r in runs])
        groups = sorted({g for r in runs for g in r.breakdown[name]})
        values = {lab: [r.breakdown[name].get(g) for g in groups]
                  for lab, r in zip(labels, runs, strict=True)}  # fmt: skip
        chances = {r.metrics.get("chance") for r in runs}
        chance = next(iter(chances)) if len(chances) == 1 else None
        out.append(
            f'<h3 data-breakdown="{esc(name)}">{esc(task)} · {esc(dataset)}: '
            f"{esc(name.replace('_', ' '))}</h3>"
        )
        if len(groups) <= MAX_GROUPS:
            plot = bar_chart(
                groups, {k: [None if v is None else 100 * v for v in vs]
                         for k, vs in values.items()},
                plot_id=f"breakdown-{n}-plot", ylim=(0, 100), ylabel="accuracy (%)",
                chance=None if chance is None else 100 * chance,
                title=f"{dataset}: {name.replace('_', ' ')}",
            )  # fmt: skip
            out.append(f'<div class="plots">{plot}</div>')
        counts = [[r.counts.get(f"group:{g}") for r in runs] for g in groups]
        has_counts = any(c is not None for row in counts for c in row)
        header = ["group", *labels] + (["cases"] if has_counts else [])
        rows = []
        for i, (g, c) in enumerate(zip(groups, counts, strict=True)):
            row: list[object] = [g, *(_pct(values[lab][i]) for lab in labels)]
            if has_counts:
                row.append(" / ".join("–" if x is None else str(x) for x in c))
            rows.append(row)
        in_macro = [r for r in runs if r.breakdown.get("groups_in_macro")]
        out.append(table(header, rows, cls="eval-breakdown"))
        if in_macro and name == "per_group":
            used = sorted(in_macro[0].breakdown["groups_in_macro"])
            out.append(f'<p class="note">The macro accuracy averages {len(used)} of these '
                       f"groups: {esc(', '.join(used))}.</p>")  # fmt: skip
    if not out:
        return '<p class="note">No run holds a per-group breakdown.</p>'
    return "".join(out)


def _seed_spread(results: list[EvalResult]) -> str:
    """Accuracy of each perturbation draw, for the runs that average several."""
    runs = [r for r in results if r.breakdown.get("accuracy_by_seed")]
    if not runs:
        return '<p class="note">No run averages several perturbation draws.</p>'
    labels = _unique([f"{r.dataset} · {r.model} · seed {r.seed}" for r in runs])
    series = {
        lab: {int(s): 100 * v for s, v in r.breakdown["accuracy_by_seed"].items()}
        for lab, r in zip(labels, runs, strict=True)
    }
    plot = line_chart(series, plot_id="seeds-plot", xlabel="perturbation seed",
                      ylabel="accuracy (%)", title="Accuracy of each draw of perturbed "
                      "candidates (the order sets)")  # fmt: skip
    seeds = sorted({s for v in series.values() for s in v})
    rows = [
        (lab, *(_pct(r.breakdown["accuracy_by_seed"].get(str(s))) for s in seeds),
         _pct(r.metrics.get("accuracy")), _pct(r.metrics.get("accuracy_std")))
        for lab, r in zip(labels, runs, strict=True)
    ]  # fmt: skip
    header = ["run", *(f"seed {s}" for s in seeds), "mean", "std"]
    return f'<div class="plots">{plot}</div>' + table(header, rows, cls="eval-seeds")


def _all_metrics(results: list[EvalResult]) -> str:
    out = []
    for task in dict.fromkeys(r.task for r in results):
        runs = [r for r in results if r.task == task]
        names = list(dict.fromkeys(k for r in runs for k in r.metrics))
        rows = [(r.dataset, r.model, r.seed, *(_num(r.metrics.get(k), k) for k in names))
                for r in runs]  # fmt: skip
        out.append(f"<h3>{esc(task)}</h3>")
        out.append(
            _wide(table(["dataset", "model", "seed", *names], rows, left=2, cls="eval-metrics"))
        )
    return "".join(out)


def _num(v: float | None, name: str) -> str:
    if v is None:
        return "–"
    return f"{v:.4f}" if name.endswith("_std") else _pct(v)


def _runs(results: list[EvalResult]) -> str:
    rows = []
    for r in results:
        opts = {k: v for k, v in r.options.items() if v is not None}
        rows.append((
            r.task, r.dataset, r.model, r.seed, json.dumps(opts, sort_keys=True),
            ", ".join(map(str, r.seeds)) or "–",
            json.dumps(r.resumed, sort_keys=True) if r.resumed else "–", r.snellen_version,
            r.created, f"{r.seconds:.1f}",
        ))  # fmt: skip
    header = ["task", "dataset", "model", "seed", "options", "draws", "reused", "snellen",
              "created", "seconds"]  # fmt: skip
    models = {r.model: r.model_labels for r in results}
    model_rows = [(m, "yes" if labels.standard else "no", labels.domain or "–",
                   labels.note or "–") for m, labels in sorted(models.items())]  # fmt: skip
    skipped = [(f"{r.task} · {r.dataset} · {r.model}", why) for r in results for why in r.skipped]
    out = _wide(table(header, rows, left=5, cls="eval-runs"))
    out += (
        '<p class="note">reused: images and texts whose embeddings were already in the '
        "directory's progress store (an interrupted session of the run, or another run of the "
        "same model on the same images), not computed again.</p>"
    )
    out += "<h3>Models</h3>" + _wide(
        table(["model", "standard", "domain", "note"], model_rows, left=4, cls="eval-models")
    )
    if skipped:
        out += "<h3>Images that did not load</h3>" + table(
            ["run", "why"], skipped, left=2, cls="eval-skipped"
        )
    return out


def _wide(html: str) -> str:
    return f'<div class="wide">{html}</div>'


def render_eval_page(results: Sequence[EvalResult], source: str = "") -> str:
    """The page for ``results`` (see the module doc)."""
    results = _order(results)
    tasks = list(dict.fromkeys(r.task for r in results))
    models = sorted({r.model for r in results})
    datasets = sorted({r.dataset for r in results})
    title = "snellen eval" + (f": {Path(source).name}" if source else "")
    cards = [("runs", len(results)), ("models", len(models)), ("datasets", len(datasets)),
             ("tasks", len(tasks))]  # fmt: skip
    body = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="sub">{len(results)} runs from {esc(source)}</p>',
        '<div class="cards">'
        + "".join(
            f'<div class="card" data-metric="{esc(k)}">{esc(k)}<b>{v}</b></div>' for k, v in cards
        )  # fmt: skip
        + "</div>",
    ]
    if any(r.why_not_comparable() for r in results):
        body.append(
            '<p class="warn">Only runs marked comparable (released weights on an official '
            "benchmark read whole in its official format, in fp32, every image read) may be "
            "set beside a paper's numbers; the published numbers are shown only for those, and "
            "the others say why not.</p>"
        )
    for task in tasks:
        body.append(_task_section(task, [r for r in results if r.task == task]))
    body += [
        '<h2 id="breakdown">Per-group breakdown</h2>',
        _breakdowns(results),
        '<h2 id="seeds">Spread over perturbation seeds</h2>',
        _seed_spread(results),
        '<h2 id="metrics">Every metric</h2>',
        _all_metrics(results),
        '<h2 id="runs">Runs</h2>',
        _runs(results),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{_CSS}{_EXTRA_CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


def write_eval_report(
    path: str | os.PathLike[str], out: str | os.PathLike[str] | None = None
) -> Path:
    """Write the page of the eval runs in ``path`` (a directory of run JSON files, or one
    file) to ``out`` (default ``DIR/report.html``) and return its path."""
    results = read_eval_results(Path(path))
    source = Path(path)
    target = (
        Path(out)
        if out is not None
        else (source if source.is_dir() else source.parent) / ("report.html")
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".partial")
    tmp.write_text(render_eval_page(results, str(path)), encoding="utf-8")
    tmp.replace(target)
    return target
