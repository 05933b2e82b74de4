"""The concepts' reference renderings: each concept that has a reference program (every VAD
shape has one per language) is rendered once, confined like any drawing, so the report can
show it beside the model's drawings."""

from __future__ import annotations

from collections.abc import Sequence

from snellen.checkup.engine import Stage
from snellen.concepts.base import Concept
from snellen.records.checkup import REFERENCES, Reference
from snellen.render.base import RenderJob

# cheapest first: an SVG rasterises in milliseconds, a Processing sketch starts a JVM
PREFERRED = ("svg", "matplotlib", "turtle", "tikz", "processing")


def render_references(stage: Stage, concepts: Sequence[Concept], languages: Sequence[str]) -> int:
    """Render the reference program of every concept that has one and no record yet; returns
    how many were stored."""
    done = stage.run.keys(REFERENCES)
    jobs = []
    for c in concepts:
        if c.id in done or not c.programs:
            continue
        order = [*PREFERRED, *languages]
        lang = next((x for x in order if c.programs.get(x)), None)
        if lang is not None:
            jobs.append(RenderJob(c.id, lang, c.programs[lang], timeout=stage.timeout))
    records = []
    for result in stage.backend.map(jobs):
        image = result.square_png or result.png
        ref = stage.run.artifacts.put(image, ".png") if image is not None else None
        records.append(Reference(result.id, result.language, result.status, ref))
    return stage.run.put_records(records)
