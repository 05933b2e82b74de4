"""The drawing languages, each one :class:`Language` record: its renderer, the file suffix
its programs are stored under, the other names it answers to, and how a prompt names it.

``LANGUAGES`` is the registry (:class:`~snellen.registry.Registry`); add a language by
registering a record whose ``renderer`` is the ``"module:Class"`` of a
:class:`~snellen.render.base.LanguageRenderer` (imported only by a worker that renders it).

>>> from snellen.render.languages import language
>>> language("pyplot").name, language("tikz").suffix, language("turtle").prompt_name
('matplotlib', '.tex', 'Python turtle')
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from snellen.errors import InputError
from snellen.registry import Registry

__all__ = [
    "LANGUAGES",
    "Language",
    "canonical",
    "canonical_list",
    "language",
    "language_names",
    "read_suffixes",
    "renderer_class",
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


LANGUAGES: Registry[Language] = Registry("language")
for _lang in (
    Language("processing", "snellen.render.processing:ProcessingRenderer", ".pde", "Processing",
             ("pde",), (".java",)),
    Language("tikz", "snellen.render.tikz:TikzRenderer", ".tex", "TikZ", ("pgf",)),
    Language("matplotlib", "snellen.render.mpl:MatplotlibRenderer", ".py", "Python matplotlib",
             ("mpl", "pyplot"), python=True),
    Language("turtle", "snellen.render.turtles:TurtleRenderer", ".py", "Python turtle",
             ("python-turtle",), python=True),
    Language("svg", "snellen.render.svg:SvgRenderer", ".svg", "SVG"),
    Language("glsl", "snellen.render.glsl:GlslRenderer", ".frag", "GLSL fragment shader",
             ("frag", "shader"), (".glsl",), drawing=False),
):  # fmt: skip
    LANGUAGES.register(_lang.name, _lang, aliases=_lang.aliases, lazy=False)


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


def renderer_class(name: str) -> type[Any]:
    """The renderer class of a language (imported on first use): a
    :class:`~snellen.render.base.LanguageRenderer` subclass."""
    module, _, attr = language(name).renderer.partition(":")
    cls: type[Any] = getattr(importlib.import_module(module), attr)
    return cls
