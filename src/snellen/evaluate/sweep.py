"""Sweeps: one task over every (model, dataset) of two lists (``snellen eval TASK --model
A,B --dataset X,Y --out DIR``), one result file each, in the order model by model so each
model is loaded once and each dataset built once.

A sweep is resumable because each run is (:mod:`snellen.evaluate.checkpoint`): run again
after a kill, it returns the runs ``DIR`` holds complete without computing them, resumes
the one that was cut off from its stored embeddings, and runs the rest. A run that fails
on its input (a dataset the task cannot take, a missing ``--root``) is recorded and the
sweep goes on; the others' files are written all the same."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from snellen.datasets import EvalDataset
from snellen.errors import InputError
from snellen.evaluate.records import EvalResult

log = logging.getLogger(__name__)

__all__ = ["SweepResult", "SweepRun", "split_names", "sweep"]

# the options that shape a dataset (the rest go to evaluate only)
_DATA_OPTIONS = ("limit", "seed", "n", "split", "classnames")


@dataclass(frozen=True)
class SweepRun:
    """One (model, dataset) of a sweep: ``status`` is ``ran``, ``complete`` (found done in
    the output directory) or ``failed`` (``error`` says why)."""

    model: str
    dataset: str
    status: str
    path: str = ""
    error: str = ""


@dataclass(frozen=True)
class SweepResult:
    runs: list[SweepRun] = field(default_factory=list)
    results: list[EvalResult] = field(default_factory=list)

    @property
    def failed(self) -> list[SweepRun]:
        return [r for r in self.runs if r.status == "failed"]


def split_names(value: str | Sequence[str]) -> list[str]:
    """``"a,b"`` or ``["a", "b,c"]`` -> ``["a", "b", "c"]``, in order, without repeats."""
    parts = [value] if isinstance(value, str) else list(value)
    names = [n.strip() for p in parts for n in p.split(",") if n.strip()]
    return list(dict.fromkeys(names))


def sweep(
    task: str,
    models: str | Sequence[str],
    datasets: str | Sequence[str],
    out: str | Path,
    root: str | Path | None = None,
    *,
    progress: bool = True,
    device: str | None = None,
    **options: Any,
) -> SweepResult:
    """Evaluate ``task`` for every model of ``models`` on every dataset of ``datasets``
    (lists, or comma-separated names) and write one JSON per run under the directory
    ``out``. ``options`` are :func:`~snellen.evaluate.run_eval`'s (``limit``, ``seed``,
    ``n``, ``split``, ``batch_size``, ``n_seeds``, ``precision``, ``force`` ...)."""
    from tqdm import tqdm

    from snellen.datasets import EVAL_KINDS, build_dataset
    from snellen.evaluate.run import result_path, run_eval
    from snellen.score import load_scorer

    model_names, dataset_names = split_names(models), split_names(datasets)
    if not model_names or not dataset_names:
        raise InputError("a sweep needs at least one model and one dataset (comma-separated)")
    if Path(out).suffix == ".json":
        raise InputError(f"{out}: a sweep writes one file per run; give --out a directory")
    data_options = {k: options[k] for k in _DATA_OPTIONS if options.get(k) is not None}
    built: dict[str, EvalDataset | InputError] = {}
    runs: list[SweepRun] = []
    results: list[EvalResult] = []
    bar = tqdm(total=len(model_names) * len(dataset_names), desc="runs", unit="run",
               disable=not progress)  # fmt: skip
    try:
        for model in model_names:
            scorer = load_scorer(model, **({"device": device} if device else {}))
            for name in dataset_names:
                bar.set_postfix_str(f"{model} / {name}")
                if name not in built:
                    try:
                        built[name] = build_dataset(name, root, kind=EVAL_KINDS, **data_options)
                    except InputError as e:
                        built[name] = e
                data = built[name]
                if isinstance(data, InputError):
                    runs.append(SweepRun(model, name, "failed", error=str(data)))
                    bar.update()
                    continue
                try:
                    r = run_eval(task, scorer, name, root, out, data=data, progress=progress,
                                 **options)  # fmt: skip
                except InputError as e:
                    log.warning("%s on %s with %s failed: %s", task, name, model, e)
                    runs.append(SweepRun(model, name, "failed", error=str(e)))
                else:
                    status = "complete" if r.resumed.get("complete") else "ran"
                    runs.append(SweepRun(model, name, status, str(result_path(r, out))))
                    results.append(r)
                bar.update()
    finally:
        bar.close()
    return SweepResult(runs, results)
