"""The scoring step writes every aggregate the report shows, as one typed summary: what it
does with a fidelity that cannot be defined (fewer than 2 candidates) and with a scorer that
cannot judge a category (the offline shapes scorer on objects)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from snellen.concepts import load_concepts
from snellen.imaging import to_png
from snellen.metrics import score_run
from snellen.records.checkup import Drawing, Recognition, Status
from snellen.records.scores import UNDEFINED_FIDELITY, FidelityScore, MetricsSummary
from snellen.report import write_report
from snellen.report.summary import summary_rows
from snellen.store import Run


def _picture(colour: str) -> bytes:
    im = Image.new("RGB", (96, 96), "white")
    ImageDraw.Draw(im).ellipse((20, 20, 76, 76), fill=colour)
    return to_png(im)


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, MetricsSummary]:
    """Two VAD shapes and one object (alone in its category), each drawn twice in svg; one
    drawing failed; two recognition answers."""
    run = Run.open(tmp_path_factory.mktemp("m") / "run", command="checkup", config={})
    shapes = load_concepts("shapes-2", seed=3)
    records = []
    for c in [*shapes, *load_concepts("objects-1", seed=0)]:
        for sample in (0, 1):
            failed = c is shapes[1] and sample == 1
            records.append(
                Drawing(
                    key=f"draw/{c.id}/svg/s{sample}/r0", task="draw", concept_id=c.id,
                    category=c.category, description=c.description, language="svg",
                    model="m", sample=sample, round=0,
                    status=Status.COMPILE_ERROR if failed else Status.OK,
                    reason="line 3: unclosed tag\nmore" if failed else "",
                    image=None if failed else run.artifacts.put(
                        _picture(("red", "blue")[sample]), ".png"),
                )
            )  # fmt: skip
    run.put_records(records)
    run.put_records(
        Recognition(
            f"recognize/{m}/x/svg",
            "x",
            "shapes",
            "d",
            "svg",
            m,
            "reference",
            "m",
            "B",
            correct=m == "choice",
            parsed=True,
            n_options=n,
        )  # fmt: skip
        for m, n in (("choice", 4), ("free", 50))
    )
    return run, score_run(run, diversity=False)


def test_the_summary_holds_every_aggregate_and_round_trips(scored) -> None:
    run, summary = scored
    assert (summary.drawings, summary.rendered) == (6, 5)
    rates = {
        (r["task"], r["language"]): r["rate"] for r in summary.render.by.get("task", "language")
    }
    assert rates == {("draw", "svg"): pytest.approx(5 / 6)}
    assert summary.render.reasons == [{"status": "compile_error", "reason": "line 3: unclosed tag",
                                       "count": 1}]  # fmt: skip
    assert summary.recognition is not None
    acc = summary.recognition.by.lookup(("mode", "n_options"), "accuracy")
    assert acc == {("choice", 4): 1.0, ("free", 50): 0.0}
    assert summary.headline["render_rate"] == pytest.approx(5 / 6)
    assert summary.headline["recognition_choice"] == 1.0
    # metrics.json is the summary, and loads back into the same record
    on_disk = json.loads((run.path / "metrics.json").read_text())
    assert on_disk == json.loads(json.dumps(summary.to_json()))
    again = MetricsSummary.from_row(on_disk)
    assert again.fidelity == summary.fidelity and again.render == summary.render
    assert again.recognition == summary.recognition


def test_fidelity_over_fewer_than_two_candidates_is_undefined_not_50(scored) -> None:
    run, summary = scored
    scores = {s.drawing: s for s in run.load_records(FidelityScore)}
    objects = [s for s in scores.values() if s.category == "objects"]
    assert len(objects) == 2
    for s in objects:
        assert s.percentile is None and s.candidates == 1 and s.undefined == UNDEFINED_FIDELITY
    shapes = [s for s in scores.values() if s.category == "shapes"]
    assert len(shapes) == 3 and all(s.percentile in (0.0, 50.0, 100.0) for s in shapes)
    fid = summary.fidelity
    assert fid is not None
    assert fid.undefined == [{"category": "objects", "drawings": 2, "candidates": 1}]
    assert fid.undefined_reason == UNDEFINED_FIDELITY
    by_category = {r["category"]: r for r in fid.by.get("category")}
    assert "objects" not in by_category  # nothing defined to average
    assert by_category["shapes"]["count"] == 3
    assert any("undefined" in note for note in summary.labels)


def test_an_offline_shapes_scorer_on_objects_is_not_meaningful(scored, tmp_path: Path) -> None:
    run, summary = scored
    fid = summary.fidelity
    assert fid is not None and fid.not_meaningful == ["objects"]
    assert "not meaningful" in str(fid.not_meaningful_reason)
    assert not fid.meaningful("objects") and fid.meaningful("shapes")
    # the headline mean leaves the category out
    assert summary.headline["fidelity_scored"] == 3
    report = write_report(run, tmp_path / "r.html").read_text()
    assert "Fidelity not meaningful" in report
    assert "Fidelity undefined" in report
    assert "objects: 2 drawing(s), 1 candidate(s)" in report
    lines = summary_rows(summary)
    assert any("not meaningful" in line for line in lines)
