"""The draw task: for each concept and language, K samples of a program that draws it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from snellen.checkup.engine import Stage
from snellen.checkup.jobs import DrawJob, draw_key
from snellen.checkup.prompts import PromptTemplates, concept_phrase, language_name
from snellen.concepts.base import Concept
from snellen.records.checkup import Drawing


def draw_prompt(concept: Concept, language: str, templates: PromptTemplates) -> str:
    return templates.render(
        "draw", language=language_name(language), concept=concept_phrase(concept.description)
    )


def draw_jobs(
    concepts: Sequence[Concept],
    languages: Sequence[str],
    samples: int,
    model: str,
    templates: PromptTemplates,
    prompts: Mapping[tuple[str, str | None], str] | None = None,
    constraints: Sequence[str] = ("none",),
) -> list[DrawJob]:
    """One job per concept, language, sample and constraint. ``prompts`` maps (concept id,
    language) to a prompt that replaces the template (a replayed transcript's own prompt;
    language None: for any language). ``constraints``: ``none`` (free replies) and/or
    ``grammar`` (replies kept inside the language's grammar), side by side in one run."""
    given = prompts or {}
    jobs = []
    for concept in concepts:
        for language in languages:
            prompt = (
                given.get((concept.id, language))
                or given.get((concept.id, None))
                or draw_prompt(concept, language, templates)
            )
            for constraint in constraints:
                for k in range(samples):
                    key = draw_key("draw", concept.id, language, k, constraint=constraint)
                    # a constrained model is another drawing system: its own model label keeps
                    # its drawings apart in every per-model group (fidelity, diversity)
                    label = model if constraint == "none" else f"{model}+{constraint}"
                    job = DrawJob(key, "draw", concept, language, label, k, 0, prompt)
                    jobs.append(replace(job, constraint=constraint))
    return jobs


def run_draw(
    stage: Stage,
    concepts: Sequence[Concept],
    languages: Sequence[str],
    samples: int,
    templates: PromptTemplates,
    prompts: Mapping[tuple[str, str | None], str] | None = None,
    constraints: Sequence[str] = ("none",),
) -> list[Drawing]:
    """Draw everything not drawn yet; returns the new ``drawings`` records."""
    jobs = draw_jobs(
        concepts, languages, samples, stage.model_name, templates, prompts, constraints
    )
    return stage.draw(jobs, desc="draw")
