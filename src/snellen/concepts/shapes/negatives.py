"""Hard negative descriptions of a shape concept, ARO style: the same words in the same
style, but a different picture (swapped colours, swapped relation arguments, the opposite
relation, another count, shape, colour or position)."""

from __future__ import annotations

import copy

from snellen.concepts.base import Concept
from snellen.concepts.shapes import vocab as V
from snellen.concepts.shapes.describe import describe
from snellen.concepts.shapes.spec import allowed_colours, kinds_of
from snellen.concepts.shapes.types import Spec

OPPOSITE = {
    "above": "below",
    "below": "above",
    "left of": "right of",
    "right of": "left of",
    "overlapping": "behind",
    "behind": "overlapping",
}
MIRROR = {
    "top left": "bottom right",
    "bottom right": "top left",
    "top right": "bottom left",
    "bottom left": "top right",
    "top": "bottom",
    "bottom": "top",
    "left": "right",
    "right": "left",
}
OBJECT_KEYS = (
    "shape",
    "colour",
    "lightness",
    "fill",
    "texture",
    "texture_colour",
    "texture_direction",
    "texture_density",
    "aspect",
    "corners",
    "sides",
    "rotation",
    "outline_colour",
    "thickness",
    "line_style",
    "opacity",
    "shadow",
    "shading",
    "viewpoint",
    "orientation",
    "length",
    "direction",
    "arrowheads",
    "marker",
)


def _next_colour(colour: str, allowed: tuple[str, ...], avoid: set[str]) -> str | None:
    options = [c for c in allowed if c != colour and c not in avoid]
    if not options:
        return None
    start = V.COLOUR_NAMES.index(colour) if colour in V.COLOUR_NAMES else 0
    return min(options, key=lambda c: (V.COLOUR_NAMES.index(c) - start) % len(V.COLOUR_NAMES))


def neighbour_counts(spec: Spec) -> tuple[int | None, int | None]:
    """The counts the generator draws for a group's arrangement just below and just above its
    own (None where there is none); a colour scheme needs at least 3 copies."""
    arr = spec["arrangement"]
    counts = {"grid": (4, 6, 9), "circle": tuple(range(3, 10))}.get(arr, tuple(range(2, 7)))
    n = spec["count"]
    bigger = [c for c in counts if c > n]
    smaller = [c for c in counts if c < n and (c >= 3 or not spec.get("colour_scheme"))]
    return (smaller[-1] if smaller else None), (bigger[0] if bigger else None)


def negative_specs(spec: Spec) -> list[Spec]:
    """Changed copies of ``spec``, most ARO-like first; each shows a different picture."""
    allowed = allowed_colours(spec.get("background"))
    comp = spec["composition"]
    out: list[Spec] = []
    if comp == "pair":
        out += _pair_negatives(spec)
    elif comp == "group":
        out += _group_negatives(spec)
    if comp != "group" or spec.get("colour_scheme") is None:
        out += _recoloured(spec, allowed)
    if comp == "single" and spec.get("position") in MIRROR:
        moved = copy.deepcopy(spec)
        moved["position"] = MIRROR[spec["position"]]
        out.append(moved)
    if comp != "pair":
        out += _reshaped(spec)
    if comp == "single":
        out += _single_negatives(spec, allowed)
    for negative in out:
        negative["kinds"] = kinds_of(negative)
    return out


def _pair_negatives(spec: Spec) -> list[Spec]:
    """The two objects swapped, the opposite relation, the two colours exchanged."""
    out: list[Spec] = []
    second = spec["second"]
    if spec["relation"] not in ("next to", "inside"):
        swapped = copy.deepcopy(spec)
        for key in OBJECT_KEYS:
            swapped.pop(key, None)
        swapped.update({k: v for k, v in second.items() if k in OBJECT_KEYS})
        swapped["second"] = {k: v for k, v in spec.items() if k in OBJECT_KEYS}
        out.append(swapped)
    if spec["relation"] in OPPOSITE:
        opposite = copy.deepcopy(spec)
        opposite["relation"] = OPPOSITE[spec["relation"]]
        out.append(opposite)
    if "colour" in spec and "colour" in second and spec["colour"] != second["colour"]:
        recoloured = copy.deepcopy(spec)
        recoloured["colour"], recoloured["second"]["colour"] = second["colour"], spec["colour"]
        if "lightness" in spec or "lightness" in second:
            recoloured.pop("lightness", None)
            recoloured["second"].pop("lightness", None)
            if "lightness" in second:
                recoloured["lightness"] = second["lightness"]
            if "lightness" in spec:
                recoloured["second"]["lightness"] = spec["lightness"]
        out.append(recoloured)
    return out


def _group_negatives(spec: Spec) -> list[Spec]:
    """The colours reversed, another count, the row turned into a column (or back)."""
    out: list[Spec] = []
    if spec.get("colour_scheme") in ("different", "alternating"):
        reordered = copy.deepcopy(spec)
        reordered["colours"] = list(reversed(spec["colours"]))
        out.append(reordered)
    arr = spec["arrangement"]
    if spec.get("colour_scheme") != "different":
        smaller, bigger = neighbour_counts(spec)
        for c in [bigger] if bigger else [smaller] if smaller else []:
            changed = copy.deepcopy(spec)
            changed["count"] = c
            out.append(changed)
    if arr in ("row", "column"):
        turned = copy.deepcopy(spec)
        turned["arrangement"] = "column" if arr == "row" else "row"
        out.append(turned)
    return out


def _recoloured(spec: Spec, allowed: tuple[str, ...]) -> list[Spec]:
    """The next colour that differs from every other colour of the picture."""
    if "colour" not in spec:
        return []
    avoid = {
        spec.get("second", {}).get("colour"),
        spec.get("texture_colour"),
        spec.get("outline_colour"),
    } - {None}
    new = _next_colour(spec["colour"], allowed, avoid)
    if not new:
        return []
    recoloured = copy.deepcopy(spec)
    recoloured["colour"] = new
    if new not in V.SHADEABLE:
        recoloured.pop("lightness", None)
    return [recoloured]


def _reshaped(spec: Spec) -> list[Spec]:
    """The next shape of the same family (flat or solid) that takes the same attributes."""
    out: list[Spec] = []
    for family in (V.FLAT_SHAPES, V.SOLID_SHAPES):
        if spec["shape"] in family:
            compatible = [s for s in family if s != spec["shape"] and _accepts(s, spec)]
            if compatible:
                i = family.index(spec["shape"])
                reshaped = copy.deepcopy(spec)
                reshaped["shape"] = min(
                    compatible, key=lambda s: (family.index(s) - i) % len(family)
                )
                out.append(reshaped)
    return out


_FLIP = {"right": "left", "left": "right", "up": "down", "down": "up"}
_TURN = {
    "horizontal": "vertical",
    "vertical": "horizontal",
    "rising": "falling",
    "falling": "rising",
}


def _single_negatives(spec: Spec, allowed: tuple[str, ...]) -> list[Spec]:
    """A line turned or an arrow flipped, the next marker, a colour for an uncoloured shape."""
    out: list[Spec] = []
    if spec["shape"] in V.LINE_SHAPES:
        changed = copy.deepcopy(spec)
        if spec["shape"] == "arrow":
            changed["direction"] = (
                _FLIP[spec.get("direction", "right")]
                if spec.get("arrowheads") != "double"
                else ("up" if spec.get("direction") == "right" else "right")
            )
        else:
            changed["orientation"] = _TURN[spec.get("orientation", "horizontal")]
        out.append(changed)
    if spec["shape"] in V.POINT_SHAPES:
        changed = copy.deepcopy(spec)
        markers = V.MARKERS
        changed["marker"] = markers[(markers.index(spec.get("marker", "dot")) + 1) % len(markers)]
        out.append(changed)
    if "colour" not in spec:
        coloured = copy.deepcopy(spec)
        coloured["colour"] = next(c for c in allowed if c != "black")
        out.append(coloured)
    return out


def _accepts(shape: str, spec: Spec) -> bool:
    """Whether ``shape`` can carry every shape-specific attribute of ``spec``."""
    needs = {
        "rotation": V.ROTATABLE,
        "aspect": V.WITH_ASPECT,
        "corners": V.WITH_CORNERS,
        "sides": V.WITH_SIDES,
        "direction": ("triangle",),
    }
    if shape == "polygon" and "sides" not in spec:
        return False
    return all(shape in allowed for key, allowed in needs.items() if key in spec)


def hard_negatives(concept: Concept | Spec, limit: int | None = None) -> list[str]:
    """Descriptions that read like the concept's but describe a different drawing."""
    spec = concept.attributes if isinstance(concept, Concept) else concept
    original = describe(spec)
    seen = {original}
    out: list[str] = []
    for negative in negative_specs(spec):
        text = describe(negative)
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out[:limit] if limit else out
