"""A language is one record: its renderer, grammar, comment stripper, code detector and
emitter, and a language registered later is seen by everything that lists languages."""

from __future__ import annotations

import pytest

from snellen.render.languages import LANGUAGES, PARTS, Language, part, register_language


@pytest.fixture
def toy_language(monkeypatch: pytest.MonkeyPatch) -> str:
    """A language registered after import (an SVG dialect with its own name), removed after."""
    monkeypatch.setattr(LANGUAGES, "_entries", dict(LANGUAGES._entries))
    monkeypatch.setattr(LANGUAGES, "_aliases", dict(LANGUAGES._aliases))
    register_language(
        Language(
            "toysvg", "snellen.render.svg:SvgRenderer", ".toy", "toy SVG",
            comments="snellen.render.comments:strip_svg",
            detect="snellen.render.extract:looks_like_svg", detect_order=5,
        )
    )  # fmt: skip
    return "toysvg"


def test_a_language_registered_later_is_seen_by_the_defaults_and_the_extractor(
    toy_language: str,
) -> None:
    from snellen.checkup.pipeline import parse_list
    from snellen.render import LANGUAGES as names
    from snellen.render.extract import detect_language, extract_code

    assert toy_language in names and toy_language in list(names)
    assert toy_language in parse_list(None, names)
    found = extract_code("```\n<svg><rect/></svg>\n```", toy_language)
    assert found.code is not None and found.language == toy_language
    assert detect_language("<svg width='2'></svg>") == toy_language


def test_every_part_a_record_names_is_there_and_matches_the_shipped_tables() -> None:
    from snellen.concepts.shapes.generate import EMITTERS
    from snellen.llm.grammar import GRAMMARS

    for name in LANGUAGES:
        for which in PARTS:
            if getattr(LANGUAGES.get(name), which):
                assert callable(part(name, which)), (name, which)
        if LANGUAGES.get(name).drawing:
            assert part(name, "grammar") is GRAMMARS.get(name)
            assert part(name, "emitter") is EMITTERS[name]
    assert set(GRAMMARS) == set(EMITTERS) == {n for n in LANGUAGES if LANGUAGES.get(n).drawing}


def test_the_comment_stripper_and_the_detector_come_from_the_record() -> None:
    from snellen.render.comments import strip_comments
    from snellen.render.extract import detect_language

    assert strip_comments("fill(255); // the cylinder body\n", "processing") == "fill(255);\n"
    assert strip_comments("x = 1  # a label\n", "glsl") == "x = 1  # a label\n"
    assert detect_language("import turtle\nturtle.forward(10)\n") == "turtle"
    assert detect_language("\\begin{tikzpicture}\\draw (0,0) -- (1,1);\\end{tikzpicture}") == "tikz"
    assert detect_language("just words") is None


def test_image_sets_read_programs_without_the_checkup() -> None:
    import ast
    from pathlib import Path

    import snellen.imagesets

    imported = set()
    for path in Path(snellen.imagesets.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(a.name for a in node.names)
    assert "snellen.render.params" in imported
    assert not any(m == "snellen.checkup" or m.startswith("snellen.checkup.") for m in imported)
