"""Code extraction on hand-written cases and on the real model replies in src/snellen/data."""

from __future__ import annotations

import csv
import sys

import pytest

from snellen.data import ROOT as DATA_ROOT
from snellen.render.extract import detect_language, extract_code, java_items, undo_literal_escapes

DRAWINGS = DATA_ROOT / "llm-drawings"


def test_single_fenced_block_with_tag():
    reply = "Here you go:\n```processing\nvoid setup() {\n  size(200, 200);\n}\n```\nEnjoy!"
    e = extract_code(reply)
    assert (
        e.language == "processing" and e.code.startswith("void setup()") and "Enjoy" not in e.code
    )


def test_literal_newline_escapes():
    reply = "Sure!\\n```\\nvoid setup() {\\n  size(100, 100);\\n  fill(255);\\n}\\n```"
    assert undo_literal_escapes(reply).count("\n") >= 5
    e = extract_code(reply, "processing")
    assert "size(100, 100);" in e.code and "\\n" not in e.code


def test_step_by_step_blocks_are_merged_with_later_definitions_winning():
    reply = (
        "Step 1\n```\nvoid setup() {\n  size(500, 500);\n}\n```\n"
        "Step 2\n```\nvoid draw() {\n  line(0, 0, 1, 1);\n}\n```\n"
        "Step 3\n```\nvoid draw() {\n  line(0, 0, 1, 1);\n  drawBody();\n}\n```\n"
        "Step 4\n```\nvoid drawBody() {\n  ellipse(5, 5, 2, 2);\n}\n```\n"
    )
    e = extract_code(reply, "processing")
    assert e.method.startswith("merged")
    assert e.code.count("void draw()") == 1 and "drawBody();" in e.code
    assert "size(500, 500)" in e.code and "void drawBody()" in e.code


def test_last_complete_block_is_preferred():
    reply = (
        "```\nvoid setup() {\n  size(10, 10);\n}\n```\n"
        "```\nvoid draw() {\n  rect(1, 1, 2, 2);\n}\n```\n"
        "All together:\n```\nint s = 3;\nvoid setup() {\n  size(400, 400);\n}\nvoid draw() {\n  rect(1, 1, s, s);\n}\n```"
    )
    e = extract_code(reply, "processing")
    assert e.method.startswith("last complete block") and "size(400, 400)" in e.code


def test_a_block_cut_off_by_the_end_of_the_reply_is_dropped():
    reply = (
        "```\nvoid setup() {\n  size(300, 300);\n}\nvoid draw() {\n  fill(0);\n  rect(1, 1, 5, 5);\n}\n```\n"
        "Final version:\n```\nvoid draw() {\n  fill(0);\n  rect(1, 1, 5, 5);\n  end"
    )
    e = extract_code(reply, "processing")
    assert "end\n" not in e.code and e.code.count("void draw()") == 1 and "size(300, 300)" in e.code


def test_java_items_ignore_braces_in_strings_and_comments():
    items, cut = java_items('String s = "{";\n// }\nvoid f() {\n  /* { */ text("}", 1, 2);\n}\n')
    assert not cut and [k for k, _ in items] == ["var:s", "func:f"]


def test_unfenced_code():
    reply = "This draws a circle.\n\nvoid setup() {\n  size(200, 200);\n}\n\nvoid draw() {\n  ellipse(100, 100, 50, 50);\n}\n\nHope it helps."
    e = extract_code(reply)
    assert e.method == "unfenced" and e.language == "processing" and "Hope" not in e.code


def test_no_code():
    assert extract_code("I cannot draw that, sorry.").code is None
    assert extract_code("").code is None


@pytest.mark.parametrize(
    ("code", "language"),
    [
        ("import matplotlib.pyplot as plt\nplt.plot([1, 2])\n", "matplotlib"),
        ("import turtle\nturtle.forward(10)\n", "turtle"),
        ("from turtle import *\nforward(10)\n", "turtle"),
        ("\\begin{tikzpicture}\\draw (0,0) -- (1,1);\\end{tikzpicture}", "tikz"),
        ('<svg xmlns="http://www.w3.org/2000/svg"><circle r="3"/></svg>', "svg"),
        ("void setup() {\n  size(100, 100);\n}\n", "processing"),
    ],
)
def test_language_detection(code, language):
    assert detect_language(code) == language
    assert extract_code(f"Here:\n```\n{code}\n```\n").language == language


def test_python_blocks_tagged_python_become_matplotlib_or_turtle():
    e = extract_code("```python\nimport turtle\nt = turtle.Turtle()\n```")
    assert e.language == "turtle"
    e = extract_code(
        "```python\nimport matplotlib.pyplot as plt\n```\n```python\nplt.plot([1])\n```"
    )
    assert e.language == "matplotlib" and "import matplotlib" in e.code and "plt.plot" in e.code


def _replies():
    csv.field_size_limit(sys.maxsize)
    for path in sorted(DRAWINGS.glob("*.tsv")):
        with open(path, newline="") as f:
            for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                yield path.stem, row[1], row[3]


def test_every_real_reply_yields_a_balanced_processing_sketch():
    n = python_mode = 0
    for _stem, reply, _model in _replies():
        e = extract_code(reply, "processing")
        assert e.code, reply[:300]
        n += 1
        if ";" not in e.code:  # Processing's Python mode: no statement ends in ';'
            python_mode += 1
            continue
        items, cut = java_items(e.code)
        assert not cut, e.code[-300:]
        names = {k for k, _ in items}
        assert names & {"func:setup", "func:draw"} or "size(" in e.code, e.code[:400]
        assert "```" not in e.code and "\\n" not in e.code
    assert n == 400 and python_mode <= 1


def test_real_replies_are_detected_as_processing():
    langs = [extract_code(reply).language for _, reply, _ in _replies()]
    # one GPT-3.5 reply tags Processing code as ```python and writes no semicolons
    assert langs.count("processing") >= 399
