"""A few plain-text lines summarising a run, for the terminal at the end of a check-up."""

from __future__ import annotations

from collections import defaultdict

from snellen.report.data import ReportData


def summary_rows(d: ReportData) -> list[str]:
    lines = []
    groups: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for r in d.drawings:
        groups[(r.get("task", "draw"), r["language"], r.get("constraint") or "none")].append(r)
    for (task, lang, constraint), recs in sorted(groups.items()):
        ok = sum(r["status"] == "ok" for r in recs)
        fid = [d.fidelity[r["key"]] for r in recs if r["key"] in d.fidelity]
        fid_txt = f", fidelity {sum(fid) / len(fid):.1f}%" if fid else ""
        label = lang if constraint == "none" else f"{lang}+{constraint}"
        lines.append(f"{task:<10} {label:<11} {ok}/{len(recs)} rendered{fid_txt}")
    rec: dict[str, list[dict]] = defaultdict(list)
    for r in d.recognition:
        rec[r["mode"]].append(r)
    for mode, recs in sorted(rec.items()):
        acc = sum(bool(r.get("correct")) for r in recs) / len(recs)
        lines.append(f"recognize  {mode:<11} {100 * acc:.1f}% correct of {len(recs)}")
    return lines
