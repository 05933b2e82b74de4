"""One self-contained HTML file for a check-up run: every image inlined as a base64 PNG,
every plot an inline SVG, every program inside the drawing's full-size view, no external
file, script or font, so the report can be mailed or archived as it is.

The report formats what the scoring step wrote (:class:`~snellen.records.scores.MetricsSummary`);
it computes no aggregate of its own."""

from __future__ import annotations

import base64
import html
import io
import json
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from snellen.imaging import to_png
from snellen.metrics.summary import TASK_ORDER, first_line
from snellen.records.checkup import Drawing, Status
from snellen.report.data import ReportData, load_report_data
from snellen.report.plots import bar_chart, line_chart, stacked_bars
from snellen.store import Run

__all__ = ["render_html", "thumbnail", "write_report"]

THUMB = 192
FULL = 512
NOT_MEANINGFUL = "not meaningful"
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#1d232a;background:#fff}
h1{font-size:1.6em;margin-bottom:0}h2{margin-top:2em;border-bottom:1px solid #d0d7de;padding-bottom:4px}
.sub{color:#57606a;margin-top:4px}
table{border-collapse:collapse;margin:8px 0 16px}th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:right;font-size:.9em}
th{background:#f6f8fa}td.l,th.l{text-align:left}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #d0d7de;border-radius:6px;padding:8px 14px;min-width:120px}
.card b{display:block;font-size:1.4em}
.card .ci{display:block;color:#57606a;font-size:.8em}
.concepts{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start}
.concept{padding:8px;border:1px solid #eaeef2;border-radius:6px;max-width:100%;box-sizing:border-box}
.concept h3{margin:0 0 6px;font-size:1em;max-width:max(100%,280px)}.concept h3 small{color:#57606a;font-weight:normal}
.grid{display:flex;flex-wrap:wrap;gap:10px}
figure.cell{margin:0;width:200px;font-size:.75em}
figure.cell img.thumb,figure.cell .noimg{width:192px;height:192px;border:1px solid #d0d7de;display:block;object-fit:contain;background:#fff}
.view .extra{display:none}
.view:target{position:fixed;inset:3vh 3vw;z-index:10;background:#fff;border:1px solid #8c959f;border-radius:8px;box-shadow:0 0 0 100vmax rgba(27,31,36,.55);padding:14px;overflow:auto;display:flex;gap:14px;flex-wrap:wrap;align-items:flex-start;font-size:1.2em}
.view:target img.thumb{width:auto;height:auto;max-width:min(512px,90vw);max-height:80vh}
.view:target .extra{display:block;flex:1;min-width:280px}
.extra img.ref{max-width:256px;border:1px solid #d0d7de;background:#fff}
.extra pre{max-height:50vh;overflow:auto;background:#f6f8fa;border:1px solid #d0d7de;padding:8px;font-size:11px;white-space:pre-wrap;margin:0}
.extra .close{float:right;font-size:28px;text-decoration:none;color:#57606a}
.plots{display:flex;flex-wrap:wrap;gap:16px}.plot{max-width:640px}
figure.cell .noimg{display:flex;align-items:center;justify-content:center;color:#8c959f;background:#f6f8fa;text-align:center}
.badge{display:inline-block;border-radius:8px;padding:0 6px;color:#fff;font-size:.85em}
.b-text{background:#8250df}
.b-ok{background:#1a7f37}.b-blank{background:#9a6700}.b-no_code{background:#6e7781}.b-compile_error,.b-runtime_error{background:#cf222e}
.b-timeout,.b-memory,.b-killed{background:#8250df}
.nm{color:#8c959f;font-style:italic}.note{color:#57606a;font-size:.9em}.warn{background:#fff8c5;border:1px solid #d4a72c;padding:6px 10px;border-radius:6px}
svg{max-width:100%}
"""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def thumbnail(png: bytes, size: int = THUMB) -> str:
    """A data: URI of a PNG at most ``size`` pixels on a side: the stored bytes as they are
    when they fit, else a resized copy."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as source:
        if max(source.size) <= size:
            data = png
        else:
            im = (
                source.convert("RGBA")
                if source.mode in ("P", "LA", "RGBA")
                else source.convert("RGB")
            )
            im.thumbnail((size, size))
            data = to_png(im)
    return "data:image/png;base64," + base64.b64encode(data).decode()


def table(
    header: Sequence[str], rows: Iterable[Sequence[Any]], *, left: int = 1, cls: str = ""
) -> str:
    out = [f'<table class="{cls}"><thead><tr>']
    out += [f'<th class="{"l" if i < left else ""}">{esc(h)}</th>' for i, h in enumerate(header)]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>")
        out += [f'<td class="{"l" if i < left else ""}">{_cell(v)}</td>' for i, v in enumerate(row)]
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _cell(v: Any) -> str:
    if isinstance(v, Raw):
        return str(v)
    if isinstance(v, float):
        return esc(f"{v:.1f}" if abs(v) >= 10 else f"{v:.3g}")
    return esc(v)


class Raw(str):
    """A table cell that is already HTML."""


def _pct(x: float | None) -> str:
    """A fraction as a percentage."""
    return "–" if x is None else f"{100 * x:.1f}%"


def _fmt(x: float | None, pct: bool = False) -> str:
    if x is None:
        return "–"
    return f"{x:.1f}%" if pct else f"{x:.3f}"


def _ci(row: Any, name: str, *, scale: float = 1.0, unit: str = "", digits: int = 1) -> str:
    """``row[name]`` with its bootstrap interval (``name_lo``/``name_hi``), times ``scale``:
    ``"71.2% [68.0, 74.5]"``; ``"–"`` without a value."""
    value = (row or {}).get(name)
    if value is None:
        return "–"
    lo, hi = (row or {}).get(f"{name}_lo"), (row or {}).get(f"{name}_hi")
    text = f"{value * scale:.{digits}f}{unit}"
    if lo is not None and hi is not None:
        text += f" [{lo * scale:.{digits}f}, {hi * scale:.{digits}f}]"
    return text


# -- sections -----------------------------------------------------------------------
def _fid_text(d: ReportData, value: float | None, category: str | None = None) -> str:
    fid = d.metrics.fidelity
    if fid is not None and category is not None and not fid.meaningful(category):
        return NOT_MEANINGFUL
    return _fmt(value, pct=True)


def _summary(d: ReportData) -> str:
    h = d.metrics.headline
    fid = d.metrics.fidelity
    if fid is not None and fid.not_meaningful and not h.get("fidelity_scored"):
        fid_card = NOT_MEANINGFUL
    else:
        fid_card = _ci(h, "fidelity", unit="%")
    cards = [
        ("drawings", str(h.get("drawings", len(d.drawings)))),
        ("render rate", _ci(h, "render_rate", scale=100, unit="%")),
        ("mean fidelity", fid_card),
        ("concepts", str(h.get("concepts", 0))),
        ("languages", str(h.get("languages", 0))),
        ("recognition (choice)", _ci(h, "recognition_choice", scale=100, unit="%")),
    ]
    if h.get("flagged") is not None:
        cards.append(("fidelity, text-free", _ci(h, "fidelity_text_free", unit="%")))
        cards.append(("write the concept (OCR)", str(h["flagged"])))
    if h.get("judge_accuracy") is not None:
        cards.append(("judge accuracy", _ci(h, "judge_accuracy", scale=100, unit="%")))
    if h.get("similarity") is not None:
        cards.append(("similarity to reference", _ci(h, "similarity", digits=3)))
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card" data-metric="{esc(k)}">{esc(k)}<b>{esc(v.split(" [")[0])}</b>'
            + (f'<small class="ci">95% CI [{esc(v.split(" [", 1)[1])}</small>' if " [" in v else "")
            + "</div>"
            for k, v in cards
        )
        + "</div>"
    )


def _fidelity_plot(d: ReportData) -> str:
    """The paper's bar chart: mean fidelity per category, one bar per language."""
    fid = d.metrics.fidelity
    if fid is None:
        return ""
    rows = [r for r in fid.by.get("task", "category", "language") if r.get("task") == "draw"]
    rows = [r for r in rows if fid.meaningful(str(r["category"])) and r.get("mean") is not None]
    if not rows:
        return ""
    cats = sorted({str(r["category"]) for r in rows})
    langs = sorted({str(r["language"]) for r in rows})
    value = {(str(r["category"]), str(r["language"])): float(r["mean"]) for r in rows}
    return bar_chart(
        cats, {lang: [value.get((c, lang)) for c in cats] for lang in langs},
        plot_id="fidelity-plot", title="Fidelity by category and language (draw task)",
        ylabel="fidelity (%)", ylim=(0, 100), chance=50.0,
    )  # fmt: skip


def _metrics_tables(d: ReportData) -> str:
    m = d.metrics
    split = m.render.by.get("task", "category", "constraint", "language")
    render = split or m.render.by.get("task", "category", "language")
    tasks = {r["task"] for r in render}
    shown = [r for r in render if r["task"] == "draw"] if "draw" in tasks else render
    fid_rows = {
        (r.get("task"), r.get("category"), r.get("language")): r
        for r in (m.fidelity.by.get("task", "category", "language") if m.fidelity else [])
    }
    div = m.diversity.by.lookup(("task", "category", "language")) if m.diversity else {}
    rows = []
    for r in shown:
        key = (r["task"], r["category"], r["language"])
        if split:  # free and constrained side by side: each row's own fidelity
            label, fid_value, div_value = (
                f"{r['language']} ({r['constraint']})",
                r.get("fidelity"),
                None,
            )
        else:
            fid_row = fid_rows.get(key) or {}
            label, fid_value, div_value = r["language"], fid_row.get("mean"), div.get(key)
        fid_shown = _fid_text(d, fid_value, str(r["category"]))
        if fid_shown != NOT_MEANINGFUL and fid_value is not None:
            fid_shown = _ci(
                fid_rows.get(key) or {"fidelity": fid_value, **r},
                "mean" if key in fid_rows and not split else "fidelity", unit="%",
            )  # fmt: skip
        rows.append(
            (r["category"], label, r["drawings"], _ci(r, "rate", scale=100, unit="%"),
             fid_shown, _fmt(div_value), r["scored"])
        )  # fmt: skip
    out = [
        "<h3>Fidelity and diversity by category and language</h3>",
        '<div class="plots">' + _fidelity_plot(d) + "</div>",
        table(
            ["category", "language", "drawings", "render rate", "fidelity", "diversity", "scored"],
            rows,
            left=2,
            cls="metrics",
        ),
        '<p class="note">Fidelity: percentile rank of the true description among all '
        "descriptions of its category under the scorer (100% = ranked first); failed renders "
        "are not scored. Diversity: mean pairwise distance between the repeated samples of one "
        f"concept ({esc(m.diversity.metric if m.diversity else 'needs --samples 2 or more')}).</p>",
    ]
    out.append(_text_check(d))
    out.append(_programs(d))
    out.append(_judge(d))
    out.append(_similarity(d))
    if m.fidelity is not None and m.fidelity.undefined:
        undefined = ", ".join(
            f"{r['category']}: {r['drawings']} drawing(s), {r['candidates']} candidate(s)"
            for r in m.fidelity.undefined
        )
        out.append(
            f'<p class="warn">Fidelity undefined ({esc(m.fidelity.undefined_reason)}): '
            f"{esc(undefined)}.</p>"
        )
    if m.fidelity is not None and m.fidelity.not_meaningful:
        out.append(f'<p class="warn">Fidelity {NOT_MEANINGFUL}: '
                   f"{esc(m.fidelity.not_meaningful_reason)}.</p>")  # fmt: skip
    if m.realism is not None:
        sets = [("all", m.realism.overall), *sorted(m.realism.by_language.items())]
        realism_rows = [
            (name, metric, value)
            for name, scores in sets
            for metric, value in ((scores.fid_name, scores.fid), (scores.kid_name, scores.kid))
            if value is not None
        ]
        out.append("<h3>Realism</h3>")
        out.append(table(["set", "metric", "value"], realism_rows, left=2, cls="realism"))
    if m.labels:
        out.append(
            '<p class="warn">Non-standard metrics (not comparable with published numbers): '
            + esc("; ".join(m.labels))
            + "</p>"
        )
    return "".join(out)


def _text_check(d: ReportData) -> str:
    """The OCR text-gaming check: how many drawings write their concept, and fidelity raw
    beside text-free, per category and language."""
    fid = d.metrics.fidelity
    if fid is None or fid.ocr_read is None:
        return ""
    raw = {(str(r.get("category")), str(r.get("language"))): r
           for r in fid.by.get("category", "language")}  # fmt: skip
    clean = {(str(r.get("category")), str(r.get("language"))): r
             for r in fid.text_free_by.get("category", "language")}  # fmt: skip
    flagged: dict[tuple[str, str], int] = {}
    for r in d.drawings:
        if r.names_concept:
            flagged[(r.category, r.language)] = flagged.get((r.category, r.language), 0) + 1
    rows = []
    for key in sorted(raw):
        meaningful = fid.meaningful(key[0])
        rows.append((key[0], key[1], raw[key].get("count"), flagged.get(key, 0),
                     _ci(raw[key], "mean", unit="%") if meaningful else NOT_MEANINGFUL,
                     _ci(clean.get(key), "mean", unit="%") if meaningful else NOT_MEANINGFUL))  # fmt: skip
    return (
        "<h3>Text-gaming check (OCR)</h3>"
        f'<p class="note">{fid.flagged} of {fid.ocr_read} rendered drawings write their '
        "concept's key words (read by Tesseract; the rule is in docs/metrics.md). An image-text "
        "scorer rates a written name about as high as a drawing, so fidelity is shown raw and "
        "over the drawings that do not name their concept. Flagged drawings are marked "
        '<span class="badge b-text">writes the concept</span> below.</p>'
        + table(
            ["category", "language", "scored", "flagged", "fidelity (raw)", "fidelity (text-free)"],
            rows,
            left=2,
            cls="textcheck",
        )  # fmt: skip
    )


def _programs(d: ReportData) -> str:
    p = d.metrics.programs
    if p is None:
        return ""
    rows = [
        (r["category"], r["language"], r["drawings"], _ci(r, "characters", digits=0),
         _ci(r, "lines", digits=0), _ci(r, "calls", digits=1), _ci(r, "colours", digits=1),
         _ci(r, "render_seconds", digits=2),
         _ci(r, "fidelity", unit="%") if d.metrics.fidelity is None
         or d.metrics.fidelity.meaningful(str(r["category"])) else NOT_MEANINGFUL)
        for r in p.by.get("category", "language")
    ]  # fmt: skip
    corr = "; ".join(
        f"{r['category']}: {r['spearman_characters_fidelity']:+.2f} (n={r['pairs']})"
        for r in p.correlation
        if r.get("spearman_characters_fidelity") is not None
    )
    return (
        "<h3>Program metrics beside fidelity</h3>"
        + table(
            [
                "category",
                "language",
                "rendered",
                "characters",
                "lines",
                "drawing calls",
                "colours",
                "render s",
                "fidelity",
            ],
            rows,
            left=2,
            cls="programs",
        )  # fmt: skip
        + f'<p class="note">{esc(p.definition)}. Spearman rho of program characters against '
        f"fidelity: {esc(corr or 'too few drawings')}.</p>"
    )


def _judge(d: ReportData) -> str:
    j = d.metrics.judge
    if j is None:
        return ""
    rows = [
        (r["category"], r["language"], r["questions"], _ci(r, "accuracy", scale=100, unit="%"),
         _pct(r["chance"]), _pct(r["parsed"]))
        for r in j.by.get("category", "language")
    ]  # fmt: skip
    return (
        f"<h3>VLM judge: {esc(j.judge)}</h3>"
        f'<p class="note">The judge saw each rendered drawing with {j.options} descriptions of '
        "its category (the true one and distractors) and picked one.</p>"
        + table(
            ["category", "language", "questions", "accuracy", "chance", "answers read"],
            rows,
            left=2,
            cls="judge",
        )  # fmt: skip
    )


def _similarity(d: ReportData) -> str:
    s = d.metrics.similarity
    if s is None:
        return ""
    rows = [(r.get("category"), r.get("language"), r.get("count"), _ci(r, "mean", digits=3))
            for r in s.by.get("category", "language")]  # fmt: skip
    return (
        f"<h3>Similarity to the reference rendering: {esc(s.metric)}</h3>"
        + table(["category", "language", "drawings", "similarity"], rows, left=2, cls="similarity")
        + f'<p class="note">{esc(s.definition)}.</p>'
    )


def _failures(d: ReportData) -> str:
    r = d.metrics.render
    langs = sorted({str(row["language"]) for row in r.statuses})
    counts = {(row["status"], row["language"]): row["count"] for row in r.statuses}
    statuses = list(dict.fromkeys(row["status"] for row in r.statuses))
    rows = [(s, sum(counts[(s, lg)] for lg in langs), *(counts[(s, lg)] for lg in langs))
            for s in statuses]  # fmt: skip
    plot = ""
    if langs:
        plot = stacked_bars(
            langs, {s: [float(counts[(s, lg)]) for lg in langs] for s in statuses},
            plot_id="outcomes-plot", title="Render outcomes per language", ylabel="drawings",
        )  # fmt: skip
    return (
        '<div class="plots">'
        + plot
        + "</div>"
        + table(["status", "all", *langs], rows, cls="failures")
        + "<h3>Most common reasons</h3>"
        + table(["status", "reason", "count"],
                [(x["status"], x["reason"], x["count"]) for x in r.reasons], left=2, cls="reasons")
    )  # fmt: skip


def _recognition(d: ReportData) -> str:
    rec = d.metrics.recognition
    if rec is None:
        return '<p class="note">No recognition task in this run.</p>'
    rows = [
        (r["mode"], r["category"], r["language"], r["questions"],
         _ci(r, "accuracy", scale=100, unit="%"), _pct(r["chance"]), f"{100 * r['parsed']:.0f}%",
         _ci(r, "percentile", unit="%"))
        for r in rec.by.get("mode", "category", "language")
    ]  # fmt: skip
    by_options = rec.by.get("mode", "n_options")
    modes = sorted({str(r["mode"]) for r in by_options})
    options = sorted({int(r["n_options"]) for r in by_options})
    acc = {(str(r["mode"]), int(r["n_options"])): 100 * float(r["accuracy"]) for r in by_options}
    plot = bar_chart(
        [str(n) for n in options], {m: [acc.get((m, n)) for n in options] for m in modes},
        plot_id="recognition-plot", title="Recognition accuracy by number of options "
        "(choice: options shown; free: candidates ranked)", ylabel="accuracy (%)", ylim=(0, 100),
    )  # fmt: skip
    return (
        '<div class="plots">' + plot + "</div>"
        + table(
            ["mode", "category", "language", "questions", "accuracy", "chance", "answer read",
             "mean rank percentile"],
            rows, left=3, cls="recognition",
        )
        + '<p class="note">choice: the true description among same-category distractors. '
        "free: the answer is embedded (all-MiniLM-L6-v2) and the true description ranked "
        "among the category's candidates; accuracy = ranked first.</p>"
    )  # fmt: skip


def _rounds_plot(d: ReportData) -> str:
    """Fidelity and render rate by correction round."""
    tables = d.metrics.correction
    if tables is None:
        return '<p class="note">No self-correction rounds in this run.</p>'
    overall = tables.get("round")
    series: dict[str, dict[int, float | None]] = defaultdict(dict)
    for r in overall:
        series["fidelity: all"][int(r["round"])] = r.get("fidelity")
        series["render rate"][int(r["round"])] = 100 * float(r["rate"])
    for r in tables.get("round", "language"):
        series[f"fidelity: {r['language']}"][int(r["round"])] = r.get("fidelity")
    plot = line_chart(
        series, plot_id="rounds-plot", title="Fidelity and render rate per correction round",
        xlabel="correction round", ylabel="%", dashed=("render rate",), bold=("fidelity: all",),
    )  # fmt: skip
    rows = [(r["round"], r["drawings"], _ci(r, "rate", scale=100, unit="%"),
             _ci(r, "fidelity", unit="%"))
            for r in overall]  # fmt: skip
    return plot + table(["round", "drawings", "render rate", "fidelity"], rows, cls="rounds")


def _parametric(d: ReportData) -> str:
    par = d.metrics.parametric
    if not par:
        return ""
    div = d.metrics.diversity.by.lookup(("task", "language")) if d.metrics.diversity else {}
    rows = []
    langs = []
    repeated: list[float | None] = []
    parametric: list[float | None] = []
    for r in par:
        lang = r["language"]
        langs.append(str(lang))
        parametric.append(div.get(("parametric", lang)))
        repeated.append(div.get(("draw", lang)))
        rows.append((lang, r["variants"], _ci(r, "rate", scale=100, unit="%"),
                     f"{r['parameters']:.1f}",
                     _fmt(parametric[-1]), _fmt(repeated[-1])))  # fmt: skip
    plot = ""
    if any(v is not None for v in parametric + repeated):
        plot = bar_chart(
            langs, {"parametric": parametric, "repeated sampling": repeated},
            plot_id="diversity-plot", title="Diversity: parametric variants vs repeated samples",
            ylabel="mean pairwise distance",
        )  # fmt: skip
    return (
        '<h2 id="parametric">Parametric diversity</h2>'
        + '<div class="plots">' + plot + "</div>"
        + table(
            ["language", "variants", "render rate", "parameters found",
             "diversity (parametric)", "diversity (repeated sampling)"],
            rows, cls="parametric",
        )
        + '<p class="note">Parametric: one program per concept with its named numbers '
        "resampled; repeated sampling: independent samples of the draw task (needs --samples 2 "
        "or more). Both are the mean pairwise distance within a concept.</p>"
    )  # fmt: skip


def _by_concept(drawings: Sequence[Drawing]) -> dict[str, list[Drawing]]:
    groups: dict[str, list[Drawing]] = defaultdict(list)
    for r in drawings:
        groups[r.concept_id].append(r)
    return dict(sorted(groups.items()))


def _grids(d: ReportData, limit: int) -> str:
    by_concept = _by_concept(d.drawings)
    out = []
    more = ""
    n_cell = 0
    for n, (cid, recs) in enumerate(by_concept.items()):
        if n >= limit:
            more = (
                f'<p class="note">… and {len(by_concept) - limit} more concepts (grids are '
                f"limited to {limit}; every record is in drawings.parquet).</p>"
            )
            break
        first = recs[0]
        ref_png = d.artifact(d.references.get(cid))
        reference = thumbnail(ref_png, FULL) if ref_png is not None else None
        order = sorted(
            recs, key=lambda r: (r.language, TASK_ORDER.get(r.task, 9), r.round, r.sample)
        )
        cells = []
        for r in order:
            n_cell += 1
            cells.append(_cell_html(d, r, f"v{n_cell}", reference))
        out.append(
            f'<div class="concept" data-concept="{esc(cid)}"><h3>{esc(first.description)} '
            f"<small>{esc(cid)} · {esc(first.category)}</small></h3>"
            f'<div class="grid">{"".join(cells)}</div></div>'
        )
    return '<div class="concepts">' + "".join(out) + "</div>" + more


def _cell_html(d: ReportData, r: Drawing, view_id: str, reference: str | None) -> str:
    status = r.status.value
    label = r.language
    if r.task == "correct":
        label += f" · round {r.round}"
    elif r.task == "parametric":
        label += f" · param {r.sample}"
    elif r.sample:
        label += f" · sample {r.sample}"
    png = d.artifact(r.image)
    fid = d.fidelity.get(r.key)
    meaningful = d.metrics.fidelity is None or d.metrics.fidelity.meaningful(r.category)
    if fid is None:
        fid_txt = ""
    elif meaningful:
        fid_txt = f" · fid {fid:.0f}%"
    else:
        fid_txt = f" · fid {NOT_MEANINGFUL}"
    program = d.artifact(r.program)
    code = (
        f"<details open><summary>program</summary><pre>"
        f"{esc(program.decode('utf-8', 'replace'))}</pre></details>"
        if program is not None
        else ""
    )
    ref = (
        f'<figure><img class="ref" alt="reference rendering" src="{reference}">'
        "<figcaption>the concept's reference program, rendered</figcaption></figure>"
        if reference
        else ""
    )
    reason = f' title="{esc(first_line(r.reason, 300))}"' if r.status is not Status.OK else ""
    if png is not None:
        img = (
            f'<a href="#{view_id}"><img class="thumb" alt="{esc(r.description)}" '
            f'src="{thumbnail(png, FULL)}"></a>'
        )
    else:
        img = f'<a href="#{view_id}"><div class="noimg">{esc(status)}</div></a>'
    badge = f'<span class="badge b-{esc(status)}"{reason}>{esc(status)}</span> '
    flag = ' data-flagged="text"' if r.names_concept else ""
    if r.names_concept:
        badge += (
            f'<span class="badge b-text" title="OCR read: {esc(first_line(r.ocr_text or "", 200))}">'
            "writes the concept</span> "
        )
    caption = f"{badge}{esc(label)}{esc(fid_txt)}"
    # the full view says "fidelity" in full (the grid's "fid" marks one number per drawing)
    heading = f"{badge}{esc(label)}{esc(fid_txt.replace(' fid ', ' fidelity '))}"
    why = (
        f'<p class="note">{esc(first_line(r.reason, 300))}</p>' if r.status is not Status.OK else ""
    )
    return (
        f'<figure class="cell" data-status="{esc(status)}" data-key="{esc(r.key)}"{flag}>'
        f'<div class="view" id="{view_id}">{img}'
        f'<div class="extra"><a class="close" href="#drawings" title="close">×</a>'
        f"<p><b>{esc(r.description)}</b><br>{heading}</p>{why}{ref}{code}</div></div>"
        f"<figcaption>{caption}</figcaption></figure>"
    )


def _manifest(d: ReportData) -> str:
    m = d.manifest
    cfg = m.get("config", {})
    rows = [
        (k, json.dumps(v) if isinstance(v, dict | list) else v)
        for k, v in sorted(cfg.items())
        if k != "prompts"
    ]
    out = ["<h3>Settings</h3>", table(["setting", "value"], rows, left=2, cls="manifest")]
    if cfg.get("prompts"):
        out.append("<h3>Prompt templates</h3>")
        out.append(table(["template", "text"], sorted(cfg["prompts"].items()), left=2))
    for title, key in (("Models", "models"), ("Versions", "versions"), ("Scoring", "scoring"),
                       ("Sandbox", "sandbox"), ("LLM usage", "llm_usage")):  # fmt: skip
        value = m.get(key)
        if value:
            items = value.items() if isinstance(value, dict) else enumerate(value)
            out.append(f"<h3>{title}</h3>")
            out.append(
                table(["name", "value"],
                      [(k, json.dumps(v) if isinstance(v, dict | list) else v) for k, v in items], left=2)
            )  # fmt: skip
    if m.get("notes"):
        out.append(
            "<h3>Notes</h3><ul>" + "".join(f"<li>{esc(n)}</li>" for n in m["notes"]) + "</ul>"
        )
    sessions = m.get("sessions", [])
    out.append(
        f'<p class="note">{len(sessions)} session(s); created {esc(_when(m.get("created")))}.</p>'
    )
    return "".join(out)


def _when(t: Any) -> str:
    import datetime as dt

    try:
        return dt.datetime.fromtimestamp(float(t), dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (TypeError, ValueError):
        return "?"


def render_html(d: ReportData, *, grid_limit: int = 200) -> str:
    m = d.manifest
    model = (m.get("config") or {}).get("model", "")
    title = f"snellen check-up: {model}"
    body = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="sub">{esc(d.path.name)} · {len(d.drawings)} drawings · '
        f"{len(d.recognition)} recognition questions</p>",
        _summary(d),
        '<h2 id="metrics">Metrics</h2>',
        _metrics_tables(d),
        '<h2 id="failures">Render outcomes</h2>',
        _failures(d),
        '<h2 id="recognition">Recognition</h2>',
        _recognition(d),
        '<h2 id="correction">Self-correction: fidelity by round</h2>',
        _rounds_plot(d),
        _parametric(d),
        '<h2 id="drawings">Drawings</h2>',
        '<p class="note">Click a drawing to see it full size with its program and the '
        "concept's reference rendering.</p>",
        _grids(d, grid_limit),
        '<h2 id="manifest">Manifest</h2>',
        _manifest(d),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


def write_report(
    run: Run | str | os.PathLike[str], out: str | os.PathLike[str] | None = None, *,
    grid_limit: int = 200,
) -> Path:  # fmt: skip
    """Write the run's report (default ``RUN/report.html``) and return its path."""
    data = load_report_data(run if isinstance(run, Run) else Path(run))
    target = Path(out) if out is not None else data.path / "report.html"
    text = render_html(data, grid_limit=grid_limit)
    tmp = target.with_name(target.name + ".partial")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    return target
