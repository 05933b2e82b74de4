"""Check-up runs side by side.

:func:`write_comparison` writes the demo's page: a live model, the same model
grammar-constrained, and recorded drawings of other models as reference rows, each row
formatted from its run's ``metrics.json`` with the run's drawings, each run keeping its own
full report, linked from the page.

:func:`write_compare` writes what ``snellen compare`` computes
(:func:`snellen.metrics.compare.compare_runs`) as a self-contained HTML page (the table,
one plot per headline metric with its interval, the paired differences), a CSV (one row
per run, ``_lo``/``_hi`` interval columns) or Markdown."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snellen.errors import InputError
from snellen.metrics.compare import Comparison, MetricInfo
from snellen.records.scores import MetricsSummary
from snellen.report.html import _CSS, esc, table, thumbnail

__all__ = [
    "CompareRow",
    "render_compare_csv",
    "render_compare_html",
    "render_compare_markdown",
    "write_compare",
    "write_comparison",
]

THUMB = 160


@dataclass(frozen=True)
class CompareRow:
    """One run on the page. ``kind`` is ``live`` (a model answered now) or ``recording``
    (recorded replies of another model, replayed and rendered here)."""

    label: str
    run: Path
    kind: str = "live"
    note: str = ""


def _load(path: Path) -> tuple[dict[str, Any], MetricsSummary]:
    manifest = json.loads((path / "manifest.json").read_text())
    metrics_file = path / "metrics.json"
    metrics = (
        MetricsSummary.from_row(json.loads(metrics_file.read_text()))
        if metrics_file.is_file()
        else MetricsSummary(run=str(path))
    )
    return manifest, metrics


def _fidelity_cells(metrics: MetricsSummary, categories: Sequence[str]) -> list[str]:
    fidelity = metrics.fidelity
    found = {row.get("category"): row for row in fidelity.by.get("category")} if fidelity else {}
    cells = []
    for category in categories:
        row = found.get(category)
        if fidelity is None or row is None or not row.get("count"):
            cells.append("–")
        elif not fidelity.meaningful(category):
            cells.append(f"not meaningful offline (n={row['count']})")
        elif row.get("mean") is None:
            cells.append(f"undefined (n={row['count']})")
        else:
            std = f" ± {row['std']:.1f}" if row.get("std") is not None else ""
            cells.append(f"{row['mean']:.1f}%{std} (n={row['count']})")
    return cells


def _gallery(run_path: Path, limit: int) -> str:
    from snellen.store import Run

    run = Run(run_path)
    cells = []
    for n, record in enumerate(run.records("drawings")):
        if n >= limit:
            break
        status = record.get("status", "")
        image = record.get("image")
        png = run.artifacts.get(image) if image else None
        body = (
            f'<img alt="{esc(record.get("description"))}" src="{thumbnail(png, THUMB)}">'
            if png
            else f'<div class="noimg">{esc(status)}</div>'
        )
        reason = f' title="{esc((record.get("reason") or "")[:300])}"' if status != "ok" else ""
        cells.append(
            f'<figure class="cell big" data-status="{esc(status)}">{body}<figcaption>'
            f'<span class="badge b-{esc(status)}"{reason}>{esc(status)}</span> '
            f"{esc(record.get('description'))} · {esc(record.get('language'))}"
            "</figcaption></figure>"
        )
    return '<div class="grid">' + "".join(cells) + "</div>"


def render_comparison(
    rows: Sequence[CompareRow], *, title: str, intro: str = "", limit: int = 24
) -> str:
    loaded = [(row, *_load(row.run)) for row in rows]
    categories = sorted(
        {
            str(c["category"])
            for _, _, metrics in loaded
            if metrics.fidelity is not None
            for c in metrics.fidelity.by.get("category")
            if c.get("category") is not None
        }
    )
    header = ["run", "kind", "model", "constraint", "languages", "rendered"]
    header += [f"fidelity: {c}" for c in categories]
    body_rows = []
    for row, manifest, metrics in loaded:
        config = manifest.get("config") or {}
        drawings, rendered = metrics.drawings, metrics.rendered
        constrain = config.get("constrain") or "none"
        if isinstance(constrain, list):
            constrain = ", ".join(constrain)
        rate = f"{rendered}/{drawings} ({100 * rendered / drawings:.0f}%)" if drawings else "–"
        body_rows.append(
            [
                row.label, row.kind, config.get("model", ""), constrain,
                ", ".join(config.get("languages") or []), rate,
                *_fidelity_cells(metrics, categories),
            ]
        )  # fmt: skip
    sections = []
    for row, _manifest, metrics in loaded:
        link = os.path.relpath(row.run / "report.html", rows[0].run.parent)
        labels = "".join(f"<li>{esc(label)}</li>" for label in metrics.labels)
        sections.append(
            f'<section class="run" data-kind="{esc(row.kind)}"><h2>{esc(row.label)} '
            f'<small class="note">{esc(row.kind)}</small></h2>'
            + (f'<p class="note">{esc(row.note)}</p>' if row.note else "")
            + f'<p class="note"><a href="{esc(link)}">full report of this run</a></p>'
            + (f'<ul class="note">{labels}</ul>' if labels else "")
            + _gallery(row.run, limit)
            + "</section>"
        )
    css = (
        _CSS
        + "figure.cell.big{width:168px}figure.cell.big img,figure.cell.big .noimg{width:160px;height:160px}"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{css}</style></head><body>"
        f"<h1>{esc(title)}</h1>"
        + (f'<p class="sub">{intro}</p>' if intro else "")
        + '<h2 id="summary">Side by side</h2>'
        + table(header, body_rows, left=5)
        + "\n".join(sections)
        + "</body></html>\n"
    )


def write_comparison(
    rows: Sequence[CompareRow],
    out: str | os.PathLike[str],
    *,
    title: str = "snellen: runs side by side",
    intro: str = "",
    limit: int = 24,
) -> Path:
    """Write the side-by-side page for ``rows`` to ``out`` and return its path."""
    target = Path(out)
    text = render_comparison(rows, title=title, intro=intro, limit=limit)
    tmp = target.with_name(target.name + ".partial")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    return target


# -- `snellen compare`: a table of runs with intervals ----------------------------------
def _value(row: Mapping[str, Any], info: MetricInfo, digits: int = 1) -> str:
    v = row.get(info.name)
    if v is None:
        return "–"
    scale = 100.0 if info.percent else 1.0
    unit = "%" if info.percent else ""
    text = f"{scale * v:.{digits}f}{unit}"
    lo, hi = row.get(f"{info.name}_lo"), row.get(f"{info.name}_hi")
    if lo is not None and hi is not None:
        text += f" [{scale * lo:.{digits}f}, {scale * hi:.{digits}f}]"
    return text


def _shown(comparison: Comparison) -> list[MetricInfo]:
    """The metrics some run has a value for."""
    return [
        m for m in comparison.metrics if any(r.get(m.name) is not None for r in comparison.rows)
    ]


def _diff_text(row: Mapping[str, Any], info: MetricInfo) -> str:
    scale = 100.0 if info.percent else 1.0
    text = f"{scale * row['difference']:+.1f}"
    if row.get("lo") is not None:
        text += f" [{scale * row['lo']:+.1f}, {scale * row['hi']:+.1f}]"
    return text + (" pts" if info.percent else "")


def render_compare_html(comparison: Comparison, *, title: str = "snellen compare") -> str:
    """A self-contained page: the runs' table with intervals, one plot per headline metric,
    the pairwise differences on shared concepts."""
    from snellen.report.plots import interval_chart

    shown = _shown(comparison)
    with_fid = any(r.get("fid") is not None for r in comparison.rows)
    header = ["run", "model", "languages", "constraint", "drawings", "concepts", "flagged",
              *[m.title for m in shown], *(["FID (no interval)"] if with_fid else [])]  # fmt: skip
    rows = [
        [r["label"], r["model"], r["languages"], r["constraint"], r["drawings"], r["concepts"],
         r.get("flagged", 0), *[_value(r, m) for m in shown],
         *([r.get("fid") if r.get("fid") is not None else "–"] if with_fid else [])]
        for r in comparison.rows
    ]  # fmt: skip
    labels = [str(r["label"]) for r in comparison.rows]
    plots = []
    for m in shown:
        scale = 100.0 if m.percent else 1.0

        def scaled(key: str, m: MetricInfo = m, scale: float = scale) -> list[float | None]:
            return [None if r.get(key) is None else scale * r[key] for r in comparison.rows]

        plots.append(interval_chart(
            labels, scaled(m.name), scaled(f"{m.name}_lo"), scaled(f"{m.name}_hi"),
            plot_id=f"plot-{m.name.replace('[', '-').replace(']', '').replace(':', '-')}",
            title=m.title, ylabel=m.title + (" (%)" if m.percent else ""),
        ))  # fmt: skip
    by_name = {m.name: m for m in comparison.metrics}
    diff_rows = [
        [d["b"], d["a"], by_name[d["metric"]].title, _diff_text(d, by_name[d["metric"]]),
         d["concepts"]]
        for d in comparison.differences
    ]  # fmt: skip
    notes = "".join(f"<li>{esc(n)}</li>" for n in comparison.notes)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{esc(title)}</h1>"
        f'<p class="sub">{len(comparison.rows)} runs. Intervals: {esc(comparison.method)}. '
        "flagged: rendered drawings whose OCR text names their concept.</p>"
        '<h2 id="runs">Runs</h2>'
        + table(header, rows, left=4, cls="compare")
        + (f'<ul class="note">{notes}</ul>' if notes else "")
        + '<h2 id="plots">Headline metrics</h2><div class="plots">'
        + "".join(plots)
        + "</div>"
        + '<h2 id="differences">Differences on shared concepts</h2>'
        + (
            table(
                ["run b", "minus run a", "metric", "difference [95% CI]", "shared concepts"],
                diff_rows,
                left=3,
                cls="differences",
            )  # fmt: skip
            if diff_rows
            else '<p class="note">No two runs share a concept.</p>'
        )
        + "</body></html>\n"
    )


def render_compare_csv(comparison: Comparison) -> str:
    """One row per run: identity columns, then each metric with ``_lo``/``_hi``."""
    buf = io.StringIO()
    columns = comparison.columns()
    writer = csv.DictWriter(buf, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in comparison.rows:
        writer.writerow({c: "" if row.get(c) is None else row.get(c) for c in columns})
    return buf.getvalue()


def render_compare_markdown(comparison: Comparison) -> str:
    """The runs' table and the differences as Markdown."""
    shown = _shown(comparison)
    head = ["run", "model", "languages", "drawings", *[m.title for m in shown]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in comparison.rows:
        cells = [r["label"], r["model"], r["languages"], str(r["drawings"]),
                 *[_value(r, m) for m in shown]]  # fmt: skip
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    by_name = {m.name: m for m in comparison.metrics}
    if comparison.differences:
        lines += ["", "| run b - run a | metric | difference [95% CI] | shared concepts |",
                  "|---|---|---|---|"]  # fmt: skip
        for d in comparison.differences:
            info = by_name[d["metric"]]
            lines.append(f"| {d['b']} - {d['a']} | {info.title} | {_diff_text(d, info)} | "
                         f"{d['concepts']} |")  # fmt: skip
    lines += ["", f"Intervals: {comparison.method}."]
    lines += [f"Note: {n}." for n in comparison.notes]
    return "\n".join(lines) + "\n"


WRITERS = {".html": render_compare_html, ".csv": render_compare_csv,
           ".md": render_compare_markdown}  # fmt: skip


def write_compare(comparison: Comparison, out: str | os.PathLike[str]) -> Path:
    """Write ``comparison`` to ``out``, formatted by its suffix (.html, .csv or .md)."""
    target = Path(out)
    writer = WRITERS.get(target.suffix.lower())
    if writer is None:
        raise InputError(
            f"--out {target}: name a .html, .csv or .md file (the format follows the suffix)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".partial")
    tmp.write_text(writer(comparison), encoding="utf-8")
    tmp.replace(target)
    return target
