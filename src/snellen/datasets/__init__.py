"""Every dataset snellen reads or generates, below the tasks that use them: one registry
(:data:`DATASETS`), one :func:`build_dataset`, typed kinds (:mod:`snellen.datasets.kinds`)
and one set of file readers (:mod:`snellen.datasets.files`: image folders, IDX, where
Fashion-MNIST lives).

A dataset is one name that may come as several kinds: ``snellen eval`` builds test sets
(:class:`Classification`, :class:`Retrieval`, :class:`Selection`, :class:`Spatial`,
:class:`ImagePairs`, :class:`Triplets`), ``snellen probe`` builds :class:`LabelledSplits`,
``snellen lens`` builds question sets (:class:`VQA`). ``fashion-mnist`` is both a zero-shot
test set and labelled splits; ``imagefolder`` is all three. A name may carry an argument
after a colon (``vad-retrieval:shuffle_trigrams``; ``sugarcrepe/swap_att`` is its own name).

>>> from snellen.datasets import LabelledSplits, build_dataset
>>> build_dataset("digits", limit=10).classnames[:3]  # doctest: +SKIP
['0', '1', '2']
>>> build_dataset("digits", kind=LabelledSplits, seed=0).train_x.shape  # doctest: +SKIP
(1257, 8, 8)
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, TypeVar, overload

from snellen.datasets.base import DATASETS, BuildOptions, DatasetEntry, register_dataset
from snellen.datasets.kinds import (
    EVAL_KINDS,
    VQA,
    Classification,
    Dataset,
    EvalDataset,
    ImagePairs,
    ImageSource,
    LabelledSplits,
    Retrieval,
    Selection,
    Spatial,
    Triplets,
)
from snellen.datasets.vqa import build_shapes_classify, build_shapes_vqa
from snellen.errors import InputError

__all__ = [
    "DATASETS",
    "EVAL_KINDS",
    "VQA",
    "BuildOptions",
    "Classification",
    "Dataset",
    "DatasetEntry",
    "EvalDataset",
    "ImagePairs",
    "ImageSource",
    "LabelledSplits",
    "Retrieval",
    "Selection",
    "Spatial",
    "Triplets",
    "build_dataset",
    "build_shapes_classify",
    "build_shapes_vqa",
    "dataset_names",
    "load_dataset",
    "register_dataset",
    "resolve_dataset",
]

K = TypeVar("K")
_USED_BY = {LabelledSplits: "snellen probe", VQA: "snellen lens"}


def _kind_name(kind: type | tuple[type, ...] | None) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,) if kind is not None else ()
    return " or ".join(k.__name__.lower() for k in kinds) or "any"


def dataset_names(kind: type | tuple[type, ...] | None = None) -> dict[str, str]:
    """Names of the datasets that come as ``kind`` (None: all), with the help of that form
    (``snellen eval --list``)."""
    out = {}
    for name in DATASETS:
        entry = DATASETS.get(name)
        form = entry.form(kind)
        if form is not None:
            out[name] = entry.helps.get(form[0], "")
    return out


def resolve_dataset(
    name: str, kind: type | tuple[type, ...] | None = None
) -> tuple[DatasetEntry, str | None]:
    """The entry of dataset ``name`` and the argument after its colon; an error that lists
    the datasets of ``kind`` when there is no such name or it does not come as ``kind``."""
    try:
        entry, arg = DATASETS.resolve(name)
    except InputError:
        known = list(dataset_names(kind))
        close = difflib.get_close_matches(name.strip().lower(), known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InputError(f"unknown dataset {name!r}{hint}; known: {', '.join(known)}") from None
    if entry.form(kind) is None:
        have = " and ".join(
            f"a {k.__name__.lower()} set (for {_USED_BY.get(k, 'snellen eval')})"
            for k in entry.forms
        )
        raise InputError(f"dataset {name!r} comes as {have}, not as a {_kind_name(kind)} set")
    return entry, arg


@overload
def build_dataset(
    name: str, root: str | Path | None = None, split: str | None = None, *, kind: type[K],
    **options: Any,
) -> K: ...  # fmt: skip
@overload
def build_dataset(
    name: str, root: str | Path | None = None, split: str | None = None, *,
    kind: tuple[type[K], ...], **options: Any,
) -> K: ...  # fmt: skip
@overload
def build_dataset(
    name: str, root: str | Path | None = None, split: str | None = None, *,
    kind: None = None, **options: Any,
) -> Dataset: ...  # fmt: skip
def build_dataset(
    name: str, root: str | Path | None = None, split: str | None = None, *,
    kind: type | tuple[type, ...] | None = None, **options: Any,
) -> Any:  # fmt: skip
    """The dataset called ``name`` (see :data:`DATASETS`) as ``kind`` (a kind, several to
    accept any of them, or None for the dataset's default kind), read from ``root`` (a
    directory of files in the official format) at ``split`` (None: the dataset's own
    default). ``options`` as in :class:`BuildOptions` (``limit``, ``seed``, ``n``,
    ``classnames``, ``work``); ``limit`` keeps the first cases of a test set."""
    entry, arg = resolve_dataset(name, kind)
    form = entry.form(kind)
    assert form is not None  # noqa: S101 - resolve_dataset checked it, narrows the type
    if options.get("classnames"):
        options["classnames"] = Path(options["classnames"]).expanduser()
    opts = BuildOptions(
        root=Path(root).expanduser() if root is not None else None,
        root_text=str(root) if root is not None else "",
        split=split,
        **options,
    )
    data = form[1](opts, arg)
    if isinstance(data, VQA) and split:
        data.eval_split = split  # a question set reads any of its splits
    if opts.limit is not None and isinstance(data, EVAL_KINDS) and len(data) > opts.limit:
        data = data.take(opts.limit)
    return data


# the name in ``snellen``'s API (``snellen.build_dataset`` builds image datasets from programs)
load_dataset = build_dataset


def _register_all() -> None:
    from snellen.datasets import (
        aro,
        folders,
        karpathy,
        mnist,
        sugarcrepe,
        sugarcrepe_pp,
        vad,
        vad_composition,
        vqa,
        whatsup,
        winoground,
    )

    # the order of the list (``snellen eval --list`` shows the evaluation sets in it)
    for module in (vad, aro, sugarcrepe, karpathy, folders, mnist):
        module.register()
    for module in (vad_composition, winoground, whatsup, sugarcrepe_pp, vqa):
        module.register()


_register_all()
