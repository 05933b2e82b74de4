"""Program metrics of a drawing: how long its program is, how many drawing calls it makes,
how many colours its image shows and how long it took to render, so that "longer programs
draw better" can be read off a report beside fidelity.

Drawing calls are counted per language with the parsing each language already has:
Processing through the Processing translator's tokenizer (a primitive's name followed by
``(``), SVG through the XML parser the SVG renderer uses (graphic elements), matplotlib and
turtle through Python's ``ast`` (calls of the library's drawing functions and patch
classes), TikZ by its path commands (``\\draw``, ``\\fill``, ...). A program that does not
parse counts 0 calls. Distinct colours are the RGB colours that cover at least
``COLOUR_SHARE`` of the image's pixels (anti-aliased edges make hundreds of rare colours).
"""

from __future__ import annotations

import ast
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from snellen.metrics.bootstrap import add_interval
from snellen.records.checkup import Drawing
from snellen.records.scores import ProgramScore, ProgramSummary, Tables
from snellen.store import Run

__all__ = [
    "COLOUR_SHARE",
    "ProgramMeasures",
    "distinct_colours",
    "drawing_calls",
    "measure",
    "measure_drawings",
    "program_summary",
]

#: a colour counts when it covers at least this share of the pixels
COLOUR_SHARE = 0.001

PROCESSING_CALLS = frozenset(
    [
        "arc",
        "circle",
        "ellipse",
        "line",
        "point",
        "quad",
        "rect",
        "square",
        "triangle",
        "bezier",
        "curve",
        "vertex",
        "bezierVertex",
        "curveVertex",
        "quadraticVertex",
        "beginShape",
        "endShape",
        "text",
        "box",
        "sphere",
    ]
)
SVG_ELEMENTS = frozenset(
    ["path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text", "use", "image"]
)
MATPLOTLIB_CALLS = frozenset(
    [
        "plot",
        "fill",
        "fill_between",
        "scatter",
        "bar",
        "barh",
        "text",
        "annotate",
        "imshow",
        "arrow",
        "contour",
        "contourf",
        "pie",
        "hist",
        "axhline",
        "axvline",
        "hlines",
        "vlines",
        "Circle",
        "Rectangle",
        "Ellipse",
        "Polygon",
        "Wedge",
        "Arc",
        "FancyBboxPatch",
        "FancyArrow",
        "FancyArrowPatch",
        "PathPatch",
        "RegularPolygon",
        "CirclePolygon",
        "Arrow",
    ]
)
TURTLE_CALLS = frozenset(
    [
        "forward",
        "fd",
        "backward",
        "back",
        "bk",
        "goto",
        "setpos",
        "setposition",
        "setx",
        "sety",
        "circle",
        "dot",
        "stamp",
        "begin_fill",
        "end_fill",
        "write",
    ]
)
_TIKZ = re.compile(r"\\(draw|fill|filldraw|path|shade|shadedraw|node|clip)\b")


@dataclass(frozen=True)
class ProgramMeasures:
    """The program metrics of one drawing."""

    characters: int
    lines: int
    calls: int
    colours: int | None
    render_seconds: float


def _processing_calls(code: str) -> int:
    from snellen.render.processing.translate import tokenize

    tokens = [t for t in tokenize(code) if t.kind not in ("space", "comment")]
    return sum(
        1
        for a, b in zip(tokens, tokens[1:], strict=False)
        if a.kind == "word" and a.text in PROCESSING_CALLS and b.text == "("
    )


def _svg_calls(code: str) -> int:
    try:
        root = ET.fromstring(code.strip())  # noqa: S314 - ElementTree resolves no external entities and expat limits entity expansion
    except ET.ParseError:
        return 0
    return sum(1 for el in root.iter() if str(el.tag).rsplit("}", 1)[-1] in SVG_ELEMENTS)


def _python_calls(names: frozenset[str]) -> Callable[[str], int]:
    def count(code: str) -> int:
        try:
            tree = ast.parse(code)
        except (SyntaxError, ValueError):
            return 0
        n = 0
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
                n += name in names
        return n

    return count


def _tikz_calls(code: str) -> int:
    return len(_TIKZ.findall(code))


_COUNTERS: dict[str, Callable[[str], int]] = {
    "processing": _processing_calls,
    "svg": _svg_calls,
    "matplotlib": _python_calls(MATPLOTLIB_CALLS),
    "turtle": _python_calls(TURTLE_CALLS),
    "tikz": _tikz_calls,
}


def drawing_calls(code: str, language: str) -> int:
    """How many drawing calls ``code`` makes in ``language`` (0 for an unknown language or
    a program that does not parse)."""
    counter = _COUNTERS.get(language)
    return counter(code) if counter is not None else 0


def distinct_colours(image: Image.Image, share: float = COLOUR_SHARE) -> int:
    """The RGB colours covering at least ``share`` of ``image``'s pixels."""
    pixels = np.asarray(image.convert("RGB")).reshape(-1, 3)
    packed = (pixels[:, 0].astype(np.uint32) << 16) | (pixels[:, 1].astype(np.uint32) << 8)
    packed |= pixels[:, 2].astype(np.uint32)
    _, counts = np.unique(packed, return_counts=True)
    return int((counts >= max(1.0, share * len(packed))).sum())


def measure(
    code: str | None, language: str, image: Image.Image | None, render_seconds: float
) -> ProgramMeasures:
    """The program metrics of one drawing (``code`` None: no program was found)."""
    text = code or ""
    return ProgramMeasures(
        characters=len(text),
        lines=len([ln for ln in text.splitlines() if ln.strip()]),
        calls=drawing_calls(text, language) if text else 0,
        colours=distinct_colours(image) if image is not None else None,
        render_seconds=float(render_seconds),
    )


DEFINITION = (
    "characters and non-blank lines of the rendered program, drawing calls counted by the "
    "language's own parser, RGB colours covering at least "
    f"{COLOUR_SHARE:.1%} of the image, render seconds; means over rendered drawings"
)
MEASURES = ("characters", "lines", "calls", "colours", "render_seconds")


def measure_drawings(run: Run, drawings: Sequence[Drawing]) -> list[ProgramScore]:
    """The program metrics of every drawing with a program, stored as ``programs`` records
    (a drawing measured before is not measured again); returns all of them."""
    done = {p.drawing: p for p in run.load_records(ProgramScore)}
    new = []
    for d in drawings:
        if d.key in done or not d.program:
            continue
        code = run.artifacts.get(d.program)
        image = None
        if d.ok:
            image = Image.open(run.resolve_image(str(d.image)))
            image.load()
        m = measure(code.decode("utf-8", "replace") if code else None, d.language, image,
                    d.render_seconds)  # fmt: skip
        new.append(
            ProgramScore(
                drawing=d.key,
                category=d.category,
                language=d.language,
                status=d.status.value,
                characters=m.characters,
                lines=m.lines,
                calls=m.calls,
                colours=m.colours,
                render_seconds=m.render_seconds,
                model=d.model,
                task=d.task,
            )  # fmt: skip
        )
    run.put_records(new)
    done.update({p.drawing: p for p in new})
    return [done[d.key] for d in drawings if d.key in done]


def _spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    if len(x) < 3:
        return None
    rx = np.argsort(np.argsort(x, kind="stable"), kind="stable").astype(float)
    ry = np.argsort(np.argsort(y, kind="stable"), kind="stable").astype(float)
    if rx.std() == 0 or ry.std() == 0:
        return None
    return float(np.corrcoef(rx, ry)[0, 1])


def program_summary(
    scores: Sequence[ProgramScore], fidelity: Mapping[str, float | None]
) -> ProgramSummary | None:
    """Means (with intervals) of the program metrics of the rendered drawings per category,
    language and both, beside their mean fidelity; Spearman's rho of characters against
    fidelity per category."""
    ok = [s for s in scores if s.status == "ok"]
    if not ok:
        return None
    tables = Tables()
    for cols in (("category",), ("language",), ("category", "language")):
        groups: dict[tuple[str, ...], list[ProgramScore]] = {}
        for s in ok:
            groups.setdefault(tuple(getattr(s, c) for c in cols), []).append(s)
        rows = []
        for key in sorted(groups):
            recs = groups[key]
            row: dict[str, Any] = {**dict(zip(cols, key, strict=True)), "drawings": len(recs)}
            for name in MEASURES:
                values = [float(v) for s in recs if (v := getattr(s, name)) is not None]
                row[name] = float(np.mean(values)) if values else None
                add_interval(row, name, values)
            fid = [v for s in recs if (v := fidelity.get(s.drawing)) is not None]
            row["fidelity"] = float(np.mean(fid)) if fid else None
            add_interval(row, "fidelity", fid)
            rows.append(row)
        tables.put(cols, rows)
    correlation = []
    for category in sorted({s.category for s in ok}):
        pairs = [(float(s.characters), v) for s in ok if s.category == category
                 and (v := fidelity.get(s.drawing)) is not None]  # fmt: skip
        correlation.append({
            "category": category, "pairs": len(pairs),
            "spearman_characters_fidelity": _spearman([p[0] for p in pairs], [p[1] for p in pairs]),
        })  # fmt: skip
    return ProgramSummary(definition=DEFINITION, by=tables, correlation=correlation)
