"""Real images for the scorer and metric tests: VAD shapes drawn by their reference
programs, and a small check-up-shaped run whose drawings were rendered by the sandboxed
render pool (SVG and matplotlib)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from snellen.concepts import load_concepts
from snellen.concepts.shapes import negative_specs, programs_for


@pytest.fixture(scope="session")
def shape_images() -> list[Image.Image]:
    """Twelve different shape concepts rendered from their SVG reference programs."""
    from snellen.clip.data import render_svg_reference

    concepts = load_concepts("shapes", 12, seed=5)
    return [render_svg_reference(c.programs["svg"], 160).convert("RGB") for c in concepts]


def make_scored_run(path: Path, n_concepts: int = 4) -> Path:
    """A run with ``drawings`` records as ``snellen checkup`` writes them: for each concept
    and language, sample 0 is the concept's reference program and sample 1 the program of
    its first hard negative (a drawing of something else), all rendered by the real,
    confined render pool; one extra drawing failed to render."""
    from snellen.render import RenderJob, render_many
    from snellen.store import Run

    concepts = [c for c in load_concepts("shapes", 40, seed=11) if negative_specs(c.attributes)][
        :n_concepts
    ]
    languages = ("svg", "matplotlib")
    jobs, meta = [], {}
    for c in concepts:
        programs = {0: c.programs, 1: programs_for(negative_specs(c.attributes)[0])}
        for lang in languages:
            for sample, progs in programs.items():
                key = f"draw|{c.id}|{lang}|{sample}"
                jobs.append(RenderJob(key, lang, progs[lang], size=128))
                meta[key] = (c, lang, sample)
    broken = concepts[0]
    jobs.append(
        RenderJob(
            "draw|broken", "matplotlib", "import matplotlib.pyplot as plt\nplt.plot(", size=128
        )
    )
    meta["draw|broken"] = (broken, "matplotlib", 2)

    run = Run.open(path, command="test-score-run", config={"concepts": [c.id for c in concepts]})
    for result in render_many(jobs, workers=2):
        concept, lang, sample = meta[result.id]
        image = result.square_png or result.png
        run.put(
            "drawings",
            result.id,
            {
                "key": result.id,
                "task": "draw",
                "concept_id": concept.id,
                "category": concept.category,
                "description": concept.description,
                "language": lang,
                "model": "reference-programs",
                "sample": sample,
                "round": 0,
                "status": result.status.value,
                "reason": result.reason,
                "image": run.artifacts.put(image, ".png") if image else None,
            },
        )
    run.finish()
    return Path(path)
