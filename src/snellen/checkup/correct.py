"""Self-correction: R rounds in which the model first writes text feedback on its own
program for the concept, then an improved program. Round 0 is the draw task's first sample;
every round is rendered and stored (task ``correct``, ``round`` r, ``parent`` the key of the
round it improves on), so fidelity can be followed round by round.
"""

from __future__ import annotations

from collections.abc import Sequence

from snellen.checkup.engine import Stage
from snellen.checkup.jobs import DRAWINGS, DrawJob, draw_key
from snellen.checkup.prompts import PromptTemplates, concept_phrase, language_name
from snellen.concepts.base import Concept
from snellen.records.checkup import Drawing

NO_PROGRAM = "(the previous reply contained no program)"


def _program_text(stage: Stage, record: Drawing) -> str:
    ref = record.program
    if ref:
        return stage.run.artifacts.get(ref).decode("utf-8", "replace")
    return NO_PROGRAM


def run_correct(
    stage: Stage,
    concepts: Sequence[Concept],
    languages: Sequence[str],
    rounds: int,
    templates: PromptTemplates,
) -> list[Drawing]:
    """Run the missing correction rounds of every (concept, language) chain."""
    out: list[Drawing] = []
    for r in range(1, rounds + 1):
        chains = []
        done = stage.run.keys(DRAWINGS)
        for c in concepts:
            for lang in languages:
                key = draw_key("correct", c.id, lang, 0, r)
                if key in done:
                    continue
                parent_key = (
                    draw_key("draw", c.id, lang, 0)
                    if r == 1
                    else draw_key("correct", c.id, lang, 0, r - 1)
                )
                parent = stage.run.get_record(Drawing, parent_key)
                if parent is None:
                    continue  # the previous round is missing (its task did not run)
                chains.append((c, lang, key, parent_key, _program_text(stage, parent)))
        if not chains:
            continue
        feedback_prompts = [
            templates.render(
                "feedback",
                language=language_name(lang),
                concept=concept_phrase(c.description),
                program=program,
            )
            for c, lang, _, _, program in chains
        ]
        jobs = []
        for i, reply in stage.ask(
            feedback_prompts,
            [0] * len(chains),
            concept_ids=None,
            desc=f"correct round {r}: feedback",
        ):
            c, lang, key, parent_key, program = chains[i]
            if reply.error:
                stage.note_failure(key, reply.error)
                continue
            feedback = reply.text.strip() or "(no feedback)"
            prompt = templates.render(
                "improve",
                language=language_name(lang),
                concept=concept_phrase(c.description),
                program=program,
                feedback=feedback,
            )
            jobs.append(
                DrawJob(
                    key,
                    "correct",
                    c,
                    lang,
                    stage.model_name,
                    0,
                    r,
                    prompt,
                    parent=parent_key,
                    feedback=stage.run.artifacts.put(feedback.encode(), ".txt"),
                    feedback_tokens=reply.completion_tokens,
                )
            )
        out += stage.draw(jobs, desc=f"correct round {r}")
    return out
