"""Emit a scene as a standalone LaTeX document with one TikZ picture.

TikZ's y axis points up, so y becomes ``height - y``. One coordinate unit is 0.025 cm
(the 400-unit canvas is 10 cm wide); line widths and dashes are given in points.
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

UNIT_CM = 0.025
PT_PER_UNIT = UNIT_CM / 2.54 * 72.27


def _pt(px: float) -> str:
    return num(round(px * PT_PER_UNIT, 2)) + "pt"


class _Colours:
    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def __call__(self, hex_colour: str) -> str:
        if hex_colour not in self.names:
            self.names[hex_colour] = f"colour{len(self.names) + 1}"
        return self.names[hex_colour]

    def definitions(self) -> list[str]:
        return [
            f"\\definecolor{{{name}}}{{HTML}}{{{hex_colour[1:]}}}"
            for hex_colour, name in self.names.items()
        ]


def _options(p: Paint, col: _Colours, open_path: bool = False) -> tuple[str, str]:
    """(command, options) for a paint."""
    fill = p.fill if (p.fill and not open_path) else None
    opts = []
    if fill:
        opts.append(f"fill={col(fill)}")
    if p.stroke:
        opts.append(f"draw={col(p.stroke)}")
        opts.append(f"line width={_pt(p.width)}")
        dash = p.dash_pattern()
        if dash:
            opts.append(f"dash pattern=on {_pt(dash[0])} off {_pt(dash[1])}")
    if p.alpha < 1:
        if fill:
            opts.append(f"fill opacity={num(p.alpha)}")
        if p.stroke:
            opts.append(f"draw opacity={num(p.alpha)}")
    command = "\\filldraw" if fill and p.stroke else ("\\fill" if fill else "\\draw")
    return command, ", ".join(opts)


def emit_tikz(scene: Scene) -> str:
    H = scene.height
    col = _Colours()
    bg = col(scene.background)
    body: list[str] = [
        f"\\useasboundingbox (0,0) rectangle ({scene.width},{H});",
        f"\\fill[{bg}] (0,0) rectangle ({scene.width},{H});",
        f"\\clip (0,0) rectangle ({scene.width},{H});",
    ]

    def xy(x: float, y: float) -> str:
        return f"({num(x)},{num(round(H - y, 1))})"

    for item in scene.items:
        if item.label:
            body.append(f"% {item.label}")
        p = item.paint
        if isinstance(item, Segments):
            cmd, opts = _options(p, col, open_path=True)
            rows = ", ".join(
                f"{num(a[0])}/{num(round(H - a[1], 1))}/{num(b[0])}/{num(round(H - b[1], 1))}"
                for a, b in item.segments
            )
            body.append(f"\\foreach \\xa/\\ya/\\xb/\\yb in {{{rows}}}")
            body.append(f"  \\draw[{opts}] (\\xa,\\ya) -- (\\xb,\\yb);")
            continue
        if isinstance(item, Dots):
            cmd, opts = _options(p, col)
            rows = ", ".join(f"{num(x)}/{num(round(H - y, 1))}" for x, y in item.centres)
            body.append(f"\\foreach \\x/\\y in {{{rows}}}")
            body.append(f"  \\fill[{opts}] (\\x,\\y) circle [radius={num(item.r)}];")
            continue
        cmd, opts = _options(p, col, open_path=isinstance(item, Polyline))
        if isinstance(item, Circle):
            body.append(f"{cmd}[{opts}] {xy(item.cx, item.cy)} circle [radius={num(item.r)}];")
        elif isinstance(item, Ellipse):
            body.append(
                f"{cmd}[{opts}] {xy(item.cx, item.cy)} ellipse [x radius={num(item.rx)}, y radius={num(item.ry)}];"
            )
        elif isinstance(item, Rect):
            if item.radius:
                opts += f", rounded corners={_pt(item.radius)}"
            body.append(
                f"{cmd}[{opts}] {xy(item.x, item.y + item.h)} rectangle {xy(item.x + item.w, item.y)};"
            )
        elif isinstance(item, Polygon | Polyline):
            path = " -- ".join(xy(x, y) for x, y in item.points)
            if isinstance(item, Polygon):
                path += " -- cycle"
            body.append(f"{cmd}[{opts}] {path};")
    head = [
        "\\documentclass[tikz,border=0pt]{standalone}",
        *col.definitions(),
        "\\begin{document}",
        f"\\begin{{tikzpicture}}[x={UNIT_CM}cm, y={UNIT_CM}cm]",
    ]
    return "\n".join(head + body + ["\\end{tikzpicture}", "\\end{document}"]) + "\n"
