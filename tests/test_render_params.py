"""Parametric programs: finding the numeric variables of a program and sampling new values."""

from __future__ import annotations

from snellen.render.params import find_parameters, variants

PROCESSING = """float bodyW = 200;
int petals = 6;
float alpha = 0.5f;
void setup() { size(400, 400); float inner = 3; }
void draw() { ellipse(200, 200, bodyW, bodyW); }
"""
PYTHON = """import matplotlib.pyplot as plt
radius = 1.5
n_petals = 8
shade = 0.9
def f():
    local = 3
"""
TIKZ = r"""\documentclass{standalone}\usepackage{tikz}\begin{document}
\def\r{1.5}\newcommand{\w}{2cm}\pgfmathsetmacro\h{3}
\begin{tikzpicture}\draw (0,0) circle (\r);\end{tikzpicture}\end{document}"""


def test_finds_top_level_variables_per_language() -> None:
    assert [p.name for p in find_parameters(PROCESSING, "processing")] == [
        "bodyW",
        "petals",
        "alpha",
    ]
    assert [p.name for p in find_parameters(PYTHON, "matplotlib")] == [
        "radius",
        "n_petals",
        "shade",
    ]
    assert [p.name for p in find_parameters(TIKZ, "tikz")] == ["r", "w", "h"]
    assert find_parameters("<svg/>", "svg") == []


def test_variants_change_values_and_keep_the_rest() -> None:
    out = variants(PROCESSING, "processing", 4, seed=1)
    assert len(out) == 4
    assert out[0][0] == PROCESSING
    for code, values in out[1:]:
        assert code != PROCESSING
        assert "void draw() { ellipse(200, 200, bodyW, bodyW); }" in code
        assert 100 <= values["bodyW"] <= 300
        assert values["petals"] == int(values["petals"]) and values["petals"] >= 1
        assert 0 <= values["alpha"] <= 1
        assert f"int petals = {int(values['petals'])};" in code
    # reproducible
    assert variants(PROCESSING, "processing", 4, seed=1) == out


def test_no_parameters_gives_the_program_alone() -> None:
    assert variants("<svg></svg>", "svg", 4, seed=0) == [("<svg></svg>", {})]
