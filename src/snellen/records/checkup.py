"""The records of the check-up: what became of a program (:class:`Status`), one drawing
(:class:`Drawing`, the ``drawings`` table) and one graded recognition answer
(:class:`Recognition`, the ``recognition`` table).

The check-up writes them, the scoring step and the report read them. Their fields are the
columns of ``RUN/drawings.parquet`` and ``RUN/recognition.parquet`` (see ``docs/records.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Self

from snellen.records import Record

__all__ = [
    "DRAWINGS",
    "RECOGNITION",
    "REFERENCES",
    "Drawing",
    "Recognition",
    "Reference",
    "Status",
]

DRAWINGS = "drawings"
RECOGNITION = "recognition"
REFERENCES = "references"


class Status(StrEnum):
    """What became of one program. Every failure also carries a human-readable reason."""

    OK = "ok"
    BLANK = "blank"  # ran, but the image is a single flat colour
    NO_CODE = "no_code"  # no program could be found in the input
    COMPILE_ERROR = "compile_error"
    RUNTIME_ERROR = "runtime_error"
    TIMEOUT = "timeout"
    MEMORY = "memory"
    KILLED = "killed"  # stopped by the sandbox for something else (signal, forbidden call)


@dataclass(frozen=True)
class Drawing(Record):
    """One drawing: what was asked, what the model replied, what the renderer made of it.

    ``image``, ``program``, ``reply`` and ``feedback`` are artifact references
    (``run.artifacts.path(ref)``). ``parent`` is set for correction rounds (the key of the
    drawing this one improves on); ``feedback``/``feedback_tokens`` for correction rounds and
    ``params``/``n_params`` for parametric variants only; ``ocr_text``/``names_concept``
    once the scoring step has read the image.
    """

    kind: ClassVar[str] = DRAWINGS
    sparse: ClassVar[frozenset[str]] = frozenset(
        {"feedback", "feedback_tokens", "params", "n_params", "ocr_text", "names_concept"}
    )

    key: str
    task: str
    concept_id: str
    category: str
    description: str
    language: str
    model: str
    sample: int
    round: int
    status: Status
    reason: str = ""
    image: str | None = None
    program: str | None = None
    reply: str | None = None
    prompt: str = ""
    extraction: str = ""
    # which assembly of the reply was rendered: the extracted program, or "joined" (all its
    # blocks in order) when the extracted one did not compile
    assembly: str = "extracted"
    # "grammar" when the reply was kept inside a grammar of the language, else "none"
    constraint: str = "none"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    llm_seconds: float = 0.0
    render_seconds: float = 0.0
    width: int = 0
    height: int = 0
    parent: str | None = None
    feedback: str | None = None
    feedback_tokens: int | None = None
    params: dict[str, float] | None = None
    n_params: int | None = None
    #: what OCR read in the image and whether it names the concept (the text-gaming check
    #: of the scoring step, :mod:`snellen.metrics.ocr`); None until a drawing is scored
    ocr_text: str | None = None
    names_concept: bool | None = None

    def record_key(self) -> str:
        return self.key

    @property
    def ok(self) -> bool:
        """Rendered, with an image to score."""
        return self.status is Status.OK and bool(self.image)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Self:
        # rows written before the task column existed are draw-task rows
        return super().from_row({"task": "draw", **row})


@dataclass(frozen=True)
class Recognition(Record):
    """One graded recognition question.

    ``mode`` ``choice``: ``options`` were lettered, ``chosen`` is the index read from the
    answer (None when unreadable). ``mode`` ``free``: the ``answer`` was ranked among the
    category's candidates (``rank``, ``percentile``, ``best_match``). ``source`` is
    ``reference`` or the key of the drawing whose program was shown.
    """

    kind: ClassVar[str] = RECOGNITION
    # the other mode's fields are left out of a row (see ``to_row``)
    CHOICE_ONLY: ClassVar[tuple[str, ...]] = ("chosen", "options")
    FREE_ONLY: ClassVar[tuple[str, ...]] = ("answer", "rank", "percentile", "best_match")

    key: str
    concept_id: str
    category: str
    description: str
    language: str
    mode: str
    source: str
    model: str
    reply: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    correct: bool = False
    parsed: bool = False
    n_options: int = 0
    chosen: int | None = None
    options: tuple[str, ...] = ()
    answer: str | None = None
    rank: int | None = None
    percentile: float | None = None
    best_match: str | None = None

    def record_key(self) -> str:
        return self.key

    def to_row(self) -> dict[str, Any]:
        row = super().to_row()
        drop = self.FREE_ONLY if self.mode == "choice" else self.CHOICE_ONLY
        for name in drop:
            row.pop(name, None)
        if self.mode != "choice" and self.best_match is None:
            row.pop("best_match", None)
        return row


@dataclass(frozen=True)
class Reference(Record):
    """A concept's reference program, rendered (the report shows it beside each drawing)."""

    kind: ClassVar[str] = REFERENCES

    concept_id: str
    language: str
    status: Status
    image: str | None = None

    def record_key(self) -> str:
        return self.concept_id
