"""Python turtle programs: the standard library's turtle logic drawing onto an SVG canvas
(no X server, no Tk), rasterised with resvg.

The program's ``import turtle`` gets the real module, rewired so that ``Turtle()``,
``Screen()`` and the module-level functions all draw on one SVG screen per program.
"""

from __future__ import annotations

import contextlib
from typing import Any
from xml.sax.saxutils import escape

from snellen.render.base import RenderJob, Status
from snellen.render.image import canvas_too_large
from snellen.render.pyexec import ForkingRenderer, ProgramFailure
from snellen.render.svg import svg_to_png

# The Tk window turtle opens by default is about this size on a common screen.
DEFAULT_CANVAS = (800, 600)
_SCREEN_FRACTION_OF = (1280, 1024)
_WARM_MODULES = ("math", "random", "colorsys", "itertools", "turtle", "svg_turtle")


def _install(width: int, height: int) -> Any:
    """Rewire the turtle module for one program; returns the shared screen."""
    import turtle

    from svg_turtle import SvgTurtle
    from svg_turtle.canvas import Canvas

    canvas = Canvas(width, height)
    screen = SvgTurtle._Screen(canvas)
    canvas.config(bg="white")

    def resize(w: Any = None, h: Any = None, *_: Any, **__: Any) -> None:
        def px(v: Any, default: int, full: int) -> int:
            if v is None:
                return default
            v = float(v)
            return int(v * full) if 0 < v <= 1 else int(v)

        nw = px(w, canvas.options["width"], _SCREEN_FRACTION_OF[0])
        nh = px(h, canvas.options["height"], _SCREEN_FRACTION_OF[1])
        if reason := canvas_too_large(nw, nh):
            raise ProgramFailure(Status.KILLED, reason)
        canvas.config(width=nw, height=nh, scrollregion=(-nw / 2, -nh / 2, nw / 2, nh / 2))
        screen.canvwidth, screen.canvheight = nw, nh

    screen.setup = lambda width=None, height=None, startx=None, starty=None: resize(width, height)

    def screensize(canvwidth: Any = None, canvheight: Any = None, bg: Any = None) -> Any:
        if canvwidth is None and canvheight is None and bg is None:
            return canvas.options["width"], canvas.options["height"]
        resize(canvwidth, canvheight)
        if bg is not None:
            screen.bgcolor(bg)
        return None

    screen.screensize = screensize
    nothing = lambda *args, **kwargs: None  # noqa: E731
    for name in ("ontimer", "onkey", "onkeypress", "onkeyrelease", "onclick", "onscreenclick",
                 "listen", "mainloop", "done", "bye", "exitonclick", "title", "delay"):  # fmt: skip
        setattr(screen, name, nothing)

    class ProgramTurtle(SvgTurtle):
        _pen = None
        _screen = screen

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            SvgTurtle.__init__(self, screen=screen)

    turtle.Turtle = turtle.Pen = ProgramTurtle  # type: ignore[misc]
    turtle.Screen = lambda: screen
    turtle.TurtleScreen._RUNNING = True  # type: ignore[attr-defined]
    for name in ("mainloop", "done", "bye", "exitonclick", "ontimer", "onkey", "listen",
                 "onscreenclick", "onclick", "title", "delay"):  # fmt: skip
        setattr(turtle, name, nothing)
    turtle.setup = screen.setup
    turtle.screensize = screensize
    return screen


def _points(coords: Any, xoff: float, yoff: float) -> str:
    return " ".join(
        f"{x + xoff:.2f},{y + yoff:.2f}" for x, y in zip(coords[::2], coords[1::2], strict=False)
    )


def canvas_svg(canvas: Any) -> str:
    """The SVG of what the turtle drew on an svg_turtle canvas (the library's own writer
    validates every attribute, which costs more than drawing)."""
    w, h = canvas.options["width"], canvas.options["height"]
    x0, y0, _, _ = canvas.options.get("scrollregion", (0, -h, w, 0))
    xoff, yoff = 0.5 - x0, 0.5 - y0
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}">']
    if bg := canvas.options.get("bg"):
        out.append(f'<rect width="100%" height="100%" fill="{escape(str(bg))}"/>')
    for item in sorted(canvas.items, key=lambda it: it.z_order):
        a = item.attribs
        if item.is_deleted or a.get("fill") == "" or item.method_name == "create_image":
            continue
        if item.method_name == "create_line":
            out.append(
                f'<polyline points="{_points(item.coords, xoff, yoff)}" fill="none" '
                f'stroke="{escape(str(a.get("fill", "black")))}" stroke-width="{a.get("width", 1)}" '
                'stroke-linecap="round" stroke-linejoin="round"/>'
            )
        elif item.method_name == "create_polygon":
            out.append(
                f'<polygon points="{_points(item.coords, xoff, yoff)}" fill="{escape(str(a["fill"]))}" '
                'fill-rule="evenodd"/>'
            )
        elif item.method_name == "create_text":
            family, size, style = (list(a.get("font", ("Arial", 8, "normal"))) + [8, "normal"])[:3]
            x, y = item.coords[0] + xoff, item.coords[1] + yoff - float(size) * 0.45
            anchor = {"sw": "start", "s": "middle", "se": "end"}.get(a.get("anchor", "sw"), "start")
            weight = "bold" if "bold" in str(style) else "normal"
            slant = "italic" if "italic" in str(style) else "normal"
            out.append(
                f'<text x="{x:.2f}" y="{y:.2f}" text-anchor="{anchor}" fill="{escape(str(a.get("fill", "black")))}" '
                f'font-family="{escape(str(family))}" font-size="{float(size) * 1.65:.1f}" '
                f'font-weight="{weight}" font-style="{slant}">{escape(str(a.get("text", "")))}</text>'
            )
    out.append("</svg>")
    return "".join(out)


class TurtleRenderer(ForkingRenderer):
    language = "turtle"

    def warm(self) -> None:
        import importlib

        for name in _WARM_MODULES:
            importlib.import_module(name)
        from svg_turtle import SvgTurtle

        pen = SvgTurtle(10, 10)
        pen.write("warm")
        svg_to_png(pen.to_svg())

    def draw(self, code: Any, job: RenderJob, job_dir: str) -> bytes:
        screen = _install(*DEFAULT_CANVAS)
        namespace = {"__name__": "__main__", "__builtins__": __builtins__}
        with contextlib.suppress(SystemExit):  # a program may end itself with exit()
            exec(code, namespace)  # noqa: S102 - running the model's program is the job; this is the confined child
        canvas = screen.cv
        w, h = canvas.options["width"], canvas.options["height"]
        if reason := canvas_too_large(w, h):
            raise ProgramFailure(Status.KILLED, reason)
        return svg_to_png(canvas_svg(canvas))
