"""The check-up as one job: concepts -> draw -> render -> score -> recognize/correct -> report.

:func:`run_checkup` is what ``snellen checkup`` calls. With no arguments it runs offline on
the embedded defaults: the bundled SmolLM2-135M model, a seeded sample of VAD shapes and
objects, all five languages and the offline scorer. A run directory is resumable: run the
same command again after a crash and it continues where it stopped.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snellen.checkup.engine import Stage
from snellen.checkup.jobs import DRAWINGS, RECOGNITION, GenerationSettings
from snellen.checkup.prompts import PromptTemplates
from snellen.concepts.base import Concept
from snellen.errors import InputError
from snellen.languages import canonical_list
from snellen.records.checkup import Drawing, Status
from snellen.render.base import LANGUAGES

if TYPE_CHECKING:
    from snellen.score.base import Scorer
    from snellen.store import Run

log = logging.getLogger(__name__)

TASKS = ("draw", "recognize", "correct", "parametric")
DEFAULT_MODEL = "smollm2"
DEFAULT_CONCEPTS = ("shapes-3", "objects-3")
DEFAULT_TASKS = ("draw",)
# A model that states no reply limit of its own (``ChatModel.default_max_tokens``) gets room
# for a complete program: GPT-4's Processing sketches run to 600+ tokens, and a truncated
# program only measures the limit. The bundled 135M model states a short one.
DEFAULT_MAX_TOKENS = 2048


COMMAND = "checkup"


@dataclass
class CheckupResult:
    """Where a check-up was written and what it found."""

    run: Path
    report: Path | None
    drawings: int
    rendered: int
    recognition: int
    seconds: float
    llm_calls: int
    cache_hits: int
    failed: int = 0  # model requests that failed for good; rerun the command to retry them
    metrics: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def render_rate(self) -> float:
        return self.rendered / self.drawings if self.drawings else 0.0

    def summary_lines(self) -> list[str]:
        """Render rate, fidelity and recognition per language/category, for the terminal."""
        from snellen.report.summary import summary_rows

        return summary_rows(self.run)


def parse_list(value: str | Sequence[str] | None, default: Sequence[str]) -> list[str]:
    if value is None:
        return list(default)
    items = value.split(",") if isinstance(value, str) else list(value)
    return [v.strip() for v in items if v and v.strip()]


def check_tasks(tasks: Sequence[str]) -> list[str]:
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise InputError(f"unknown task(s) {unknown}; choose from {', '.join(TASKS)}")
    # draw comes first: correct and recognize build on its records
    return [t for t in TASKS if t in tasks]


def check_languages(languages: Sequence[str]) -> list[str]:
    """Canonical language names (aliases resolved, duplicates dropped)."""
    return canonical_list(languages)


def load_concept_specs(specs: Sequence[str], seed: int) -> list[Concept]:
    from snellen.concepts import load_concepts

    out: list[Concept] = []
    seen: set[str] = set()
    for spec in specs:
        for c in load_concepts(spec, seed=seed):
            if c.id not in seen:
                seen.add(c.id)
                out.append(c)
    if not out:
        raise InputError(f"the concept specs {list(specs)} hold no concepts")
    return out


@dataclass
class ReplayPlan:
    """What a replayed transcript can answer: its concepts, the recorded prompt of each
    (concept id, language), the languages it was asked in, and notes on what was changed."""

    concepts: list[Concept]
    prompts: dict[tuple[str, str | None], str]
    languages: list[str]
    notes: list[str]


def _language_of(prompt: str) -> str | None:
    """The language a recorded prompt asks for, when it names exactly one."""
    named = {
        lang
        for lang in LANGUAGES
        if re.search(rf"(?<![\w-]){re.escape(lang)}(?![\w-])", prompt, re.IGNORECASE)
    }
    return named.pop() if len(named) == 1 else None


def align_to_replay(
    model: Any,
    specs: Sequence[str],
    languages: Sequence[str] | None,
    seed: int,
) -> ReplayPlan:
    """For a replayed transcript: the concepts that have recorded replies, each one's
    recorded prompt, and the languages they were asked in. Concepts asked for that the
    transcript lacks are dropped; when fewer are left than the transcript holds
    (``objects-100`` is a seeded sample of the objects set, not the transcript's 100
    objects), the transcript's own concept list is used instead. ``languages`` None means
    the transcript's own; languages it was never asked in are dropped with a note."""
    notes: list[str] = []
    recorded: dict[tuple[str, str | None], str] = {}  # (description, language) -> prompt
    names: dict[str, str] = {}  # lower-cased description -> as written
    for rec in model.recorded():
        if not rec.concept:
            continue
        names.setdefault(rec.concept.lower(), rec.concept)
        recorded.setdefault((rec.concept.lower(), _language_of(rec.prompt)), rec.prompt)
    try:
        asked = load_concept_specs(specs, seed)
    except InputError:
        asked = []
    if not names:
        langs = list(languages or LANGUAGES)
        return ReplayPlan(asked, {}, langs, notes)

    # A recording names its concept by description ("guitar") or, when snellen wrote it, by
    # the concept's id ("shapes/424242/000000"): match either.
    match: dict[str, str] = {}  # concept id -> the recorded concept key
    for c in asked:
        for key in (c.id.lower(), c.description.lower()):
            if key in names:
                match[c.id] = key
                break
    kept = [c for c in asked if c.id in match]
    if len(kept) < min(len(asked), len(names)) or not kept:
        category = _category_of(specs)
        transcript = [
            Concept(
                id=f"{category}/{d.replace(' ', '_')}",
                category=category,
                description=d,
                attributes={"object": d} if category == "objects" else {},
            )
            for d in names.values()
        ]
        notes.append(
            f"{len(asked) - len(kept)} of the {len(asked)} concepts asked for "
            f"({', '.join(specs)}) have no recorded reply in {model.name}; using the "
            f"transcript's own {len(transcript)} concepts instead"
        )
        kept = transcript
        match = {c.id: c.description.lower() for c in transcript}
    elif len(kept) < len(asked):
        notes.append(
            f"{len(asked) - len(kept)} of the {len(asked)} concepts asked for have no recorded "
            f"reply in {model.name}; they are left out"
        )

    in_transcript = sorted({lang for _, lang in recorded if lang}, key=LANGUAGES.index)
    langs = _replay_languages(model.name, languages, in_transcript, notes)
    prompts: dict[tuple[str, str | None], str] = {}
    for c in kept:
        for lang in [*langs, None]:
            prompt = recorded.get((match[c.id], lang))
            if prompt is not None:
                prompts[(c.id, lang)] = prompt
    return ReplayPlan(kept, prompts, langs, notes)


def _replay_languages(
    name: str, languages: Sequence[str] | None, in_transcript: list[str], notes: list[str]
) -> list[str]:
    """The languages to replay: the transcript's own when none are asked for, else those
    asked for that the transcript holds (the others left out with a note)."""
    if languages is None:
        return in_transcript or list(LANGUAGES)
    langs = list(languages)
    if not in_transcript:
        return langs
    missing = [lang for lang in langs if lang not in in_transcript]
    langs = [lang for lang in langs if lang in in_transcript]
    if missing:
        notes.append(
            f"{name} was asked only in {', '.join(in_transcript)}; leaving out {', '.join(missing)}"
        )
    if not langs:
        raise InputError(
            f"{name} holds replies in {', '.join(in_transcript)} only; pass "
            f"--languages {','.join(in_transcript)}"
        )
    return langs


def _category_of(specs: Sequence[str]) -> str:
    from snellen.concepts import category_of

    for spec in specs:
        if name := category_of(spec):
            return name
    return "objects"


def _check_counts(samples: int, rounds: int, max_tokens: int | None) -> None:
    if samples < 1:
        raise InputError(f"--samples must be at least 1, not {samples}")
    if rounds < 0:
        raise InputError(f"--rounds must be 0 or more, not {rounds}")
    if max_tokens is not None and max_tokens < 1:
        raise InputError(f"--max-tokens must be at least 1, not {max_tokens}")


def _run_tasks(
    stage: Stage, task_list: list[str], concept_list: list[Concept], langs: list[str],
    templates: PromptTemplates, recorded_prompts: dict[tuple[str, str | None], str],
    constraints: list[str], *, samples: int, rounds: int, variants: int, seed: int,
    references: bool,
) -> None:  # fmt: skip
    """The asked tasks, in the order each needs the one before: draw (also for correct),
    the reference renders for the report, parametric, correct, recognize."""
    from snellen.checkup.draw import run_draw

    if "draw" in task_list or "correct" in task_list:
        run_draw(stage, concept_list, langs, samples, templates, recorded_prompts, constraints)
    if references:
        from snellen.checkup.references import render_references

        render_references(stage, concept_list, langs)
    if "parametric" in task_list:
        from snellen.checkup.parametric import run_parametric

        run_parametric(stage, concept_list, langs, variants, templates, seed)
    if "correct" in task_list and rounds > 0:
        from snellen.checkup.correct import run_correct

        run_correct(stage, concept_list, langs, rounds, templates)
    if "recognize" in task_list:
        from snellen.checkup.recognize import run_recognize

        run_recognize(stage, concept_list, langs, templates, seed=seed)


def run_checkup(
    out: str | Path = "runs/checkup",
    *,
    model: str = DEFAULT_MODEL,
    concepts: str | Sequence[str] | None = None,
    languages: str | Sequence[str] | None = None,
    samples: int = 1,
    scorer: str | None = None,
    reference: str | None = None,
    rounds: int = 2,
    tasks: str | Sequence[str] | None = None,
    seed: int = 0,
    max_tokens: int | None = None,
    temperature: float = 0.7,
    workers: int | None = None,
    concurrency: int = 1,
    variants: int = 4,
    prompts: str | Path | None = None,
    timeout: float = 20.0,
    report: bool = True,
    progress: bool = True,
    constrain: str | Sequence[str] | None = None,
    judge: str | None = None,
    judge_base_url: str | None = None,
    similarity: str | None = "efficientnet-lite0",
    ocr: bool = True,
) -> CheckupResult:
    """Run the check-up into the run directory ``out`` (created, or resumed).

    ``constrain``: ``none`` (default), ``grammar`` (a local model's replies are kept inside
    the grammar of the asked language, so every reply is a program that parses), or
    ``none,grammar`` (both, side by side in one run). It applies to the draw task.

    ``judge`` (``openai:MODEL``, at ``judge_base_url``), ``similarity`` and ``ocr`` go to
    the scoring step (:func:`snellen.metrics.score_run`)."""
    from snellen.llm import load_model
    from snellen.render.pool import LocalPool
    from snellen.store import Run

    t0 = time.monotonic()
    specs = parse_list(concepts, DEFAULT_CONCEPTS)
    langs = check_languages(parse_list(languages, LANGUAGES))
    task_list = check_tasks(parse_list(tasks, DEFAULT_TASKS))
    constraints = check_constraints(parse_list(constrain, ("none",)))
    _check_counts(samples, rounds, max_tokens)
    templates = PromptTemplates.from_file(prompts) if prompts else PromptTemplates()

    # Load the scorer before any drawing, so a bad --scorer fails in seconds, not at the end.
    image_scorer = load_image_scorer(scorer)
    chat = load_model(model)
    if max_tokens is None:
        max_tokens = chat.default_max_tokens or DEFAULT_MAX_TOKENS
    gen = GenerationSettings(max_tokens=max_tokens, temperature=temperature)
    if "grammar" in constraints and not supports_grammar(chat):
        chat.close()
        raise InputError(
            f"--constrain grammar needs a local model that can constrain its decoding "
            f"(smollm2, gguf:PATH, hf:ID_OR_PATH); {model} cannot: use --constrain none"
        )
    recorded_prompts: dict[tuple[str, str | None], str] = {}
    notes: list[str] = []
    if _is_replay(chat):
        plan = align_to_replay(chat, specs, langs if languages is not None else None, seed)
        concept_list, recorded_prompts, langs = plan.concepts, plan.prompts, plan.languages
        notes += plan.notes
        other = [t for t in task_list if t != "draw"]
        if other and tasks is not None:
            notes.append(
                f"a replayed transcript holds only drawing replies; skipping {', '.join(other)}"
            )
        task_list = ["draw"]
    else:
        concept_list = load_concept_specs(specs, seed)
    for note in notes:
        log.warning(note)

    config = {
        "model": model,
        "concepts": specs,
        "languages": langs,
        "samples": samples,
        "rounds": rounds if "correct" in task_list else 0,
        "tasks": task_list,
        "seed": seed,
        "generation": asdict(gen),
        "variants": variants if "parametric" in task_list else 0,
        "prompts": templates.to_dict(),
        "timeout": timeout,
        "constrain": constraints,
    }
    run = Run.open(out, command=COMMAND, config=config, seeds={"concepts": seed, "sampling": seed})
    run.update_manifest(
        models={"llm": chat.describe()},
        concepts=[c.id for c in concept_list],
        notes=notes,
        scoring={"scorer": image_scorer.name, "reference": reference},
    )
    pool = LocalPool(workers)
    stage = Stage(
        run, chat, model, pool, gen, concurrency=concurrency, timeout=timeout, progress=progress,
        seed=seed,
    )  # fmt: skip
    status = "failed"
    try:
        _run_tasks(
            stage, task_list, concept_list, langs, templates, recorded_prompts, constraints,
            samples=samples, rounds=rounds, variants=variants, seed=seed, references=report,
        )  # fmt: skip
        pool.close()
        if stage.failed:
            key, error = stage.failed[0]
            notes.append(
                f"{len(stage.failed)} model request(s) failed after retries (first: {key}: "
                f"{error}); nothing was stored for them: run the same command again to retry"
            )
            log.warning(notes[-1])
            run.update_manifest(notes=notes)
        metrics = score(
            run, image_scorer, reference, progress=progress,
            judge=judge, judge_base_url=judge_base_url, similarity=similarity, ocr=ocr,
        )  # fmt: skip
        for kind in (DRAWINGS, RECOGNITION):
            if run.count(kind):
                run.export_parquet(kind)
        report_path = None
        if report:
            from snellen.report import write_report

            report_path = write_report(run)
        status = "incomplete" if stage.failed else "finished"
    except KeyboardInterrupt:
        status = "interrupted"  # as eval and LENS record a Ctrl-C: resumable, not failed
        raise
    finally:
        pool.close()
        usage = run.manifest.get("llm_usage") or []
        usage.append(
            {"calls": stage.calls, "cache_hits": stage.cache_hits, "failed": len(stage.failed)}
        )
        run.update_manifest(llm_usage=usage)
        chat.close()
        run.finish(status)
    drawings = list(run.load_records(Drawing))
    return CheckupResult(
        run=Path(out),
        report=report_path,
        drawings=len(drawings),
        rendered=sum(d.status is Status.OK for d in drawings),
        recognition=run.count(RECOGNITION),
        seconds=time.monotonic() - t0,
        llm_calls=stage.calls,
        cache_hits=stage.cache_hits,
        failed=len(stage.failed),
        metrics=metrics,
        notes=notes,
    )


def check_constraints(values: Sequence[str]) -> list[str]:
    """The constraints asked for (``none`` and/or ``grammar``), each once, in that order."""
    from snellen.llm.grammar import check_constraint

    asked = {check_constraint(v) for v in values} or {"none"}
    return [c for c in ("none", "grammar") if c in asked]


def supports_grammar(model: Any) -> bool:
    """Whether ``model`` honours ``ChatRequest.grammar`` (a local llama.cpp or transformers
    engine, also when run behind a wrapper that reports the engine it runs)."""
    if getattr(model, "supports_grammar", False):
        return True
    try:
        engine = model.describe().get("engine")
    except Exception:  # noqa: BLE001 - a model that cannot describe itself cannot say
        return False
    return engine in ("llama-cpp", "transformers")


def _is_replay(model: Any) -> bool:
    return callable(getattr(model, "recorded", None))


def load_image_scorer(name: str | None) -> Scorer:
    """The image-text scorer named ``name`` (the offline default when None)."""
    from snellen.score import DEFAULT_SCORER, load_scorer

    return load_scorer(name or DEFAULT_SCORER)


def score(
    run: Run,
    scorer: Scorer,
    reference: str | None,
    *,
    progress: bool,
    judge: str | None = None,
    judge_base_url: str | None = None,
    similarity: str | None = "efficientnet-lite0",
    ocr: bool = True,
) -> dict[str, Any]:
    """Score the run's drawings (fidelity, diversity, realism with a reference folder) and
    summarise every record; a run where nothing was drawn has only its records counted."""
    from snellen.metrics import score_run
    from snellen.metrics.run import write_summary

    if not run.count(DRAWINGS):
        return write_summary(run).to_json() if run.count(RECOGNITION) else {}
    return score_run(
        run, scorer, reference=reference, progress=progress, judge=judge,
        judge_base_url=judge_base_url, similarity=similarity, ocr=ocr,
    ).to_json()  # fmt: skip
