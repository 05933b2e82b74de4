"""A self-contained HTML page for a LENS run: the metrics of LENS and its baselines, then
every image with the text the vision modules produced, the LLM's answer and whether it was
right."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from snellen.lens.records import LensAnswer, LensItem
from snellen.report.html import _CSS, esc, table, thumbnail

_EXTRA_CSS = """
.item{display:flex;gap:12px;border:1px solid #d0d7de;border-radius:6px;padding:8px;margin:8px 0}
.item img{width:128px;height:128px;object-fit:contain;border:1px solid #eaeef2}
.item pre{white-space:pre-wrap;font-size:.8em;margin:4px 0;max-width:70ch}
.ok{color:#1a7f37;font-weight:bold}.bad{color:#cf222e;font-weight:bold}
"""


def _metric_rows(metrics: Mapping[str, Any]) -> list[list[Any]]:
    rows = []
    for method, m in metrics["methods"].items():
        main = m.get("accuracy")
        rows.append(
            [
                method,
                100 * main if main is not None else "",
                100 * m["auc"] if "auc" in m else "",
                m.get("n", ""),
            ]
        )
    return rows


def render_lens_html(
    items: Sequence[LensItem], texts: Mapping[str, Mapping[str, Sequence[str]]],
    answers: Mapping[str, Sequence[LensAnswer]], metrics: Mapping[str, Any], *, limit: int = 300,
) -> str:  # fmt: skip
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>LENS {esc(metrics['task'])} on {esc(metrics['dataset'])}</title>",
        f"<style>{_CSS}{_EXTRA_CSS}</style></head><body>",
        f"<h1>LENS: {esc(metrics['task'])} on {esc(metrics['dataset'])}</h1>",
        f"<p class='sub'>{metrics['n']} items, split {esc(metrics['split'])}, mode {esc(metrics['mode'])}, "
        f"vision {esc(metrics['settings']['vision'])}, captioner {esc(metrics['settings']['captioner'])}, "
        f"LLM {esc(metrics['settings']['model'])}, {metrics['settings']['shots']} shots</p>",
        "<h2>Metrics</h2>",
        table(["method", "accuracy %", "AUC %", "n"], _metric_rows(metrics)),
    ]
    for note in metrics.get("labels", []):
        parts.append(f"<p class='warn'>{esc(note)}</p>")
    t = metrics["timing"]
    parts.append(
        f"<p class='note'>vision modules {t['vision_s']:.1f} s for {t['vision_images']} images; "
        f"reasoner {t['reasoner_s']:.1f} s for {t['reasoner_calls']} new calls</p>"
    )
    parts.append("<h2>Items</h2>")
    by_item = {m: {a.item: a for a in ans} for m, ans in answers.items()}
    for it in items[:limit]:
        lens = by_item.get("lens", {}).get(it.id)
        key = f"{Path(it.image).parent.name}/{Path(it.image).name}"
        try:
            src = thumbnail(Path(it.image).read_bytes())
            img = f"<img alt='{esc(it.id)}' src='{src}'>"
        except OSError:
            img = "<div class='noimg'>no image</div>"
        module_text = "\n".join(f"{m}: {', '.join(v)}" for m, v in texts.get(key, {}).items())
        verdict = ""
        if lens is not None:
            cls = "ok" if lens.score >= 0.5 else "bad"
            verdict = f"<span class='{cls}'>{'right' if lens.score >= 0.5 else 'wrong'} ({lens.score:.2f})</span>"
        others = ", ".join(
            f"{m}: {esc(by_item[m][it.id].prediction)}"
            for m in by_item
            if m != "lens" and it.id in by_item[m]
        )
        parts.append(
            "<div class='item'>" + img + "<div>"
            f"<b>{esc(it.question or it.text or it.id)}</b> &nbsp; truth: <b>{esc(it.label)}</b><br>"
            f"LENS: <b>{esc(lens.prediction if lens else '')}</b> {verdict}"
            f" <span class='note'>(reply: {esc((lens.reply if lens else '')[:80])})</span><br>"
            f"<span class='note'>{others}</span>"
            f"<pre>{html.escape(module_text)}</pre></div></div>"
        )
    if len(items) > limit:
        parts.append(f"<p class='note'>{len(items) - limit} more items not shown</p>")
    parts.append("</body></html>")
    return "".join(parts)


def write_lens_report(
    out: str | Path, items: Sequence[LensItem], texts: Mapping[str, Mapping[str, Sequence[str]]],
    answers: Mapping[str, Sequence[LensAnswer]], metrics: Mapping[str, Any],
) -> Path:  # fmt: skip
    path = Path(out) / "report.html"
    path.write_text(render_lens_html(items, texts, answers, metrics), encoding="utf-8")
    return path
