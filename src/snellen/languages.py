"""The drawing languages, each described whole by one :class:`Language` record: its
renderer, the file suffix its programs are stored under, the other names it answers to, how a
prompt names it, its grammar (for grammar-constrained decoding), its comment stripper, its
code detector and the emitter that writes VAD shapes in it.

``LANGUAGES`` is the registry (:class:`~snellen.registry.Registry`), and the only table of
languages: a new language is one record registered here plus the modules its parts point
at. Every part is a ``"module:attribute"`` string imported on first use (:func:`part`), so
naming a language imports nothing heavy, and each part lives in the package that owns that
kind of code (the renderers and detectors in :mod:`snellen.render`, the grammars in
:mod:`snellen.llm.grammar`, the emitters in :mod:`snellen.concepts.shapes`) without this
module importing it. The records sit in the base layer, so each of those packages reads them
(:func:`with_part` lists the languages that have a grammar, or an emitter) without importing
another. Everything that lists languages reads the registry when it is asked
(:func:`language_names`, :data:`snellen.render.base.LANGUAGES` is a live view), so a language
registered later is seen everywhere.

>>> from snellen.languages import language
>>> language("pyplot").name, language("tikz").suffix, language("turtle").prompt_name
('matplotlib', '.tex', 'Python turtle')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from snellen.errors import InputError
from snellen.registry import Registry, RegistryNames, import_target

__all__ = [
    "LANGUAGES",
    "PARTS",
    "Language",
    "LanguageNames",
    "detection_order",
    "part",
    "register_language",
    "canonical",
    "canonical_list",
    "language",
    "language_names",
    "read_suffixes",
    "renderer_class",
    "with_part",
]


@dataclass(frozen=True)
class Language:
    """Everything snellen knows about one drawing language."""

    name: str
    renderer: str  # "module:Class" of its LanguageRenderer
    suffix: str  # file suffix of a stored program
    prompt_name: str  # how a prompt names the language to a model
    aliases: tuple[str, ...] = ()
    # other suffixes a program file of this language may have when read from a folder
    read_suffixes: tuple[str, ...] = ()
    # rendered in a forked child of a warm Python interpreter (matplotlib, turtle)
    python: bool = False
    # a language models are asked to draw in (the check-up's default set); False for
    # languages snellen renders for other purposes (GLSL shaders for image datasets)
    drawing: bool = True
    # "module:function" parts ("" where the language has none):
    grammar: str = ""  # () -> GBNF text of the language's drawing subset
    comments: str = ""  # (code) -> code without comments
    detect: str = ""  # (code) -> whether a program looks written in this language
    emitter: str = ""  # (Scene) -> a VAD shape scene as a program in this language
    # detectors are asked in this order (lowest first): the most specific signs first
    detect_order: int = 100


#: the attributes of a record that name a part to import
PARTS = ("renderer", "grammar", "comments", "detect", "emitter")


LANGUAGES: Registry[Language] = Registry("language")

_R, _G, _C, _D = (
    "snellen.render.",
    "snellen.llm.grammar:",
    "snellen.render.comments:",
    ("snellen.render.extract:looks_like_"),
)
_E = "snellen.concepts.shapes.emit_{0}:emit_{0}"


def register_language(lang: Language, *, replace: bool = False) -> None:
    """Make ``lang`` known to every part of snellen that names, renders, prompts, detects,
    strips or emits languages."""
    LANGUAGES.register(lang.name, lang, aliases=lang.aliases, lazy=False, replace=replace)


for _lang in (
    Language("processing", _R + "processing:ProcessingRenderer", ".pde", "Processing",
             ("pde",), (".java",), grammar=_G + "processing_grammar",
             comments=_C + "strip_c_like", detect=_D + "processing",
             emitter=_E.format("processing"), detect_order=50),
    Language("tikz", _R + "tikz:TikzRenderer", ".tex", "TikZ", ("pgf",),
             grammar=_G + "tikz_grammar", comments=_C + "strip_tex", detect=_D + "tikz",
             emitter=_E.format("tikz"), detect_order=20),
    Language("matplotlib", _R + "mpl:MatplotlibRenderer", ".py", "Python matplotlib",
             ("mpl", "pyplot"), python=True, grammar=_G + "matplotlib_grammar",
             comments=_C + "strip_python", detect=_D + "matplotlib",
             emitter=_E.format("matplotlib"), detect_order=40),
    Language("turtle", _R + "turtles:TurtleRenderer", ".py", "Python turtle",
             ("python-turtle",), python=True, grammar=_G + "turtle_grammar",
             comments=_C + "strip_python", detect=_D + "turtle", emitter=_E.format("turtle"),
             detect_order=30),
    Language("svg", _R + "svg:SvgRenderer", ".svg", "SVG", grammar=_G + "svg_grammar",
             comments=_C + "strip_svg", detect=_D + "svg", emitter=_E.format("svg"),
             detect_order=10),
    Language("glsl", _R + "glsl:GlslRenderer", ".frag", "GLSL fragment shader",
             ("frag", "shader"), (".glsl",), drawing=False),
):  # fmt: skip
    register_language(_lang)


def language(name: str) -> Language:
    """The language named ``name`` or one of its aliases (any case); an error naming the
    known languages otherwise."""
    return LANGUAGES.get(name)


def canonical(name: str) -> str:
    return language(name).name


def language_names(*, drawing_only: bool = True) -> tuple[str, ...]:
    """The registered language names, in registration order: the drawing languages (the
    check-up's default set), or every renderable one."""
    return tuple(n for n in LANGUAGES.names() if LANGUAGES.get(n).drawing or not drawing_only)


def canonical_list(names: Iterable[str]) -> list[str]:
    """Canonical names of ``names``, duplicates dropped, order kept; at least one."""
    out: list[str] = []
    for name in names:
        canon = canonical(name)
        if canon not in out:
            out.append(canon)
    if not out:
        raise InputError(f"no languages given; choose from {', '.join(language_names())}")
    return out


def read_suffixes() -> dict[str, str | None]:
    """File suffix -> language for reading a folder of programs; None where several
    languages share a suffix (``.py``: the program's imports decide)."""
    out: dict[str, str | None] = {}
    for name in LANGUAGES:
        lang = LANGUAGES.get(name)
        for suffix in (lang.suffix, *lang.read_suffixes):
            out[suffix] = name if out.get(suffix, name) == name else None
    return out


def part(name: str, which: str) -> Any:
    """The ``which`` part of language ``name`` (one of :data:`PARTS`), imported now; None
    when its record names none."""
    if which not in PARTS:
        raise ValueError(f"a language has no part {which!r}; parts: {', '.join(PARTS)}")
    target = getattr(language(name), which)
    return import_target(target) if target else None


def with_part(which: str) -> list[str]:
    """The languages whose record names a ``which`` part (one of :data:`PARTS`), in
    registration order: the languages with a grammar, with an emitter, ..."""
    if which not in PARTS:
        raise ValueError(f"a language has no part {which!r}; parts: {', '.join(PARTS)}")
    return [n for n in LANGUAGES if getattr(LANGUAGES.get(n), which)]


def renderer_class(name: str) -> type[Any]:
    """The renderer class of a language (imported on first use): a
    :class:`~snellen.render.base.LanguageRenderer` subclass."""
    cls: type[Any] = part(name, "renderer")
    return cls


def detection_order() -> list[str]:
    """The languages with a code detector, in the order they are asked."""
    return sorted(with_part("detect"), key=lambda n: LANGUAGES.get(n).detect_order)


class LanguageNames(RegistryNames):
    """The names of the drawing languages, read from the registry at every use (a language
    registered later is in it): a sequence, so ``in``, ``list()`` and ``.index`` work."""

    def __init__(self) -> None:
        super().__init__("snellen.languages:LANGUAGES")

    def _names(self) -> tuple[str, ...]:
        return language_names()

    def __repr__(self) -> str:
        return f"LanguageNames{self._names()!r}"
