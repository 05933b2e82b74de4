"""The one type of a VAD shape spec, shared by every module of the generator.

A spec is the JSON-ready dict a concept's ``attributes`` hold: ``composition`` (``single``,
``group`` or ``pair``), the object's own fields (``shape``, ``colour``, ``size``, ``fill``,
``texture``, ``rotation``, ...; see :mod:`snellen.concepts.shapes.vocab` for every value), and
per composition ``position`` (single), ``count``/``arrangement``/``colour_scheme`` (group)
or ``relation`` and a nested ``second`` object (pair). It stays a plain dict because it is
stored and exported as JSON as it is; :mod:`snellen.concepts.shapes.spec` draws one.
"""

from __future__ import annotations

from typing import Any, TypeAlias

__all__ = ["Spec"]

Spec: TypeAlias = dict[str, Any]
