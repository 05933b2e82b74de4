"""The CLIP evaluation suite (``snellen eval``): zero-shot classification, image-text
retrieval and image-caption selection (ARO, SugarCrepe, VAD-ARO with exact truth), with
ARO's order perturbations. Tasks are plain functions (:mod:`snellen.evaluate.tasks`),
datasets come from one :func:`build_dataset`, models from :func:`snellen.score.load_scorer`,
and each run is one :class:`EvalResult` written as JSON.

>>> import snellen
>>> r = snellen.evaluate("aro", "snellen-shapes", "vad-aro/relation", n=200)  # doctest: +SKIP
>>> r.metrics["macro_accuracy"]  # doctest: +SKIP
"""

import sys
import types
from typing import Any

from snellen.evaluate.data import (
    Classification,
    ImagePairs,
    ImageSource,
    Retrieval,
    Selection,
    Spatial,
    Triplets,
)
from snellen.evaluate.datasets import DATASETS, BuildOptions, build_dataset
from snellen.evaluate.records import EvalResult
from snellen.evaluate.run import TASKS, evaluate, load_results, write_result
from snellen.evaluate.sweep import SweepResult, sweep
from snellen.evaluate.table import results_table, write_table

# the name the top-level API gives it (``snellen.build_dataset`` builds image datasets)
build_eval_dataset = build_dataset

__all__ = [
    "DATASETS",
    "TASKS",
    "BuildOptions",
    "Classification",
    "EvalResult",
    "ImagePairs",
    "ImageSource",
    "Retrieval",
    "Selection",
    "Spatial",
    "SweepResult",
    "Triplets",
    "build_dataset",
    "build_eval_dataset",
    "evaluate",
    "load_results",
    "list_eval",
    "results_table",
    "sweep",
    "write_result",
    "write_table",
]


def list_eval() -> dict[str, dict[str, str]]:
    """Tasks and datasets with one line of help each (``snellen eval --list``)."""
    return {"tasks": TASKS.help(), "datasets": DATASETS.help()}


class _CallablePackage(types.ModuleType):
    """``snellen.evaluate`` is both this package and the Python twin of ``snellen eval``:
    once the package is imported, Python binds the name to the package, so calling the
    package calls :func:`evaluate`."""

    def __call__(self, *args: Any, **kwargs: Any) -> EvalResult:
        return evaluate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
