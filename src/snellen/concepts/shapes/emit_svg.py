"""Emit a scene as a standalone SVG document."""

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


def _paint(p: Paint, open_path: bool = False) -> str:
    attrs = [f'fill="{p.fill}"' if p.fill and not open_path else 'fill="none"']
    if p.stroke:
        attrs.append(f'stroke="{p.stroke}" stroke-width="{num(p.width)}"')
        dash = p.dash_pattern()
        if dash:
            attrs.append(f'stroke-dasharray="{num(dash[0])} {num(dash[1])}"')
    if p.alpha < 1:
        if p.fill and not open_path:
            attrs.append(f'fill-opacity="{num(p.alpha)}"')
        if p.stroke:
            attrs.append(f'stroke-opacity="{num(p.alpha)}"')
    return " ".join(attrs)


def emit_svg(scene: Scene) -> str:
    w, h = scene.width, scene.height
    lines = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">',
        f'  <rect width="{w}" height="{h}" fill="{scene.background}"/>',
    ]
    for item in scene.items:
        if item.label:
            lines.append(f"  <!-- {item.label} -->")
        if isinstance(item, Circle):
            lines.append(
                f'  <circle cx="{num(item.cx)}" cy="{num(item.cy)}" r="{num(item.r)}" {_paint(item.paint)}/>'
            )
        elif isinstance(item, Ellipse):
            lines.append(
                f'  <ellipse cx="{num(item.cx)}" cy="{num(item.cy)}" rx="{num(item.rx)}" ry="{num(item.ry)}" {_paint(item.paint)}/>'
            )
        elif isinstance(item, Rect):
            rx = f' rx="{num(item.radius)}"' if item.radius else ""
            lines.append(
                f'  <rect x="{num(item.x)}" y="{num(item.y)}" width="{num(item.w)}" height="{num(item.h)}"{rx} {_paint(item.paint)}/>'
            )
        elif isinstance(item, Polygon | Polyline):
            tag = "polygon" if isinstance(item, Polygon) else "polyline"
            points = " ".join(f"{num(x)},{num(y)}" for x, y in item.points)
            lines.append(f'  <{tag} points="{points}" {_paint(item.paint, tag == "polyline")}/>')
        elif isinstance(item, Segments):
            lines.append(f"  <g {_paint(item.paint, True)}>")
            for (x1, y1), (x2, y2) in item.segments:
                lines.append(
                    f'    <line x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}"/>'
                )
            lines.append("  </g>")
        elif isinstance(item, Dots):
            lines.append(f"  <g {_paint(item.paint)}>")
            for x, y in item.centres:
                lines.append(f'    <circle cx="{num(x)}" cy="{num(y)}" r="{num(item.r)}"/>')
            lines.append("  </g>")
    lines.append("</svg>")
    return "\n".join(lines) + "\n"
