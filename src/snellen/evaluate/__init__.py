"""The CLIP evaluation suite (``snellen eval``): zero-shot classification, image-text
retrieval and image-caption selection (ARO, SugarCrepe, VAD-ARO with exact truth), with
ARO's order perturbations. Tasks are plain functions (:mod:`snellen.evaluate.tasks`),
datasets come from the dataset layer (:func:`snellen.datasets.build_dataset`), models from
:func:`snellen.score.load_scorer`, and each run is one :class:`EvalResult` written as JSON.

>>> import snellen
>>> r = snellen.run_eval("aro", "snellen-shapes", "vad-aro/relation", n=200)  # doctest: +SKIP
>>> r.metrics["macro_accuracy"]  # doctest: +SKIP
"""

from snellen.datasets import EVAL_KINDS, dataset_names
from snellen.evaluate.records import EvalResult
from snellen.evaluate.run import TASKS, load_results, run_eval, write_result
from snellen.evaluate.sweep import SweepResult, sweep
from snellen.evaluate.table import results_table, write_table

__all__ = [
    "TASKS",
    "EvalResult",
    "SweepResult",
    "list_eval",
    "load_results",
    "results_table",
    "run_eval",
    "sweep",
    "write_result",
    "write_table",
]


def list_eval() -> dict[str, dict[str, str]]:
    """Tasks and datasets with one line of help each (``snellen eval --list``)."""
    return {"tasks": TASKS.help(), "datasets": dataset_names(EVAL_KINDS)}
