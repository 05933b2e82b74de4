"""Scoring a check-up run: fidelity, diversity and (with a reference folder) realism of its
rendered drawings, and every aggregate the report shows, written into the run (``metrics``
and per-drawing ``fidelity`` records) and to ``RUN/metrics.json``.

Reads the run's typed records (:class:`~snellen.records.checkup.Drawing`,
:class:`~snellen.records.checkup.Recognition`). Only drawings with status ``ok`` and an
image are scored; every description in the run (failed drawings included) is a fidelity
candidate for its category. The result is one :class:`~snellen.records.scores.MetricsSummary`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from snellen.errors import InputError
from snellen.metrics.bootstrap import add_interval
from snellen.metrics.fidelity import Fidelity, aggregate
from snellen.metrics.fidelity import records_table as _records_table
from snellen.metrics.summary import as_run, summarise_run, write_json, write_summary
from snellen.records.checkup import DRAWINGS, Drawing
from snellen.records.scores import (
    FIDELITY,
    METRICS,
    UNDEFINED_FIDELITY,
    DiversitySummary,
    FidelityScore,
    FidelitySummary,
    MetricsSummary,
    RealismScores,
    RealismSummary,
    Tables,
)
from snellen.score.base import Scorer
from snellen.store import Run

__all__ = [
    "FIDELITY",
    "GROUPS",
    "METRICS",
    "drawing_images",
    "score_run",
    "summarise_run",
    "write_summary",
]

GROUPS = ("task", "category", "language", "model", "round")
# further fidelity tables the report shows: the paper's bars, and fidelity per round
COMBOS = (("task", "category", "language"), ("task", "round"), ("task", "round", "language"))


def _open(run: Run, ref: str) -> Image.Image:
    im = Image.open(run.resolve_image(ref))
    im.load()
    return im


def _diversity_summary(
    run: Run, ok: list[Drawing], lpips_net: str, lpips_weights: str | Path | None,
    lpips_heads: str | Path | None, device: str | None, batch_size: int, notes: list[str],
) -> DiversitySummary:  # fmt: skip
    """Diversity within each (task, concept, language, model, round); a note when its
    distance is not the standard LPIPS."""
    from snellen.metrics.diversity import Diversity, lpips_distance, summarise

    dist = lpips_distance(lpips_net, lpips_weights, lpips_heads, device)
    div = Diversity(dist)
    keys = ("task", "concept_id", "category", "language", "model", "round")
    for i in range(0, len(ok), batch_size):
        batch = ok[i : i + batch_size]
        div.update(
            [_open(run, str(d.image)) for d in batch],
            [tuple(getattr(d, k) for k in keys) for d in batch],
            meta=[{k: getattr(d, k) for k in keys} for d in batch],
        )
    groups = div.compute()
    div_label = f"diversity[{dist.label}]"
    diversity_summary = DiversitySummary(
        metric=div_label,
        standard=dist.standard,
        definition="mean pairwise distance between the images of one (task, concept, "
        "language, model, round); groups with fewer than two images are left out",
        resize=f"clean-fid convention to {div.size}x{div.size}, rounded to 8 bits, "
        "scaled to [-1, 1]",
        groups=int(groups["diversity"].notna().sum()) if len(groups) else 0,
        by=Tables(
            {
                ",".join(cols): _records_table(summarise(groups, list(cols)))
                for cols in (
                    ("task",),
                    ("task", "category", "language"),
                    ("language",),
                    ("model",),
                    ("task", "language"),
                )
            }
        ),  # fmt: skip
    )
    if not dist.standard:
        notes.append(
            f"{div_label}: EfficientNet-Lite0 features with uniform weights, not LPIPS; "
            "pass --lpips-weights for the standard LPIPS"
        )
    return diversity_summary


def _realism_summary(
    run: Run, ok: list[Drawing], reference: str | Path, inception_weights: str | Path | None,
    device: str | None, batch_size: int, notes: list[str],
) -> RealismSummary:  # fmt: skip
    """FID/KID against ``reference``, overall and per language; a note when the features are
    not Inception-v3's."""
    from snellen.metrics.realism import Realism, feature_extractor

    feats = feature_extractor(
        "inception" if inception_weights else "efficientnet-lite0", inception_weights, device
    )
    overall = Realism(reference, feats)
    # features once per drawing; the per-language scores take subsets of them
    features = torch.cat(
        [feats([_open(run, str(d.image)) for d in ok[i : i + batch_size]]) for i in range(0, len(ok), batch_size)]
    ) if ok else torch.zeros(0, 1)  # fmt: skip
    by_language = {}
    for lang in sorted({d.language for d in ok}):
        idx = [i for i, d in enumerate(ok) if d.language == lang]
        if len(idx) >= 2:
            by_language[lang] = RealismScores.from_plain(overall.score_features(features[idx]))
    realism_summary = RealismSummary(
        RealismScores.from_plain(overall.score_features(features)), str(reference), by_language
    )
    if not feats.standard:
        notes.append(
            f"fid/kid[{feats.label}]: EfficientNet-Lite0 features, not Inception-v3; "
            "pass --inception-weights for the standard FID"
        )
    return realism_summary


def score_run(
    run_or_path: Run | str | os.PathLike[str],
    scorer: Scorer | str | None = None,
    reference: str | Path | None = None,
    *,
    lpips_weights: str | Path | None = None,
    lpips_net: str = "alex",
    lpips_heads: str | Path | None = None,
    inception_weights: str | Path | None = None,
    diversity: bool = True,
    ocr: bool = True,
    similarity: str | None = "efficientnet-lite0",
    judge: str | None = None,
    judge_base_url: str | None = None,
    judge_options: int = 4,
    batch_size: int = 64,
    device: str | None = None,
    progress: bool = False,
    log: Callable[[str], None] | None = None,
) -> MetricsSummary:
    """Score the drawings of a run and store the results in it; returns the summary (its
    :meth:`~snellen.records.scores.MetricsSummary.to_json` is ``RUN/metrics.json``). ``scorer`` is a :class:`~snellen.score.Scorer`, a
    registry name, or None for ``snellen-shapes``; ``device`` is for the scorer named by a
    string and for the metric networks (default: CUDA when present).

    ``ocr``: read every drawing with Tesseract and flag the ones whose text names their
    concept (:mod:`snellen.metrics.ocr`); ``similarity``: the image encoder for the
    similarity of each drawing to its concept's reference rendering (an image scorer name
    such as ``dinov2:facebook/dinov2-small``, the offline ``efficientnet-lite0``, or None to
    skip); ``judge``: a chat model name (``openai:MODEL``, with ``judge_base_url``) asked
    which of ``judge_options`` same-category descriptions each drawing shows."""
    from snellen.score import DEFAULT_SCORER, load_scorer

    t0 = time.monotonic()
    run = as_run(run_or_path)
    say = log or (lambda _m: None)
    drawings = list(run.load_records(Drawing))
    if not drawings:
        raise InputError(
            f"{run.path} has no '{DRAWINGS}' records to score (kinds present: "
            f"{', '.join(run.kinds()) or 'none'}); score the output of `snellen checkup`"
        )
    notes: list[str] = []
    if ocr:
        drawings, ocr = _ocr_check(run, drawings, notes, progress)
    ok = [d for d in drawings if d.ok]
    flags = {d.key: d.names_concept for d in ok if d.names_concept is not None}
    if not isinstance(scorer, Scorer):
        scorer = load_scorer(scorer or DEFAULT_SCORER, **({"device": device} if device else {}))
    say(f"{len(ok)} of {len(drawings)} drawings rendered; scoring with {scorer.name}")

    fid = Fidelity(scorer)
    fid.add_candidates([d.description for d in drawings], [d.category for d in drawings])
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(ok), unit="img", desc="fidelity", mininterval=1.0)
    for i in range(0, len(ok), batch_size):
        batch = ok[i : i + batch_size]
        fid.update(
            [_open(run, str(d.image)) for d in batch],
            [d.description for d in batch],
            [d.category for d in batch],
            meta=[
                {
                    "drawing": d.key,
                    "concept_id": d.concept_id,
                    **{g: getattr(d, g) for g in GROUPS if g != "category"},
                    "sample": d.sample,
                }
                for d in batch
            ],  # fmt: skip
        )
        if bar is not None:
            bar.update(len(batch))
    if bar is not None:
        bar.close()
    per_image = fid.compute()
    if len(per_image):
        per_image["names_concept"] = per_image["drawing"].map(lambda k: flags.get(k))
    non_standard = not scorer.labels.standard
    fid_label = f"fidelity[{scorer.name}{', non-standard' if non_standard else ''}]"
    scores = [
        FidelityScore(
            **{k: v for k, v in row.items() if k in _FIDELITY_FIELDS},
            scorer=scorer.name,
            undefined=None if row.get("percentile") is not None else UNDEFINED_FIDELITY,
        )
        for row in _records_table(per_image)
    ]
    run.put_records(scores)
    tables = aggregate(per_image, "percentile", GROUPS, COMBOS) if len(per_image) else {}
    if non_standard:
        notes.append(f"{fid_label}: {scorer.labels.note or 'non-standard scorer'}")
    domain = scorer.labels.domain
    off_domain = sorted({d.category for d in ok} - {"shapes"}) if domain == "VAD shapes" else []
    not_meaningful_reason = None
    if off_domain:
        not_meaningful_reason = (
            f"{scorer.name} was trained on shapes only: its fidelity for "
            f"{', '.join(off_domain)} is not meaningful (name a real CLIP with --scorer for these)"
        )
        notes.append(not_meaningful_reason)
    undefined = _undefined(scores)
    if undefined:
        n = sum(r["drawings"] for r in undefined)
        notes.append(f"fidelity of {n} drawing(s) is undefined: {UNDEFINED_FIDELITY}")
    text_free, text_free_by = _text_free(per_image, flags)
    fidelity_summary = FidelitySummary(
        metric=fid_label,
        standard=not non_standard,
        definition="percentile rank of the true description among all descriptions of "
        "the same category in the run: 100*(N-1-above-ties/2)/(N-1); 100 = ranked first",
        overall=_records_table(tables["all"])[0] if tables else None,
        by=Tables({k: _records_table(v) for k, v in tables.items() if k != "all"}),
        undefined=undefined or None,
        undefined_reason=UNDEFINED_FIDELITY if undefined else None,
        not_meaningful=off_domain or None,
        not_meaningful_reason=not_meaningful_reason,
        ocr_read=len(flags) if ocr else None,
        flagged=sum(bool(v) for v in flags.values()) if ocr else None,
        text_free=text_free,
        text_free_by=text_free_by,
    )
    diversity_summary = None
    realism_summary = None

    if diversity:
        diversity_summary = _diversity_summary(
            run, ok, lpips_net, lpips_weights, lpips_heads, device, batch_size, notes
        )
    if reference is not None:
        realism_summary = _realism_summary(
            run, ok, reference, inception_weights, device, batch_size, notes
        )
    base = summarise_run(run, fidelity_summary.meaningful, scorer.name)
    fid_of = {s.drawing: s.percentile for s in scores}
    from snellen.metrics.program import measure_drawings, program_summary

    programs = program_summary(measure_drawings(run, drawings), fid_of)
    similarity_summary = (
        _similarity_summary(run, ok, similarity, device, notes) if similarity is not None else None
    )
    judge_summary_ = None
    if judge is not None:
        from snellen.metrics.judge import judge_drawings, judge_summary

        answers = judge_drawings(
            run, ok, judge, base_url=judge_base_url, options=judge_options, progress=progress
        )
        judge_summary_ = judge_summary(answers, judge)
    headline = _headline(
        dict(base.headline), ok, flags, fid_of, fidelity_summary, judge_summary_,
        similarity_summary, ocr,
    )  # fmt: skip
    summary = replace(
        base,
        headline=headline,
        programs=programs,
        judge=judge_summary_,
        similarity=similarity_summary,
        scorer={"name": scorer.name, **scorer.labels.summary()},
        fidelity=fidelity_summary,
        diversity=diversity_summary,
        realism=realism_summary,
        labels=tuple(notes),
        seconds=round(time.monotonic() - t0, 2),
    )
    from snellen.store.run import content_key

    key = content_key(scorer.name, str(reference), str(lpips_weights), str(inception_weights),
                      *([similarity, judge] if similarity != "efficientnet-lite0" or judge else []))  # fmt: skip
    metrics = summary.to_json()
    run.put(METRICS, key, metrics)
    write_json(run.path / "metrics.json", metrics)
    return summary


def _ocr_check(
    run: Run, drawings: list[Drawing], notes: list[str], progress: bool
) -> tuple[list[Drawing], bool]:
    """Read every drawing with Tesseract (the text-gaming check); returns the drawings with
    ``ocr_text``/``names_concept`` and whether the check ran."""
    import shutil

    from snellen.metrics.ocr import check_drawings

    if shutil.which("tesseract") is None:
        # a finished check-up is not thrown away for a missing OCR engine: say so instead
        notes.append(
            "the OCR text-gaming check was skipped: Tesseract is not installed "
            "(apt-get install -y tesseract-ocr, as scripts/setup.sh does)"
        )
        return drawings, False
    drawings = check_drawings(run, drawings, progress=progress)
    if (run.path / f"{DRAWINGS}.parquet").exists():
        run.export_parquet(DRAWINGS)  # the exported table gets the new columns too
    return drawings, True


def _text_free(per_image: Any, flags: dict[str, bool]) -> tuple[dict[str, Any] | None, Tables]:
    """Fidelity over the drawings whose text does not name their concept."""
    if not flags or not len(per_image):
        return None, Tables()
    clean = per_image[per_image["names_concept"] == False]  # noqa: E712 - a pandas mask
    clean_tables = aggregate(clean, "percentile", ("category", "language"))
    text_free = _records_table(clean_tables["all"])[0] if len(clean) else None
    return text_free, Tables({k: _records_table(v) for k, v in clean_tables.items() if k != "all"})


def _similarity_summary(
    run: Run, ok: list[Drawing], similarity: str, device: str | None, notes: list[str]
) -> Any:
    from snellen.metrics.similarity import reference_similarity

    summary, _ = reference_similarity(run, ok, similarity, device=device)
    if summary is not None and not summary.standard:
        notes.append(
            f"{summary.metric}: EfficientNet-Lite0 features, not a published "
            "image similarity; pass --similarity dinov2:facebook/dinov2-small for DINOv2"
        )
    return summary


def _headline(
    headline: dict[str, Any], ok: list[Drawing], flags: dict[str, bool],
    fid_of: dict[str, float | None], fidelity_summary: FidelitySummary, judge: Any,
    similarity: Any, ocr: bool,
) -> dict[str, Any]:  # fmt: skip
    """The run's headline numbers with the text-free fidelity, the judge's accuracy and the
    reference similarity, each with its interval."""
    if ocr:
        headline["flagged"] = fidelity_summary.flagged
        category = {d.key: d.category for d in ok}
        judged = [fid_of.get(k) for k, v in flags.items()
                  if not v and fidelity_summary.meaningful(category[k])]  # fmt: skip
        values = [v for v in judged if v is not None]
        headline["fidelity_text_free"] = sum(values) / len(values) if values else None
        add_interval(headline, "fidelity_text_free", values)
    if judge is not None:
        headline["judge_accuracy"] = judge.accuracy
        headline["judge_accuracy_lo"] = judge.accuracy_lo
        headline["judge_accuracy_hi"] = judge.accuracy_hi
    if similarity is not None and similarity.overall:
        for k in ("mean", "mean_lo", "mean_hi"):
            headline[k.replace("mean", "similarity")] = similarity.overall.get(k)
    return headline


_FIDELITY_FIELDS = {f for f in FidelityScore.columns() if f not in ("scorer", "undefined")}


def _undefined(scores: Iterable[FidelityScore]) -> list[dict[str, Any]]:
    """Per category: the drawings whose fidelity is undefined and their candidate count."""
    out: dict[str, dict[str, Any]] = {}
    for s in scores:
        if s.percentile is None:
            row = out.setdefault(s.category, {"category": s.category, "drawings": 0,
                                              "candidates": s.candidates})  # fmt: skip
            row["drawings"] += 1
    return list(out.values())


def drawing_images(run: Run, records: Iterable[Drawing]) -> list[Image.Image]:
    return [_open(run, str(d.image)) for d in records if d.image]
