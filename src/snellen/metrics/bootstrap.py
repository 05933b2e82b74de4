"""Bootstrap confidence intervals for the means a run reports and for differences between
runs.

Every interval is a 95% percentile bootstrap over ``RESAMPLES`` (2,000) resamples drawn
with a NumPy ``default_rng(SEED)`` (seed 0) over the values sorted, so the same values (in
any order) always give the same interval. :func:`mean_interval` resamples one set of values (a per-drawing fidelity, a
0/1 render outcome, a 0/1 recognition answer); :func:`paired_difference` resamples the
shared units of two runs together (the same concepts drawn by two models), so what the two
have in common cancels out of the difference. A mean of fewer than two values has no
interval (None).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "LEVEL",
    "RESAMPLES",
    "SEED",
    "Difference",
    "add_interval",
    "joint_intervals",
    "mean_interval",
    "paired_difference",
]

RESAMPLES = 2000
SEED = 0
LEVEL = 0.95
# resample this many rows at a time, so a large run never holds RESAMPLES x N indices
_CHUNK_CELLS = 4_000_000


def _resampled_means(values: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Means of ``resamples`` resamples (with replacement) of the rows of ``values``
    (1-d: one mean per resample; 2-d: one mean per resample and column)."""
    n = values.shape[0]
    step = max(1, _CHUNK_CELLS // max(1, n))
    out = []
    for start in range(0, resamples, step):
        idx = rng.integers(0, n, size=(min(step, resamples - start), n))
        out.append(values[idx].mean(axis=1))
    return np.concatenate(out)


def _bounds(means: np.ndarray, level: float) -> tuple[float, float]:
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


def mean_interval(
    values: Iterable[float],
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
) -> tuple[float | None, float | None]:
    """The ``level`` percentile-bootstrap interval ``(lo, hi)`` of the mean of ``values``
    (NaN and None left out); ``(None, None)`` with fewer than two values."""
    data = np.asarray([float(v) for v in values if v is not None], dtype=np.float64)
    # sorted, so the interval depends on the values and not on the order records came in
    data = np.sort(data[np.isfinite(data)])
    if data.size < 2:
        return None, None
    if np.all(data == data[0]):
        return float(data[0]), float(data[0])
    return _bounds(_resampled_means(data, resamples, np.random.default_rng(seed)), level)


def joint_intervals(
    series: Sequence[Sequence[float]],
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
) -> list[tuple[float, float]]:
    """The ``level`` percentile-bootstrap intervals of the means of several series over the
    same cases (a task's text, image and group scores), the cases resampled jointly: one draw
    of case indices serves every series. NaN bounds when there are no cases."""
    if not series:
        return []
    data = np.asarray([[float(v) for v in s] for s in series], dtype=np.float64).T
    if data.shape[0] == 0:
        return [(float("nan"), float("nan")) for _ in series]
    means = _resampled_means(data, resamples, np.random.default_rng(seed))
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2], axis=0)
    return [(float(a), float(b)) for a, b in zip(lo, hi, strict=True)]


def add_interval(
    row: MutableMapping[str, Any], name: str, values: Iterable[float], **options: Any
) -> MutableMapping[str, Any]:
    """Set ``row[name + "_lo"]`` and ``row[name + "_hi"]`` to the interval of the mean of
    ``values`` (rounded to 6 digits, as the JSON is read by people); returns ``row``."""
    lo, hi = mean_interval(values, **options)
    row[f"{name}_lo"] = None if lo is None else round(lo, 6)
    row[f"{name}_hi"] = None if hi is None else round(hi, 6)
    return row


@dataclass(frozen=True)
class Difference:
    """``mean(b) - mean(a)`` over the ``units`` two runs share, with its paired-bootstrap
    interval (None with fewer than two shared units)."""

    difference: float | None
    lo: float | None
    hi: float | None
    units: int


def paired_difference(
    a: Mapping[Any, float],
    b: Mapping[Any, float],
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
) -> Difference:
    """The difference ``b - a`` of the means over the keys both mappings hold (a concept,
    or a concept and language), resampling those keys with replacement so each resample
    keeps each key's pair together."""
    shared = sorted((k for k in a if k in b), key=str)
    pairs = [
        (float(a[k]), float(b[k]))
        for k in shared
        if a[k] is not None and b[k] is not None and np.isfinite(a[k]) and np.isfinite(b[k])
    ]
    if not pairs:
        return Difference(None, None, None, 0)
    diffs = np.asarray([y - x for x, y in pairs], dtype=np.float64)
    mean = float(diffs.mean())
    if diffs.size < 2:
        return Difference(mean, None, None, int(diffs.size))
    lo, hi = _bounds(_resampled_means(diffs, resamples, np.random.default_rng(seed)), level)
    return Difference(mean, lo, hi, int(diffs.size))


def interval_text(mean: float | None, lo: float | None, hi: float | None, fmt: str = ".1f") -> str:
    """``"71.2 [68.0, 74.5]"``; ``"–"`` without a mean, the mean alone without an interval."""
    if mean is None:
        return "–"
    if lo is None or hi is None:
        return format(mean, fmt)
    return f"{format(mean, fmt)} [{format(lo, fmt)}, {format(hi, fmt)}]"


def column_values(rows: Sequence[Mapping[str, Any]], name: str) -> list[float]:
    """The finite numbers in column ``name`` of ``rows``."""
    out = []
    for row in rows:
        v = row.get(name)
        if isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v):
            out.append(float(v))
    return out
