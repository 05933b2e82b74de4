"""The units of work of the check-up, as plain picklable records: a job in, a record out.

A drawing job (:class:`DrawJob`) becomes a chat request, the reply becomes a
:class:`~snellen.render.RenderJob`, and the render result becomes one ``drawings`` record
(:func:`drawing_record`). Nothing here holds a connection or a process, so the same jobs can
run in this process, a pool, or Ray tasks.

The ``drawings`` record (:class:`~snellen.records.checkup.Drawing`) is a contract with the
scoring step and the report; see ``docs/records.md`` before renaming any of its fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from snellen.concepts.base import Concept
from snellen.records.checkup import DRAWINGS, RECOGNITION, Drawing, Status
from snellen.render.base import RenderJob, RenderResult
from snellen.render.extract import ExtractedCode

__all__ = [
    "DRAWINGS",
    "RECOGNITION",
    "DrawJob",
    "Drawing",
    "GenerationSettings",
    "Reply",
    "draw_key",
    "drawing_record",
]


@dataclass(frozen=True)
class GenerationSettings:
    """How replies are sampled (part of every cache key)."""

    max_tokens: int = 256
    temperature: float = 0.7
    top_p: float = 0.95


@dataclass(frozen=True)
class Reply:
    """A model's answer as the tasks need it."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    cached: bool = False
    error: str = ""  # the request failed for good (after retries): why


@dataclass(frozen=True)
class DrawJob:
    """Ask for one program that draws ``concept`` in ``language``.

    ``task`` is ``draw``, ``parametric`` or ``correct``; ``sample`` numbers repeated samples
    (and parametric variants); ``round`` numbers self-correction rounds (0 = first drawing).
    """

    key: str
    task: str
    concept: Concept
    language: str
    model: str
    sample: int
    round: int
    prompt: str
    parent: str | None = None  # the record this one improves on (correction rounds)
    # task-specific fields of the record: the feedback a correction round acted on (an
    # artifact reference) and its length; a parametric variant's values and how many
    # parameters its program has
    feedback: str | None = None
    feedback_tokens: int | None = None
    params: dict[str, float] | None = None
    n_params: int | None = None
    # Set when the reply is already known (a parametric variant shares its program's reply):
    # no model call is made, and ``code``, when given, is rendered instead of the reply's.
    reply: Reply | None = None
    code: str | None = None
    # "grammar": the model's decoding is kept inside the language's grammar
    # (snellen.llm.grammar); "none": free text
    constraint: str = "none"


def draw_key(
    task: str,
    concept_id: str,
    language: str,
    sample: int,
    round: int = 0,
    constraint: str = "none",
) -> str:
    """Readable, stable record key; a run has one model, so the model is not part of it.
    A constrained drawing's key ends in its constraint (``.../r0/grammar``)."""
    key = f"{task}/{concept_id}/{language}/s{sample}/r{round}"
    return key if constraint == "none" else f"{key}/{constraint}"


def render_job(
    job: DrawJob,
    code: str,
    timeout: float,
    size: int | None = None,
    fallbacks: tuple[tuple[str, str], ...] = (),
) -> RenderJob:
    return RenderJob(job.key, job.language, code, size=size, timeout=timeout, fallbacks=fallbacks)


def no_code_result(job: DrawJob, reason: str) -> RenderResult:
    return RenderResult(job.key, job.language, Status.NO_CODE, reason=reason)


def drawing_record(
    job: DrawJob,
    reply: Reply,
    found: ExtractedCode | None,
    result: RenderResult,
    *,
    image_ref: str | None,
    program_ref: str | None,
    reply_ref: str | None,
) -> Drawing:
    """The ``drawings`` record of one finished job (artifacts already stored)."""
    c = job.concept
    return Drawing(
        key=job.key,
        task=job.task,
        concept_id=c.id,
        category=c.category,
        description=c.description,
        language=job.language,
        model=job.model,
        sample=job.sample,
        round=job.round,
        status=result.status,
        reason=result.reason,
        image=image_ref,
        program=program_ref,
        reply=reply_ref,
        prompt=job.prompt,
        extraction=found.method if found is not None else "",
        assembly=result.assembly or "extracted",
        constraint=job.constraint,
        prompt_tokens=reply.prompt_tokens,
        completion_tokens=reply.completion_tokens,
        llm_seconds=round(reply.seconds, 3),
        render_seconds=round(result.seconds, 4),
        width=result.width,
        height=result.height,
        parent=job.parent,
        feedback=job.feedback,
        feedback_tokens=job.feedback_tokens,
        params=job.params,
        n_params=job.n_params,
    )
