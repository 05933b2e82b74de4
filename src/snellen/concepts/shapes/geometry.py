"""Turn a structured shape spec into a :class:`~snellen.concepts.shapes.scene.Scene`.

The spec alone decides the geometry (no randomness here), so the same spec always gives the
same drawing, and a changed spec (a hard negative) gives the drawing it describes.
"""

from __future__ import annotations

import math
from dataclasses import replace

from snellen.concepts.shapes import vocab as V
from snellen.concepts.shapes.scene import (
    Circle,
    Dots,
    Ellipse,
    Paint,
    Point,
    Polygon,
    Polyline,
    Primitive,
    Rect,
    Scene,
    Segments,
    clip_lines,
    dot_grid,
    pts,
    region,
    rnd,
    rotate,
    shifted,
)
from snellen.concepts.shapes.types import Spec


def mix(hex_a: str, hex_b: str, t: float) -> str:
    """``hex_a`` moved a fraction ``t`` towards ``hex_b``."""
    a = [int(hex_a[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(hex_b[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02X}" for x, y in zip(a, b, strict=True))


def colour_hex(name: str, lightness: str | None = None) -> str:
    base = V.COLOUR_HEX[name]
    if lightness == "light":
        return mix(base, "#FFFFFF", 0.5)
    if lightness == "dark":
        return mix(base, "#000000", 0.45)
    return base


def object_colour(obj: Spec) -> str:
    colour = obj.get("colour", "black")
    if colour.startswith("#"):
        return colour
    return colour_hex(colour, obj.get("lightness"))


# ---------------------------------------------------------------------------------------------
# outlines of flat shapes, centred on the origin, fitting an extent ``s``


def _regular(n: int, r: float, start: float = -90.0) -> list[Point]:
    return [
        (
            r * math.cos(math.radians(start + 360 * i / n)),
            r * math.sin(math.radians(start + 360 * i / n)),
        )
        for i in range(n)
    ]


def _star(n: int, r: float) -> list[Point]:
    inner = r * (0.45 if n <= 5 else 0.55)
    out = []
    for i in range(2 * n):
        rad = r if i % 2 == 0 else inner
        a = math.radians(-90 + 180 * i / n)
        out.append((rad * math.cos(a), rad * math.sin(a)))
    return out


def _heart(s: float) -> list[Point]:
    out = []
    for i in range(48):
        t = 2 * math.pi * i / 48
        x = 16 * math.sin(t) ** 3
        y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
        out.append((x * s / 34, -y * s / 34 - s * 0.04))
    return out


def _triangle(s: float, direction: str) -> list[Point]:
    h = s * math.sqrt(3) / 2
    up = [(0.0, -h / 2), (s / 2, h / 2), (-s / 2, h / 2)]
    angle = {"up": 0, "right": 90, "down": 180, "left": 270}[direction]
    return rotate(up, angle, 0, 0)


def _box(
    shape: str, aspect: str | None, rot: float, rounded: bool, s: float, p: Paint
) -> Primitive | list[Point]:
    """A square or rectangle: a native rectangle, or its corners when rotated."""
    if shape == "square":
        w = h = s * 0.8
    else:
        w, h = (s * 0.55, s) if aspect == "tall" else (s, s * 0.55)
    r = min(w, h) * 0.2 if rounded else 0.0
    if not rot:
        return Rect(rnd(-w / 2), rnd(-h / 2), rnd(w), rnd(h), p, rnd(r))
    from snellen.concepts.shapes.scene import rounded_rect_points

    corners = (
        rounded_rect_points(-w / 2, -h / 2, w, h, r)
        if r
        else [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
    )
    return rotate(corners, rot, 0, 0)


def flat_outline(obj: Spec, s: float) -> Primitive | list[Point]:
    """A native primitive (circle, ellipse, rectangle) where one exists, else polygon points."""
    shape = obj["shape"]
    aspect = obj.get("aspect")
    rot = obj.get("rotation", 0)
    rounded = obj.get("corners") == "rounded"
    p = Paint()
    if shape == "circle":
        return Circle(0.0, 0.0, rnd(s / 2), p)
    if shape == "ellipse":
        rx, ry = (s / 3, s / 2) if aspect == "tall" else (s / 2, s / 3)
        return Ellipse(0.0, 0.0, rnd(rx), rnd(ry), p)
    if shape in ("square", "rectangle"):
        return _box(shape, aspect, rot, rounded, s, p)
    if shape == "triangle":
        return _triangle(s, obj.get("direction", "up"))
    if shape == "right triangle":
        a = s * 0.85
        points = [(-a / 2, -a / 2), (a / 2, a / 2), (-a / 2, a / 2)]
    elif shape == "diamond":
        w, h = (s, s * 0.65) if aspect == "wide" else (s * 0.65, s)
        points = [(0.0, -h / 2), (w / 2, 0.0), (0.0, h / 2), (-w / 2, 0.0)]
    elif shape in ("pentagon", "hexagon", "octagon", "polygon"):
        n = {"pentagon": 5, "hexagon": 6, "octagon": 8}.get(shape) or int(obj.get("sides", 7))
        points = _regular(n, s / 2)
    elif shape == "star":
        points = _star(int(obj.get("sides", 5)), s / 2)
    elif shape == "heart":
        points = _heart(s)
    elif shape == "semicircle":
        r = s / 2
        points = [
            (
                r * math.cos(math.radians(180 + 180 * i / 36)),
                r * math.sin(math.radians(180 + 180 * i / 36)) + r / 2,
            )
            for i in range(37)
        ]
    elif shape == "trapezoid":
        points = [(-s * 0.28, -s * 0.3), (s * 0.28, -s * 0.3), (s / 2, s * 0.3), (-s / 2, s * 0.3)]
    elif shape == "parallelogram":
        points = [
            (-s * 0.25, -s * 0.28),
            (s / 2, -s * 0.28),
            (s * 0.25, s * 0.28),
            (-s / 2, s * 0.28),
        ]
    elif shape == "cross":
        a, b = s / 2, s / 6
        points = [
            (-b, -a),
            (b, -a),
            (b, -b),
            (a, -b),
            (a, b),
            (b, b),
            (b, a),
            (-b, a),
            (-b, b),
            (-a, b),
            (-a, -b),
            (-b, -b),
        ]
    else:
        raise ValueError(f"not a flat shape: {shape}")
    return rotate(points, rot, 0, 0)


# ---------------------------------------------------------------------------------------------
# one object -> primitives centred on the origin


STROKE_WIDTHS = {"thin": 1.5, None: 3.0, "thick": 8.0}
HOLLOW_WIDTHS = {"thin": 2.0, None: 4.0, "thick": 9.0}
LINE_WIDTHS = {"thin": 2.0, None: 4.0, "thick": 10.0}
LINE_LENGTHS = {"short": 120.0, None: 220.0, "long": 330.0}
SHADOW = "#8C8C8C"


def _with_paint(shape: Primitive | list[Point], paint: Paint, label: str) -> Primitive:
    if isinstance(shape, list):
        return Polygon(pts(shape), paint, label)
    return replace(shape, paint=paint, label=label)


def _flat_items(obj: Spec, s: float, label: str) -> list[Primitive]:
    base = flat_outline(obj, s)
    colour = object_colour(obj)
    alpha = 0.5 if obj.get("opacity") == "semi-transparent" else 1.0
    dash = obj.get("line_style", "solid")
    items: list[Primitive] = []
    if obj.get("fill") == "hollow":
        paint = Paint(None, colour, HOLLOW_WIDTHS[obj.get("thickness")], dash, alpha)
        shape = _with_paint(base, paint, label)
        if obj.get("shadow"):
            items.append(shifted(shape, 8, 8, Paint(None, SHADOW, paint.width, dash)))
        return items + [shape]
    wants_stroke = any(k in obj for k in ("outline_colour", "thickness", "line_style"))
    stroke = None
    if wants_stroke:
        if "outline_colour" in obj:
            stroke = colour_hex(obj["outline_colour"])
        else:
            stroke = "#000000" if obj.get("colour") != "black" else "#808080"
    width = STROKE_WIDTHS[obj.get("thickness")] if stroke else 0.0
    textured = "texture" in obj
    fill_shape = _with_paint(
        base,
        Paint(colour, None if textured else stroke, 0.0 if textured else width, dash, alpha),
        label,
    )
    if obj.get("shadow"):
        items.append(shifted(fill_shape, 8, 8, Paint(SHADOW)))
    items.append(fill_shape)
    if textured:
        items.append(_texture(obj, region(fill_shape), alpha))
        if stroke:
            items.append(_with_paint(base, Paint(None, stroke, width, dash, alpha), "outline"))
    return items


def _texture(obj: Spec, poly: list[Point], alpha: float) -> Primitive:
    tex = obj["texture"]
    colour = colour_hex(
        obj.get("texture_colour", "white" if obj.get("colour") != "white" else "black")
    )
    fine = obj.get("texture_density") == "fine"
    if tex == "dots":
        spacing = 13.0 if fine else 24.0
        r = spacing * 0.22
        return Dots(
            tuple(dot_grid(poly, spacing, r)),
            rnd(r),
            Paint(colour, None, 0.0, "solid", alpha),
            "dots",
        )
    spacing = 9.0 if fine else 18.0
    width = spacing * 0.35
    if tex == "stripes":
        angle = {"horizontal": 0, "vertical": 90, "diagonal": -45}[
            obj.get("texture_direction", "horizontal")
        ]
        segs = clip_lines(poly, angle, spacing)
        label = "stripes"
    elif tex == "cross-hatching":
        segs = clip_lines(poly, 45, spacing) + clip_lines(poly, -45, spacing)
        width = spacing * 0.2
        label = "cross-hatching"
    else:
        segs = clip_lines(poly, 0, spacing) + clip_lines(poly, 90, spacing)
        width = spacing * 0.2
        label = "grid pattern"
    return Segments(tuple(segs), Paint(None, colour, rnd(width), "solid", alpha), label)


def _line_items(obj: Spec, s_scale: float, label: str) -> list[Primitive]:
    shape = obj["shape"]
    colour = object_colour(obj)
    width = LINE_WIDTHS[obj.get("thickness")]
    length = LINE_LENGTHS[obj.get("length")] * s_scale
    dash = obj.get("line_style", "solid")
    paint = Paint(
        None, colour, width, dash, 0.5 if obj.get("opacity") == "semi-transparent" else 1.0
    )
    half = length / 2
    if shape == "line":
        angle = {"horizontal": 0, "vertical": 90, "rising": -45, "falling": 45}[
            obj.get("orientation", "horizontal")
        ]
        ends = rotate([(-half, 0.0), (half, 0.0)], angle, 0, 0)
        return [Polyline(pts(ends), paint, label)]
    if shape == "arrow":
        head = 12 + 2.5 * width
        shaft_start = -half + (head if obj.get("arrowheads") == "double" else 0)
        pieces: list[Primitive] = [
            Polyline(pts([(shaft_start, 0.0), (half - head, 0.0)]), paint, label)
        ]
        heads = [[(half, 0.0), (half - head, -head * 0.6), (half - head, head * 0.6)]]
        if obj.get("arrowheads") == "double":
            heads.append([(-half, 0.0), (-half + head, -head * 0.6), (-half + head, head * 0.6)])
        for h in heads:
            pieces.append(
                Polygon(pts(h), Paint(colour, None, 0.0, "solid", paint.alpha), "arrowhead")
            )
        angle = {"right": 0, "down": 90, "left": 180, "up": 270}[obj.get("direction", "right")]
        return [_rotated(p, angle) for p in pieces]
    if shape == "zigzag line":
        teeth = 8
        points = [
            (-half + length * i / teeth, (-18.0 if i % 2 else 18.0)) for i in range(teeth + 1)
        ]
    else:
        points = [
            (-half + length * i / 60, 18 * math.sin(2 * math.pi * 2.5 * i / 60)) for i in range(61)
        ]
    angle = 90 if obj.get("orientation") == "vertical" else 0
    return [Polyline(pts(rotate(points, angle, 0, 0)), paint, label)]


def _rotated(p: Primitive, angle: float) -> Primitive:
    if isinstance(p, Polyline):
        return Polyline(pts(rotate(p.points, angle, 0, 0)), p.paint, p.label)
    assert isinstance(p, Polygon)  # noqa: S101 - an invariant that narrows the type, not a check of input
    return Polygon(pts(rotate(p.points, angle, 0, 0)), p.paint, p.label)


def _point_items(obj: Spec, label: str) -> list[Primitive]:
    r = V.POINT_RADII[obj.get("size", "medium")]
    colour = object_colour(obj)
    marker = obj.get("marker", "dot")
    if marker == "dot":
        return [Circle(0.0, 0.0, r, Paint(colour), label)]
    if marker == "ring":
        return [Circle(0.0, 0.0, r, Paint(None, colour, rnd(max(1.5, r * 0.4))), label)]
    a = r * 1.3
    if marker == "cross":
        segs = (((-a, -a), (a, a)), ((-a, a), (a, -a)))
    else:
        segs = (((-a, 0.0), (a, 0.0)), ((0.0, -a), (0.0, a)))
    return [
        Segments(
            tuple((pts([p, q])[0], pts([p, q])[1]) for p, q in segs),
            Paint(None, colour, rnd(max(1.5, r * 0.45))),
            label,
        )
    ]


def _solid_items(obj: Spec, s: float, label: str) -> list[Primitive]:
    shape = obj["shape"]
    c = object_colour(obj)
    flat = obj.get("shading") == "flat"
    left = obj.get("viewpoint") == "upper left"
    light = c if flat else mix(c, "#FFFFFF", 0.35)
    dark = c if flat else mix(c, "#000000", 0.3)
    edge = (
        ("#000000" if obj.get("colour") != "black" else "#FFFFFF")
        if flat
        else mix(c, "#000000", 0.55)
    )
    if obj.get("colour") == "black" and not flat:
        light, dark, edge = "#555555", "#222222", "#888888"
    ew = 2.0

    def face(points: list[Point], fill: str, name: str) -> Polygon:
        return Polygon(pts(points), Paint(fill, edge, ew), name)

    sx = -1 if left else 1
    if shape in ("cube", "box"):
        if shape == "cube":
            w = h = s * 0.65
        else:
            w, h = s * 0.8, s * 0.45
        d = min(w, h) * 0.45
        dx, dy = sx * d, -d
        x0, y0 = -w / 2 - dx / 2, -h / 2 - dy / 2
        front = [(x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h)]
        top = [(x0, y0), (x0 + w, y0), (x0 + w + dx, y0 + dy), (x0 + dx, y0 + dy)]
        ex = x0 + w if not left else x0
        side = [(ex, y0), (ex + dx, y0 + dy), (ex + dx, y0 + h + dy), (ex, y0 + h)]
        return [
            face(front, c, f"{label} front"),
            face(top, light, f"{label} top"),
            face(side, dark, f"{label} side"),
        ]
    if shape == "cylinder":
        w, h = s * 0.6, s
        ry = w * 0.18
        top_y, bot_y = -h / 2 + ry, h / 2 - ry
        body = [(-w / 2, top_y), (w / 2, top_y), (w / 2, bot_y), (-w / 2, bot_y)]
        return [
            Ellipse(0.0, rnd(bot_y), rnd(w / 2), rnd(ry), Paint(dark, edge, ew), f"{label} base"),
            Polygon(pts(body), Paint(c), f"{label} body"),
            Polyline(
                pts([(-w / 2, top_y), (-w / 2, bot_y)]), Paint(None, edge, ew), f"{label} left edge"
            ),
            Polyline(
                pts([(w / 2, top_y), (w / 2, bot_y)]), Paint(None, edge, ew), f"{label} right edge"
            ),
            Ellipse(0.0, rnd(top_y), rnd(w / 2), rnd(ry), Paint(light, edge, ew), f"{label} top"),
        ]
    if shape == "cone":
        w, h = s * 0.7, s
        ry = w * 0.18
        base_y = h / 2 - ry
        return [
            Ellipse(0.0, rnd(base_y), rnd(w / 2), rnd(ry), Paint(dark, edge, ew), f"{label} base"),
            Polygon(
                pts([(0.0, -h / 2), (w / 2, base_y), (-w / 2, base_y)]),
                Paint(c, edge, ew),
                f"{label} side",
            ),
        ]
    if shape == "sphere":
        r = s / 2
        items: list[Primitive] = [Circle(0.0, 0.0, rnd(r), Paint(c, edge, ew), label)]
        if flat:
            items.append(
                Ellipse(0.0, 0.0, rnd(r), rnd(r * 0.3), Paint(None, edge, ew), f"{label} equator")
            )
        else:
            items.append(
                Circle(
                    rnd(-sx * r * 0.35),
                    rnd(-r * 0.35),
                    rnd(r * 0.3),
                    Paint(light),
                    f"{label} highlight",
                )
            )
        return items
    if shape == "pyramid":
        w, h = s * 0.85, s * 0.8
        d = w * 0.35
        base_front = h / 2
        a = (-w / 2, base_front)
        b = (w / 2, base_front)
        back = (sx * d, -d)
        apex = ((a[0] + b[0]) / 2 + back[0] / 2, -h / 2)
        if left:
            side = [a, (a[0] + back[0], a[1] + back[1]), apex]
        else:
            side = [b, (b[0] + back[0], b[1] + back[1]), apex]
        return [face([a, b, apex], c, f"{label} front"), face(side, dark, f"{label} side")]
    raise ValueError(f"not a solid: {shape}")


def object_items(obj: Spec, s: float, label: str = "") -> list[Primitive]:
    """The primitives of one object of extent ``s``, centred on the origin."""
    shape = obj["shape"]
    label = label or shape
    if shape in V.POINT_SHAPES:
        return _point_items(obj, label)
    if shape in V.LINE_SHAPES:
        return _line_items(obj, s / V.SIZES["medium"] if s < V.SIZES["medium"] else 1.0, label)
    if shape in V.SOLID_SHAPES:
        return _solid_items(obj, s, label)
    return _flat_items(obj, s, label)


# ---------------------------------------------------------------------------------------------
# placing objects


def _points_of(p: Primitive) -> list[Point]:
    if isinstance(p, Circle):
        return [(p.cx - p.r, p.cy - p.r), (p.cx + p.r, p.cy + p.r)]
    if isinstance(p, Ellipse):
        return [(p.cx - p.rx, p.cy - p.ry), (p.cx + p.rx, p.cy + p.ry)]
    if isinstance(p, Rect):
        return [(p.x, p.y), (p.x + p.w, p.y + p.h)]
    if isinstance(p, Polygon | Polyline):
        return list(p.points)
    if isinstance(p, Segments):
        return [q for seg in p.segments for q in seg]
    return [(x + dx, y + dy) for x, y in p.centres for dx, dy in ((-p.r, -p.r), (p.r, p.r))]


def bbox(items: list[Primitive]) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of the items, ignoring shadows."""
    points = [q for p in items if p.label != "shadow" for q in _points_of(p)]
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    return min(xs), min(ys), max(xs), max(ys)


def translate(items: list[Primitive], dx: float, dy: float) -> list[Primitive]:
    out: list[Primitive] = []
    for p in items:
        if isinstance(p, Circle | Ellipse):
            out.append(replace(p, cx=rnd(p.cx + dx), cy=rnd(p.cy + dy)))
        elif isinstance(p, Rect):
            out.append(replace(p, x=rnd(p.x + dx), y=rnd(p.y + dy)))
        elif isinstance(p, Polygon | Polyline):
            out.append(replace(p, points=pts([(x + dx, y + dy) for x, y in p.points])))
        elif isinstance(p, Segments):
            out.append(
                replace(
                    p,
                    segments=tuple(
                        (pts([a, b])[0], pts([a, b])[1])
                        for a, b in (
                            ((a[0] + dx, a[1] + dy), (b[0] + dx, b[1] + dy)) for a, b in p.segments
                        )
                    ),
                )
            )
        else:
            out.append(replace(p, centres=pts([(x + dx, y + dy) for x, y in p.centres])))
    return out


def place(items: list[Primitive], cx: float, cy: float) -> list[Primitive]:
    """Move items so that the centre of their bounding box is (cx, cy)."""
    x0, y0, x1, y1 = bbox(items)
    return translate(items, cx - (x0 + x1) / 2, cy - (y0 + y1) / 2)


def _single(spec: Spec) -> list[Primitive]:
    s = V.SIZES[spec.get("size", "medium")]
    cx, cy = V.POSITION_XY[spec.get("position", "centre")]
    return place(object_items(spec, s), cx, cy)


def _group_layout(spec: Spec) -> list[tuple[float, float, float]]:
    """(cx, cy, extent) of each copy."""
    n = int(spec["count"])
    arr = spec["arrangement"]
    wide = spec.get("spacing") == "wide"
    if arr in ("row", "column", "diagonal"):
        span = 300.0 if arr != "diagonal" else 280.0
        step_ratio = 1.9 if wide else 1.25
        s = min(110.0, span / (n - 1 + 1 / step_ratio) / step_ratio) if n > 1 else 110.0
        step = s * step_ratio
        if arr != "diagonal" and s * step_ratio * (n - 1) + s > 340:
            step = (340 - s) / max(1, n - 1)
        offsets = [(i - (n - 1) / 2) * step for i in range(n)]
        if arr == "row":
            centres = [(200 + o, 200.0) for o in offsets]
        elif arr == "column":
            centres = [(200.0, 200 + o) for o in offsets]
        else:
            k = step / math.sqrt(2) if arr == "diagonal" else step
            centres = [(200 + (i - (n - 1) / 2) * k, 200 + (i - (n - 1) / 2) * k) for i in range(n)]
    elif arr == "grid":
        rows, cols = V.GRID_COUNTS[n]
        s = 70.0 if wide else 95.0
        step = s * (1.9 if wide else 1.25)
        centres = [
            (200 + (c - (cols - 1) / 2) * step, 200 + (r - (rows - 1) / 2) * step)
            for r in range(rows)
            for c in range(cols)
        ]
    else:
        radius = 125.0
        s = min(80.0, 2 * math.pi * radius / n * (0.45 if wide else 0.7))
        centres = [
            (
                200 + radius * math.cos(math.radians(-90 + 360 * i / n)),
                200 + radius * math.sin(math.radians(-90 + 360 * i / n)),
            )
            for i in range(n)
        ]
    sizes = [s] * n
    prog = spec.get("size_progression")
    if prog:
        scale = [0.45 + 0.55 * i / max(1, n - 1) for i in range(n)]
        if prog == "shrinking":
            scale.reverse()
        sizes = [s * k for k in scale]
    return [(x, y, e) for (x, y), e in zip(centres, sizes, strict=True)]


def group_colours(spec: Spec) -> list[str]:
    n = int(spec["count"])
    scheme = spec.get("colour_scheme")
    if scheme == "different":
        return [colour_hex(c) for c in spec["colours"]]
    if scheme == "alternating":
        a, b = spec["colours"]
        return [colour_hex(a if i % 2 == 0 else b) for i in range(n)]
    if scheme == "gradient":
        light, dark = colour_hex(spec["colour"], "light"), colour_hex(spec["colour"], "dark")
        return [mix(light, dark, i / max(1, n - 1)) for i in range(n)]
    return [object_colour(spec)] * n


def _group(spec: Spec) -> list[Primitive]:
    items: list[Primitive] = []
    for i, ((cx, cy, s), colour) in enumerate(
        zip(_group_layout(spec), group_colours(spec), strict=True)
    ):
        copy = {**spec, "colour": colour}
        items.extend(place(object_items(copy, s, f"{spec['shape']} {i + 1}"), cx, cy))
    return items


RELATIVE = {None: (110.0, 110.0), "larger": (150.0, 75.0), "smaller": (75.0, 150.0)}
GAPS = {"touching": 0.0, None: 30.0, "close": 12.0, "far": 120.0}


def _pair(spec: Spec) -> list[Primitive]:
    a_spec, b_spec = spec, spec["second"]
    rel = spec["relation"]
    if rel == "inside":
        outer = place(object_items(b_spec, 270.0, f"outer {b_spec['shape']}"), 200, 200)
        inner = place(object_items(a_spec, 80.0, f"inner {a_spec['shape']}"), 200, 200)
        return outer + inner
    sa, sb = RELATIVE[spec.get("relative_size")]
    a = object_items(a_spec, sa, a_spec["shape"])
    b = object_items(b_spec, sb, b_spec["shape"])
    if rel in ("overlapping", "behind"):
        a = place(a, 200 - sa * 0.3, 200 - sa * 0.15)
        b = place(b, 200 + sb * 0.3, 200 + sb * 0.15)
        return (b + a) if rel == "overlapping" else (a + b)
    ax0, ay0, ax1, ay1 = bbox(a)
    bx0, by0, bx1, by1 = bbox(b)
    aw, ah, bw, bh = ax1 - ax0, ay1 - ay0, bx1 - bx0, by1 - by0
    gap = GAPS[spec.get("distance")]
    if rel in ("above", "below"):
        total = ah + gap + bh
        top = 200 - total / 2
        if rel == "above":
            a = place(a, 200, top + ah / 2)
            b = place(b, 200, top + ah + gap + bh / 2)
        else:
            b = place(b, 200, top + bh / 2)
            a = place(a, 200, top + bh + gap + ah / 2)
    else:
        total = aw + gap + bw
        left = 200 - total / 2
        if rel in ("left of", "next to"):
            a = place(a, left + aw / 2, 200)
            b = place(b, left + aw + gap + bw / 2, 200)
        else:
            b = place(b, left + bw / 2, 200)
            a = place(a, left + bw + gap + aw / 2, 200)
    return b + a


def build_scene(spec: Spec) -> Scene:
    """The drawing a spec describes."""
    composition = spec["composition"]
    if composition == "single":
        items = _single(spec)
    elif composition == "group":
        items = _group(spec)
    else:
        items = _pair(spec)
    background = V.BACKGROUND_HEX.get(spec.get("background", ""), "#FFFFFF")
    if spec.get("frame"):
        colour = colour_hex(spec["frame"])
        items.append(Rect(6.0, 6.0, 388.0, 388.0, Paint(None, colour, 8.0), 0.0, "frame"))
    return Scene(background, tuple(items))
