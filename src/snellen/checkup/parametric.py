"""Parametric diversity: the model writes one program whose shape is set by named
variables; snellen samples new values for them and renders N variants per concept.

The variants are ``drawings`` records of task ``parametric`` (``sample`` is the variant
number, 0 being the model's own values, ``params`` the values used). Their diversity is
compared with that of repeated samples of the draw task (``--samples`` >= 2).
"""

from __future__ import annotations

from collections.abc import Sequence

from snellen.checkup.engine import Stage
from snellen.checkup.jobs import DRAWINGS, DrawJob, draw_key
from snellen.checkup.prompts import PromptTemplates, concept_phrase, language_name
from snellen.concepts.base import Concept
from snellen.records.checkup import Drawing
from snellen.render.extract import extract_code
from snellen.render.params import find_parameters, variants
from snellen.store.run import content_key


def parametric_prompt(
    concept: Concept, language: str, templates: PromptTemplates, n_variants: int
) -> str:
    return templates.render(
        "parametric",
        language=language_name(language),
        concept=concept_phrase(concept.description),
        variants=n_variants,
    )


def run_parametric(
    stage: Stage,
    concepts: Sequence[Concept],
    languages: Sequence[str],
    n_variants: int,
    templates: PromptTemplates,
    seed: int = 0,
    spread: float = 0.5,
) -> list[Drawing]:
    """Ask for a parametric program per concept and language, then render ``n_variants``
    settings of its parameters; returns the new records."""
    done = stage.run.keys(DRAWINGS)
    pending = [
        (c, lang)
        for c in concepts
        for lang in languages
        if any(draw_key("parametric", c.id, lang, v) not in done for v in range(n_variants))
    ]
    if not pending:
        return []
    prompts = [parametric_prompt(c, lang, templates, n_variants) for c, lang in pending]
    jobs: list[DrawJob] = []
    for i, reply in stage.ask(prompts, [0] * len(pending), desc="parametric: model"):
        concept, language = pending[i]
        found = extract_code(reply.text, language)
        code = found.code if found.code and found.code.strip() else None
        settings = (
            variants(
                code,
                language,
                n_variants,
                int(content_key(seed, concept.id, language)[:8], 16),
                spread,
            )
            if code
            else [(None, {})]  # type: ignore[list-item]
        )
        n_params = len(find_parameters(code, language)) if code else 0
        for v, (program, values) in enumerate(settings):
            jobs.append(
                DrawJob(
                    draw_key("parametric", concept.id, language, v),
                    "parametric",
                    concept,
                    language,
                    stage.model_name,
                    v,
                    0,
                    prompts[i],
                    params=values,
                    n_params=n_params,
                    reply=reply,
                    code=program,
                )
            )
    return stage.draw(jobs, desc="parametric")
