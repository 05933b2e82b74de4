"""The demo: what ``make demo`` runs on embedded defaults, offline.

The bundled 135M model draws a few VAD shapes and a few of the objects that recorded GPT-4
and GPT-3.5 transcripts also drew, once free and once grammar-constrained (its reply must
be a program of the asked language); the recordings are rendered and scored the same way
as reference rows. Every row is a check-up run of its own in ``OUT/<name>/`` with its full
report, and ``OUT/report.html`` sets them side by side.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from snellen.checkup.pipeline import CheckupResult, run_checkup
from snellen.report.compare import CompareRow, write_comparison

log = logging.getLogger(__name__)

__all__ = ["DEMO_ROWS", "DemoResult", "DemoRow", "run_demo"]


@dataclass(frozen=True)
class DemoRow:
    """One run of the demo: a label, the model, what it draws, and how."""

    name: str
    label: str
    model: str
    concepts: str
    languages: str
    kind: str = "live"
    constrain: str = "none"
    note: str = ""


SHAPES = "shapes-4"
OBJECTS = "recorded-objects-4"  # the same objects in every row that has a recording of them

DEMO_ROWS: tuple[DemoRow, ...] = (
    DemoRow(
        "smollm2", "SmolLM2-135M, live", "smollm2", f"{SHAPES},{OBJECTS}", "svg,processing",
        note="the bundled model, answering now on this machine",
    ),
    DemoRow(
        "smollm2-grammar", "SmolLM2-135M, live, grammar-constrained", "smollm2",
        f"{SHAPES},{OBJECTS}", "svg,processing", constrain="grammar",
        note="the same model, its replies kept inside a grammar of the asked language: it "
        "separates knowing how things look from writing the language",
    ),
    DemoRow(
        "gpt4", "GPT-4 (gpt-4-0314), recording", "replay:gpt4", OBJECTS, "processing",
        kind="recording",
        note="recorded replies shipped with snellen (MIT; see snellen/data), rendered and "
        "scored here like the live rows",
    ),
    DemoRow(
        "gpt3.5", "GPT-3.5 (gpt-3.5-turbo-0301), recording", "replay:gpt3.5", OBJECTS,
        "processing", kind="recording",
        note="recorded replies shipped with snellen, rendered and scored here",
    ),
)  # fmt: skip

INTRO = (
    "Offline, on embedded defaults. The live rows are the bundled SmolLM2-135M, a weak model: "
    "it rarely writes a program that runs. The recording rows replay real GPT-4 and GPT-3.5 "
    "drawing programs on the same objects. Fidelity is scored by snellen-shapes, a small "
    "CLIP trained on VAD shapes: its scores mean something for shapes only, so object "
    "fidelity is marked as not meaningful offline (name a real CLIP with --scorer to score "
    "objects)."
)


@dataclass
class DemoResult:
    out: Path
    report: Path
    runs: dict[str, CheckupResult] = field(default_factory=dict)


def run_demo(
    out: str | Path = "runs/demo",
    *,
    rows: tuple[DemoRow, ...] = DEMO_ROWS,
    seed: int = 0,
    workers: int | None = None,
    progress: bool = True,
) -> DemoResult:
    """Run every demo row into ``out/<name>`` (each resumable) and write ``out/report.html``."""
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    result = DemoResult(root, root / "report.html")
    for row in rows:
        log.info("demo: %s", row.label)
        result.runs[row.name] = run_checkup(
            root / row.name, model=row.model, concepts=row.concepts, languages=row.languages,
            seed=seed, workers=workers, progress=progress, constrain=row.constrain,
        )  # fmt: skip
    write_comparison(
        [CompareRow(r.label, root / r.name, r.kind, r.note) for r in rows],
        result.report,
        title="snellen demo: a vision check-up, offline",
        intro=INTRO,
    )
    return result
