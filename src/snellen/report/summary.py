"""A few plain-text lines summarising a run, for the terminal at the end of a check-up:
formatted from the metric summary, not recomputed. Means carry their 95% bootstrap
intervals in brackets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from snellen.records.scores import MetricsSummary
from snellen.store import Run


def summary_rows(run: Run | str | Path | MetricsSummary) -> list[str]:
    if isinstance(run, MetricsSummary):
        m = run
    else:
        from snellen.report.data import load_report_data

        m = load_report_data(run).metrics
    fid = m.fidelity
    lines = []
    split = m.render.by.get("task", "constraint", "language")
    for row in split or m.render.by.get("task", "language"):
        label = row["language"]
        if split and row["constraint"] != "none":
            label = f"{label}+{row['constraint']}"
        text = f"{row['task']:<10} {label:<11} {row['rendered']}/{row['drawings']} rendered"
        if row.get("rate_lo") is not None:
            text += f" [{100 * row['rate_lo']:.0f}-{100 * row['rate_hi']:.0f}%]"
        if row.get("fidelity") is not None:
            text += f", fidelity {_interval(row, 'fidelity')}%"
        lines.append(text)
    h = m.headline
    if h.get("fidelity") is not None:
        text = f"fidelity   overall     {_interval(h, 'fidelity')}%"
        if h.get("flagged") is not None:
            text += (f"; text-free {_interval(h, 'fidelity_text_free')}% "
                     f"({h['flagged']} drawing(s) write their concept)")  # fmt: skip
        lines.append(text)
    if h.get("judge_accuracy") is not None:
        lines.append(f"judge      {(m.judge.judge if m.judge else ''):<11} "
                     f"{_interval(h, 'judge_accuracy', 100)}% correct")  # fmt: skip
    if fid is not None and fid.not_meaningful:
        lines.append(f"fidelity for {', '.join(fid.not_meaningful)}: not meaningful with "
                     f"{(m.scorer or {}).get('name', 'this scorer')}")  # fmt: skip
    if m.recognition is not None:
        for row in m.recognition.by.get("mode"):
            lines.append(
                f"recognize  {row['mode']:<11} {_interval(row, 'accuracy', 100)}% correct of "
                f"{row['questions']}"
            )
    return lines


def _interval(row: dict[str, Any], name: str, scale: float = 1.0) -> str:
    """``"71.2 [68.0, 74.5]"``: the value and its 95% bootstrap interval when there is one."""
    value, lo, hi = row.get(name), row.get(f"{name}_lo"), row.get(f"{name}_hi")
    if value is None:
        return "–"
    if lo is None or hi is None:
        return f"{scale * value:.1f}"
    return f"{scale * value:.1f} [{scale * lo:.1f}, {scale * hi:.1f}]"
