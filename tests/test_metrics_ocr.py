"""The text-gaming check: Tesseract reads real renders (programs rendered by snellen's own
confined renderers), the documented ``names_concept`` rule flags a drawing that writes its
concept's words and passes one that draws it; and a replayed check-up in which half the
replies write the concept's words instead of drawing it has those flagged and the honest
reference drawings not."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from snellen.metrics.ocr import key_words, names_concept, read_text

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract-ocr")

DATA = Path(__file__).parent / "data"

APPLE_WORD_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400">
<rect width="400" height="400" fill="white"/>
<text x="200" y="215" font-family="DejaVu Sans" font-size="56" text-anchor="middle"
 fill="#c00000">APPLE</text></svg>"""
APPLE_DRAWN_MPL = """import matplotlib.pyplot as plt
from matplotlib.patches import Circle, Ellipse, Rectangle
fig, ax = plt.subplots(figsize=(4, 4))
ax.set_xlim(0, 10); ax.set_ylim(0, 10); ax.set_aspect('equal'); ax.axis('off')
ax.add_patch(Circle((5, 4.5), 3, color='#c00000'))
ax.add_patch(Rectangle((4.85, 7.2), 0.3, 1.4, color='#5a3a1a'))
ax.add_patch(Ellipse((6, 8.2), 1.8, 0.8, angle=30, color='#2ca02c'))
plt.show()
"""
APPLE_WORD_MPL = """import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(4, 4))
ax.axis('off')
ax.text(0.5, 0.5, 'an apple', fontsize=30, ha='center', va='center')
plt.show()
"""
APPLE_DRAWN_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400">
<rect width="400" height="400" fill="white"/>
<circle cx="200" cy="220" r="120" fill="#c00000"/>
<rect x="194" y="70" width="12" height="50" fill="#5a3a1a"/>
<ellipse cx="240" cy="90" rx="35" ry="15" fill="#2ca02c"/></svg>"""


def test_key_words_follow_the_documented_rule() -> None:
    # a shape: its first colour word and the head word of its first shape noun
    assert key_words("a square pyramid painted light red, with shaded faces", "shapes") == (
        "red",
        "pyramid",
    )
    assert key_words("a purple ball against a pale pink background", "shapes") == ("purple", "ball")
    assert key_words("six plus signs in a grid, alternating purple and yellow", "shapes") == (
        "purple",
        "sign",
    )
    assert key_words("a point marked with a small plus sign", "shapes") == ("point",)
    # an object: its content words
    assert key_words("a teddy bear", "objects") == ("teddy", "bear")
    # every key word must be read; plural, case, a misread letter and joined words pass
    assert names_concept("RED\nPYRAMIDS", ("red", "pyramid"))
    assert names_concept("Teddy Bcar", ("teddy", "bear")) is False  # "bear": 3 of 4 letters
    assert names_concept("Teddybear", ("teddy", "bear"))
    assert names_concept("apqle", ("apple",))
    assert not names_concept("red", ("red", "pyramid"))
    assert not names_concept("", ())


def test_real_renders_of_a_word_are_flagged_and_real_drawings_are_not(tmp_path: Path) -> None:
    from snellen.render import RenderJob, render_many

    jobs = [
        RenderJob("word-svg", "svg", APPLE_WORD_SVG, size=256),
        RenderJob("drawn-mpl", "matplotlib", APPLE_DRAWN_MPL, size=256),
        RenderJob("word-mpl", "matplotlib", APPLE_WORD_MPL, size=256),
        RenderJob("drawn-svg", "svg", APPLE_DRAWN_SVG, size=256),
    ]
    paths = {}
    for result in render_many(jobs, workers=2):
        assert result.status.value == "ok", result.reason
        paths[result.id] = tmp_path / f"{result.id}.png"
        paths[result.id].write_bytes(result.square_png or result.png)
    order = ["word-svg", "drawn-mpl", "word-mpl", "drawn-svg"]
    texts = dict(zip(order, read_text([paths[k] for k in order]), strict=True))  # one process
    keys = key_words("apple", "objects")
    assert {k: names_concept(t, keys) for k, t in texts.items()} == {
        "word-svg": True, "drawn-mpl": False, "word-mpl": True, "drawn-svg": False,
    }  # fmt: skip
    assert texts["drawn-mpl"].strip() == "" and texts["drawn-svg"].strip() == ""


@pytest.mark.slow
def test_a_replayed_run_that_writes_words_is_flagged(tmp_path: Path) -> None:
    """Done-when: half the replies write the concept's words (tests/data/gaming-replay.jsonl,
    written by scripts/make_gaming_replay.py on shapes of seed 2718, which no other test
    draws); >= 90% of them are flagged and <= 10% of the honest reference drawings."""
    from snellen.checkup import run_checkup
    from snellen.records.checkup import Drawing
    from snellen.store import Run

    replay = DATA / "gaming-replay.jsonl"
    gaming = {
        (r["concept"], r["sample_index"], "svg" if "SVG" in r["prompt"] else "matplotlib"): r
        for r in map(json.loads, replay.read_text().splitlines())
    }
    result = run_checkup(
        tmp_path / "run", model=f"replay:{replay}", concepts="shapes-12", seed=2718,
        languages="svg,matplotlib", samples=2, report=False, progress=False, workers=2,
    )  # fmt: skip
    drawings = list(Run(result.run).load_records(Drawing))
    assert len(drawings) == 48 and all(d.ok for d in drawings)
    text = [d for d in drawings if gaming[(d.concept_id, d.sample, d.language)]["gaming"]]
    honest = [d for d in drawings if not gaming[(d.concept_id, d.sample, d.language)]["gaming"]]
    assert len(text) == len(honest) == 24
    flagged_text = sum(bool(d.names_concept) for d in text) / len(text)
    flagged_honest = sum(bool(d.names_concept) for d in honest) / len(honest)
    assert flagged_text >= 0.9, [(d.description, d.ocr_text) for d in text if not d.names_concept]
    assert flagged_honest <= 0.1, [(d.description, d.ocr_text) for d in honest if d.names_concept]

    metrics = json.loads((result.run / "metrics.json").read_text())
    fidelity = metrics["fidelity"]
    flagged = sum(bool(d.names_concept) for d in drawings)
    assert fidelity["ocr_read"] == 48 and fidelity["flagged"] == flagged
    assert fidelity["text_free"]["count"] == 48 - flagged
    assert (
        fidelity["overall"]["mean_lo"]
        <= fidelity["overall"]["mean"]
        <= fidelity["overall"]["mean_hi"]
    )
    assert metrics["headline"]["flagged"] == flagged
    # program metrics per drawing and per category and language, beside fidelity
    programs = metrics["programs"]["by"]["category,language"]
    assert {r["language"] for r in programs} == {"svg", "matplotlib"}
    for r in programs:
        assert r["drawings"] == 24 and r["characters"] > 100 and r["calls"] >= 1
        assert r["characters_lo"] <= r["characters"] <= r["characters_hi"]
        assert r["colours"] >= 2 and r["render_seconds"] > 0 and r["fidelity"] is not None
    # the drawings table carries the reading
    import pandas as pd

    table = pd.read_parquet(result.run / "drawings.parquet")
    assert {"ocr_text", "names_concept"} <= set(table.columns)


def test_scoring_without_tesseract_skips_the_check_and_says_so(tmp_path, monkeypatch) -> None:
    from score_helpers import make_scored_run
    from snellen.metrics import score_run

    run = make_scored_run(tmp_path / "run", n_concepts=2)
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH where no tesseract is found
    metrics = score_run(run, diversity=False, similarity=None)
    assert metrics.fidelity is not None and metrics.fidelity.ocr_read is None
    assert any("Tesseract is not installed" in note for note in metrics.labels)
    assert "flagged" not in metrics.headline


TSV = "\t".join(["level", "page_num", "block_num", "par_num", "line_num", "word_num", "left",
                 "top", "width", "height", "conf", "text"]) + "\n" + "\n".join(
    "\t".join(row) for row in [
        ["1", "1", "0", "0", "0", "0", "0", "0", "9", "9", "-1", ""],  # page row: no word
        ["5", "1", "1", "1", "1", "1", "0", "0", "9", "9", "96.5", "HELLO"],
        ["5", "1", "1", "1", "1", "2", "0", "0", "9", "9", "20", "Co)"],  # under the floor
        ["5", "1", "1", "1", "2", "1", "0", "0", "9", "9", "88", " WORLD "],
        ["5", "2", "1", "1", "1", "1", "0", "0", "9", "9", "91", "apple"],
        ["5", "2", "1", "1", "1", "2", "0", "0", "9", "9", "95", "  "],  # no text
        ["5", "x", "1", "1", "1", "2", "0", "0", "9", "9", "95", "bad"],  # unreadable page
    ]
)  # fmt: skip


def test_one_tsv_reader_serves_the_check_and_the_lens_module() -> None:
    from PIL import Image, ImageDraw, ImageFont

    from snellen.lens.ocr import read_text as lens_read_text
    from snellen.metrics.ocr import OcrWord, tsv_words

    assert list(tsv_words(TSV, 50.0)) == [
        OcrWord(0, ("1", "1", "1"), "HELLO", 96.5),
        OcrWord(0, ("1", "1", "2"), "WORLD", 88.0),
        OcrWord(1, ("1", "1", "1"), "apple", 91.0),
    ]
    assert [w.text for w in tsv_words(TSV, 10.0)] == ["HELLO", "Co)", "WORLD", "apple"]
    image = Image.new("RGB", (320, 120), "white")
    ImageDraw.Draw(image).text((10, 30), "HELLO WORLD", fill="black",
                               font=ImageFont.truetype("DejaVuSans.ttf", 32))  # fmt: skip
    words, confidences = lens_read_text(image)
    assert words == ["HELLO", "WORLD"] and all(0.5 < c <= 1.0 for c in confidences)
