"""One evaluation run: resolve the task, the dataset and the model by name, embed, score,
and write one JSON record (:class:`EvalResult`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snellen.datasets import (
    DATASETS,
    EVAL_KINDS,
    Classification,
    EvalDataset,
    ImagePairs,
    Retrieval,
    Selection,
    Spatial,
    Triplets,
    build_dataset,
    resolve_dataset,
)
from snellen.errors import InputError
from snellen.evaluate.anchors import anchors_for
from snellen.evaluate.checkpoint import checkpoint_for
from snellen.evaluate.records import EvalResult
from snellen.records import ScorerLabels
from snellen.records.evaluation import read_eval_results
from snellen.registry import Registry, import_target, parse_name
from snellen.score.base import Scorer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaskEntry:
    evaluate: (
        Any  # the task module's evaluate(scorer, dataset, batch_size, workers, seeds, progress)
    )
    takes: type


TASKS: Registry[TaskEntry] = Registry("task")
TASKS.register(
    "zeroshot",
    TaskEntry("snellen.evaluate.tasks.zeroshot:evaluate", Classification),
    help="zero-shot classification with prompt templates: top-1/top-5, mean per-class recall",
    aliases=("zeroshot_classification",),
)
TASKS.register(
    "retrieval",
    TaskEntry("snellen.evaluate.tasks.retrieval:evaluate", Retrieval),
    help="image-text retrieval: recall@1/5/10 in both directions",
    aliases=("zeroshot_retrieval",),
)
TASKS.register(
    "aro",
    TaskEntry("snellen.evaluate.tasks.aro:evaluate", Selection),
    help="image-caption selection (ARO, SugarCrepe): the true caption against false ones",
    aliases=("image_caption_selection",),
)
# the compositionality benchmarks that score more than one caption per image
TASKS.register(
    "winoground",
    TaskEntry("snellen.evaluate.tasks.winoground:evaluate", ImagePairs),
    help="two images x two captions (Winoground, ColorSwap): text, image and group scores",
    aliases=("image_pair_matching",),
)
TASKS.register(
    "whatsup",
    TaskEntry("snellen.evaluate.tasks.whatsup:evaluate", Spatial),
    help="spatial prepositions (What's Up): individual, pair and set accuracy",
)
TASKS.register(
    "sugarcrepe++",
    TaskEntry("snellen.evaluate.tasks.triplet:evaluate", Triplets),
    help="two true captions and a hard negative (SugarCrepe++): ITT and TOT scores",
    aliases=("triplet",),
)

DEFAULT_SEEDS = 5


def _task_fn(entry: TaskEntry) -> Any:
    return import_target(entry.evaluate) if isinstance(entry.evaluate, str) else entry.evaluate


def run_eval(
    task: str,
    model: str | Scorer,
    dataset: str,
    root: str | Path | None = None,
    out: str | Path | None = None,
    *,
    batch_size: int | None = None,
    limit: int | None = None,
    seed: int = 0,
    n_seeds: int = DEFAULT_SEEDS,
    n: int = 500,
    split: str = "heldout",
    classnames: str | Path | None = None,
    workers: int | None = None,
    device: str | None = None,
    progress: bool = True,
    data: EvalDataset | None = None,
    force: bool = False,
    precision: str | None = None,
) -> EvalResult:
    """Evaluate ``model`` (a scorer name as ``snellen score`` takes, or a loaded scorer) on
    ``task`` over ``dataset`` and return the record; write it as JSON to ``out`` (a file, or
    a directory that gets one file per run). ``seed`` seeds the generated datasets and the
    first draw of random candidates; ``n_seeds`` draws (seed, seed+1, ...) are averaged for
    the order sets. ``n`` and ``split`` shape the VAD sets; ``limit`` keeps the first cases.
    ``data``: the dataset already built by :func:`snellen.datasets.build_dataset` (``dataset``
    then only names it), to evaluate several models on one set without building it again.
    ``precision``: ``fp32`` (the scorer's default), ``amp`` (bfloat16 autocast on the CPU, as
    clip_benchmark's ``--amp``) or ``bf16`` (a bfloat16 copy of the model; the fastest on
    CPUs with bfloat16 units); the latter two are not exact.

    With ``out`` a directory the run is resumable (:mod:`snellen.evaluate.checkpoint`): its
    embeddings are kept in ``out/progress`` as they are made, a killed run started again
    computes only what is missing, and a run already complete with the same model, data and
    options is not run again (its stored record is returned, with ``resumed["complete"]``
    set) unless ``force``."""
    from snellen import __version__
    from snellen.score import load_scorer

    t0 = time.monotonic()
    entry = TASKS.get(task)
    task_name = TASKS.canonical(task)
    dataset_entry, _ = resolve_dataset(dataset, EVAL_KINDS)
    if isinstance(model, str):
        scorer = load_scorer(model, **({"device": device} if device else {}))
    else:
        scorer = model
    if batch_size:
        scorer.batch_size = batch_size
    if precision:
        scorer.precision = precision  # an InputError names the choices
    if data is None:
        data = build_dataset(
            dataset, root, split, kind=EVAL_KINDS, limit=limit, seed=seed, n=n,
            classnames=classnames,
        )  # fmt: skip
    if not isinstance(data, entry.takes):
        raise InputError(
            f"dataset {dataset!r} is a {type(data).__name__.lower()} set; task {task_name!r} "
            f"needs a {entry.takes.__name__.lower()} set (try task {dataset_entry.task!r})"
        )
    if len(data) == 0:
        raise InputError(f"dataset {dataset!r} has no cases (check --root and --limit)")
    seeds = list(range(seed, seed + max(1, n_seeds)))
    options = {
        "limit": limit,
        "n": n,
        "split": split,
        "batch_size": batch_size,
        "precision": scorer.precision,
        "root": str(root) if root else None,
    }  # fmt: skip
    checkpoint = checkpoint_for(
        out, scorer, data, task_name,
        {**options, "dataset": dataset, "seeds": seeds, "scorer_batch": scorer.batch_size},
    )  # fmt: skip
    try:
        done = checkpoint.completed()
        if done is not None and not force:
            assert out is not None  # noqa: S101 - an invariant that narrows the type, not a check of input
            path = result_path(done.result, out)
            if not path.exists() or path.read_text(encoding="utf-8") != _json(done.result):
                write_result(done.result, out)
            checkpoint.close("complete")
            return dataclasses.replace(done.result, resumed={"complete": 1})
        if force:
            checkpoint.forget([checkpoint.image_group(scorer, data.images, scorer.batch_size)])
        output = _task_fn(entry)(
            scorer, data, scorer.batch_size, workers, seeds, progress, checkpoint=checkpoint
        )
    except BaseException:
        checkpoint.close("interrupted")
        raise
    if output.counts.get("images", output.counts.get("cases", 1)) == 0:
        checkpoint.close("failed")
        raise InputError(
            f"dataset {dataset!r}: none of its {len(data)} images could be read; first error: "
            f"{next(iter(output.skipped.values()), '?')}"
        )
    because = not_comparable_because(
        scorer.labels, dataset, dataset_entry.published, limit, scorer.precision,
        output.counts.get("skipped", len(output.skipped)),
    )  # fmt: skip
    anchors = (
        [] if because else anchors_for(scorer.released, DATASETS.canonical(parse_name(dataset)[0]))
    )
    pretrained = parse_name(scorer.name)[1] or ""
    result = EvalResult(
        task=task_name,
        dataset=dataset,
        model=scorer.name,
        pretrained=pretrained,
        metrics=output.metrics,
        comparable_with_published=not because,
        model_labels=scorer.labels,
        breakdown=output.breakdown,
        counts=output.counts,
        skipped=[f"{i}: {why}" for i, why in list(output.skipped.items())[:100]],
        published=anchors,
        seconds=round(time.monotonic() - t0, 3),
        seed=seed,
        seeds=output.seeds,
        options=options,
        resumed=dict(checkpoint.reused) if checkpoint.run is not None else {},
        snellen_version=__version__,
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        not_comparable_because=because,
    )
    if out is not None:
        checkpoint.complete(result, write_result(result, out))
    checkpoint.close()
    return result


def not_comparable_because(
    labels: ScorerLabels, dataset: str, official: bool, limit: int | None, precision: str,
    skipped: int,
) -> list[str]:  # fmt: skip
    """Why a run's numbers may not be set beside a paper's (empty: they may). Comparable means
    released weights, an official benchmark read whole, exact (fp32) arithmetic and every
    image read."""
    because = []
    if not labels.standard:
        because.append(f"model: {labels.note or 'not a known release of published weights'}")
    if not official:
        because.append(f"dataset {dataset}: not an official benchmark in its official format")
    if limit is not None:
        because.append(f"--limit {limit}: a subset, not the full official split")
    if precision != "fp32":
        because.append(f"precision {precision}: not exact (run with --precision fp32)")
    if skipped:
        because.append(f"{skipped} image(s) could not be read and were skipped")
    return because


def result_name(result: EvalResult) -> str:
    """The file name of a run: every option that changes its numbers, as CLIP_benchmark
    names its outputs: ``TASK__DATASET__MODEL__seedS-dD-nN-SPLIT-LIMIT-PRECISION[-rootH].json``
    (``dD``: draws of random candidates averaged, 1 for sets without random candidates; ``LIMIT``: ``full`` or ``limitL``; ``rootH``:
    a hash of the dataset directory), so runs that differ in any of them never share a file."""
    o = result.options
    limit = o.get("limit")
    parts = [
        f"seed{result.seed}", f"d{len(result.seeds) or 1}", f"n{o.get('n')}",
        str(o.get("split")), "full" if limit is None else f"limit{limit}",
        str(o.get("precision") or "fp32"),
    ]  # fmt: skip
    if o.get("root"):
        parts.append("root" + hashlib.sha256(str(o["root"]).encode()).hexdigest()[:8])
    stem = "__".join(
        [_name_part(result.task), _name_part(result.dataset), _name_part(result.model),
         "-".join(parts)]
    )  # fmt: skip
    return stem + ".json"


_NAME_PART = 64  # a file name stays far below the 255 bytes file systems allow


def _name_part(text: str) -> str:
    """``text`` safe for a file name; a long one (a model given by its full path) keeps its
    end, which names the file, and a hash of the whole, which keeps names apart."""
    safe = re.sub(r"[^A-Za-z0-9_.=-]+", "-", text).strip("-")
    if len(safe) <= _NAME_PART:
        return safe
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    return f"{safe[-(_NAME_PART - 11) :].lstrip('-.')}-{digest}"


def result_path(result: EvalResult, out: str | Path) -> Path:
    """``out`` itself for a ``.json`` name, else ``out/`` :func:`result_name`."""
    out = Path(out)
    if out.suffix == ".json":
        return out
    return out / result_name(result)


def _json(result: EvalResult) -> str:
    return json.dumps(result.to_row(), indent=2, allow_nan=False, default=str) + "\n"


def write_result(result: EvalResult, out: str | Path) -> Path:
    """Write the record as JSON, atomically (a temporary file renamed into place)."""
    path = result_path(result, out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(_json(result), encoding="utf-8")
    tmp.replace(path)
    return path


def load_results(path: str | Path) -> list[EvalResult]:
    """Every run record in a directory (recursively) or one JSON file."""
    return read_eval_results(path)
