"""One self-contained HTML file for a check-up run: every image inlined as a base64 PNG
thumbnail, every plot an inline SVG, every program inside a ``<details>`` element, no
external file, script or font, so the report can be mailed or archived as it is."""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from snellen.report.data import ReportData, load_report_data

THUMB = 128
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#1d232a;background:#fff}
h1{font-size:1.6em;margin-bottom:0}h2{margin-top:2em;border-bottom:1px solid #d0d7de;padding-bottom:4px}
.sub{color:#57606a;margin-top:4px}
table{border-collapse:collapse;margin:8px 0 16px}th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:right;font-size:.9em}
th{background:#f6f8fa}td.l,th.l{text-align:left}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #d0d7de;border-radius:6px;padding:8px 14px;min-width:120px}
.card b{display:block;font-size:1.4em}
.concepts{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start}
.concept{padding:8px;border:1px solid #eaeef2;border-radius:6px;max-width:100%;box-sizing:border-box}
.concept h3{margin:0 0 6px;font-size:1em;max-width:max(100%,280px)}.concept h3 small{color:#57606a;font-weight:normal}
.grid{display:flex;flex-wrap:wrap;gap:10px}
figure.cell{margin:0;width:136px;font-size:.75em}
figure.cell img,figure.cell .noimg{width:128px;height:128px;border:1px solid #d0d7de;display:block;object-fit:contain;background:#fff}
figure.cell .noimg{display:flex;align-items:center;justify-content:center;color:#8c959f;background:#f6f8fa;text-align:center}
.badge{display:inline-block;border-radius:8px;padding:0 6px;color:#fff;font-size:.85em}
.b-ok{background:#1a7f37}.b-blank{background:#9a6700}.b-no_code{background:#6e7781}.b-compile_error,.b-runtime_error{background:#cf222e}
.b-timeout,.b-memory,.b-killed{background:#8250df}
details{margin-top:2px}details pre{position:fixed;z-index:5;max-width:60vw;max-height:60vh;overflow:auto;background:#f6f8fa;border:1px solid #8c959f;padding:8px;font-size:11px;white-space:pre-wrap}
.note{color:#57606a;font-size:.9em}.warn{background:#fff8c5;border:1px solid #d4a72c;padding:6px 10px;border-radius:6px}
svg{max-width:100%}
"""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def thumbnail(png: bytes, size: int = THUMB) -> str:
    """A data: URI of a PNG thumbnail at most ``size`` pixels on a side."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as source:
        im = source.convert("RGBA") if source.mode in ("P", "LA", "RGBA") else source.convert("RGB")
        im.thumbnail((size, size))
        buf = io.BytesIO()
        im.save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


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
    if isinstance(v, float):
        return esc(f"{v:.1f}" if abs(v) >= 10 else f"{v:.3g}")
    return esc(v)


def _mean(xs: Sequence[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def _fmt(x: float | None, pct: bool = False) -> str:
    if x is None:
        return "–"
    return f"{x:.1f}%" if pct else f"{x:.3f}"


# -- sections -----------------------------------------------------------------------
def _summary(d: ReportData) -> str:
    recs = d.drawings
    ok = sum(r["status"] == "ok" for r in recs)
    fid = [d.fidelity[r["key"]] for r in recs if r["key"] in d.fidelity]
    rec_acc = [r for r in d.recognition if r.get("mode") == "choice"]
    cards = [
        ("drawings", str(len(recs))),
        ("render rate", f"{100 * ok / len(recs):.1f}%" if recs else "–"),
        ("mean fidelity", _fmt(_mean(fid), pct=True)),
        ("concepts", str(len({r["concept_id"] for r in recs}))),
        ("languages", str(len({r["language"] for r in recs}))),
        (
            "recognition (choice)",
            f"{100 * sum(bool(r.get('correct')) for r in rec_acc) / len(rec_acc):.1f}%"
            if rec_acc
            else "–",
        ),
    ]
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card" data-metric="{esc(k)}">{esc(k)}<b>{esc(v)}</b></div>'
            for k, v in cards
        )
        + "</div>"
    )


def _by_group(
    records: Sequence[Mapping[str, Any]], keys: Sequence[str]
) -> dict[tuple[Any, ...], list[Mapping[str, Any]]]:
    groups: dict[tuple[Any, ...], list[Mapping[str, Any]]] = defaultdict(list)
    for r in records:
        groups[tuple(r.get(k) for k in keys)].append(r)
    return dict(sorted(groups.items(), key=lambda kv: tuple(str(x) for x in kv[0])))


def _metrics_tables(d: ReportData) -> str:
    recs = [r for r in d.drawings if r.get("task", "draw") == "draw"] or d.drawings
    rows = []
    # constrained and free drawings side by side, when the run holds both
    constrained = len({r.get("constraint") or "none" for r in recs}) > 1
    for key, group in _by_group(recs, ("category", "language", "constraint")).items():
        cat, lang = key[0], key[1]
        ok = [r for r in group if r["status"] == "ok"]
        fid = [d.fidelity[r["key"]] for r in group if r["key"] in d.fidelity]
        # diversity is summarised over both kinds of drawing: shown only when unsplit
        div = None if constrained else d.diversity.get(("draw", str(cat), str(lang)))
        label = f"{lang} ({key[2] or 'none'})" if constrained else lang
        rows.append(
            (cat, label, len(group), f"{100 * len(ok) / len(group):.1f}%", _fmt(_mean(fid), True),
             _fmt(div), len(fid))
        )  # fmt: skip
    out = [
        "<h3>Fidelity and diversity by category and language</h3>",
        table(
            ["category", "language", "drawings", "render rate", "fidelity", "diversity", "scored"],
            rows,
            left=2,
            cls="metrics",
        ),
        '<p class="note">Fidelity: percentile rank of the true description among all '
        "descriptions of its category under the scorer (100% = ranked first); failed renders "
        "are not scored. Diversity: mean pairwise distance between the repeated samples of one "
        f"concept ({esc(d.diversity_label or 'needs --samples 2 or more')}).</p>",
    ]
    if d.realism:
        out.append("<h3>Realism</h3>")
        out.append(table(["set", "metric", "value"], d.realism, left=2, cls="realism"))
    if d.metric_labels:
        out.append(
            '<p class="warn">Non-standard metrics (not comparable with published numbers): '
            + esc("; ".join(d.metric_labels))
            + "</p>"
        )
    return "".join(out)


def _failures(d: ReportData) -> str:
    statuses = Counter(r["status"] for r in d.drawings)
    langs = sorted({r["language"] for r in d.drawings})
    by_lang = Counter((r["status"], r["language"]) for r in d.drawings)
    rows = [(s, n, *(by_lang[(s, lang)] for lang in langs)) for s, n in statuses.most_common()]
    reasons = Counter(
        (r["status"], _first_line(r.get("reason", ""))) for r in d.drawings if r["status"] != "ok"
    )
    reason_rows = [(s, why, n) for (s, why), n in reasons.most_common(25)]
    return (
        table(["status", "all", *langs], rows, cls="failures")
        + "<h3>Most common reasons</h3>"
        + table(["status", "reason", "count"], reason_rows, left=2, cls="reasons")
    )


_FRAME = re.compile(r"^(line \d+, in \S+|File .*, line \d+)")


def _first_line(text: str, limit: int = 140) -> str:
    """The line that says what went wrong: for a traceback (frames first, the exception
    last) the exception with the innermost frame, otherwise the first line."""
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    line = lines[0] if lines else ""
    if len(lines) > 1 and _FRAME.match(lines[0]):
        frames = [ln for ln in lines if _FRAME.match(ln)]
        line = f"{lines[-1]} ({frames[-1]})"
    return line[:limit] + ("…" if len(line) > limit else "")


def _recognition(d: ReportData) -> str:
    if not d.recognition:
        return '<p class="note">No recognition task in this run.</p>'
    rows = []
    for (mode, cat, lang), group in _by_group(
        d.recognition, ("mode", "category", "language")
    ).items():
        acc = 100 * sum(bool(r.get("correct")) for r in group) / len(group)
        parsed = 100 * sum(bool(r.get("parsed")) for r in group) / len(group)
        pct = [r["percentile"] for r in group if r.get("percentile") is not None]
        chance = _mean([1 / max(1, r.get("n_options") or 1) for r in group])
        rows.append(
            (mode, cat, lang, len(group), f"{acc:.1f}%", f"{100 * (chance or 0):.1f}%",
             f"{parsed:.0f}%", _fmt(_mean(pct), True))
        )  # fmt: skip
    return table(
        [
            "mode",
            "category",
            "language",
            "questions",
            "accuracy",
            "chance",
            "answer read",
            "mean rank percentile",
        ],
        rows,
        left=3,
        cls="recognition",
    ) + (
        '<p class="note">choice: the true description among same-category distractors. '
        "free: the answer is embedded (all-MiniLM-L6-v2) and the true description ranked "
        "among the category's candidates; accuracy = ranked first.</p>"
    )


def _rounds_plot(d: ReportData) -> str:
    """Fidelity by correction round as an inline SVG (None when no correction ran)."""
    corr = [r for r in d.drawings if r.get("task") == "correct"]
    if not corr:
        return '<p class="note">No self-correction rounds in this run.</p>'
    chains = {(r["concept_id"], r["language"]) for r in corr}
    round0 = [
        r for r in d.drawings
        if r.get("task") == "draw" and r.get("sample") == 0 and (r["concept_id"], r["language"]) in chains
    ]  # fmt: skip
    series: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    rates: dict[int, list[float]] = defaultdict(list)
    for r in round0 + corr:
        rates[r["round"]].append(1.0 if r["status"] == "ok" else 0.0)
        if r["key"] in d.fidelity:
            series["all"][r["round"]].append(d.fidelity[r["key"]])
            series[r["language"]][r["round"]].append(d.fidelity[r["key"]])
    rows = [
        (rd, len(rates[rd]), f"{100 * (_mean(rates[rd]) or 0):.1f}%",
         _fmt(_mean(series["all"].get(rd, [])), True))
        for rd in sorted(rates)
    ]  # fmt: skip
    svg = _line_plot(
        {name: {k: _mean(v) for k, v in s.items()} for name, s in series.items()},
        {"render rate": {k: 100 * (_mean(v) or 0) for k, v in rates.items()}},
    )
    return svg + table(["round", "drawings", "render rate", "fidelity"], rows, cls="rounds")


def _line_plot(
    fidelity: Mapping[str, Mapping[int, float | None]],
    extra: Mapping[str, Mapping[int, float]],
) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2))
    for name, pts in {**fidelity, **extra}.items():
        xs = sorted(k for k, v in pts.items() if v is not None)
        if not xs:
            continue
        style = "--" if name in extra else "-"
        width = 2.5 if name == "all" else 1.2
        ax.plot(
            xs,
            [float(pts[x] or 0.0) for x in xs],
            style,
            marker="o",
            lw=width,
            label=f"fidelity: {name}" if name not in extra else name,
        )
    ax.set_xlabel("correction round")
    ax.set_ylabel("%")
    ax.set_ylim(0, 100)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    text = buf.getvalue()
    return '<div class="plot" id="rounds-plot">' + text[text.index("<svg") :] + "</div>"


def _parametric(d: ReportData) -> str:
    par = [r for r in d.drawings if r.get("task") == "parametric"]
    if not par:
        return ""

    def div(task: str, lang: str) -> float | None:
        return _mean([v for (t, _c, lg), v in d.diversity.items() if t == task and lg == lang])

    rows = []
    for (lang,), group in _by_group(par, ("language",)).items():
        params = [r.get("n_params", 0) for r in group if r.get("sample") == 0]
        ok = sum(r["status"] == "ok" for r in group)
        rows.append(
            (lang, len(group), f"{100 * ok / len(group):.1f}%", f"{_mean(params) or 0:.1f}",
             _fmt(div("parametric", lang)), _fmt(div("draw", lang)))
        )  # fmt: skip
    return (
        '<h2 id="parametric">Parametric diversity</h2>'
        + table(
            [
                "language",
                "variants",
                "render rate",
                "parameters found",
                "diversity (parametric)",
                "diversity (repeated sampling)",
            ],
            rows,
            cls="parametric",
        )
        + '<p class="note">Parametric: one program per concept with its named numbers '
        "resampled; repeated sampling: independent samples of the draw task (needs --samples 2 "
        "or more). Both are the mean pairwise distance within a concept.</p>"
    )


def _grids(d: ReportData, limit: int) -> str:
    by_concept = _by_group(d.drawings, ("concept_id",))
    out = []
    more = ""
    for n, ((cid,), recs) in enumerate(by_concept.items()):
        if n >= limit:
            more = (
                f'<p class="note">… and {len(by_concept) - limit} more concepts (grids are '
                f"limited to {limit}; every record is in drawings.parquet).</p>"
            )
            break
        first = recs[0]
        cells = []
        order = sorted(
            recs,
            key=lambda r: (
                r["language"],
                _TASK_ORDER.get(r.get("task", "draw"), 9),
                r.get("round", 0),
                r.get("sample", 0),
            ),
        )
        for r in order:
            cells.append(_cell_html(d, r))
        out.append(
            f'<div class="concept" data-concept="{esc(cid)}"><h3>{esc(first["description"])} '
            f"<small>{esc(cid)} · {esc(first['category'])}</small></h3>"
            f'<div class="grid">{"".join(cells)}</div></div>'
        )
    return '<div class="concepts">' + "".join(out) + "</div>" + more


_TASK_ORDER = {"draw": 0, "correct": 1, "parametric": 2}


def _cell_html(d: ReportData, r: Mapping[str, Any]) -> str:
    status = r["status"]
    label = r["language"]
    if r.get("task") == "correct":
        label += f" · round {r.get('round')}"
    elif r.get("task") == "parametric":
        label += f" · param {r.get('sample')}"
    elif r.get("sample"):
        label += f" · sample {r.get('sample')}"
    png = d.artifact(r.get("image"))
    if png is not None:
        img = f'<img alt="{esc(r["description"])}" src="{thumbnail(png)}">'
    else:
        img = f'<div class="noimg">{esc(status)}</div>'
    fid = d.fidelity.get(r["key"])
    fid_txt = f" · fid {fid:.0f}%" if fid is not None else ""
    program = d.artifact(r.get("program"))
    code = (
        f"<details><summary>program</summary><pre>{esc(program.decode('utf-8', 'replace'))}</pre></details>"
        if program is not None
        else ""
    )
    reason = f' title="{esc(_first_line(r.get("reason", ""), 300))}"' if status != "ok" else ""
    return (
        f'<figure class="cell" data-status="{esc(status)}" data-key="{esc(r["key"])}">{img}'
        f'<figcaption><span class="badge b-{esc(status)}"{reason}>{esc(status)}</span> '
        f"{esc(label)}{esc(fid_txt)}{code}</figcaption></figure>"
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
    run: Any, out: str | os.PathLike[str] | None = None, *, grid_limit: int = 200
) -> Path:
    """Write the run's report (default ``RUN/report.html``) and return its path."""
    data = load_report_data(run)
    target = Path(out) if out is not None else data.path / "report.html"
    text = render_html(data, grid_limit=grid_limit)
    tmp = target.with_name(target.name + ".partial")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    return target
