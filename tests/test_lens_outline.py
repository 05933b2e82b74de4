"""Shape names measured from outlines (the detections captioner's shape namer), on flat
shapes from two independent drawers: the reproduce generator (polygons drawn large and
reduced, small rotations, 64-160 px) and the flat-shapes test's pixel masks (no
antialiasing, JPEG at times)."""

from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np
from PIL import Image

from snellen.lens.detect import DetectionCaptioner, regions
from snellen.lens.outline import measure, outline_shape
from snellen.reproduce.flat_shapes import draw, sample_scene
from test_clip_flat_shapes import COLOURS, SHAPES, picture


def test_outlines_name_the_generators_shapes() -> None:
    rng = random.Random(7)
    hits: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for _ in range(120):
        shapes, ground = sample_scene(rng)
        size = rng.choice((64, 96, 128, 160))
        image = draw(shapes, ground, size, rng)
        for mask, _box in regions(image):
            ys, xs = np.nonzero(mask)
            cx, cy = xs.mean() / size, ys.mean() / size
            truth = min(shapes, key=lambda s: math.hypot(s.x - cx, s.y - cy)).shape
            if measure(mask) is None:  # too small to have an outline
                continue
            seen[truth] += 1
            hits[truth] += outline_shape(mask)[0] == truth
    assert set(seen) == {"circle", "square", "triangle", "star", "hexagon", "diamond"}
    for shape, n in seen.items():
        assert hits[shape] / n >= 0.9, (shape, hits[shape], n)


def test_outlines_name_another_drawers_shapes() -> None:
    rng = random.Random(3)
    right = 0
    for _ in range(120):
        shape, colour = rng.choice(SHAPES), rng.choice(list(COLOURS))
        found = regions(picture(shape, colour, rng))
        right += bool(found) and outline_shape(found[0][0])[0] == shape
    assert right / 120 >= 0.9


def test_no_name_for_regions_without_an_outline() -> None:
    speck = np.zeros((64, 64), dtype=bool)
    speck[30:34, 30:34] = True
    assert outline_shape(speck) == (None, 0.0)
    ell = np.zeros((64, 64), dtype=bool)  # an L fits no rule
    ell[10:50, 10:22] = True
    ell[38:50, 10:50] = True
    assert measure(ell) is not None
    assert outline_shape(ell) == (None, 0.0)
    holed = np.zeros((64, 64), dtype=bool)  # a square with holes is still a square
    holed[16:48, 16:48] = np.random.default_rng(0).random((32, 32)) < 0.7
    holed[16:48, [16, 47]] = True
    holed[[16, 47], 16:48] = True
    assert outline_shape(holed)[0] == "square"


def test_captions_use_the_outline_and_the_scorer_only_variant_does_not() -> None:
    from snellen.score import load_scorer

    a = np.full((96, 96, 3), 255, dtype=np.uint8)
    y, x = np.mgrid[0:96, 0:96]
    a[(abs(x - 30) < 14) & (abs(y - 40) < 14)] = (220, 30, 35)  # a red square, upper left
    image = Image.fromarray(a)
    scorer = load_scorer("snellen-shapes", device="cpu")
    shapes = ["circle", "square", "triangle", "star", "cube"]
    measured = DetectionCaptioner(scorer, shapes).caption([image])[0]
    assert measured.beam.startswith("a red square"), measured.beam
    learned = DetectionCaptioner(scorer, shapes, outline=False)
    assert learned.identity() != DetectionCaptioner(scorer, shapes).identity()
    assert learned.name.startswith("detections-scorer:")
