"""A few plain-text lines summarising a run, for the terminal at the end of a check-up:
formatted from the metric summary, not recomputed."""

from __future__ import annotations

from pathlib import Path

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
        if row.get("fidelity") is not None:
            text += f", fidelity {row['fidelity']:.1f}%"
        lines.append(text)
    if fid is not None and fid.not_meaningful:
        lines.append(f"fidelity for {', '.join(fid.not_meaningful)}: not meaningful with "
                     f"{(m.scorer or {}).get('name', 'this scorer')}")  # fmt: skip
    if m.recognition is not None:
        for row in m.recognition.by.get("mode"):
            lines.append(
                f"recognize  {row['mode']:<11} {100 * row['accuracy']:.1f}% correct of "
                f"{row['questions']}"
            )
    return lines
