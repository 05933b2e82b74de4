"""Parametric variants of a drawing program that has no named parameters.

The check-up's parametric task asks the model to name its constants
(:mod:`snellen.render.params` finds them); recorded draw-task replies write them inline
(``ellipse(200, 150, 80, 80)``). Here every numeric literal outside comments, strings and
the canvas-size call becomes a parameter, so the same sampler (:func:`sample_value`) and
writer (:func:`with_values`) make the variants.
"""

from __future__ import annotations

import re

from snellen.render.params import Parameter, find_parameters

_LITERAL = re.compile(r"(?<![\w.#])(\d+\.\d*|\.\d+|\d+)(?![\w.])")
_SKIP = {
    "c": re.compile(r"//[^\n]*|/\*.*?\*/|\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'", re.DOTALL),
    "python": re.compile(r"#[^\n]*|\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'"),
    "tikz": re.compile(r"%[^\n]*"),
}
# calls whose numbers set the canvas, not the drawing
_CANVAS = re.compile(
    r"\b(?:size|fullScreen|figsize|dpi|setup|screensize|setworldcoordinates)\s*[(=][^)\n]*"
)


def literal_parameters(code: str, language: str) -> list[Parameter]:
    """Every numeric literal of ``code`` that shapes the drawing, as a :class:`Parameter`."""
    family = {"processing": "c", "glsl": "c", "matplotlib": "python", "turtle": "python"}.get(
        language, language
    )
    blocked = [m.span() for m in _SKIP[family].finditer(code)] if family in _SKIP else []
    blocked += [m.span() for m in _CANVAS.finditer(code)]
    out = []
    for k, m in enumerate(_LITERAL.finditer(code)):
        if any(a <= m.start() < b for a, b in blocked):
            continue
        text = m.group(1)
        integer = "." not in text and code[m.end() : m.end() + 1] not in ("f", "F")
        out.append(Parameter(f"#{k}", float(text), integer, m.start(), m.end()))
    return out


def program_parameters(code: str, language: str) -> tuple[str, list[Parameter]]:
    """The program's named parameters when it has them (``"named"``), else its literals
    (``"literals"``); SVG and unknown languages have none."""
    named = find_parameters(code, language)
    if named:
        return "named", named
    if language in ("processing", "matplotlib", "turtle", "tikz"):
        return "literals", literal_parameters(code, language)
    return "none", []
