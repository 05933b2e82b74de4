"""Emit a scene as a matplotlib script (a 4x4 inch figure at 100 dpi: 400x400 pixels).

matplotlib's y axis points up, so y becomes ``height - y``; widths are converted from
pixels to points (72 per inch).
"""

from __future__ import annotations

from snellen.concepts.shapes._fmt import num
from snellen.concepts.shapes.scene import (
    Circle,
    Dots,
    Ellipse,
    Paint,
    Polygon,
    Polyline,
    Rect,
    Scene,
    Segments,
)

PT_PER_PX = 0.72


def _style(p: Paint, open_path: bool = False) -> str:
    fill = p.fill if (p.fill and not open_path) else None
    parts = [f'facecolor="{fill}"' if fill else 'facecolor="none"']
    if p.stroke:
        parts.append(f'edgecolor="{p.stroke}"')
        parts.append(f"linewidth={num(round(p.width * PT_PER_PX, 2))}")
        dash = p.dash_pattern()
        if dash:
            # matplotlib scales dash lengths by the line width
            parts.append(
                f"linestyle=(0, ({num(round(dash[0] / p.width, 2))}, {num(round(dash[1] / p.width, 2))}))"
            )
    else:
        parts.append('edgecolor="none"')
    if p.alpha < 1:
        parts.append(f"alpha={num(p.alpha)}")
    return ", ".join(parts)


def emit_matplotlib(scene: Scene) -> str:
    W, H = scene.width, scene.height

    def xy(x: float, y: float) -> str:
        return f"({num(x)}, {num(round(H - y, 1))})"

    lines = [
        "import matplotlib.pyplot as plt",
        "from matplotlib import patches",
    ]
    needs_collection = any(isinstance(i, Segments) for i in scene.items)
    if needs_collection:
        lines.append("from matplotlib.collections import LineCollection")
    lines += [
        "",
        f"fig = plt.figure(figsize=({num(W / 100)}, {num(H / 100)}), dpi=100)",
        "ax = fig.add_axes((0, 0, 1, 1))",
        f"ax.set_xlim(0, {W})",
        f"ax.set_ylim(0, {H})",
        'ax.set_aspect("equal")',
        'ax.axis("off")',
        f'fig.set_facecolor("{scene.background}")',
        f'ax.add_patch(patches.Rectangle((0, 0), {W}, {H}, facecolor="{scene.background}", edgecolor="none"))',
    ]
    for item in scene.items:
        lines.append("")
        if item.label:
            lines.append(f"# {item.label}")
        p = item.paint
        if isinstance(item, Circle):
            lines.append(
                f"ax.add_patch(patches.Circle({xy(item.cx, item.cy)}, {num(item.r)}, {_style(p)}))"
            )
        elif isinstance(item, Ellipse):
            lines.append(
                f"ax.add_patch(patches.Ellipse({xy(item.cx, item.cy)}, {num(2 * item.rx)}, {num(2 * item.ry)}, {_style(p)}))"
            )
        elif isinstance(item, Rect):
            corner = xy(item.x, item.y + item.h)
            if item.radius:
                lines.append(
                    f'ax.add_patch(patches.FancyBboxPatch({corner}, {num(item.w)}, {num(item.h)}, boxstyle="round,pad=0,rounding_size={num(item.radius)}", {_style(p)}))'
                )
            else:
                lines.append(
                    f"ax.add_patch(patches.Rectangle({corner}, {num(item.w)}, {num(item.h)}, {_style(p)}))"
                )
        elif isinstance(item, Polygon | Polyline):
            points = ", ".join(xy(x, y) for x, y in item.points)
            closed = isinstance(item, Polygon)
            lines.append(
                f"ax.add_patch(patches.Polygon([{points}], closed={closed}, {_style(p, not closed)}))"
            )
        elif isinstance(item, Segments):
            segs = ", ".join(f"[{xy(*a)}, {xy(*b)}]" for a, b in item.segments)
            alpha = f", alpha={num(p.alpha)}" if p.alpha < 1 else ""
            lines.append(f"segments = [{segs}]")
            lines.append(
                f'ax.add_collection(LineCollection(segments, colors="{p.stroke}", linewidths={num(round(p.width * PT_PER_PX, 2))}, capstyle="butt"{alpha}))'
            )
        elif isinstance(item, Dots):
            centres = ", ".join(xy(x, y) for x, y in item.centres)
            lines.append(f"for centre in [{centres}]:")
            lines.append(f"    ax.add_patch(patches.Circle(centre, {num(item.r)}, {_style(p)}))")
    return "\n".join(lines) + "\n"
