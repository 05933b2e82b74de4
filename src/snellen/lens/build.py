"""Building a LENS run's vision modules: the vocabulary, then each module the prompt needs,
looked up by name in :data:`~snellen.lens.modules.VISION_MODULES` and built from one
:class:`~snellen.lens.modules.BuildContext`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from snellen.datasets import VQA
from snellen.lens.modules import VISION_MODULES, BuildContext, VisionModule
from snellen.lens.vocab import Vocabulary, shape_names, shapes_descriptors


def default_vocab(ds: VQA) -> Vocabulary:
    """The tag vocabulary a dataset implies: its classes, the shape names for shapes sets,
    else snellen's object names."""
    if ds.task == "classify":
        names = list(ds.classes)
    elif ds.name.startswith("shapes"):
        names = shape_names()
    else:
        from snellen.concepts.objects import object_names

        names = list(object_names())
    vocab = Vocabulary(
        names, source={"tags": "dataset classes" if ds.task == "classify" else "builtin"}
    )
    if ds.name.startswith("shapes"):
        vocab.descriptors = shapes_descriptors(names)
        vocab.attribute_template = "a {descriptor} {name}"
    return vocab


def build_modules(
    cfg: Any, needed: Sequence[str], ds: VQA, scorer: Any, embeddings_dir: Path,
    notes: list[str],
) -> list[VisionModule]:  # fmt: skip
    """The modules named in ``needed``, each built by its registered class (a module that
    cannot run says why in ``notes`` and is left out)."""
    vocab = Vocabulary.load(cfg.vocab) if cfg.vocab else default_vocab(ds)
    context = BuildContext(cfg, ds, scorer, vocab, embeddings_dir, notes)
    modules: list[VisionModule] = []
    for name in needed:
        module = VISION_MODULES.get(name).build(context)
        if module is not None:
            modules.append(module)
    return modules
