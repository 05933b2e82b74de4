"""Many runs, one table: ``snellen eval table DIR`` (Markdown, CSV, Parquet, or a
self-contained HTML page in the report's style)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from snellen.errors import InputError
from snellen.evaluate.records import EvalResult
from snellen.evaluate.run import load_results


def headline_chance(r: EvalResult) -> float | None:
    """Chance for the run's headline metric: its own ``METRIC_chance`` when the task states
    one (Winoground's text and image scores differ from its group score), else the run's
    ``chance``, else one over the classes of a zero-shot run."""
    name, _ = r.main_metric()
    for key in (f"{name}_chance", "chance"):
        if r.metrics.get(key) is not None:
            return r.metrics[key]
    if name == "acc1" and r.counts.get("classes"):
        return 1 / r.counts["classes"]
    return None


def results_table(path: str | Path) -> Any:
    """A pandas DataFrame, one row per run, any mix of tasks: task, dataset, model, the
    headline metric with its chance and its 95% interval where the run has one, every
    metric as a column, counts, seeds, seconds, and the published value when the run is
    comparable with it, else why it is not."""
    import pandas as pd

    rows = []
    for r in load_results(path):
        name, value = r.main_metric()
        because = r.why_not_comparable()
        ci = r.breakdown.get("ci95", {})
        row: dict[str, Any] = {
            "task": r.task,
            "dataset": r.dataset,
            "model": r.model,
            "seed": r.seed,
            "metric": name,
            "value": value,
            "chance": headline_chance(r),
            "ci95_low": ci.get(f"{name}_low"),
            "ci95_high": ci.get(f"{name}_high"),
            "published": r.published[0].value if r.published and not because else None,
            "comparable": not because,
            "not_comparable_because": "; ".join(because),
            "n": r.counts.get("cases", r.counts.get("images")),
            "skipped": r.counts.get("skipped", 0),
            "seeds": len(r.seeds) or 1,
            "seconds": r.seconds,
        }
        row.update({f"m:{k}": v for k, v in r.metrics.items()})
        rows.append(row)
    df = pd.DataFrame(rows).sort_values(["task", "dataset", "model"]).reset_index(drop=True)
    df.attrs["source"] = str(path)
    return df


def to_markdown(df: Any) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in df.iterrows():
        cells = []
        for v in row.tolist():
            if isinstance(v, float):
                cells.append("" if v != v else f"{v:.4f}")
            else:
                cells.append("" if v is None else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_table(df: Any, out: str | Path) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".csv":
        df.to_csv(out, index=False)
    elif out.suffix == ".parquet":
        df.to_parquet(out, index=False)
    elif out.suffix in (".md", ".markdown"):
        out.write_text(to_markdown(df), encoding="utf-8")
    elif out.suffix in (".html", ".htm"):
        out.write_text(to_html(df, load_results(df.attrs["source"])), encoding="utf-8")
    else:
        raise InputError(f"{out}: write the table as .md, .csv, .parquet or .html")
    return out


def to_html(df: Any, results: list[Any]) -> str:
    """The report's page of these runs (:func:`snellen.report.render_eval_page`)."""
    from snellen.report.evaluation import render_eval_page

    return render_eval_page(results, str(df.attrs.get("source", "")))
