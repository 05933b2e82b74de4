"""Renderers by language name: a thin view of :mod:`snellen.languages`, where each
language's renderer is registered."""

from __future__ import annotations

from snellen.languages import LANGUAGES, canonical
from snellen.languages import renderer_class as _renderer_class
from snellen.render.base import LanguageRenderer

__all__ = ["check_language", "is_python", "renderer_class"]


def is_python(language: str) -> bool:
    """Whether ``language``'s renderer runs each program in a forked child of a warm Python
    interpreter (read from its record at every call)."""
    return language in LANGUAGES and LANGUAGES.get(language).python


def check_language(language: str) -> str:
    """The canonical name of ``language``; an error naming the known languages otherwise."""
    return canonical(language)


def renderer_class(language: str) -> type[LanguageRenderer]:
    """The renderer class for ``language`` (imported on first use)."""
    cls: type[LanguageRenderer] = _renderer_class(language)
    return cls
