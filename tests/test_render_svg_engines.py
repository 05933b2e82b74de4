"""SVG drawn by resvg in the worker or by rsvg-convert (many shapes), chosen per drawing:
the two agree pixel for pixel within anti-aliasing, and rsvg-convert runs confined."""

from __future__ import annotations

import io
import tempfile

import numpy as np
import pytest
from PIL import Image

from snellen.render import render_many
from snellen.render.base import RenderJob
from snellen.render.svg import (
    RSVG_MIN_PRIMITIVES,
    choose_engine,
    primitives,
    rsvg_convert_png,
    sanitize,
    svg_to_png,
)

HEAD = '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200">'
CIRCLES = (
    HEAD
    + "".join(
        f'<circle cx="{(i * 37) % 300}" cy="{(i * 53) % 200}" r="{i % 20 + 3}" '
        f'fill="hsl({i * 7 % 360},70%,50%)" fill-opacity="0.6"/>'
        for i in range(120)
    )
    + "</svg>"
)
PATHS = (
    HEAD
    + "".join(
        f'<path d="M{(i * 7) % 300} {(i * 11) % 200} l20 5 q-5 10 -5 20 z" fill="#{i % 256:02x}40a0" '
        'stroke="black" stroke-width="1.5"/>'
        for i in range(150)
    )
    + '<polyline points="0,0 50,80 100,20 300,200" fill="none" stroke="red"/></svg>'
)
FEW = HEAD + '<rect x="10" y="10" width="100" height="50" fill="navy"/></svg>'


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)


@pytest.mark.parametrize("svg", [CIRCLES, PATHS, FEW], ids=["circles", "paths", "few"])
def test_both_engines_draw_the_same_picture(svg: str) -> None:
    clean = sanitize(svg)
    with tempfile.TemporaryDirectory() as d:
        a, b = _pixels(svg_to_png(clean, background="white")), _pixels(rsvg_convert_png(clean, d))
    assert a.shape == b.shape == (200, 300, 3)
    diff = np.abs(a - b).max(axis=2)
    # anti-aliased edges differ by a few levels; no region is drawn differently
    assert diff.mean() < 3.0 and (diff > 64).mean() < 0.005


def test_the_engine_follows_the_drawing() -> None:
    assert primitives(FEW) == 1 and primitives(PATHS) >= 150
    assert choose_engine(sanitize(FEW)) == "resvg"
    assert choose_engine(sanitize(CIRCLES)) == "rsvg-convert"
    # text and a size given only by a viewBox stay with resvg (the two lay them out apart)
    many = "".join(f'<circle cx="{i}" cy="5" r="2"/>' for i in range(RSVG_MIN_PRIMITIVES))
    assert choose_engine(HEAD + many + "<text>a</text></svg>") == "resvg"
    bare = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">' + many + "</svg>"
    assert choose_engine(bare) == "resvg"
    assert choose_engine(sanitize(CIRCLES), "resvg") == "resvg"
    with pytest.raises(ValueError, match="unknown SVG engine"):
        choose_engine(FEW, "cairo")


def test_rsvg_convert_renders_inside_the_sandbox() -> None:
    results = {r.id: r for r in render_many([RenderJob("paths", "svg", PATHS)], 1)}
    r = results["paths"]
    assert r.status.value == "ok" and (r.width, r.height) == (300, 200)
    with tempfile.TemporaryDirectory() as d:
        direct = _pixels(rsvg_convert_png(sanitize(PATHS), d))
    assert np.abs(_pixels(r.png or b"") - direct).max() == 0  # the confined worker's own
