"""Number and colour formatting shared by the emitters."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1 << 16)
def num(x: float) -> str:
    """Coordinates are rounded to 0.1 px upstream; print them without a trailing ``.0``.
    (Cached: the same few thousand values recur in every program.)"""
    r = round(x, 2)
    i = int(r)
    if r == i:
        return str(i)
    return f"{r:.2f}".rstrip("0")


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)


def blend(hex_colour: str, background: str, alpha: float) -> str:
    """What a colour of opacity ``alpha`` looks like over ``background`` (for languages that
    have no transparency)."""
    a, b = rgb(hex_colour), rgb(background)
    return "#" + "".join(
        f"{round(x * alpha + y * (1 - alpha)):02X}" for x, y in zip(a, b, strict=True)
    )
