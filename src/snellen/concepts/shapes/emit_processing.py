"""Emit a scene as a Processing (Java mode) sketch.

Processing has no dashed strokes, so dashed and dotted outlines are drawn by a small
``dashedPath`` function that the sketch defines when it needs it.
"""

from __future__ import annotations

from snellen.concepts.shapes._fmt import num, rgb
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
    outline,
)

DASHED_PATH = """
// Draw a path as dashes of length `on` separated by gaps of length `off`.
void dashedPath(float[][] pts, boolean closed, float on, float off) {
  int n = pts.length;
  int last = closed ? n : n - 1;
  boolean drawing = true;
  float left = on;
  for (int i = 0; i < last; i++) {
    float[] a = pts[i];
    float[] b = pts[(i + 1) % n];
    float seg = dist(a[0], a[1], b[0], b[1]);
    float pos = 0;
    while (pos < seg) {
      float step = min(left, seg - pos);
      if (drawing) {
        float t0 = pos / seg;
        float t1 = (pos + step) / seg;
        line(lerp(a[0], b[0], t0), lerp(a[1], b[1], t0), lerp(a[0], b[0], t1), lerp(a[1], b[1], t1));
      }
      pos += step;
      left -= step;
      if (left <= 0.0001) {
        drawing = !drawing;
        left = drawing ? on : off;
      }
    }
  }
}
"""


def _colour(call: str, hex_colour: str, alpha: float) -> str:
    r, g, b = rgb(hex_colour)
    if alpha < 1:
        return f"{call}({r}, {g}, {b}, {round(alpha * 255)});"
    return f"{call}({r}, {g}, {b});"


def _set_paint(p: Paint, fill_ok: bool = True, stroke_ok: bool = True) -> list[str]:
    out = [_colour("fill", p.fill, p.alpha) if p.fill and fill_ok else "noFill();"]
    if p.stroke and stroke_ok:
        out += [_colour("stroke", p.stroke, p.alpha), f"strokeWeight({num(p.width)});"]
    else:
        out.append("noStroke();")
    return out


def _point_array(points: list[tuple[float, float]]) -> str:
    return "{" + ", ".join(f"{{{num(x)}, {num(y)}}}" for x, y in points) + "}"


def emit_processing(scene: Scene) -> str:
    body: list[str] = [_colour("background", scene.background, 1.0), "strokeCap(SQUARE);"]
    needs_dash = False
    for idx, item in enumerate(scene.items):
        body.append("")
        if item.label:
            body.append(f"// {item.label}")
        p = item.paint
        dashed = p.stroke is not None and p.dash_pattern() is not None
        if isinstance(item, Segments):
            name = f"lines{idx}"
            body += _set_paint(p, fill_ok=False)
            rows = ", ".join(
                f"{{{num(a[0])}, {num(a[1])}, {num(b[0])}, {num(b[1])}}}" for a, b in item.segments
            )
            body.append(f"float[][] {name} = {{{rows}}};")
            body.append(f"for (float[] s : {name}) {{")
            body.append("  line(s[0], s[1], s[2], s[3]);")
            body.append("}")
            continue
        if isinstance(item, Dots):
            name = f"dots{idx}"
            body += _set_paint(p)
            body.append(f"float[][] {name} = {_point_array(list(item.centres))};")
            body.append(f"for (float[] d : {name}) {{")
            body.append(f"  ellipse(d[0], d[1], {num(2 * item.r)}, {num(2 * item.r)});")
            body.append("}")
            continue
        body += _set_paint(p, fill_ok=not isinstance(item, Polyline), stroke_ok=not dashed)
        if isinstance(item, Circle):
            d = num(2 * item.r)
            body.append(f"ellipse({num(item.cx)}, {num(item.cy)}, {d}, {d});")
        elif isinstance(item, Ellipse):
            body.append(
                f"ellipse({num(item.cx)}, {num(item.cy)}, {num(2 * item.rx)}, {num(2 * item.ry)});"
            )
        elif isinstance(item, Rect):
            r = f", {num(item.radius)}" if item.radius else ""
            body.append(f"rect({num(item.x)}, {num(item.y)}, {num(item.w)}, {num(item.h)}{r});")
        elif isinstance(item, Polygon | Polyline) and not (isinstance(item, Polyline) and dashed):
            body.append("beginShape();")
            for x, y in item.points:
                body.append(f"vertex({num(x)}, {num(y)});")
            body.append("endShape(CLOSE);" if isinstance(item, Polygon) else "endShape();")
        if dashed:
            needs_dash = True
            on, off = p.dash_pattern() or (0.0, 0.0)
            path, closed = outline(item)
            body.append(_colour("stroke", p.stroke or "#000000", p.alpha))
            body.append(f"strokeWeight({num(p.width)});")
            body.append(
                f"dashedPath(new float[][] {_point_array([(round(x, 1), round(y, 1)) for x, y in path])}, {str(closed).lower()}, {num(on)}, {num(off)});"
            )
    code = [
        "void setup() {",
        f"  size({scene.width}, {scene.height});",
        "  noLoop();",
        "}",
        "",
        "void draw() {",
    ]
    code += [("  " + line) if line else "" for line in body]
    code.append("}")
    text = "\n".join(code) + "\n"
    if needs_dash:
        text += DASHED_PATH
    return text
