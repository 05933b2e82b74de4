"""The one dataset registry and what every builder receives (a leaf module, so the builders
can register themselves without importing their package).

A dataset is one name. It may come as more than one kind (Fashion-MNIST is a zero-shot test
set for ``snellen eval`` and labelled train/test splits for ``snellen probe``): each kind is
a *form* with its own builder, registered under the same name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from snellen.registry import Registry

__all__ = ["DATASETS", "BuildOptions", "Builder", "DatasetEntry", "register_dataset"]


@dataclass(frozen=True)
class BuildOptions:
    """What every builder may use: ``root`` (the directory of an official-format dataset),
    ``split`` (None: the dataset's own default; the VAD sets take ``heldout`` or ``train``
    shape-colour combinations, question sets a split of their files), ``limit`` (the first
    N cases), ``seed`` (data seed of the generated sets and of the labelled sets split here),
    ``n`` (how many cases a generated set has), ``classnames`` (a file of class names for
    ``imagefolder``), ``work`` (where a set snellen generates is written when no ``root``
    is given); ``root_text``: ``root`` as the caller wrote it (it names a set read from
    there)."""

    root: Path | None = None
    root_text: str = ""
    split: str | None = None
    limit: int | None = None
    seed: int = 0
    n: int = 500
    classnames: Path | None = None
    work: Path | None = None


#: builds one form of a dataset from the options and the argument after a colon in its name
Builder = Callable[[BuildOptions, str | None], Any]


@dataclass(frozen=True)
class DatasetEntry:
    """A registered dataset: the kinds it comes as, each with its builder and a line of help
    (the first registered is its default kind), the evaluation task its test set feeds (""
    when it has none), and whether a model's numbers on it may be set beside published
    ones."""

    forms: Mapping[type, Builder]
    helps: Mapping[type, str] = field(default_factory=dict)
    task: str = ""
    published: bool = False

    def form(self, kind: type | tuple[type, ...] | None) -> tuple[type, Builder] | None:
        """The first form of ``kind`` (a kind, or any of several; None: the default)."""
        for k, build in self.forms.items():
            if kind is None or issubclass(k, kind):
                return k, build
        return None

    def has(self, kind: type | tuple[type, ...]) -> bool:
        return self.form(kind) is not None


DATASETS: Registry[DatasetEntry] = Registry("dataset")


def register_dataset(
    name: str, kind: type, build: Builder, help: str, *, task: str = "", published: bool = False,
    aliases: tuple[str, ...] = (),
) -> None:  # fmt: skip
    """Register ``build`` as the ``kind`` form of dataset ``name`` (a name registered before
    gains the form). ``task``: the evaluation task a test-set form feeds."""
    forms: dict[type, Builder] = {}
    helps: dict[type, str] = {}
    old_aliases: tuple[str, ...] = ()
    if name in DATASETS:
        old = DATASETS.get(name)
        forms, helps = dict(old.forms), dict(old.helps)
        task, published = task or old.task, published or old.published
        old_aliases = DATASETS.entry(name).aliases
    forms[kind] = build
    helps[kind] = help
    first = next(iter(helps.values()))
    DATASETS.register(
        name, DatasetEntry(forms, helps, task, published), help=first, replace=True,
        aliases=tuple(dict.fromkeys(old_aliases + aliases)),
    )  # fmt: skip
