"""Renderers by language name: a thin view of :mod:`snellen.render.languages`, where each
language's renderer is registered."""

from __future__ import annotations

from snellen.render.base import LanguageRenderer
from snellen.render.languages import LANGUAGES, canonical
from snellen.render.languages import renderer_class as _renderer_class

__all__ = ["PYTHON_LANGUAGES", "check_language", "renderer_class"]

# Renderers that run each program in a forked child of a warm Python interpreter.
PYTHON_LANGUAGES = tuple(n for n in LANGUAGES if LANGUAGES.get(n).python)


def check_language(language: str) -> str:
    """The canonical name of ``language``; an error naming the known languages otherwise."""
    return canonical(language)


def renderer_class(language: str) -> type[LanguageRenderer]:
    """The renderer class for ``language`` (imported on first use)."""
    cls: type[LanguageRenderer] = _renderer_class(language)
    return cls
