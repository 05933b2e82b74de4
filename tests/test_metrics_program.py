"""Program metrics: drawing calls counted by each language's own parsing on real programs
(VAD reference programs in every language, and small hand-written ones with known counts),
distinct colours in rendered images, and the similarity of drawings to their concept's
reference rendering."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from score_helpers import make_scored_run
from snellen.concepts import load_concepts
from snellen.metrics.program import distinct_colours, drawing_calls, measure


def test_drawing_calls_per_language_on_known_programs() -> None:
    processing = "size(400, 400);\n// line(0, 0, 1, 1);\nellipse(1, 2, 3, 4);\nrect(0,0,1,1);\n"
    assert drawing_calls(processing, "processing") == 2  # the commented call is not one
    svg = ('<svg xmlns="http://www.w3.org/2000/svg"><rect width="4" height="4"/><g>'
           '<circle r="1"/><path d="M0 0L1 1"/></g></svg>')  # fmt: skip
    assert drawing_calls(svg, "svg") == 3
    mpl = ("import matplotlib.pyplot as plt\nfrom matplotlib.patches import Circle\n"
           "fig, ax = plt.subplots()\nax.add_patch(Circle((0, 0), 1))\nplt.plot([0, 1])\n")  # fmt: skip
    assert drawing_calls(mpl, "matplotlib") == 2
    turtle = "import turtle\nt = turtle.Turtle()\nfor _ in range(4):\n    t.forward(10)\n    t.left(90)\n"
    assert drawing_calls(turtle, "turtle") == 1  # one call in the program text
    tikz = r"\begin{tikzpicture}\draw (0,0) -- (1,1);\fill[red] (0,0) circle (1);\end{tikzpicture}"
    assert drawing_calls(tikz, "tikz") == 2
    assert drawing_calls("<svg", "svg") == 0 and drawing_calls("def (:", "matplotlib") == 0


def test_reference_programs_make_drawing_calls_in_every_language() -> None:
    concept = load_concepts("shapes", 1, seed=31)[0]
    for language, code in concept.programs.items():
        m = measure(code, language, None, 0.5)
        assert m.calls >= 1, (language, code[:300])
        assert m.characters == len(code) and m.lines >= 1 and m.colours is None


def test_distinct_colours_ignore_antialiasing() -> None:
    im = Image.new("RGB", (200, 200), "white")
    draw = ImageDraw.Draw(im)
    draw.ellipse((20, 20, 180, 180), fill=(200, 0, 0))
    for i in range(30):  # a few stray edge pixels of many shades
        im.putpixel((i, 0), (i * 8, 100, 100))
    assert distinct_colours(im) == 2


def test_similarity_to_the_reference_rendering(tmp_path: Path) -> None:
    """The sample-0 drawings are the reference programs themselves (similarity 1), the
    sample-1 drawings draw another shape (less similar)."""
    import torch
    from transformers import BitImageProcessor, Dinov2Config, Dinov2Model

    from snellen.metrics.similarity import reference_similarity
    from snellen.records.checkup import Drawing, Reference
    from snellen.store import Run

    run_dir = make_scored_run(tmp_path / "run", n_concepts=3)
    run = Run(run_dir)
    drawings = list(run.load_records(Drawing))
    refs = {d.concept_id: d for d in drawings if d.sample == 0 and d.language == "svg"}
    run.put_records(Reference(c, "svg", d.status, d.image) for c, d in refs.items())

    torch.manual_seed(0)
    Dinov2Model(Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                             intermediate_size=64, image_size=64, patch_size=8)).save_pretrained(
        tmp_path / "dino")  # fmt: skip
    BitImageProcessor(size={"shortest_edge": 64}, crop_size={"height": 64, "width": 64}
                      ).save_pretrained(tmp_path / "dino")  # fmt: skip
    summary, values = reference_similarity(run, drawings, f"dinov2:{tmp_path / 'dino'}",
                                           device="cpu")  # fmt: skip
    assert summary is not None and summary.standard is False and "non-standard" in summary.metric
    same = [values[d.key] for d in drawings if d.sample == 0 and d.language == "svg"]
    other = [values[d.key] for d in drawings if d.sample == 1 and d.language == "svg"]
    assert same == pytest.approx([1.0] * 3, abs=1e-5)
    assert max(other) < 1.0 - 1e-5  # random weights: close, yet not the same image
    assert summary.overall is not None and summary.overall["count"] == len(values) == 12
    # the offline default: EfficientNet-Lite0 features, labelled non-standard
    default, values2 = reference_similarity(run, drawings, None, device="cpu")
    assert default is not None and default.metric.startswith("similarity[efficientnet-lite0")
    assert [values2[d.key] for d in drawings if d.sample == 0 and d.language == "svg"] == (
        pytest.approx([1.0] * 3, abs=1e-4)
    )
