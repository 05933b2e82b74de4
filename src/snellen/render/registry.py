"""Languages are looked up by name: each maps to the import path of its renderer class, so a
worker imports only the renderers it is asked to use."""

from __future__ import annotations

import importlib

from snellen.errors import InputError
from snellen.render.base import LANGUAGES, LanguageRenderer

RENDERERS: dict[str, str] = {
    "processing": "snellen.render.processing:ProcessingRenderer",
    "tikz": "snellen.render.tikz:TikzRenderer",
    "matplotlib": "snellen.render.mpl:MatplotlibRenderer",
    "turtle": "snellen.render.turtles:TurtleRenderer",
    "svg": "snellen.render.svg:SvgRenderer",
    "glsl": "snellen.render.glsl:GlslRenderer",
}

# Renderers that run each program in a forked child of a warm Python interpreter.
PYTHON_LANGUAGES = ("matplotlib", "turtle")


def check_language(language: str) -> str:
    name = language.strip().lower()
    if name not in RENDERERS:
        raise InputError(f"unknown language {language!r}; choose one of: {', '.join(LANGUAGES)}")
    return name


def renderer_class(language: str) -> type[LanguageRenderer]:
    """The renderer class for ``language`` (imported on first use)."""
    module, _, name = RENDERERS[check_language(language)].partition(":")
    return getattr(importlib.import_module(module), name)
