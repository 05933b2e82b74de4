"""The records of the scoring step: one drawing's fidelity (:class:`FidelityScore`, the
``fidelity`` table) and the run's metric summary (:class:`MetricsSummary`, ``metrics.json``
and the ``metrics`` table), which holds every aggregate the report shows.

A summary table is a list of rows, each row the group's columns followed by its statistics
(``{"category": "shapes", "language": "svg", "mean": 71.2, "std": 9.1, "count": 12}``),
filed under the comma-joined group columns (``"category,language"``). :class:`Tables` is the
one place that knows that naming: read a table with ``tables.get("category", "language")``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from snellen.records import Record, from_plain

__all__ = [
    "FIDELITY",
    "METRICS",
    "UNDEFINED_FIDELITY",
    "DiversitySummary",
    "FidelityScore",
    "FidelitySummary",
    "JUDGE",
    "JudgeAnswer",
    "JudgeSummary",
    "PROGRAMS",
    "ProgramScore",
    "ProgramSummary",
    "SimilaritySummary",
    "MetricsSummary",
    "RealismScores",
    "RealismSummary",
    "RecognitionSummary",
    "RenderSummary",
    "Tables",
]

FIDELITY = "fidelity"
METRICS = "metrics"
PROGRAMS = "programs"
JUDGE = "judge"
UNDEFINED_FIDELITY = "fewer than 2 candidate descriptions in the category: nothing to rank against"

Row = dict[str, Any]


def number(value: Any) -> float | None:
    """``value`` as a finite float, None for anything else (NaN, None, text, bools)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


class Tables(dict[str, list[Row]]):
    """Summary tables by their group columns. Keys are the comma-joined column names, as in
    ``metrics.json``; :meth:`get` takes the columns themselves."""

    @staticmethod
    def name(*columns: str) -> str:
        return ",".join(columns)

    def put(self, columns: Sequence[str], rows: list[Row]) -> None:
        self[self.name(*columns)] = rows

    def get(self, *columns: str) -> list[Row]:  # type: ignore[override]
        return list(super().get(self.name(*columns)) or [])

    def lookup(self, columns: Sequence[str], value: str = "mean") -> dict[tuple[Any, ...], Any]:
        """``{(group values...): row[value]}`` for the table of ``columns``."""
        return {tuple(r.get(c) for c in columns): r.get(value) for r in self.get(*columns)}


def _tables(value: Any) -> Tables:
    return Tables({str(k): [dict(r) for r in v] for k, v in (value or {}).items()})


@dataclass(frozen=True)
class FidelityScore(Record):
    """The fidelity of one rendered drawing under one scorer: the rank of its true
    description among its category's ``candidates`` and the percentile of that rank. With
    fewer than 2 candidates the percentile is undefined (None) and ``undefined`` says why."""

    kind: ClassVar[str] = FIDELITY
    sparse: ClassVar[frozenset[str]] = frozenset({"undefined"})

    drawing: str
    scorer: str
    description: str
    category: str
    rank: int
    candidates: int
    percentile: float | None
    concept_id: str | None = None
    task: str | None = None
    language: str | None = None
    model: str | None = None
    round: int | None = None
    sample: int | None = None
    undefined: str | None = None

    def record_key(self) -> str:
        return f"{self.drawing}|{self.scorer}"


@dataclass(frozen=True)
class FidelitySummary:
    metric: str
    standard: bool
    definition: str
    overall: Row | None
    by: Tables = field(default_factory=Tables)
    #: drawings whose percentile is undefined (fewer than 2 candidates), by category:
    #: ``{"category": ..., "drawings": n, "candidates": n}`` rows, with the reason
    undefined: list[Row] | None = None
    undefined_reason: str | None = None
    #: set when the scorer cannot judge some categories (an offline shapes scorer on
    #: objects): the categories whose numbers are not meaningful, and why
    not_meaningful: list[str] | None = None
    not_meaningful_reason: str | None = None
    #: the text-gaming check (:mod:`snellen.metrics.ocr`): drawings OCR read, how many of
    #: them name their concept, and fidelity over the drawings that do not (overall and
    #: ``text_free_by`` category, language, category+language)
    ocr_read: int | None = None
    flagged: int | None = None
    text_free: Row | None = None
    text_free_by: Tables = field(default_factory=Tables)

    def meaningful(self, category: str) -> bool:
        return category not in (self.not_meaningful or [])


@dataclass(frozen=True)
class ProgramScore(Record):
    """The program metrics of one drawing (:mod:`snellen.metrics.program`)."""

    kind: ClassVar[str] = PROGRAMS

    drawing: str
    category: str
    language: str
    status: str
    characters: int
    lines: int
    calls: int
    colours: int | None
    render_seconds: float
    model: str | None = None
    task: str | None = None

    def record_key(self) -> str:
        return self.drawing


@dataclass(frozen=True)
class ProgramSummary:
    """Program metrics: ``by`` tables (``category``, ``language``, ``category,language``)
    of the mean characters, lines, drawing calls, colours and render seconds (each with
    ``_lo``/``_hi``) and the mean fidelity of the same drawings; ``correlation``: per
    category, Spearman's rho between program characters and fidelity."""

    definition: str
    by: Tables = field(default_factory=Tables)
    correlation: list[Row] = field(default_factory=list)


@dataclass(frozen=True)
class JudgeAnswer(Record):
    """One answer of the VLM judge: shown a drawing and ``options`` (the concept and
    same-category distractors, in a seeded order), it chose ``chosen`` (None: unreadable)."""

    kind: ClassVar[str] = JUDGE

    drawing: str
    judge: str
    concept_id: str
    category: str
    language: str
    description: str
    options: tuple[str, ...]
    answer_index: int
    reply: str
    chosen: int | None
    correct: bool
    model: str | None = None

    def record_key(self) -> str:
        return f"{self.drawing}|{self.judge}"


@dataclass(frozen=True)
class JudgeSummary:
    """Judge accuracy: ``by`` tables (``category``, ``language``, ``category,language``)
    of questions, correct, accuracy (with ``accuracy_lo``/``accuracy_hi``) and chance."""

    judge: str
    options: int
    questions: int
    accuracy: float | None = None
    accuracy_lo: float | None = None
    accuracy_hi: float | None = None
    by: Tables = field(default_factory=Tables)


@dataclass(frozen=True)
class SimilaritySummary:
    """Image-to-image similarity of each drawing to its concept's exact reference rendering
    (cosine of image embeddings): ``overall`` and ``by`` tables of mean, std, count and the
    mean's interval."""

    metric: str
    standard: bool
    definition: str
    overall: Row | None = None
    by: Tables = field(default_factory=Tables)


@dataclass(frozen=True)
class DiversitySummary:
    metric: str
    standard: bool
    definition: str
    resize: str
    groups: int
    by: Tables = field(default_factory=Tables)


@dataclass(frozen=True)
class RealismScores:
    """FID and KID of one set of drawings against the reference images."""

    label: str
    fid: float | None
    kid: float | None
    kid_std: float | None
    features: str = ""
    standard: bool = False
    images: int = 0
    reference_images: int = 0
    resize: str = ""

    @property
    def fid_name(self) -> str:
        return f"fid[{self.label}]"

    @property
    def kid_name(self) -> str:
        return f"kid[{self.label}]"

    def to_plain(self) -> Row:
        return {
            "features": self.features,
            "standard": self.standard,
            "images": self.images,
            "reference_images": self.reference_images,
            "resize": self.resize,
            self.fid_name: self.fid,
            self.kid_name: self.kid,
            "kid_std": self.kid_std,
        }

    @classmethod
    def from_plain(cls, row: Mapping[str, Any]) -> RealismScores:
        label = next((k[4:-1] for k in row if k.startswith("fid[") and k.endswith("]")), "")
        return cls(
            label=label,
            fid=number(row.get(f"fid[{label}]")),
            kid=number(row.get(f"kid[{label}]")),
            kid_std=number(row.get("kid_std")),
            features=str(row.get("features", "")),
            standard=bool(row.get("standard", False)),
            images=int(row.get("images") or 0),
            reference_images=int(row.get("reference_images") or 0),
            resize=str(row.get("resize", "")),
        )


@dataclass(frozen=True)
class RealismSummary:
    overall: RealismScores
    reference: str
    by_language: dict[str, RealismScores] = field(default_factory=dict)

    def to_plain(self) -> Row:
        return {
            **self.overall.to_plain(),
            "reference": self.reference,
            "by_language": {k: v.to_plain() for k, v in self.by_language.items()},
        }

    @classmethod
    def from_plain(cls, row: Mapping[str, Any]) -> RealismSummary:
        return cls(
            RealismScores.from_plain(row),
            str(row.get("reference", "")),
            {k: RealismScores.from_plain(v) for k, v in (row.get("by_language") or {}).items()},
        )


@dataclass(frozen=True)
class RenderSummary:
    """Render outcomes: ``by`` tables of drawings/rendered/rate per group
    (``task,language``, ``task,category,language``), counts per ``status,language``, and
    the most common failure reasons (``status, reason, count``)."""

    by: Tables = field(default_factory=Tables)
    statuses: list[Row] = field(default_factory=list)
    reasons: list[Row] = field(default_factory=list)


@dataclass(frozen=True)
class RecognitionSummary:
    """Recognition accuracy: ``by`` tables of questions, correct, accuracy, chance,
    answers read and mean rank percentile per ``mode,category,language``, per ``mode`` and
    per ``mode,n_options``."""

    questions: int
    by: Tables = field(default_factory=Tables)


@dataclass(frozen=True)
class MetricsSummary(Record):
    """Every aggregate of a run: what ``RUN/metrics.json`` holds and the report formats.

    ``fidelity``, ``diversity`` and ``realism`` need a scorer (or a reference folder);
    ``render``, ``recognition`` and ``headline`` are counted from the records alone.
    """

    kind: ClassVar[str] = METRICS
    sparse: ClassVar[frozenset[str]] = frozenset(
        {
            "fidelity",
            "diversity",
            "realism",
            "recognition",
            "scorer",
            "seconds",
            "correction",
            "parametric",
            "programs",
            "judge",
            "similarity",
        }
    )

    run: str
    scorer: Row | None = None
    drawings: int = 0
    rendered: int = 0
    fidelity: FidelitySummary | None = None
    diversity: DiversitySummary | None = None
    realism: RealismSummary | None = None
    labels: tuple[str, ...] = ()
    seconds: float | None = None
    render: RenderSummary = field(default_factory=RenderSummary)
    recognition: RecognitionSummary | None = None
    #: render rate and fidelity per correction round (``round``, ``round,language``)
    correction: Tables | None = None
    #: per language: parametric variants, render rate, parameters found
    parametric: list[Row] | None = None
    #: the report's headline numbers: drawings, render rate, mean fidelity, concepts,
    #: languages, multiple-choice recognition accuracy
    headline: Row = field(default_factory=dict)
    #: program metrics per category and language (:class:`ProgramSummary`)
    programs: ProgramSummary | None = None
    #: VLM judge accuracy (:class:`JudgeSummary`)
    judge: JudgeSummary | None = None
    #: image-to-image similarity to the reference renderings (:class:`SimilaritySummary`)
    similarity: SimilaritySummary | None = None

    def record_key(self) -> str:
        # the scoring step files a summary under the scorer and reference it used
        return self.run

    def to_row(self) -> Row:
        row = super().to_row()
        if self.realism is not None:
            row["realism"] = self.realism.to_plain()
        for section in ("fidelity",):
            if isinstance(row.get(section), dict):
                row[section] = {k: v for k, v in row[section].items() if v is not None
                                or k in ("overall",)}  # fmt: skip
        return row

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Self:
        plain = dict(row)
        realism = plain.pop("realism", None)
        correction = plain.pop("correction", None)
        parts = {
            "correction": _tables(correction) if correction else None,
            "fidelity": _summary(FidelitySummary, plain.pop("fidelity", None)),
            "diversity": _summary(DiversitySummary, plain.pop("diversity", None)),
            "recognition": _summary(RecognitionSummary, plain.pop("recognition", None)),
            "render": _summary(RenderSummary, plain.pop("render", None)) or RenderSummary(),
            "realism": RealismSummary.from_plain(realism) if realism else None,
            "programs": _summary(ProgramSummary, plain.pop("programs", None)),
            "judge": _summary(JudgeSummary, plain.pop("judge", None)),
            "similarity": _summary(SimilaritySummary, plain.pop("similarity", None)),
        }
        record: Self = dataclasses.replace(from_plain(cls, plain), **parts)
        return record

    def to_json(self) -> Row:
        """The ``metrics.json`` document."""
        return self.to_row()


def _summary(cls: Any, value: Any) -> Any:
    if not value:
        return None
    data = dict(value)
    tables = {k: _tables(data.pop(k, None)) for k in list(data) if k == "by" or k.endswith("_by")}
    tables.setdefault("by", Tables())
    return dataclasses.replace(from_plain(cls, data), **tables)
