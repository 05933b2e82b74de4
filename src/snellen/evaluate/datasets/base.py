"""The dataset registry of the evaluation suite and what every builder receives (a leaf
module, so the builders can register themselves without importing their package)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from snellen.evaluate.data import Dataset
from snellen.registry import Registry

__all__ = ["DATASETS", "BuildOptions", "DatasetEntry", "register_dataset"]


@dataclass(frozen=True)
class BuildOptions:
    """What every builder may use: ``root`` (the directory of an official-format dataset),
    ``limit`` (the first N cases), ``seed`` (data seed of the generated sets), ``n`` (how
    many cases a generated set has), ``split`` (``heldout`` or ``train`` shape-colour
    combinations for VAD sets), ``classnames`` (a file of class names for ``imagefolder``)."""

    root: Path | None = None
    limit: int | None = None
    seed: int = 0
    n: int = 500
    split: str = "heldout"
    classnames: Path | None = None


@dataclass(frozen=True)
class DatasetEntry:
    """A registered dataset: the task it feeds, the function that builds it (given the
    options and the argument after a colon), and whether a model's numbers on it may be set
    beside published ones."""

    task: str
    build: Callable[[BuildOptions, str | None], Dataset]
    published: bool = False


DATASETS: Registry[DatasetEntry] = Registry("dataset")


def register_dataset(
    name: str, task: str, build: Callable[[BuildOptions, str | None], Dataset], help: str,
    published: bool = False,
) -> None:  # fmt: skip
    DATASETS.register(name, DatasetEntry(task, build, published), help=help, replace=True)
