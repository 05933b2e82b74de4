"""One way to turn a name into a thing: models, scorers, renderers, concept sets, evaluation
tasks and datasets, vision modules, image sources.

A :class:`Registry` maps names to entries. An entry is the thing itself or a
``"module:attribute"`` string imported on first use, so that naming one backend never imports
the heavy libraries of another. Names may take an argument after a colon
(``open-clip:ViT-B-32:laion2b``): :meth:`Registry.resolve` splits it off.

>>> from snellen.registry import Registry
>>> shapes = Registry[str]("shape")
>>> shapes.register("circle", "round", help="a round shape", aliases=("disc",))
>>> shapes.get("disc")
'round'
"""

from __future__ import annotations

import difflib
import importlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar, cast, overload

from snellen.errors import InputError

__all__ = ["Entry", "Registry", "RegistryNames", "import_target", "parse_name"]

T = TypeVar("T")

# "package.module:attribute" (a top-level module too: "json:dumps")
_IMPORT_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def import_target(path: str) -> object:
    """The object a ``"package.module:attribute"`` string names (the attribute may be dotted),
    imported now: how a lazy entry is loaded."""
    module, _, attr = path.partition(":")
    value: object = importlib.import_module(module)
    for part in attr.split("."):
        value = getattr(value, part)
    return value


def parse_name(name: str) -> tuple[str, str | None]:
    """A user-typed ``PREFIX:ARG`` name split at its first colon, surrounding space dropped:
    ``"open-clip:ViT-B-32:laion2b"`` -> ``("open-clip", "ViT-B-32:laion2b")``, ``"openai:"``
    -> ``("openai", "")``; a name without a colon -> ``(name, None)``. The one parser of the
    names of scorers, models, datasets and the other registered things (not of
    ``"module:attribute"`` targets: :func:`import_target`).

    >>> parse_name("hf-clip:openai/clip-vit-base-patch32")
    ('hf-clip', 'openai/clip-vit-base-patch32')
    >>> parse_name(" snellen-shapes ")
    ('snellen-shapes', None)
    """
    prefix, sep, arg = name.strip().partition(":")
    return prefix, arg if sep else None


@dataclass
class Entry(Generic[T]):
    """One registered name: the thing (or where to import it from), a line of help, and the
    other names it answers to."""

    name: str
    target: T | str
    help: str = ""
    aliases: tuple[str, ...] = ()
    lazy: bool = field(default=False, repr=False)

    def load(self) -> T:
        if self.lazy:
            self.target = cast(T, import_target(cast(str, self.target)))
            self.lazy = False
        return cast(T, self.target)


class Registry(Generic[T]):
    """Names -> things of one ``kind`` (the word used in error messages: "scorer",
    "language", "dataset", ...). Lookups are case-insensitive."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}
        self._aliases: dict[str, str] = {}

    def register(
        self,
        name: str,
        target: T | str,
        *,
        help: str = "",
        aliases: tuple[str, ...] | list[str] = (),
        lazy: bool | None = None,
        replace: bool = False,
    ) -> None:
        """Register ``target`` under ``name``. A string target of the form
        ``"package.module:attribute"`` is imported on first use (pass ``lazy=False`` to store
        such a string as it is)."""
        key = name.strip().lower()
        if not key:
            raise ValueError(f"a {self.kind} name must not be empty")
        if (key in self._entries or key in self._aliases) and not replace:
            raise ValueError(f"{self.kind} {name!r} is already registered (pass replace=True)")
        is_lazy = (
            isinstance(target, str) and _IMPORT_PATH.fullmatch(target) is not None
            if lazy is None
            else lazy
        )
        self._entries[key] = Entry(key, target, help, tuple(a.lower() for a in aliases), is_lazy)
        self._aliases.pop(key, None)
        for alias in aliases:
            self._aliases[alias.strip().lower()] = key

    def canonical(self, name: str) -> str:
        """The registered name that ``name`` (or an alias of it) stands for."""
        key = name.strip().lower()
        key = self._aliases.get(key, key)
        if key not in self._entries:
            raise InputError(self._unknown(name))
        return key

    def get(self, name: str) -> T:
        """The thing registered as ``name`` (or an alias); a clear error naming the known
        names otherwise."""
        return self._entries[self.canonical(name)].load()

    def resolve(self, name: str) -> tuple[T, str | None]:
        """Split ``PREFIX:ARG`` at the first colon and look up ``PREFIX``; returns the thing
        and the argument (None when there is none). A name registered whole wins over a
        split, so names that contain colons still work."""
        whole = name.strip().lower()
        if whole in self._entries or whole in self._aliases:
            return self.get(whole), None
        prefix, arg = parse_name(name)
        if arg is None:
            raise InputError(self._unknown(name))
        return self.get(prefix), arg or None

    def entry(self, name: str) -> Entry[T]:
        return self._entries[self.canonical(name)]

    def names(self) -> list[str]:
        """Registered names in registration order (aliases not included)."""
        return list(self._entries)

    def help(self) -> dict[str, str]:
        """Name -> one line of help, for ``--list`` and ``--help`` texts."""
        return {e.name: e.help for e in self._entries.values()}

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = name.strip().lower()
        return key in self._entries or key in self._aliases

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def _unknown(self, name: str) -> str:
        known = self.names()
        close = difflib.get_close_matches(name.strip().lower(), known + list(self._aliases), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown {self.kind} {name!r}{hint}; known: {', '.join(known) or 'none'}"


class RegistryNames(Sequence[str]):
    """The names of the registry at ``"module:attribute"``, read at every use and imported
    only then: the ``choices`` of a command-line option, so that building the command line
    imports no registry's module (a name registered later is a choice too).

    >>> names = RegistryNames("snellen.languages:LANGUAGES")
    >>> "svg" in names, "SVG" in names
    (True, False)
    """

    def __init__(self, path: str) -> None:
        self.path = path

    def _names(self) -> Sequence[str]:
        registry = import_target(self.path)
        if not isinstance(registry, Registry):
            raise TypeError(f"{self.path} is not a Registry")
        return registry.names()

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._names()[index]

    def __len__(self) -> int:
        return len(self._names())

    def __contains__(self, name: object) -> bool:  # exactly as registered, as argparse asks
        return name in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __repr__(self) -> str:
        return f"RegistryNames({self.path!r})"
