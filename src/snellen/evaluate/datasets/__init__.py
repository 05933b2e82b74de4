"""Evaluation datasets, all built by one function, :func:`build_dataset`, from a name in the
:data:`DATASETS` registry (``snellen eval --list``). A name may carry an argument after a
colon (``vad-retrieval:shuffle_trigrams``, ``sugarcrepe/swap_att`` is its own name)."""

from __future__ import annotations

from pathlib import Path

from snellen.evaluate.data import Dataset
from snellen.evaluate.datasets.base import DATASETS, BuildOptions, DatasetEntry, register_dataset

__all__ = ["DATASETS", "BuildOptions", "DatasetEntry", "build_dataset", "register_dataset"]


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
    from snellen.evaluate.datasets import (
        aro,
        folders,
        karpathy,
        sugarcrepe,
        sugarcrepe_pp,
        vad,
        vad_composition,
        whatsup,
        winoground,
    )

    for module in (vad, aro, sugarcrepe, karpathy, folders):
        module.register()
    for module in (vad_composition, winoground, whatsup, sugarcrepe_pp):
        module.register()


_register_all()
