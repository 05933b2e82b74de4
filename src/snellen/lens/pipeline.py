"""``snellen lens TASK``: vision modules describe each image in text, a frozen LLM answers
from that text; scored next to three baselines in the same run (the vision model alone, the
LLM blind, the majority answer).

The parts: :mod:`~snellen.lens.build` builds the modules, :mod:`~snellen.lens.answering`
asks the reasoner (open, extracted and closed answers), :mod:`~snellen.lens.baselines` gives
the answers without a reasoner, :mod:`~snellen.lens.summary` turns answers into the typed
:class:`~snellen.lens.summary.LensReport` with bootstrap intervals. This module runs them in
order.

Everything is resumable: items, module texts and answers are records keyed by what produced
them, and LLM replies go through the run's reply cache. The run's settings are only the task,
dataset and split, so the same run directory can be reused with another LLM, prompt or
number of shots (the module texts are kept) or another vision model (new texts are added).
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from snellen.datasets import VQA, build_dataset
from snellen.errors import InputError
from snellen.lens.answering import Reasoner, Timing, calibrated
from snellen.lens.answers import ANSWER_PARSER, ClassMapper, clean_reply, extract_answer
from snellen.lens.baselines import majority_baseline, open_image, vision_baseline
from snellen.lens.build import build_modules, default_vocab
from snellen.lens.modules import ImageBatch, VisionModule
from snellen.lens.prompts import TASK_MODES, Prompter, blind_prompter
from snellen.lens.records import LensAnswer, LensItem, VisionText
from snellen.lens.summary import (
    LensReport,
    answer_in_text,
    compare,
    summarize,
    write_metrics,
)
from snellen.records import ScorerLabels
from snellen.store import Run

__all__ = [
    "ANSWER_PARSER",
    "ClassMapper",
    "LensConfig",
    "answer_vocabulary",
    "build_modules",
    "clean_reply",
    "default_vocab",
    "evaluate",
    "extract_answer",
    "run_lens",
    "run_vision",
]

TASKS = ("classify", "vqa", "binary")
METHODS = ("lens", "vision", "blind", "majority")
ANSWER_MODES = ("open", "closed")
DEFAULT_VISION = "snellen-shapes"
DEFAULT_CAPTIONER = "detections"
DEFAULT_MODEL = "smollm2"


@dataclass
class LensConfig:
    """Every setting of a LENS evaluation (the CLI's flags). ``answers="closed"`` adds the
    closed reading (the answer vocabulary ranked by log-likelihood) to the open and
    extracted ones; ``answer_vocab`` is a file of candidate answers, one a line (default:
    the answers of the dataset's annotations)."""

    task: str
    dataset: str
    root: str | None = None
    out: str = "lens-run"
    vision: str = DEFAULT_VISION
    captioner: str = DEFAULT_CAPTIONER
    model: str = DEFAULT_MODEL
    split: str | None = None
    limit: int | None = None
    shots: int = 0
    mode: str | None = None
    template: str | None = None
    vocab: str | None = None
    tags_k: int = 5
    attributes_k: int = 5
    threshold: float = 0.2
    captions_n: int = 10
    captions_top_k: int = 50
    caption_tokens: int = 30
    caption_min_similarity: float | None = None
    max_tokens: int = 10
    instruction: str | None = None
    concurrency: int | None = None
    batch_size: int = 64
    seed: int = 0
    baselines: tuple[str, ...] = ("vision", "blind", "majority")
    answers: str = "open"
    answer_vocab: str | None = None
    device: str | None = None
    llm_engine: str | None = None
    threads: int | None = None
    report: bool = True
    progress: bool = True


# a system message for chat models, which otherwise answer in sentences (Flan-T5, LENS's
# reasoner, answers briefly by itself); ``--instruction ""`` leaves it out
INSTRUCTIONS = {
    "vqa": "Answer the question with a single word or number.",
    "classify": "Answer with the name of the object only.",
    "binary": "Answer yes or no.",
}


def run_vision(
    run: Run, modules: Sequence[VisionModule], images: dict[str, str], *, batch_size: int = 64,
    progress: bool = True,
) -> float:  # fmt: skip
    """Run every module over the images it has not seen yet (batched); returns seconds."""
    start = time.perf_counter()
    done = run.keys(VisionText.kind)
    for module in modules:
        fp = module.fingerprint()
        todo = [k for k in images if f"{fp}/{k}" not in done]
        if not todo:
            continue
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(todo), desc=f"vision: {module.name}", unit="img", leave=False)
        for i in range(0, len(todo), batch_size):
            keys = todo[i : i + batch_size]
            batch = ImageBatch(keys, [open_image(images[k]) for k in keys])
            run.put_records(module.run(batch))
            if bar is not None:
                bar.update(len(keys))
        if bar is not None:
            bar.close()
    return time.perf_counter() - start


def image_key(path: str) -> str:
    p = Path(path)
    return f"{p.parent.name}/{p.name}"


def answer_vocabulary(
    cfg: LensConfig, items: Sequence[LensItem], train: Sequence[LensItem], notes: list[str]
) -> list[str]:
    """The candidate answers: ``cfg.answer_vocab`` (one a line), else every answer in the
    train split's annotations, else the evaluated split's (said in ``notes``)."""
    if cfg.answer_vocab:
        path = Path(cfg.answer_vocab)
        if not path.is_file():
            raise InputError(f"--answer-vocab {path}: no such file; give one answer a line")
        words = [w.strip() for w in path.read_text().splitlines() if w.strip()]
        if not words:
            raise InputError(f"--answer-vocab {path}: the file lists no answers")
        return sorted(set(words))
    pool = train or items
    if not train:
        notes.append("answer vocabulary taken from the evaluated split's annotations")
    return sorted({a for it in pool for a in it.answers} | {it.label for it in pool})


def closed_candidates(
    vocabulary: Sequence[str], train: Sequence[LensItem], items: Sequence[LensItem]
) -> dict[str, list[str]]:
    """The candidates a closed answer is chosen from: per question type, the answers the
    annotations give that type (train split, else the evaluated one), so a colour question
    ranks colours and a count question numbers, as an answer-type-aware VQA head does; the
    whole vocabulary (key ``""``) for a type with fewer than two answers."""
    by_type: dict[str, set[str]] = defaultdict(set)
    for it in train or items:
        if it.question_type:
            by_type[it.question_type].update(it.answers)
    out = {q: sorted(a) for q, a in by_type.items() if len(a) >= 2}
    out[""] = list(vocabulary)
    return out


def run_lens(
    task: str, dataset: str, *, root: str | None = None, out: str = "lens-run",
    vision: str | None = None, captioner: str | None = None, model: str | None = None,
    limit: int | None = None, shots: int = 0, llm: Any = None, **options: Any,
) -> LensReport:  # fmt: skip
    """Evaluate LENS on ``dataset`` for ``task`` (``classify``, ``vqa`` or ``binary``) with
    its baselines; writes ``OUT/metrics.json`` (and ``OUT/report.html``) and returns the
    task's :class:`LensReport`. ``llm`` may pass a loaded chat model in place of ``model``."""
    cfg = LensConfig(
        task=task, dataset=dataset, root=root, out=out, vision=vision or DEFAULT_VISION,
        captioner=captioner or DEFAULT_CAPTIONER, model=model or DEFAULT_MODEL, limit=limit,
        shots=shots, **options,
    )  # fmt: skip
    return evaluate(cfg, llm=llm)


def _check(cfg: LensConfig) -> None:
    if cfg.task not in TASKS:
        raise InputError(f"unknown LENS task {cfg.task!r}; use one of {', '.join(TASKS)}")
    unknown = set(cfg.baselines) - set(METHODS[1:])
    if unknown:
        raise InputError(f"unknown baseline(s) {sorted(unknown)}; use vision, blind, majority")
    if cfg.answers not in ANSWER_MODES:
        raise InputError(f"--answers {cfg.answers!r}: use one of {', '.join(ANSWER_MODES)}")
    if cfg.answers == "closed" and cfg.task != "vqa":
        raise InputError("--answers closed ranks a VQA answer vocabulary; use it with vqa")


@dataclass
class _Inputs:
    """A run's items and what the vision side made of them."""

    ds: VQA
    split: str
    items: list[LensItem]
    train: list[LensItem]
    shot_items: list[LensItem]
    prompter: Prompter
    scorer: Any
    modules: list[VisionModule]
    texts: dict[str, dict[str, list[str]]]
    notes: list[str]


def _items(
    cfg: LensConfig, ds: VQA, split: str
) -> tuple[list[LensItem], list[LensItem], list[LensItem]]:
    items = ds.items(split)
    if cfg.limit is not None:
        items = items[: cfg.limit]
    if not items:
        raise InputError(f"{cfg.dataset}: split {split!r} has no items")
    train = ds.train_items()
    shot_items: list[LensItem] = []
    if cfg.shots > 0:
        if not train:
            raise InputError(
                f"--shots {cfg.shots}: {cfg.dataset} has no train split under {ds.root}"
            )
        shot_items = random.Random(cfg.seed).sample(train, min(cfg.shots, len(train)))  # noqa: S311 - seeded few-shot choice, not security
    return items, train, shot_items


def _vision_side(cfg: LensConfig, ds: VQA, split: str, run: Run, timing: Timing) -> _Inputs:
    notes = list(ds.notes)
    items, train, shot_items = _items(cfg, ds, split)
    run.put_records(items)
    prompter = Prompter.for_mode(cfg.mode or TASK_MODES[cfg.task], cfg.template)
    needed = prompter.modules()
    scorer = None
    wants_scorer = {"tags", "attributes"} & set(needed) or "vision" in cfg.baselines
    if wants_scorer or (
        "captions" in needed and cfg.captioner in ("detections", "detections-scorer")
    ):
        from snellen.score import load_scorer

        scorer = load_scorer(cfg.vision, device=cfg.device)
    modules = build_modules(cfg, needed, ds, scorer, Path(cfg.out) / "embeddings", notes)
    images = {image_key(it.image): it.image for it in [*items, *shot_items]}
    timing.vision_images = len(images)
    timing.vision_s = run_vision(run, modules, images, batch_size=cfg.batch_size,
                                 progress=cfg.progress)  # fmt: skip
    texts: dict[str, dict[str, list[str]]] = defaultdict(dict)
    fps = {m.fingerprint(): m.name for m in modules}
    empty = 0
    for rec in run.load_records(VisionText):
        if rec.config in fps and rec.image in images:
            texts[rec.image][fps[rec.config]] = list(rec.texts)
            empty += rec.module == "captions" and not rec.texts
    if empty:
        notes.append(f"{empty} of {len(images)} images got no caption (no bank caption matched "
                     "well enough)")  # fmt: skip
    return _Inputs(ds, split, items, train, shot_items, prompter, scorer, modules, texts, notes)


def _reasoner(cfg: LensConfig, inp: _Inputs, run: Run, llm: Any, timing: Timing) -> Reasoner:
    def question_of(it: LensItem) -> str:
        return it.question or inp.ds.question

    def answer_of(it: LensItem) -> str:
        if cfg.task == "binary":
            return "yes" if it.label == "1" else "no"
        return it.label

    def texts_of(it: LensItem) -> dict[str, list[str]]:
        return inp.texts[image_key(it.image)]

    instruction = INSTRUCTIONS[cfg.task] if cfg.instruction is None else cfg.instruction
    vocabulary = (
        answer_vocabulary(cfg, inp.items, inp.train, inp.notes) if cfg.task == "vqa" else []
    )
    return Reasoner(
        run, llm, cfg.task, instruction, cfg.max_tokens, cfg.concurrency, cfg.progress,
        inp.shot_items, question_of, answer_of, texts_of, [m.fingerprint() for m in inp.modules],
        timing, ClassMapper(inp.ds.classes) if cfg.task == "classify" else None, vocabulary,
    )  # fmt: skip


def _answers(
    cfg: LensConfig, inp: _Inputs, run: Run, reasoner: Reasoner | None
) -> dict[str, list[LensAnswer]]:
    answers: dict[str, list[LensAnswer]] = {}
    if reasoner is not None:
        answers.update(reasoner.ask("lens", inp.prompter, inp.items, True))
        if cfg.answers == "closed":
            candidates = closed_candidates(reasoner.vocabulary, inp.train, inp.items)
            answers["lens-closed"] = reasoner.closed(
                "lens", inp.prompter, inp.items, True, candidates
            )
        if "blind" in cfg.baselines:
            blind = blind_prompter()
            answers.update(reasoner.ask("blind", blind, inp.items, False))
            if cfg.answers == "closed":
                answers["blind-closed"] = reasoner.closed(
                    "blind", blind, inp.items, False,
                    closed_candidates(reasoner.vocabulary, inp.train, inp.items),
                )  # fmt: skip
                answers["lens-calibrated"] = calibrated(
                    cfg.task, inp.items, answers["lens-closed"], answers["blind-closed"]
                )
                run.put_records(answers["lens-calibrated"])
    if "vision" in cfg.baselines:
        answers["vision"] = vision_baseline(cfg.task, inp.ds, inp.items, inp.train, inp.scorer,
                                            Path(cfg.out) / "embeddings")  # fmt: skip
        run.put_records(answers["vision"])
    if "majority" in cfg.baselines:
        answers["majority"] = majority_baseline(cfg.task, inp.items, inp.train, inp.notes)
        run.put_records(answers["majority"])
    return answers


def _report(cfg: LensConfig, inp: _Inputs, answers: dict[str, list[LensAnswer]], llm: Any,
            timing: Timing) -> LensReport:  # fmt: skip
    methods = {m: summarize(cfg.task, inp.items, a, seed=cfg.seed) for m, a in answers.items()}
    comparisons = []
    for ours in ("lens", "lens-extracted", "lens-closed", "lens-calibrated"):
        for base in ("blind", "blind-extracted", "blind-closed", "majority", "vision"):
            if ours in answers and base in answers:
                comparisons.append(compare(inp.items, answers[ours], answers[base], cfg.seed))
    return LensReport(
        task=cfg.task, dataset=cfg.dataset, split=inp.split, n=len(inp.items), methods=methods,
        answer_in_text=answer_in_text(inp.items, inp.texts, cfg.task, key=lambda it: image_key(it.image)),
        settings={k: v for k, v in asdict(cfg).items() if k not in ("progress", "report")},
        modules={m.name: m.fingerprint() for m in inp.modules}, mode=inp.prompter.mode,
        llm=llm.describe() if hasattr(llm, "describe") else str(llm),
        shot_items=[s.id for s in inp.shot_items], timing=asdict(timing), labels=inp.notes,
        vision_labels=_labels_of(inp.scorer), comparisons=comparisons,
        items=list(inp.items), answers=answers,
    )  # fmt: skip


def evaluate(cfg: LensConfig, llm: Any = None) -> LensReport:
    """Run one LENS evaluation (see the module doc) and write its ``metrics.json``."""
    _check(cfg)
    if cfg.threads:
        # on a shared machine one thread per process beats two fighting over busy cores
        torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    ds = build_dataset(cfg.dataset, cfg.root or None, cfg.split, kind=VQA, work=out / "data")
    if ds.task != cfg.task:
        raise InputError(f"--dataset {cfg.dataset} is a {ds.task} set, not {cfg.task}")
    split = ds.eval_split
    run = Run.open(
        out, command="lens",
        config={"task": cfg.task, "dataset": cfg.dataset, "root": str(ds.root.resolve()), "split": split},
        seeds={"seed": cfg.seed}, prepared=("data",),  # a set built into OUT/data just now
    )  # fmt: skip
    try:
        timing = Timing()
        inp = _vision_side(cfg, ds, split, run, timing)
        if llm is None and ({"lens", "blind"} & {"lens", *cfg.baselines}):
            from snellen.llm import load_model

            llm = load_model(cfg.model, engine=cfg.llm_engine)
        run.update_manifest(
            models={"vision": cfg.vision, "captioner": cfg.captioner, "llm": llm.name}
        )
        answers = _answers(cfg, inp, run, _reasoner(cfg, inp, run, llm, timing))
        report = _report(cfg, inp, answers, llm, timing)
        write_metrics(out, report)
        run.export_parquet(LensAnswer.kind)
        if cfg.report:
            from snellen.lens.report import write_lens_report

            write_lens_report(out, inp.items, inp.texts, answers, report.to_dict())
        run.finish()
        return report
    except BaseException:
        run.finish("interrupted")
        raise
    finally:
        run.close()


def _labels_of(scorer: Any) -> dict[str, Any]:
    """The vision scorer's labels as ``metrics.json`` records them (none for a module
    without a scorer)."""
    labels = getattr(scorer, "labels", None)
    return labels.summary() if isinstance(labels, ScorerLabels) else {}
