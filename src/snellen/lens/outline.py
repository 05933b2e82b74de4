"""Shape names measured from a region's outline, for the detections captioner.

A flat region's outline says what polygon it is without any learned model: its radial
profile (the distance from the centroid to the edge, as a function of the angle) repeats
``n`` times around a regular ``n``-gon, so the strongest harmonic of that profile counts the
corners; its phase says where the corners point (a square's at the diagonals, a diamond's
up, down and to the sides); a star is the one region far from convex (area over the
convex hull's, solidity); a circle's profile is flat. Regions too small to have an outline,
or whose profile fits no rule, get no name: the caller falls back to its learned model.

The thresholds were set on pictures from :mod:`snellen.reproduce.flat_shapes` at 64-160 px
(see ``tests/test_lens_outline.py``, which also checks shapes drawn by another program).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BINS = 90
MIN_PIXELS = 40  # smaller regions (a radius under ~3.5 px) have no readable outline
HARMONICS = range(2, 9)
# a circle's radial profile varies only by pixel noise: its strongest harmonic stays below
# this share of the mean radius (a hexagon's sixth is about 0.06, a square's fourth 0.13)
ROUND = 0.022


@dataclass(frozen=True)
class Outline:
    """What the outline measured: the corners its profile repeats (0: none), how strongly
    (the harmonic's amplitude over the mean radius), the solidity, the elongation (square
    root of the second moments' ratio) and the angle of one corner (degrees, 0 = right)."""

    corners: int
    strength: float
    margin: float
    solidity: float
    elongation: float
    corner_angle: float
    pixels: int


def _edge(mask: np.ndarray) -> np.ndarray:
    pad = np.pad(mask, 1)
    inner = pad[1:-1, 1:-1] & pad[:-2, 1:-1] & pad[2:, 1:-1] & pad[1:-1, :-2] & pad[1:-1, 2:]
    return mask & ~inner


def _solidity(mask: np.ndarray, edge: np.ndarray) -> float:
    from scipy.spatial import ConvexHull, QhullError

    ys, xs = np.nonzero(edge)
    corners = np.concatenate([np.stack([xs + dx, ys + dy], 1) for dx in (0, 1) for dy in (0, 1)])
    try:
        hull = ConvexHull(corners.astype(float))
    except QhullError:  # a line of pixels: no area
        return 0.0
    return float(mask.sum()) / max(float(hull.volume), 1.0)


def measure(mask: np.ndarray) -> Outline | None:
    """The outline of the region ``mask`` (a boolean image), or None when it is too small.
    Holes are filled first: an outline is the region's outer edge."""
    from scipy.ndimage import binary_fill_holes

    mask = np.asarray(binary_fill_holes(mask), dtype=bool)
    pixels = int(mask.sum())
    if pixels < MIN_PIXELS:
        return None
    ys, xs = np.nonzero(mask)
    cy, cx = ys.mean(), xs.mean()
    cov = np.cov(np.stack([xs - cx, ys - cy]))
    low, high = np.linalg.eigvalsh(cov)
    elongation = math.sqrt(high / max(low, 1e-9))
    edge = _edge(mask)
    ey, ex = np.nonzero(edge)
    dy, dx = ey - cy, ex - cx
    # pixel centres of the edge sit half a pixel inside the true edge
    dist = np.hypot(dy, dx) + 0.5
    index = ((np.arctan2(dy, dx) + math.pi) / (2 * math.pi) * BINS).astype(int) % BINS
    profile = np.zeros(BINS)
    np.maximum.at(profile, index, dist)
    seen = profile > 0
    if seen.sum() < BINS // 3:
        return None
    if not seen.all():  # angles no edge pixel fell into (small regions): interpolate
        at = np.arange(BINS)
        profile = np.interp(at, at[seen], profile[seen], period=BINS)
    spectrum = np.fft.rfft(profile / profile.mean() - 1.0) / BINS * 2
    amps = {k: float(abs(spectrum[k])) for k in HARMONICS}
    order = sorted(amps, key=amps.__getitem__, reverse=True)
    # a harmonic that is a multiple of a stronger one's corners is that one's overtone
    best = order[0]
    for k in order[1:]:
        if best % k == 0 and amps[k] > 0.5 * amps[best]:
            best = k
            break
    rest = [amps[k] for k in HARMONICS if k != best and k % best != 0]
    # the profile's maximum of the corners' harmonic: angle of one corner (bin 0 = -180 deg)
    phase = float(np.angle(spectrum[best]))
    corner = (-phase / best) * 180 / math.pi - 180.0
    corner_angle = corner % (360.0 / best)
    return Outline(
        corners=best,
        strength=amps[best],
        margin=amps[best] - max(rest, default=0.0),
        solidity=_solidity(mask, edge),
        elongation=elongation,
        corner_angle=corner_angle,
        pixels=pixels,
    )


def name_outline(o: Outline) -> tuple[str | None, float]:
    """A shape name for the outline and how sure the rule is (0..1), or ``(None, 0)``."""
    if o.solidity < 0.8:
        if o.corners == 5 and o.margin > 0.03:
            return "star", min(1.0, (0.8 - o.solidity) * 4)
        return None, 0.0
    if o.elongation > 1.3:
        if o.corners in (2, 4) and o.solidity > 0.93 and o.strength > 0.05:
            return "rectangle", 0.6
        if o.strength < 0.06:
            return "ellipse", 0.6
        return None, 0.0
    if o.strength < ROUND:
        return "circle", min(1.0, (ROUND - o.strength) / ROUND + 0.3)
    if o.margin < 0.4 * o.strength:
        return None, 0.0
    sure = min(1.0, o.margin / max(o.strength, 1e-9))
    if o.corners == 3:
        return "triangle", sure
    if o.corners == 4:
        # corners on the diagonals: a square; up, down and to the sides: a diamond
        off = abs(o.corner_angle - 45.0)
        return ("square" if off < 22.5 else "diamond"), sure
    if o.corners == 5:
        return "pentagon", sure
    if o.corners == 6:
        return "hexagon", sure
    if o.corners == 8:
        return "octagon", sure
    return None, 0.0


def outline_shape(mask: np.ndarray) -> tuple[str | None, float]:
    """:func:`name_outline` of :func:`measure` (``(None, 0)`` for a region too small)."""
    o = measure(mask)
    return (None, 0.0) if o is None else name_outline(o)
