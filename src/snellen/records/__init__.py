"""Typed records: what one package hands another, and what the run store keeps.

The base class lives here; the record types that cross package lines live beside it, one
module per family (:mod:`~snellen.records.checkup`: drawings, recognition answers and the
render ``Status``; :mod:`~snellen.records.scores`: per-drawing scores and the metric summary
the report formats). A new system adds its own module here (``records/NAME.py``), so the
packages that write and read its records share one definition and import nothing upward.

A record is a frozen dataclass that derives from :class:`Record`. It names its store ``kind``
and how its ``key`` is built, and it turns into a plain row (for SQLite, JSON and Parquet)
and back without losing its types: enums become their values, nested records become dicts,
tuples become lists.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Answer(Record):
...     kind = "answer"
...     question_id: str
...     text: str
...     def record_key(self) -> str:
...         return self.question_id
>>> Answer.from_row(Answer("q1", "red").to_row()) == Answer("q1", "red")
True
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any, ClassVar, Self, TypeVar, get_args, get_origin

from snellen.records.labels import ScorerLabels

__all__ = ["Record", "ScorerLabels", "from_plain", "to_plain"]

R = TypeVar("R", bound="Record")


def to_plain(value: Any) -> Any:
    """A JSON-ready copy of ``value``: records and dataclasses to dicts, enums to values,
    tuples and sets to lists."""
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_plain(v) for v in value]
    return value


def from_plain(tp: Any, value: Any) -> Any:
    """The inverse of :func:`to_plain` for a value declared as type ``tp``."""
    if value is None:
        return None
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        for option in options:
            try:
                return from_plain(option, value)
            except (TypeError, ValueError, KeyError):
                continue
        return value
    if origin in (list, tuple, set, frozenset):
        args = get_args(tp)
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_plain(args[0], v) for v in value)
        if origin is tuple and args:
            return tuple(from_plain(a, v) for a, v in zip(args, value, strict=False))
        inner = args[0] if args else Any
        return origin(from_plain(inner, v) for v in value)
    if origin is dict or origin is Mapping:
        args = get_args(tp)
        inner = args[1] if len(args) == 2 else Any
        return {k: from_plain(inner, v) for k, v in value.items()}
    if isinstance(tp, type):
        if issubclass(tp, enum.Enum):
            return tp(value)
        if dataclasses.is_dataclass(tp) and isinstance(value, Mapping):
            hints = _hints(tp)
            names = {f.name for f in dataclasses.fields(tp)}
            return tp(**{k: from_plain(hints[k], v) for k, v in value.items() if k in names})
        if tp is float and isinstance(value, int):
            return float(value)
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


class Record:
    """Base of every typed record. Subclasses are frozen dataclasses that set ``kind`` (the
    store's table name) and implement :meth:`record_key` (a readable, unique key within the
    kind: the same work gives the same key, so a resumed run skips it)."""

    kind: ClassVar[str] = ""
    #: fields that only some records of a kind carry (a task's own columns): left out of the
    #: row when None, so a table gets the column only when some record has a value
    sparse: ClassVar[frozenset[str]] = frozenset()

    def record_key(self) -> str:
        raise NotImplementedError(f"{type(self).__name__} must define record_key()")

    def to_row(self) -> dict[str, Any]:
        """A plain dict (JSON-ready) with one entry per field (a :attr:`sparse` field only
        when it is set)."""
        row = typing.cast(dict[str, Any], to_plain(self))
        for name in self.sparse:
            if row.get(name) is None:
                row.pop(name, None)
        return row

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Self:
        """The record a :meth:`to_row` came from. Unknown keys are ignored, so rows written by
        an older snellen with extra columns still load."""
        return typing.cast(Self, from_plain(cls, row))

    @classmethod
    def columns(cls) -> list[str]:
        """Field names in declaration order (the Parquet columns)."""
        return [f.name for f in dataclasses.fields(typing.cast(Any, cls))]
