"""LENS's parts one by one: answers extracted from replies, modules built through the
registry, captions composed from detections (on pictures drawn here, not by VAD), the
caption bank's similarity threshold, bootstrap intervals and the atomic metrics file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from snellen.datasets import VQA
from snellen.lens import VISION_MODULES, LensConfig, LensItem, VisionModule
from snellen.lens.answers import extract_answer, is_yes_no
from snellen.lens.build import build_modules
from snellen.lens.modules import BuildContext, ImageBatch
from snellen.lens.summary import (
    LensReport,
    MethodScore,
    bootstrap_interval,
    write_metrics,
)


@pytest.mark.parametrize(
    ("reply", "question", "answer"),
    [
        ("The circle is blue.", "What color is the circle?", "blue"),
        ("The star is light blue, not red", "What color is the star?", "light blue"),
        ("It is a red triangle.", "What shape is the red object?", "triangle"),
        ("There are three squares.", "How many squares are there?", "3"),
        ("The answer is 2. There are 2", "How many shapes are there?", "2"),
        ("No, there is no green circle.", "Is there a green circle?", "no"),
        ("Yes, there is a green hexagon.", "Is there a green hexagon?", "yes"),
        ("Blue", "What color is the circle?", "blue"),
        ("I cannot tell", "What shape is the blue object?", "I cannot tell"),
    ],
)
def test_extractor_finds_the_stated_answer(reply: str, question: str, answer: str) -> None:
    vocab = ["red", "blue", "light blue", "green", "triangle", "circle", "square", "yes", "no"]
    assert extract_answer(reply, question, vocab) == answer


def test_yes_no_questions() -> None:
    assert is_yes_no("Is there a cat?") and is_yes_no("are these red")
    assert not is_yes_no("What is there?")


class Corners(VisionModule):
    """A module the registry knows only because this test registered it."""

    name = "corners"

    @classmethod
    def build(cls, context: BuildContext) -> VisionModule | None:
        context.notes.append("corners built")
        return cls()

    def settings(self) -> dict[str, Any]:
        return {"v": 1}

    def _run(self, batch: ImageBatch) -> list[tuple[list[str], list[float]]]:
        return [([f"corner colour {im.getpixel((0, 0))}"], [1.0]) for im in batch.images]


def test_a_registered_module_is_the_one_built(tmp_path: Path) -> None:
    VISION_MODULES.register("corners", Corners, help="the top-left pixel", replace=True)
    try:
        ds = VQA("folder", "classify", tmp_path, "val", None, lambda s: [], classes=("a", "b"))
        notes: list[str] = []
        modules = build_modules(LensConfig("classify", "folder"), ["corners"], ds, None,
                                tmp_path, notes)  # fmt: skip
        assert [type(m) for m in modules] == [Corners] and notes == ["corners built"]
        texts = modules[0].run(ImageBatch(["k"], [Image.new("RGB", (4, 4), (1, 2, 3))]))
        assert texts[0].texts == ("corner colour (1, 2, 3)",)
    finally:
        VISION_MODULES._entries.pop("corners", None)  # type: ignore[attr-defined]


def _scene() -> Image.Image:
    """Two flat shapes drawn here: a red disc at the top left, a blue square at the bottom
    right, on a light yellow ground."""
    im = Image.new("RGB", (120, 120), (250, 245, 200))
    pen = ImageDraw.Draw(im)
    pen.ellipse((8, 8, 38, 38), fill=(220, 30, 30))
    pen.rectangle((80, 82, 110, 112), fill=(30, 60, 210))
    return im


def test_detections_give_colour_count_and_place() -> None:
    from snellen.lens.detect import DetectionCaptioner, colour_name
    from snellen.score import load_scorer

    assert colour_name((0, 140, 0)) == "green" and colour_name((250, 220, 40)) == "yellow"
    cap = DetectionCaptioner(load_scorer("snellen-shapes"), ["circle", "square", "triangle"])
    found = cap.detect(_scene())
    assert [(d.colour, d.place) for d in found] == [
        ("blue", "at the bottom right"),
        ("red", "at the top left"),
    ] or [(d.colour, d.place) for d in found] == [
        ("red", "at the top left"),
        ("blue", "at the bottom right"),
    ]
    assert all(d.shape in ("circle", "square", "triangle") for d in found)
    caption = cap.caption([_scene()], n=10)[0]
    assert caption.beam.startswith("2 shapes: ") and "there are 2 shapes" in caption.sampled
    assert cap.kind == "composed"
    empty = cap.caption([Image.new("RGB", (64, 64), "white")])[0]
    assert empty.beam == "an empty picture"


def test_the_caption_bank_answers_only_above_its_threshold(tmp_path: Path) -> None:
    from snellen.lens.captioners import RetrievalCaptioner

    strict = RetrievalCaptioner(bank_size=200, cache=tmp_path, min_similarity=1.01)
    got = strict.caption([_scene()], n=3)[0]
    assert got.beam == "" and got.sampled == () and got.score < 1.01
    loose = RetrievalCaptioner(bank_size=200, cache=tmp_path, min_similarity=-1.0)
    got = loose.caption([_scene()], n=3)[0]
    assert got.beam and len(got.sampled) == 3 and got.score == pytest.approx(got.score)


def test_bootstrap_interval_brackets_the_mean_and_narrows() -> None:
    small = [1.0, 0.0] * 10
    large = [1.0, 0.0] * 500
    lo, hi = bootstrap_interval(small)
    assert lo < 0.5 < hi and bootstrap_interval(small) == (lo, hi)  # seeded
    lo2, hi2 = bootstrap_interval(large)
    assert lo < lo2 < 0.5 < hi2 < hi and (hi2 - lo2) < 0.1
    assert bootstrap_interval([1.0] * 7) == (1.0, 1.0)


def _report(task: str) -> LensReport:
    score = MethodScore(0.5, 2, (0.0, 1.0))
    return LensReport(task, "d", "val", 2, {"lens": score}, {"rate": 0.0, "n": 0}, {}, {},
                      "vqa", "m", [], {}, [], {})  # fmt: skip


def test_metrics_are_written_whole_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_metrics(tmp_path, _report("vqa"))
    before = path.read_text()
    assert json.loads(before)["vqa"]["methods"]["lens"]["interval"] == [0.0, 1.0]

    def crash(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        write_metrics(tmp_path, _report("binary"))
    monkeypatch.undo()
    assert path.read_text() == before  # the old file is whole
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]  # no temporary left
    write_metrics(tmp_path, _report("binary"))
    assert set(json.loads(path.read_text())) == {"vqa", "binary"}


def test_lens_items_keep_their_question_type() -> None:
    it = LensItem("1", "a.png", "How many?", ("2",) * 10, "2", question_type="how many")
    assert it.question_type == "how many"
