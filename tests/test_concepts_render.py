"""The reference programs really draw what the spec says: render a few and check pixels."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from PIL import Image

from snellen.concepts.shapes import describe, programs_for


def _spec(**keys):
    spec = {"composition": "single", "phrasing": 0, **keys}
    spec["kinds"] = [k for k in keys if k != "composition"]
    return spec


RED = (0xD6, 0x27, 0x28)
BLUE = (0x1F, 0x5F, 0xD6)
CASES = [
    # (spec, [(x, y, colour)])
    (
        _spec(shape="circle", colour="red", size="small", position="top left"),
        [(100, 100, RED), (300, 300, (255, 255, 255))],
    ),
    (
        _spec(shape="square", colour="blue", size="large"),
        [(200, 200, BLUE), (20, 20, (255, 255, 255))],
    ),
    (
        _spec(
            shape="square", colour="blue", background="black", position="bottom right", size="small"
        ),
        [(300, 300, BLUE), (100, 100, (0, 0, 0))],
    ),
    (
        {
            "composition": "pair",
            "shape": "circle",
            "colour": "red",
            "relation": "above",
            "second": {"shape": "square", "colour": "blue"},
            "phrasing": 0,
            "kinds": [],
        },
        [(200, 140, RED), (200, 260, BLUE)],
    ),
    (
        {
            "composition": "group",
            "shape": "circle",
            "count": 3,
            "arrangement": "row",
            "colour_scheme": "different",
            "colours": ["red", "green", "blue"],
            "phrasing": 0,
            "kinds": [],
        },
        [(200 - 110 * 1.25 * 0.9, 200, RED), (200, 200, (0x2C, 0xA0, 0x2C))],
    ),
]


def _close(a, b, tol=40):
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=False))


def _check(img: Image.Image, expect) -> None:
    img = img.convert("RGB").resize((400, 400))
    for x, y, colour in expect:
        got = img.getpixel((int(x), int(y)))
        assert _close(got, colour), f"pixel ({x:.0f}, {y:.0f}) is {got}, expected {colour}"


@pytest.mark.parametrize(("spec", "expect"), CASES)
def test_svg_programs_render_the_spec(spec, expect):
    resvg_py = pytest.importorskip("resvg_py")
    svg = programs_for(spec)["svg"]
    _check(Image.open(io.BytesIO(bytes(resvg_py.svg_to_bytes(svg_string=svg)))), expect)


TURTLE_HARNESS = """
import turtle
from svg_turtle import SvgTurtle
pen = SvgTurtle(400, 400)
turtle.Turtle = lambda: pen
turtle.Screen = pen.getscreen
turtle.done = lambda: None
"""


@pytest.mark.slow
def test_matplotlib_and_turtle_programs_render_the_spec(tmp_path):
    resvg_py = pytest.importorskip("resvg_py")
    env = {**os.environ, "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(tmp_path / "mpl")}
    for i, (spec, expect) in enumerate(CASES):
        programs = programs_for(spec)
        png = tmp_path / f"m{i}.png"
        script = programs["matplotlib"] + f"\nplt.savefig({str(png)!r})\n"
        subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=120)
        _check(Image.open(png), expect)
        svg_path = tmp_path / f"t{i}.svg"
        script = (
            TURTLE_HARNESS
            + programs["turtle"]
            + f"\nopen({str(svg_path)!r}, 'w').write(pen.to_svg())\n"
        )
        subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
        bg = programs["svg"].split('fill="', 1)[1][:7]
        _check(
            Image.open(
                io.BytesIO(bytes(resvg_py.svg_to_bytes(svg_path=str(svg_path), background=bg)))
            ),
            expect,
        )


def test_description_of_the_cases():
    text = describe(CASES[3][0])
    assert text.index("red") < text.index("above") < text.index("blue")
