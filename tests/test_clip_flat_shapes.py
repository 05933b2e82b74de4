"""The shipped shapes CLIP on pictures it was never trained on: single flat shapes drawn
here pixel by pixel (numpy masks, not VAD's SVG emitters, not snellen's other generators),
at 48-128 px, on white, grey or coloured grounds, some JPEG-compressed. Colour and shape
tags (``a {colour} shape`` / ``a {shape}``) must be well above chance; and the
augmentations that taught it this keep every caption true."""

from __future__ import annotations

import io
import math
import random

import numpy as np
import pytest
from PIL import Image

from snellen.score import load_scorer

COLOURS = {"red": (220, 30, 35), "green": (40, 170, 50), "blue": (35, 70, 215),
           "yellow": (245, 215, 25), "purple": (135, 55, 175), "orange": (250, 130, 20)}  # fmt: skip
SHAPES = ("circle", "square", "triangle", "star")
GROUNDS = ((255, 255, 255), (230, 230, 230), (210, 228, 250), (250, 240, 215))
N = 120


def _mask(shape: str, side: int, cx: float, cy: float, r: float) -> np.ndarray:
    y, x = np.mgrid[0:side, 0:side] + 0.5
    dx, dy = x - cx, y - cy
    if shape == "circle":
        return dx**2 + dy**2 <= r**2
    if shape == "square":
        return (abs(dx) <= r * 0.85) & (abs(dy) <= r * 0.85)
    angle = np.arctan2(dy, dx) + math.pi / 2
    dist = np.hypot(dx, dy)
    if shape == "triangle":  # inside all three edges of an upward equilateral triangle
        k = 2 * math.pi / 3
        sector = (angle % k) - k / 2
        return dist * np.cos(sector) <= r * 0.5
    # a five-pointed star: radius alternating between r and 0.4 r with the angle
    k = 2 * math.pi / 5
    t = np.abs(((angle % k) / k) - 0.5) * 2  # 1 at a point, 0 between points
    return dist <= 0.4 * r + 0.6 * r * t**1.5


def picture(shape: str, colour: str, rng: random.Random) -> Image.Image:
    side = rng.choice((48, 64, 96, 128))
    r = side * rng.uniform(0.22, 0.36)
    cx, cy = side * rng.uniform(0.4, 0.6), side * rng.uniform(0.4, 0.6)
    a = np.empty((side, side, 3), dtype=np.uint8)
    a[:] = rng.choice(GROUNDS)
    a[_mask(shape, side, cx, cy, r)] = COLOURS[colour]
    im = Image.fromarray(a)
    if rng.random() < 0.3:
        buf = io.BytesIO()
        im.save(buf, format="JPEG", quality=60)
        im = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return im


@pytest.fixture(scope="module")
def tagged() -> tuple[float, float]:
    scorer = load_scorer("snellen-shapes", device="cpu")
    rng = random.Random(11)
    truth = [(rng.choice(SHAPES), rng.choice(list(COLOURS))) for _ in range(N)]
    images = scorer.embed_images([picture(s, c, rng) for s, c in truth])
    colours = scorer.embed_texts([f"a {c} shape" for c in COLOURS])
    shapes = scorer.embed_texts([f"a {s}" for s in SHAPES])
    colour_hits = (images @ colours.t()).argmax(1).tolist()
    shape_hits = (images @ shapes.t()).argmax(1).tolist()
    colour_acc = sum(list(COLOURS)[k] == c for k, (_, c) in zip(colour_hits, truth, strict=True))
    shape_acc = sum(SHAPES[k] == s for k, (s, _) in zip(shape_hits, truth, strict=True))
    return colour_acc / N, shape_acc / N


def test_colour_tags_of_flat_shapes_are_well_above_chance(tagged: tuple[float, float]) -> None:
    colour, _ = tagged
    assert colour >= 3 / len(COLOURS), (
        f"colour accuracy {colour:.2f} (chance {1 / len(COLOURS):.2f})"
    )


@pytest.mark.xfail(
    strict=True,
    reason="the shipped model names the shape of a flat picture barely above chance "
    "(0.32 against 0.25 here; docs/clip.md): it learned colour words, not shape identity",
)
def test_shape_tags_of_flat_shapes_are_well_above_chance(tagged: tuple[float, float]) -> None:
    _, shape = tagged
    assert shape >= 2 / len(SHAPES), f"shape accuracy {shape:.2f} (chance {1 / len(SHAPES):.2f})"


def test_augmentations_keep_the_caption_true() -> None:
    from snellen.clip.augment import augment

    white = Image.new("RGB", (64, 64), "white")
    white.paste((200, 0, 0), (20, 20, 44, 44))
    seen_background = False
    for seed in range(40):
        im, caption = augment(white, "a red square", random.Random(seed))
        assert im.size == (64, 64)
        if caption != "a red square":
            assert caption.startswith("a red square on ")  # the new ground is named
            seen_background = True
            corner = im.getpixel((0, 0))
            assert corner != (255, 255, 255)
    assert seen_background
    # a caption that names its ground keeps it, and the picture keeps its ground
    named = Image.new("RGB", (64, 64), (207, 227, 255))
    for seed in range(20):
        _, caption = augment(named, "a red square on light blue", random.Random(seed))
        assert caption == "a red square on light blue"
