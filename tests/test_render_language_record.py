"""A language is one record: its renderer, grammar, comment stripper, code detector and
emitter, and a language registered later is seen by everything that lists languages."""

from __future__ import annotations

from dataclasses import replace

import pytest

from snellen.languages import LANGUAGES, PARTS, Language, part, register_language


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


def test_every_part_a_record_names_is_there_and_the_record_is_the_only_table() -> None:
    import snellen.concepts.shapes.generate as generate
    import snellen.llm.grammar as grammar
    from snellen.concepts.shapes import build_scene, generate_shapes
    from snellen.languages import with_part
    from snellen.llm.grammar import grammar_text

    drawing = [n for n in LANGUAGES if LANGUAGES.get(n).drawing]
    for name in LANGUAGES:
        for which in PARTS:
            if getattr(LANGUAGES.get(name), which):
                assert callable(part(name, which)), (name, which)
    assert with_part("grammar") == with_part("emitter") == drawing
    assert not hasattr(grammar, "GRAMMARS") and not hasattr(generate, "EMITTERS")
    concept = generate_shapes(1, seed=0)[0]
    scene = build_scene(concept.attributes)
    assert list(concept.programs) == drawing  # one program per emitter, in record order
    for name in drawing:
        assert concept.programs[name] == part(name, "emitter")(scene)
        assert grammar_text(name) == part(name, "grammar")()
    assert grammar_text("MPL") == grammar_text("matplotlib")  # aliases name the same record


def test_a_language_registered_later_gets_its_grammar_and_emitter(
    toy_language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import snellen.llm.grammar as grammar
    from snellen.concepts.shapes import generate_shapes
    from snellen.errors import InputError
    from snellen.llm.grammar import grammar_text

    monkeypatch.setattr(grammar, "_TEXT", {})  # the toy's grammar text is not kept after
    with pytest.raises(InputError, match="no drawing grammar for 'toysvg'"):
        grammar_text(toy_language)
    register_language(
        replace(LANGUAGES.get(toy_language), grammar="snellen.llm.grammar:svg_grammar",
                emitter="snellen.concepts.shapes.emit_svg:emit_svg"),
        replace=True,
    )  # fmt: skip
    assert grammar_text(toy_language) == grammar_text("svg")
    programs = generate_shapes(1, seed=0)[0].programs
    assert programs[toy_language] == programs["svg"]


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
