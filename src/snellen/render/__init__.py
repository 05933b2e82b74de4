"""Sandboxed rendering: drawing programs in Processing, TikZ, matplotlib, turtle and SVG in,
images out, fast (warm workers) and confined (see :mod:`snellen.render.sandbox`).

>>> from snellen.render import RenderJob, render_one
>>> render_one(RenderJob("c", "svg", '<svg xmlns="http://www.w3.org/2000/svg" '
...     'width="8" height="8"><rect width="4" height="4" fill="red"/></svg>')).status
<Status.OK: 'ok'>
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from snellen.render.base import LANGUAGES, LanguageRenderer, RenderJob, RenderResult, Status
from snellen.render.extract import ExtractedCode, detect_language, extract_code
from snellen.render.programs import read_programs, render_programs

__all__ = [
    "LANGUAGES",
    "ExtractedCode",
    "LanguageRenderer",
    "RenderJob",
    "RenderResult",
    "Status",
    "detect_language",
    "extract_code",
    "read_programs",
    "render_many",
    "render_one",
    "render_programs",
]


def render_many(
    jobs: Iterable[RenderJob],
    workers: int | None = None,
    *,
    backend: Any = None,
    confine: bool = True,
) -> Iterator[RenderResult]:
    """Render ``jobs`` on ``backend`` (default: a :class:`~snellen.render.pool.LocalPool` of
    ``workers`` confined processes, closed at the end); yields results as they finish."""
    from snellen.render.pool import LocalPool

    pool = backend or LocalPool(workers, confine=confine)
    try:
        yield from pool.map(jobs)
    finally:
        if backend is None:
            pool.close()


def render_one(job: RenderJob, *, backend: Any = None) -> RenderResult:
    """Render one job (in a fresh one-worker pool unless ``backend`` is given)."""
    return next(iter(render_many([job], 1, backend=backend)))
