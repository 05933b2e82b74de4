"""``snellen reproduce lens`` end to end at the quick preset, made small: the held-out
flat-shapes set in the VQAv2 layout, both LENS runs, the finding's rows, figures and
verdict, and a rerun that asks the reasoner nothing new. The reasoner is a two-layer Llama
with random weights (built from its config and saved), so the numbers mean nothing; the
machinery is what is checked."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from lens_helpers import save_tiny_llama
from snellen.datasets.vqa import load_vqa
from snellen.reproduce import VERDICTS, run_reproduce
from snellen.reproduce.flat_shapes import COLORS, SHAPES, build_flat_shapes_vqa, question_for
from snellen.reproduce.lens import decide


def test_flat_shapes_set_is_in_the_vqav2_layout_with_exact_answers(tmp_path: Path) -> None:
    root = build_flat_shapes_vqa(tmp_path / "d", n_val=8, n_train=4)
    items = load_vqa(root, "val")
    assert len(items) == 8 and len(load_vqa(root, "train")) == 4
    assert {it.question_type for it in items} == {
        "what color is the",
        "what shape is the",
        "how many",
        "is there a",
    }
    for it in items:
        assert len(it.answers) == 10 and set(it.answers) == {it.label}
        assert Path(it.image).name.startswith("COCO_val2014_")
    # the answers are what the scene holds
    rng = random.Random(0)
    from snellen.reproduce.flat_shapes import Flat

    scene = [Flat("star", "red", 0.3, 0.3, 0.1), Flat("circle", "blue", 0.7, 0.7, 0.1)]
    assert question_for("what color is the", scene, rng)[1] in ("red", "blue")  # type: ignore[index]
    assert question_for("how many", [scene[0]], rng)[1] == "1"  # type: ignore[index]
    assert set(COLORS) >= {"red", "blue"} and "star" in SHAPES


def test_verdict_follows_the_intervals() -> None:
    up = ((0.2, 0.1, 0.3), {"a": (0.2, 0.1, 0.3)})
    flat = ((0.0, -0.1, 0.1), {"a": (0.0, -0.1, 0.1)})
    down = ((-0.2, -0.3, -0.1), {"a": (-0.2, -0.3, -0.1)})
    mixed = ((0.2, 0.1, 0.3), {"a": (0.2, 0.1, 0.3), "b": (0.1, -0.1, 0.3)})
    assert decide({"x - blind": up, "x - majority": up, "strong - weak": up})[0] == "holds"
    assert (
        decide({"x - blind": up, "x - majority": mixed, "strong - weak": up})[0] == "holds in kind"
    )
    assert (
        decide({"x - blind": up, "x - majority": up, "strong - weak": flat})[0] == "holds in kind"
    )
    assert decide({"x - blind": flat, "x - majority": up, "strong - weak": up})[0] == (
        "undecided at this preset"
    )
    assert (
        decide({"x - blind": down, "x - majority": up, "strong - weak": up})[0] == "does not hold"
    )


@pytest.mark.slow
def test_quick_preset_runs_and_resumes(tmp_path: Path) -> None:
    llm = save_tiny_llama(tmp_path / "llm")
    out = tmp_path / "lens"
    options = dict(n=6, models=(f"hf:{llm}",), extra={"train": "8"}, progress=False)
    finding = run_reproduce("lens", out=out, preset="quick", **options)  # type: ignore[arg-type]
    assert finding.verdict in VERDICTS and finding.reason
    methods = {r["method"] for r in finding.rows if r["setting"] == "strong vision"}
    assert {
        "lens",
        "lens-extracted",
        "lens-closed",
        "blind-closed",
        "vision",
        "majority",
    } <= methods
    assert {r["method"] for r in finding.rows if r["setting"] == "difference"} == {
        "lens-closed - blind-closed",
        "lens-closed - majority",
        "strong - weak vision",
    }
    for fig in finding.figures:
        assert (out / fig.path).stat().st_size > 1000
    assert json.loads((out / "findings.json").read_text())["verdict"] == finding.verdict
    metrics = json.loads((out / "strong" / "metrics.json").read_text())["vqa"]
    assert metrics["n"] == 6 and "interval" in metrics["methods"]["lens-closed"]

    again = run_reproduce("lens", out=out, preset="quick", **options)  # type: ignore[arg-type]
    metrics = json.loads((out / "strong" / "metrics.json").read_text())["vqa"]
    assert metrics["timing"]["reasoner_calls"] == 0 and metrics["timing"]["closed_items"] == 0
    assert again.rows == finding.rows
