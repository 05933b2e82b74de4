"""A drawing as plain geometry: a fixed canvas and a list of primitives with exact coordinates.

Every reference program of a shape concept is emitted from one :class:`Scene`, so the five
languages draw the same picture. Coordinates are canvas pixels with the origin at the top
left and y pointing down (the SVG and Processing convention); emitters for y-up languages
convert. Patterns (stripes, dots, hatching) are clipped here, in Python, so every language
draws the same segments and dots with its plainest commands.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

Point = tuple[float, float]

CANVAS = 400
DASHES = ("solid", "dashed", "dotted")


@dataclass(frozen=True)
class Paint:
    """How a primitive is painted: colours are ``#rrggbb``; ``None`` means not painted."""

    fill: str | None = None
    stroke: str | None = None
    width: float = 0.0
    dash: str = "solid"
    alpha: float = 1.0

    def dash_pattern(self) -> tuple[float, float] | None:
        """(on, off) lengths in pixels, or None for a solid stroke."""
        if self.dash == "dashed":
            return (max(10.0, 3.0 * self.width), max(7.0, 2.0 * self.width))
        if self.dash == "dotted":
            return (max(2.0, self.width), max(5.0, 2.0 * self.width))
        return None


@dataclass(frozen=True)
class Circle:
    cx: float
    cy: float
    r: float
    paint: Paint
    label: str = ""


@dataclass(frozen=True)
class Ellipse:
    cx: float
    cy: float
    rx: float
    ry: float
    paint: Paint
    label: str = ""


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle, optionally with rounded corners of ``radius``."""

    x: float
    y: float
    w: float
    h: float
    paint: Paint
    radius: float = 0.0
    label: str = ""


@dataclass(frozen=True)
class Polygon:
    points: tuple[Point, ...]
    paint: Paint
    label: str = ""


@dataclass(frozen=True)
class Polyline:
    """An open path; only its stroke is drawn."""

    points: tuple[Point, ...]
    paint: Paint
    label: str = ""


@dataclass(frozen=True)
class Segments:
    """Many straight strokes of one paint (a pattern of stripes or hatching)."""

    segments: tuple[tuple[Point, Point], ...]
    paint: Paint
    label: str = ""


@dataclass(frozen=True)
class Dots:
    """Many filled dots of one radius and colour (a dotted pattern)."""

    centres: tuple[Point, ...]
    r: float
    paint: Paint
    label: str = ""


Primitive = Circle | Ellipse | Rect | Polygon | Polyline | Segments | Dots


@dataclass(frozen=True)
class Scene:
    background: str
    items: tuple[Primitive, ...] = field(default_factory=tuple)
    width: int = CANVAS
    height: int = CANVAS


# ---------------------------------------------------------------------------------------------
# small geometry helpers


def rnd(x: float) -> float:
    """Coordinates are kept to 0.1 px so every emitter prints the same numbers."""
    v = round(x, 1)
    return 0.0 if v == 0 else v


def pts(points: Sequence[Point]) -> tuple[Point, ...]:
    return tuple((rnd(x), rnd(y)) for x, y in points)


def rotate(points: Sequence[Point], angle_deg: float, cx: float, cy: float) -> list[Point]:
    """Rotate clockwise on screen (y down) by ``angle_deg`` about (cx, cy)."""
    if not angle_deg:
        return list(points)
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    return [(cx + (x - cx) * c - (y - cy) * s, cy + (x - cx) * s + (y - cy) * c) for x, y in points]


def ellipse_points(cx: float, cy: float, rx: float, ry: float, n: int = 72) -> list[Point]:
    return [
        (cx + rx * math.cos(2 * math.pi * i / n), cy + ry * math.sin(2 * math.pi * i / n))
        for i in range(n)
    ]


def rounded_rect_points(
    x: float, y: float, w: float, h: float, r: float, k: int = 6
) -> list[Point]:
    out: list[Point] = []
    corners = (
        (x + w - r, y + r, -90),
        (x + w - r, y + h - r, 0),
        (x + r, y + h - r, 90),
        (x + r, y + r, 180),
    )
    for ccx, ccy, start in corners:
        for i in range(k + 1):
            a = math.radians(start + 90 * i / k)
            out.append((ccx + r * math.cos(a), ccy + r * math.sin(a)))
    return out


def region(item: Primitive) -> list[Point]:
    """The outline of a closed primitive as a polygon (used for clipping and shadows)."""
    if isinstance(item, Circle):
        return ellipse_points(item.cx, item.cy, item.r, item.r)
    if isinstance(item, Ellipse):
        return ellipse_points(item.cx, item.cy, item.rx, item.ry)
    if isinstance(item, Rect):
        if item.radius:
            return rounded_rect_points(item.x, item.y, item.w, item.h, item.radius)
        return [
            (item.x, item.y),
            (item.x + item.w, item.y),
            (item.x + item.w, item.y + item.h),
            (item.x, item.y + item.h),
        ]
    if isinstance(item, Polygon):
        return list(item.points)
    raise TypeError(f"{type(item).__name__} has no region")


def shifted(item: Primitive, dx: float, dy: float, paint: Paint) -> Primitive:
    """The same closed primitive moved by (dx, dy), painted differently (a drop shadow)."""
    if isinstance(item, Circle):
        return replace(
            item, cx=rnd(item.cx + dx), cy=rnd(item.cy + dy), paint=paint, label="shadow"
        )
    if isinstance(item, Ellipse):
        return replace(
            item, cx=rnd(item.cx + dx), cy=rnd(item.cy + dy), paint=paint, label="shadow"
        )
    if isinstance(item, Rect):
        return replace(item, x=rnd(item.x + dx), y=rnd(item.y + dy), paint=paint, label="shadow")
    if isinstance(item, Polygon):
        return Polygon(pts([(x + dx, y + dy) for x, y in item.points]), paint, "shadow")
    raise TypeError(f"{type(item).__name__} cannot cast a shadow")


def _line_polygon_hits(p: Point, d: Point, poly: Sequence[Point]) -> list[float]:
    """Parameters t where the line p + t*d crosses the polygon's edges."""
    hits = []
    n = len(poly)
    for i in range(n):
        ax, ay = poly[i]
        bx, by = poly[(i + 1) % n]
        ex, ey = bx - ax, by - ay
        den = d[0] * ey - d[1] * ex
        if abs(den) < 1e-12:
            continue
        t = ((ax - p[0]) * ey - (ay - p[1]) * ex) / den
        u = ((ax - p[0]) * d[1] - (ay - p[1]) * d[0]) / den
        if 0 <= u < 1:
            hits.append(t)
    return sorted(hits)


def clip_lines(
    poly: Sequence[Point], angle_deg: float, spacing: float
) -> list[tuple[Point, Point]]:
    """Parallel lines at ``angle_deg`` (0 = horizontal), ``spacing`` apart, clipped to ``poly``.

    Even-odd pairing of crossings makes this right for concave outlines (stars, hearts) too.
    """
    xs = [x for x, _ in poly]
    ys = [y for _, y in poly]
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    reach = math.hypot(max(xs) - min(xs), max(ys) - min(ys)) / 2 + spacing
    a = math.radians(angle_deg)
    d = (math.cos(a), math.sin(a))
    nrm = (-d[1], d[0])
    out: list[tuple[Point, Point]] = []
    k = int(reach // spacing)
    for i in range(-k, k + 1):
        off = (i + 0.5) * spacing
        p = (cx + nrm[0] * off, cy + nrm[1] * off)
        hits = _line_polygon_hits(p, d, poly)
        for j in range(0, len(hits) - 1, 2):
            t0, t1 = hits[j], hits[j + 1]
            if t1 - t0 < 1.0:
                continue
            a_pt = (rnd(p[0] + d[0] * t0), rnd(p[1] + d[1] * t0))
            b_pt = (rnd(p[0] + d[0] * t1), rnd(p[1] + d[1] * t1))
            out.append((a_pt, b_pt))
    return out


def inside(pt: Point, poly: Sequence[Point]) -> bool:
    x, y = pt
    result = False
    n = len(poly)
    for i in range(n):
        ax, ay = poly[i]
        bx, by = poly[(i + 1) % n]
        if (ay > y) != (by > y) and x < (bx - ax) * (y - ay) / (by - ay) + ax:
            result = not result
    return result


def _edge_distance(pt: Point, poly: Sequence[Point]) -> float:
    best = math.inf
    n = len(poly)
    for i in range(n):
        ax, ay = poly[i]
        bx, by = poly[(i + 1) % n]
        ex, ey = bx - ax, by - ay
        L = ex * ex + ey * ey
        t = 0.0 if L == 0 else max(0.0, min(1.0, ((pt[0] - ax) * ex + (pt[1] - ay) * ey) / L))
        best = min(best, math.hypot(pt[0] - ax - t * ex, pt[1] - ay - t * ey))
    return best


def dot_grid(poly: Sequence[Point], spacing: float, r: float) -> list[Point]:
    """Centres of a staggered grid of dots that lie wholly inside ``poly``."""
    xs = [x for x, _ in poly]
    ys = [y for _, y in poly]
    out: list[Point] = []
    row = 0
    y = min(ys) + spacing / 2
    while y < max(ys):
        x = min(xs) + (spacing / 2 if row % 2 else spacing / 4)
        while x < max(xs):
            if inside((x, y), poly) and _edge_distance((x, y), poly) > r + 1:
                out.append((rnd(x), rnd(y)))
            x += spacing
        y += spacing * 0.87
        row += 1
    return out


def dash_runs(
    points: Sequence[Point], closed: bool, on: float, off: float
) -> list[tuple[Point, Point]]:
    """Split a path into the visible dashes of an (on, off) pattern, carrying the phase over
    corners; the emitters for languages without dashed strokes draw these."""
    path = list(points) + ([points[0]] if closed else [])
    out: list[tuple[Point, Point]] = []
    drawing, left = True, on
    for (ax, ay), (bx, by) in zip(path, path[1:], strict=False):
        seg = math.hypot(bx - ax, by - ay)
        pos = 0.0
        while pos < seg - 1e-9:
            step = min(left, seg - pos)
            if drawing:
                t0, t1 = pos / seg, (pos + step) / seg
                out.append(
                    (
                        (rnd(ax + (bx - ax) * t0), rnd(ay + (by - ay) * t0)),
                        (rnd(ax + (bx - ax) * t1), rnd(ay + (by - ay) * t1)),
                    )
                )
            pos += step
            left -= step
            if left <= 1e-9:
                drawing = not drawing
                left = on if drawing else off
    return out


def outline(item: Primitive) -> tuple[list[Point], bool]:
    """The stroked path of a primitive: its points and whether it is closed."""
    if isinstance(item, Polyline):
        return list(item.points), False
    return region(item), True
