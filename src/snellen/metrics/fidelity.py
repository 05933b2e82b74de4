"""Fidelity: how well an image matches its own description, as the percentile rank of the
true description among all descriptions of the same category under an image-text scorer.

Definition (N candidates, the true one among them, scores s by the scorer):
``above`` = candidates scoring strictly higher than the true one, ``ties`` = others scoring
exactly the same; ``rank = above + 1``; ``percentile = 100 * (N - 1 - above - ties / 2) /
(N - 1)``: 100 when ranked first, 0 when last, ties count half (the convention of
:func:`snellen.checkup.grading.rank_percentile`). With N < 2 there is nothing to rank
against: the percentile is NaN and the image is left out of the means.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image

from snellen.metrics.bootstrap import mean_interval
from snellen.ranking import rank_and_percentile
from snellen.score.base import Scorer

__all__ = [
    "Fidelity",
    "aggregate",
    "candidate_set",
    "fidelity",
    "fidelity_from_embeddings",
    "rank_and_percentile",
    "ranks_of_true",
]


GROUP_COLUMNS = ("category", "language", "model", "round")


def ranks_of_true(sim: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    return rank_and_percentile(sim, truth)[0]


def fidelity_from_embeddings(
    image_emb: torch.Tensor,
    descriptions: Sequence[str],
    categories: Sequence[str],
    candidate_texts: Sequence[str],
    candidate_emb: torch.Tensor,
    candidate_categories: Sequence[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rank, percentile, candidates) per image. The candidates of an image are the
    candidate texts of its category; its own description must be among them."""
    index = {
        (c, t): i
        for i, (t, c) in enumerate(zip(candidate_texts, candidate_categories, strict=True))
    }
    try:
        truth = torch.tensor([index[(c, d)] for d, c in zip(descriptions, categories, strict=True)])
    except KeyError as e:
        raise ValueError(
            f"description {e.args[0][1]!r} ({e.args[0][0]}) is not a candidate"
        ) from None
    cats = sorted(set(candidate_categories))
    cat_id = {c: i for i, c in enumerate(cats)}
    cand_cat = torch.tensor([cat_id[c] for c in candidate_categories])
    img_cat = torch.tensor([cat_id[c] for c in categories])
    valid = img_cat[:, None] == cand_cat[None, :]
    sim = image_emb.float() @ candidate_emb.float().t()
    rank, pct = rank_and_percentile(sim, truth, valid)
    return rank.numpy(), pct.numpy(), valid.sum(1).numpy()


def candidate_set(
    descriptions: Iterable[str], categories: Iterable[str]
) -> tuple[list[str], list[str]]:
    """The unique (description, category) pairs, in first-seen order."""
    seen: dict[tuple[str, str], None] = {}
    for d, c in zip(descriptions, categories, strict=True):
        seen.setdefault((c, d), None)
    return [d for _, d in seen], [c for c, _ in seen]


class Fidelity:
    """Accumulates image embeddings batch by batch; ``compute()`` ranks every image's true
    description among its category's candidates and returns one row per image.

    Candidates are all descriptions passed to ``update`` (including ones whose images
    failed: pass ``images=None`` entries are not allowed, so use :meth:`add_candidates`),
    plus any given up front.
    """

    def __init__(
        self, scorer: Scorer, candidates: Mapping[str, Sequence[str]] | None = None
    ) -> None:
        self.scorer = scorer
        self._initial = {k: list(v) for k, v in (candidates or {}).items()}
        self.reset()

    def reset(self) -> None:
        self._emb: list[torch.Tensor] = []
        self._desc: list[str] = []
        self._cat: list[str] = []
        self._meta: list[dict[str, Any]] = []
        self._cand: dict[tuple[str, str], None] = {
            (c, d): None for c, ds in self._initial.items() for d in ds
        }

    def add_candidates(self, descriptions: Iterable[str], categories: Iterable[str]) -> None:
        for d, c in zip(descriptions, categories, strict=True):
            self._cand.setdefault((c, d), None)

    def update(
        self,
        images: Sequence[Image.Image],
        descriptions: Sequence[str],
        categories: Sequence[str],
        meta: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        if not (len(images) == len(descriptions) == len(categories)):
            raise ValueError("images, descriptions and categories must have the same length")
        if not images:
            return
        self._emb.append(self.scorer.embed_images(list(images)).cpu())
        self._desc += list(descriptions)
        self._cat += list(categories)
        self._meta += [dict(m) for m in meta] if meta is not None else [{} for _ in images]
        self.add_candidates(descriptions, categories)

    def compute(self) -> pd.DataFrame:
        columns = ["description", "category", "rank", "candidates", "percentile"]
        if not self._desc:
            return pd.DataFrame(columns=columns)
        cand_texts = [d for _, d in self._cand]
        cand_cats = [c for c, _ in self._cand]
        cand_emb = self.scorer.embed_texts(cand_texts).cpu()
        rank, pct, n = fidelity_from_embeddings(
            torch.cat(self._emb), self._desc, self._cat, cand_texts, cand_emb, cand_cats
        )
        frame = pd.DataFrame(self._meta)
        frame["description"] = self._desc
        frame["category"] = self._cat
        frame["rank"] = rank
        frame["candidates"] = n
        frame["percentile"] = pct
        return frame


def fidelity(
    scorer: Scorer,
    images: Sequence[Image.Image],
    descriptions: Sequence[str],
    categories: Sequence[str],
    candidates: Mapping[str, Sequence[str]] | None = None,
    batch_size: int | None = None,
) -> pd.DataFrame:
    """Functional form of :class:`Fidelity`: one row per image with rank and percentile.
    Images go to the scorer ``batch_size`` at a time (default: the scorer's own batch)."""
    metric = Fidelity(scorer, candidates)
    step = batch_size or int(getattr(scorer, "batch_size", 64))
    for i in range(0, len(images), step):
        sl = slice(i, i + step)
        metric.update(images[sl], descriptions[sl], categories[sl])
    return metric.compute()


def aggregate(
    data: pd.DataFrame | Iterable[Mapping[str, Any]],
    value: str = "percentile",
    by: Sequence[str] = GROUP_COLUMNS,
    combos: Sequence[Sequence[str]] = (),
) -> dict[str, pd.DataFrame]:
    """Mean (with its bootstrap interval ``mean_lo``/``mean_hi``, see
    :mod:`snellen.metrics.bootstrap`), standard deviation and count of ``value`` overall (``"all"``), per column of
    ``by`` present in the data, per (category, language) when both are present, and per
    each column combination of ``combos`` (filed under the comma-joined names).
    NaN values (nothing to rank against) are left out."""
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(list(data))
    frame = frame[frame[value].notna()] if value in frame else frame.iloc[0:0]

    def summarise(g: pd.DataFrame | pd.core.groupby.DataFrameGroupBy) -> pd.DataFrame:
        out = g[value].agg(["mean", "std", "count", _lo, _hi])
        out = out if isinstance(out, pd.DataFrame) else out.to_frame().T
        out = out.rename(columns={"_lo": "mean_lo", "_hi": "mean_hi"})
        return out.astype({"count": int})

    tables = {"all": summarise(frame).reset_index(drop=True)}
    present = [c for c in by if c in frame.columns]
    for col in present:
        tables[col] = summarise(frame.groupby(col, dropna=False)).reset_index()
    if "category" in present and "language" in present:
        tables["category,language"] = summarise(
            frame.groupby(["category", "language"], dropna=False)
        ).reset_index()
    for cols in combos:
        if all(c in frame.columns for c in cols):
            tables[",".join(cols)] = summarise(
                frame.groupby(list(cols), dropna=False)
            ).reset_index()
    return tables


def _lo(values: pd.Series) -> float | None:
    return mean_interval(values.tolist())[0]


def _hi(values: pd.Series) -> float | None:
    return mean_interval(values.tolist())[1]


def records_table(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of an aggregate table as plain dicts (NumPy scalars as Python numbers, NaN
    as None), as ``metrics.json`` holds them."""
    out = []
    for row in frame.to_dict(orient="records"):
        clean = {}
        for k, v in row.items():
            if hasattr(v, "item"):
                v = v.item()
            if isinstance(v, float) and math.isnan(v):
                v = None
            clean[str(k)] = v
        out.append(clean)
    return out
