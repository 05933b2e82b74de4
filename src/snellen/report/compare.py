"""One page that sets several check-up runs side by side: a live model, the same model
grammar-constrained, and recorded drawings of other models as reference rows. Each row
formats what its run's metrics step wrote (``metrics.json``) and shows the run's drawings;
each run keeps its own full report, linked from the page."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snellen.records.scores import MetricsSummary
from snellen.report.html import _CSS, esc, table, thumbnail

__all__ = ["CompareRow", "write_comparison"]

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
