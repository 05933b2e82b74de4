"""What every rendered image goes through: a size guard, blank detection, and the
normalised square copy (pad to a square on white, then resize; see :mod:`snellen.imaging`)."""

from __future__ import annotations

from dataclasses import replace
from typing import cast

import numpy as np
from PIL import Image

from snellen.imaging import MAX_PIXELS, canvas_too_large, on_white, open_png, square, to_png
from snellen.render.base import RenderJob, RenderResult, Status

__all__ = [
    "MAX_PIXELS",
    "canvas_too_large",
    "finish",
    "is_blank",
    "on_white",
    "open_png",
    "square",
    "to_png",
    "truncate",
]

# Fewer differing pixels than this fraction (and at most a handful) count as a flat image.
_BLANK_TOLERANCE = 8


def is_blank(img: Image.Image) -> bool:
    """True when the image is one flat colour (what a program that drew nothing gives)."""
    rgb = on_white(img)
    if rgb.width == 0 or rgb.height == 0:
        return True
    # decided from each channel's range when it can be (PIL computes it without a copy):
    # a range within the tolerance keeps every pixel close to the first; a range over twice
    # the tolerance puts some pixel far from it
    extrema = cast("tuple[tuple[int, int], ...]", rgb.getextrema())
    spans = [hi - lo for lo, hi in extrema]
    if max(spans) <= _BLANK_TOLERANCE:
        return True
    if max(spans) > 2 * _BLANK_TOLERANCE:
        return False
    a = np.asarray(rgb, dtype=np.int16)
    # flat means every pixel is close to one colour, hence close to the first pixel
    return int(np.abs(a - a[0, 0]).max()) <= _BLANK_TOLERANCE


def finish(job: RenderJob, result: RenderResult) -> RenderResult:
    """Check an image a renderer produced: size guard, blank detection, square copy.

    A renderer reports ``ok`` with a PNG; this turns it into ``blank`` or ``killed``
    when the image says so, fills in width/height, and adds the square copy."""
    img = result.image
    result = replace(result, image=None)
    if result.status is not Status.OK or result.png is None:
        if result.status is Status.OK:
            result = replace(result, status=Status.BLANK, reason="the program produced no image")
        return result
    try:
        if img is None:
            img = open_png(result.png)
    except ValueError as e:
        return replace(result, status=Status.KILLED, reason=str(e), png=None)
    except Exception as e:  # noqa: BLE001 - an undecodable image is the program's failure
        return replace(
            result, status=Status.RUNTIME_ERROR, reason=f"unreadable image: {e}", png=None
        )
    result = replace(result, width=img.size[0], height=img.size[1])
    if is_blank(img):
        result = replace(
            result, status=Status.BLANK, reason=result.reason or "the image is a single flat colour"
        )
    if job.size:
        result = replace(result, square_png=to_png(square(img, job.size)))
    return result


def truncate(text: str, limit: int = 4000) -> str:
    """Keep the head and tail of a long message (a flood of output stays readable)."""
    text = text.replace("\x00", "")
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... [{len(text) - limit:,} characters cut] ...\n{text[-half:]}"
