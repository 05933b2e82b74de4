"""Training-time augmentations for ShapesCLIP, so a model trained on VAD's clean reference
renders also reads pictures drawn elsewhere: smaller and shifted content, low resolution,
JPEG compression, and coloured backgrounds.

Each augmentation keeps the caption true. Content shrinks about the centre and moves by at
most a tenth of the side, so the coarse position words VAD writes ("at the top left") still
hold; a white background is repainted only when the caption names none, and the caption
then says it the way VAD does ("... on light blue").
"""

from __future__ import annotations

import io
import random
import re

import numpy as np
from PIL import Image

__all__ = ["AUGMENTATIONS", "augment"]

AUGMENTATIONS = ("scale", "position", "resolution", "compression", "background")
_NAMES_BACKGROUND = re.compile(r"\bon (a |an )?(black|white|light|dark|pale)\b|background", re.I)


def _backgrounds() -> tuple[tuple[str, str], ...]:
    from snellen.concepts.shapes.vocab import BACKGROUNDS

    return tuple(BACKGROUNDS)


def _hex(value: str) -> tuple[int, int, int]:
    v = value.lstrip("#")
    return (int(v[0:2], 16), int(v[2:4], 16), int(v[4:6], 16))


def _corner_colour(im: Image.Image) -> tuple[int, int, int]:
    a = np.asarray(im)
    corners = np.stack([a[0, 0], a[0, -1], a[-1, 0], a[-1, -1]])
    return tuple(int(v) for v in np.median(corners, axis=0))  # type: ignore[return-value]


def _rescale(im: Image.Image, rng: random.Random, shift: bool) -> Image.Image:
    """Content shrunk to 55-100% about the centre (and moved up to a tenth of the side),
    on the picture's own background colour."""
    side = im.size[0]
    scale = rng.uniform(0.55, 1.0)
    small = im.resize((max(1, round(side * scale)),) * 2, Image.Resampling.BICUBIC)
    canvas = Image.new("RGB", im.size, _corner_colour(im))
    free = side - small.size[0]
    dx = dy = free // 2
    if shift:
        reach = min(free // 2, side // 10)
        dx += rng.randint(-reach, reach)
        dy += rng.randint(-reach, reach)
    canvas.paste(small, (dx, dy))
    return canvas


def _recolour_background(
    im: Image.Image, caption: str, rng: random.Random
) -> tuple[Image.Image, str]:
    if _NAMES_BACKGROUND.search(caption) or _corner_colour(im) != (255, 255, 255):
        return im, caption
    name, value = rng.choice([b for b in _backgrounds() if b[0] not in ("black",)])
    a = np.asarray(im).astype(np.float32)
    # near-white pixels become the new colour, in proportion to their whiteness (keeps
    # anti-aliased edges smooth)
    white = np.clip((a.min(axis=2, keepdims=True) - 200.0) / 55.0, 0.0, 1.0)
    target = np.array(_hex(value), dtype=np.float32)
    out = a * (1 - white) + target * white
    return Image.fromarray(out.round().astype(np.uint8)), f"{caption} on {name}"


def augment(image: Image.Image, caption: str, rng: random.Random) -> tuple[Image.Image, str]:
    """One random combination of the augmentations (each applied with probability 1/2)."""
    im = image.convert("RGB")
    if rng.random() < 0.5:
        im, caption = _recolour_background(im, caption, rng)
    if rng.random() < 0.5:
        im = _rescale(im, rng, shift=rng.random() < 0.5)
    if rng.random() < 0.5:  # low resolution: down to 24-64 px and back
        side = im.size[0]
        low = rng.randint(24, 64)
        if low < side:
            im = im.resize((low, low), Image.Resampling.BILINEAR).resize(
                (side, side), Image.Resampling.BICUBIC
            )
    if rng.random() < 0.5:
        buf = io.BytesIO()
        im.save(buf, format="JPEG", quality=rng.randint(25, 90))
        buf.seek(0)
        with Image.open(buf) as decoded:
            im = decoded.convert("RGB")
    return im, caption
