"""Evaluation datasets, all built by one function, :func:`build_dataset`, from a name in the
:data:`DATASETS` registry (``snellen eval --list``). A name may carry an argument after a
colon (``vad-retrieval:shuffle_trigrams``, ``sugarcrepe/swap_att`` is its own name)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from snellen.evaluate.data import Dataset
from snellen.registry import Registry

__all__ = ["DATASETS", "BuildOptions", "DatasetEntry", "build_dataset", "register_dataset"]


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


def build_dataset(name: str, root: str | Path | None = None, **options: object) -> Dataset:
    """The dataset called ``name`` (see :data:`DATASETS`); ``options`` as in
    :class:`BuildOptions`."""
    entry, arg = DATASETS.resolve(name)
    opts = BuildOptions(
        root=Path(root).expanduser() if root is not None else None,
        **{k: (Path(v).expanduser() if k == "classnames" and v else v) for k, v in options.items()},  # type: ignore[arg-type]
    )
    data = entry.build(opts, arg)
    if opts.limit is not None and len(data) > opts.limit:
        data = data.take(opts.limit)
    return data


def _register_all() -> None:
    from snellen.evaluate.datasets import aro, folders, karpathy, sugarcrepe, vad

    for module in (vad, aro, sugarcrepe, karpathy, folders):
        module.register()


_register_all()
