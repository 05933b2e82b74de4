"""Emit a scene as a Python turtle program.

Turtle's origin is the centre of the window with y up, so (x, y) becomes
(x - width/2, height/2 - y). Turtle has no transparency and no dashed pen: a
semi-transparent colour is mixed with the background, and dashes are drawn by a helper.
"""

from __future__ import annotations

from snellen.concepts.shapes._fmt import blend, num
from snellen.concepts.shapes.scene import (
    Circle,
    Dots,
    Ellipse,
    Polygon,
    Polyline,
    Rect,
    Scene,
    Segments,
    outline,
    region,
)

HELPERS = '''

def polygon(points, fill=None, outline=None, width=1):
    """Fill and/or outline a closed polygon."""
    t.penup()
    t.goto(points[0])
    t.pensize(width)
    if fill:
        t.fillcolor(fill)
        t.begin_fill()
    if outline:
        t.pencolor(outline)
        t.pendown()
    for point in points[1:] + points[:1]:
        t.goto(point)
    if fill:
        t.end_fill()
    t.penup()


def path(points, colour, width):
    """Draw an open path."""
    t.penup()
    t.goto(points[0])
    t.pencolor(colour)
    t.pensize(width)
    t.pendown()
    for point in points[1:]:
        t.goto(point)
    t.penup()


def dashed(points, closed, colour, width, on, off):
    """Draw a path as dashes of length `on` separated by gaps of length `off`."""
    t.pencolor(colour)
    t.pensize(width)
    if closed:
        points = points + points[:1]
    drawing, left = True, on
    for (ax, ay), (bx, by) in zip(points, points[1:]):
        seg = math.hypot(bx - ax, by - ay)
        pos = 0.0
        while pos < seg:
            step = min(left, seg - pos)
            if drawing:
                t.penup()
                t.goto(ax + (bx - ax) * pos / seg, ay + (by - ay) * pos / seg)
                t.pendown()
                t.goto(ax + (bx - ax) * (pos + step) / seg, ay + (by - ay) * (pos + step) / seg)
            pos += step
            left -= step
            if left <= 1e-9:
                drawing = not drawing
                left = on if drawing else off
    t.penup()
'''


def _circle(
    cx: float, cy: float, r: float, fill: str | None, stroke: str | None, width: float
) -> list[str]:
    """A circle drawn by the turtle itself (its pen for the outline, begin/end_fill)."""
    out = ["t.penup()", f"t.goto({num(cx)}, {num(round(cy - r, 1))})", "t.setheading(0)"]
    if stroke:
        out += [f't.pencolor("{stroke}")', f"t.pensize({num(width)})", "t.pendown()"]
    if fill:
        out += [f't.fillcolor("{fill}")', "t.begin_fill()"]
    out.append(f"t.circle({num(r)})")
    if fill:
        out.append("t.end_fill()")
    out.append("t.penup()")
    return out


def emit_turtle(scene: Scene) -> str:
    W, H = scene.width, scene.height
    bg = scene.background

    def xy(x: float, y: float) -> tuple[float, float]:
        return round(x - W / 2, 1), round(H / 2 - y, 1)

    def point_list(points: list[tuple[float, float]]) -> str:
        return (
            "[" + ", ".join(f"({num(a)}, {num(b)})" for a, b in (xy(x, y) for x, y in points)) + "]"
        )

    def c(hex_colour: str | None, alpha: float) -> str | None:
        if hex_colour is None:
            return None
        return blend(hex_colour, bg, alpha) if alpha < 1 else hex_colour

    body: list[str] = []
    for item in scene.items:
        body.append("")
        if item.label:
            body.append(f"# {item.label}")
        p = item.paint
        fill, stroke = c(p.fill, p.alpha), c(p.stroke, p.alpha)
        dash = p.dash_pattern() if p.stroke else None
        if isinstance(item, Segments):
            rows = ", ".join(
                f"({num(xy(*a)[0])}, {num(xy(*a)[1])}, {num(xy(*b)[0])}, {num(xy(*b)[1])})"
                for a, b in item.segments
            )
            body.append(f"for x1, y1, x2, y2 in [{rows}]:")
            body.append(f'    path([(x1, y1), (x2, y2)], "{stroke}", {num(p.width)})')
            continue
        if isinstance(item, Dots):
            body.append(f"for x, y in {point_list(list(item.centres))}:")
            body.append("    t.penup()")
            body.append("    t.goto(x, y)")
            body.append(f'    t.dot({num(2 * item.r)}, "{fill}")')
            continue
        solid_stroke = stroke if (stroke and not dash) else None
        if isinstance(item, Circle) and not dash:
            cx, cy = xy(item.cx, item.cy)
            body += _circle(cx, cy, item.r, fill, solid_stroke, p.width)
            continue
        if isinstance(item, Ellipse):
            cx, cy = xy(item.cx, item.cy)
            body.append(
                f"points = [({num(cx)} + {num(item.rx)} * math.cos(math.radians(a)), {num(cy)} + {num(item.ry)} * math.sin(math.radians(a))) for a in range(0, 360, 5)]"
            )
            fill_arg = f'"{fill}"' if fill else "None"
            stroke_arg = f'"{solid_stroke}"' if solid_stroke else "None"
            body.append(
                f"polygon(points, fill={fill_arg}, outline={stroke_arg}, width={num(p.width or 1)})"
            )
            if dash:
                body.append(
                    f'dashed(points, True, "{stroke}", {num(p.width)}, {num(dash[0])}, {num(dash[1])})'
                )
            continue
        if isinstance(item, Polyline):
            if dash:
                body.append(
                    f'dashed({point_list(list(item.points))}, False, "{stroke}", {num(p.width)}, {num(dash[0])}, {num(dash[1])})'
                )
            else:
                body.append(f'path({point_list(list(item.points))}, "{stroke}", {num(p.width)})')
            continue
        points = region(item) if isinstance(item, Rect | Circle) else list(item.points)
        assert isinstance(item, Rect | Circle | Polygon)  # noqa: S101 - an invariant that narrows the type, not a check of input
        body.append(f"points = {point_list([(round(x, 1), round(y, 1)) for x, y in points])}")
        fill_arg = f'"{fill}"' if fill else "None"
        stroke_arg = f'"{solid_stroke}"' if solid_stroke else "None"
        body.append(
            f"polygon(points, fill={fill_arg}, outline={stroke_arg}, width={num(p.width or 1)})"
        )
        if dash:
            closed = outline(item)[1]
            body.append(
                f'dashed(points, {closed}, "{stroke}", {num(p.width)}, {num(dash[0])}, {num(dash[1])})'
            )
    head = [
        "import math",
        "import turtle",
        "",
        "screen = turtle.Screen()",
        f"screen.setup({W}, {H})",
        f'screen.bgcolor("{bg}")',
        "t = turtle.Turtle()",
        "t.hideturtle()",
        "t.speed(0)",
    ]
    return "\n".join(head) + HELPERS + "\n" + "\n".join(body) + "\n\nturtle.done()\n"
