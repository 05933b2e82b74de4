"""Natural descriptions of shape specs, with phrasing varied by a seeded choice of templates
and synonyms. The same spec and phrasing seed always give the same sentence; a changed spec
with the same phrasing seed gives a sentence in the same style (used for hard negatives)."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from enum import IntEnum
from typing import TypeVar

from snellen.concepts.shapes import vocab as V
from snellen.concepts.shapes.types import Spec

T = TypeVar("T")


class Site(IntEnum):
    """The phrasing choices of a description, each a fixed number: a choice is keyed by
    (seed, role, site), so the number of a site must never change (renumbering changes the
    exported dataset; ``tests/test_concepts_describe.py`` pins it). Add a new site with a new
    number at the end."""

    POINT_NOUN = 1
    POLYGON_NOUN = 2
    STAR_NOUN = 3
    SHAPE_NOUN = 4
    SIZE_WORD = 5
    OPACITY = 6
    HOLLOW = 7
    COLOUR_AFTER = 8
    RISING = 9
    FALLING = 10
    STRIPES = 11
    POLKA_DOTS = 12
    CROSS_HATCHING = 13
    GRID_PATTERN = 14
    HOLLOW_EDGE = 15
    OUTLINE = 16
    ROTATION = 17
    SHADING = 18
    VIEWPOINT = 19
    SHADOW = 20
    BACKGROUND = 21
    FRAME = 22
    POSITION = 23
    GROUP_COLOURS = 24
    GROUP_ALTERNATING = 25
    GROUP_GRADIENT = 26
    SPACING_CLOSE = 27
    SPACING_FAR = 28
    GRID_LEAD = 29
    ARRANGEMENT_LEAD = 30
    PAIR_SIZE_FIRST = 31
    PAIR_SIZE_SECOND = 32
    RELATION = 33
    COLOUR_PLACE = 34
    POST_JOIN = 35
    POSITION_FIRST = 36
    POSITION_COMMA = 37
    INSIDE_TURN = 38
    ABOVE_BELOW_TURN = 39


class Chooser:
    """Phrasing choices keyed by (seed, role, call site) rather than drawn in sequence, so a
    changed spec keeps every other choice: a hard negative reads like its original."""

    def __init__(self, seed: int, role: str = "") -> None:
        self.seed = seed
        self.role = role

    def sub(self, role: str) -> Chooser:
        return Chooser(self.seed, self.role + role)

    def _hash(self, site: Site) -> int:
        return zlib.crc32(f"{self.seed}:{self.role}:{int(site)}".encode())

    def choice(self, site: Site, options: Sequence[T]) -> T:
        return options[self._hash(site) % len(options)]

    def random(self, site: Site) -> float:
        return self._hash(site) / 2**32


NOUNS: dict[str, tuple[str, ...]] = {
    "point": ("dot", "point"),
    "line": ("line", "straight line", "line segment"),
    "arrow": ("arrow",),
    "zigzag line": ("zigzag line", "zigzag"),
    "wavy line": ("wavy line", "wave"),
    "circle": ("circle",),
    "ellipse": ("ellipse", "oval"),
    "square": ("square",),
    "rectangle": ("rectangle",),
    "triangle": ("triangle", "equilateral triangle"),
    "right triangle": ("right triangle", "right-angled triangle"),
    "diamond": ("diamond", "rhombus"),
    "pentagon": ("pentagon", "regular pentagon"),
    "hexagon": ("hexagon", "regular hexagon"),
    "octagon": ("octagon", "regular octagon"),
    "star": ("star",),
    "heart": ("heart", "heart shape"),
    "semicircle": ("semicircle", "half circle"),
    "trapezoid": ("trapezoid", "trapezium"),
    "parallelogram": ("parallelogram",),
    "cross": ("cross", "plus sign"),
    "cube": ("cube",),
    "box": ("box", "cuboid", "rectangular box"),
    "cylinder": ("cylinder",),
    "cone": ("cone",),
    "sphere": ("sphere", "ball"),
    "pyramid": ("pyramid", "square pyramid"),
}

MARKER_NOUNS = {
    "dot": ("dot", "round dot"),
    "cross": ("point marked with a small x", "x-shaped point marker"),
    "plus": ("point marked with a small plus sign", "plus-shaped point marker"),
    "ring": ("point drawn as a small ring", "ring-shaped point marker"),
}

POSITION_PHRASES = {
    "top left": ("in the top left corner", "at the top left", "in the upper-left corner"),
    "top": ("at the top", "at the top centre", "near the top edge"),
    "top right": ("in the top right corner", "at the top right", "in the upper-right corner"),
    "left": ("on the left", "at the left side", "on the left side of the picture"),
    "centre": ("in the centre", "in the middle", "at the centre of the picture"),
    "right": ("on the right", "at the right side", "on the right side of the picture"),
    "bottom left": ("in the bottom left corner", "at the bottom left", "in the lower-left corner"),
    "bottom": ("at the bottom", "at the bottom centre", "near the bottom edge"),
    "bottom right": (
        "in the bottom right corner",
        "at the bottom right",
        "in the lower-right corner",
    ),
}

SIZE_WORDS = {
    "tiny": ("tiny", "very small"),
    "small": ("small", "little"),
    "medium": ("medium-sized", "mid-sized"),
    "large": ("large", "big"),
}

RELATION_PHRASES: dict[tuple[str, str | None], tuple[str, ...]] = {
    ("above", None): ("above", "over"),
    ("above", "touching"): ("resting on top of", "sitting on top of"),
    ("above", "close"): ("just above", "a little above"),
    ("above", "far"): ("far above", "high above"),
    ("below", None): ("below", "under", "beneath"),
    ("below", "touching"): ("directly below and touching", "touching the bottom of"),
    ("below", "close"): ("just below", "a little below"),
    ("below", "far"): ("far below", "well below"),
    ("left of", None): ("to the left of", "on the left of"),
    ("left of", "touching"): ("touching the left side of", "pressed against the left side of"),
    ("left of", "close"): ("just to the left of", "a little to the left of"),
    ("left of", "far"): ("far to the left of", "well to the left of"),
    ("right of", None): ("to the right of", "on the right of"),
    ("right of", "touching"): ("touching the right side of", "pressed against the right side of"),
    ("right of", "close"): ("just to the right of", "a little to the right of"),
    ("right of", "far"): ("far to the right of", "well to the right of"),
    ("inside", None): ("inside", "within", "in the middle of"),
    ("overlapping", None): ("overlapping", "partly covering", "in front of"),
    ("behind", None): ("behind", "partly hidden behind"),
    ("next to", None): ("next to", "beside"),
}

ORDER_WORDS = {
    "row": "from left to right",
    "diagonal": "from top left to bottom right",
    "column": "from top to bottom",
    "circle": "clockwise from the top",
    "grid": "row by row",
}


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" and not word.startswith("one") else "a"


def _plural(noun: str) -> str:
    head, sep, tail = noun.partition(" with ")
    head, sep2, tail2 = head.partition(" marked ")
    words = head.split(" ")
    last = words[-1]
    if last.endswith(("s", "x", "sh", "ch")):
        last += "es"
    else:
        last += "s"
    words[-1] = last
    out = " ".join(words)
    if sep2:
        out += sep2 + tail2
    if sep:
        out += sep + tail
    return out


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _colour_word(obj: Spec) -> str:
    colour = obj.get("colour", "")
    return f"{obj['lightness']} {colour}" if obj.get("lightness") else colour


def _noun(obj: Spec, rng: Chooser) -> str:
    shape = obj["shape"]
    if shape == "point":
        return rng.choice(
            Site.POINT_NOUN,
            MARKER_NOUNS[obj.get("marker", "dot")] if "marker" in obj else NOUNS["point"],
        )
    if shape == "polygon":
        n = obj["sides"]
        return rng.choice(
            Site.POLYGON_NOUN,
            (
                f"regular {n}-sided polygon",
                f"polygon with {n} equal sides",
                f"regular {V.POLYGON_NAMES[n]}",
            ),
        )
    if shape == "star" and "sides" in obj:
        n = obj["sides"]
        return rng.choice(Site.STAR_NOUN, (f"{n}-pointed star", f"star with {n} points"))
    return rng.choice(Site.SHAPE_NOUN, NOUNS[shape])


def _pre_words(
    obj: Spec, rng: Chooser, size_word: str | None, colour: bool
) -> tuple[list[str], bool]:
    """The words before the noun, and whether the colour goes after it instead."""
    shape = obj["shape"]
    pre: list[str] = []
    size = size_word or (
        rng.choice(Site.SIZE_WORD, SIZE_WORDS[obj["size"]]) if "size" in obj else None
    )
    if size:
        pre.append(size)
    if obj.get("opacity"):
        pre.append(rng.choice(Site.OPACITY, ("semi-transparent", "translucent")))
    if shape in V.LINE_SHAPES:
        if "length" in obj:
            pre.append(obj["length"])
        if "thickness" in obj:
            pre.append(obj["thickness"])
        if "line_style" in obj:
            pre.append(obj["line_style"])
    colour_post = False
    if colour and obj.get("colour"):
        if rng.random(Site.COLOUR_PLACE) < 0.25:
            colour_post = True
        else:
            pre.append(_colour_word(obj))
    if obj.get("fill") == "hollow":
        pre.append(rng.choice(Site.HOLLOW, ("hollow", "outlined", "unfilled")))
    if "aspect" in obj:
        pre.append(obj["aspect"])
    if obj.get("corners") == "rounded":
        pre.append("rounded")
    if obj.get("arrowheads") == "double":
        pre.append(
            ("horizontal" if obj.get("direction") == "right" else "vertical") + " double-headed"
        )
    orientation = obj.get("orientation")
    if orientation in ("horizontal", "vertical"):
        pre.append(orientation)
    return pre, colour_post


def _post_words(obj: Spec, rng: Chooser, colour_post: bool) -> list[str]:
    """The phrases after the noun, in the order they are read."""
    post: list[str] = []
    orientation = obj.get("orientation")
    if colour_post:
        post.append(
            rng.choice(Site.COLOUR_AFTER, ("in {c}", "coloured {c}", "painted {c}")).format(
                c=_colour_word(obj)
            )
        )
    if orientation == "rising":
        post.append(
            rng.choice(
                Site.RISING, ("going from bottom left to top right", "rising from left to right")
            )
        )
    elif orientation == "falling":
        post.append(
            rng.choice(
                Site.FALLING, ("going from top left to bottom right", "falling from left to right")
            )
        )
    if "direction" in obj and obj.get("arrowheads") != "double":
        post.append(f"pointing {obj['direction']}")
    if "texture" in obj:
        post.append(_texture_words(obj, rng))
    if obj["shape"] not in V.LINE_SHAPES and any(
        k in obj for k in ("outline_colour", "thickness", "line_style")
    ):
        post.append(_outline_words(obj, rng))
    if "rotation" in obj:
        post.append(
            rng.choice(
                Site.ROTATION,
                (
                    "rotated {d} degrees clockwise",
                    "turned {d} degrees clockwise",
                    "tilted {d} degrees clockwise",
                ),
            ).format(d=obj["rotation"])
        )
    if "shading" in obj:
        post.append(
            "with flat colours and black edges"
            if obj["shading"] == "flat"
            else rng.choice(Site.SHADING, ("with shaded faces", "shaded to look solid"))
        )
    if "viewpoint" in obj:
        post.append(
            rng.choice(Site.VIEWPOINT, ("seen from the {v}", "viewed from the {v}")).format(
                v=obj["viewpoint"]
            )
        )
    if obj.get("shadow"):
        post.append(rng.choice(Site.SHADOW, ("with a drop shadow", "casting a grey shadow")))
    return post


def _texture_words(obj: Spec, rng: Chooser) -> str:
    """The phrase for the object's texture (stripes, dots, cross-hatching or a grid)."""
    tc = obj.get("texture_colour")
    density = obj.get("texture_density")
    tex = obj["texture"]
    if tex == "stripes":
        words = [
            w
            for w in (
                {"fine": "thin", "coarse": "wide"}.get(density or ""),
                tc,
                obj.get("texture_direction"),
            )
            if w
        ]
        return rng.choice(
            Site.STRIPES,
            ("with {w}stripes", "striped with {w}stripes", "filled with {w}stripes"),
        ).format(w=" ".join(words) + " " if words else "")
    elif tex == "dots":
        words = [
            w
            for w in (
                {"fine": "small, dense", "coarse": "large, sparse"}.get(density or ""),
                tc,
            )
            if w
        ]
        return rng.choice(
            Site.POLKA_DOTS,
            ("with {w}polka dots", "filled with {w}dots", "covered in {w}dots"),
        ).format(w=" ".join(words) + " " if words else "")
    else:
        name = "cross-hatching" if tex == "cross-hatching" else "grid pattern"
        words = [
            w for w in ({"fine": "fine", "coarse": "coarse"}.get(density or ""), tc, name) if w
        ]
        return (
            rng.choice(
                Site.CROSS_HATCHING, ("with {w}", "filled with {w}", "shaded with {w}")
            ).format(w=" ".join(words))
            if tex == "cross-hatching"
            else rng.choice(Site.GRID_PATTERN, ("with {a} {w}", "filled with {a} {w}")).format(
                a=_article(words[0]), w=" ".join(words)
            )
        )


def _outline_words(obj: Spec, rng: Chooser) -> str:
    """The phrase for the object's outline (its colour, thickness and style)."""
    words = [
        w for w in (obj.get("thickness"), obj.get("line_style"), obj.get("outline_colour")) if w
    ]
    phrase = " ".join(words)
    if obj.get("fill") == "hollow":
        return rng.choice(
            Site.HOLLOW_EDGE, ("drawn with {a} {p} line", "with {a} {p} edge")
        ).format(a=_article(phrase), p=phrase)
    else:
        return rng.choice(
            Site.OUTLINE,
            ("with {a} {p} outline", "with {a} {p} border", "edged with {a} {p} line"),
        ).format(a=_article(phrase), p=phrase)


def noun_phrase(
    obj: Spec,
    rng: Chooser,
    *,
    size_word: str | None = None,
    plural: bool = False,
    colour: bool = True,
) -> str:
    """The object as a noun phrase without its determiner."""
    pre, colour_post = _pre_words(obj, rng, size_word, colour)
    noun = _noun(obj, rng)
    if plural:
        noun = _plural(noun)
    post = _post_words(obj, rng, colour_post)
    text = " ".join(pre + [noun])
    if post:
        text += " " + (
            ", ".join(post)
            if len(post) > 1 and rng.random(Site.POST_JOIN) < 0.5
            else " and ".join(post)
            if len(post) == 2
            else ", ".join(post)
        )
    return text


def _with_article(phrase: str) -> str:
    return f"{_article(phrase)} {phrase}"


def _scene_suffix(spec: Spec, rng: Chooser) -> str:
    out = ""
    if "background" in spec:
        out += rng.choice(
            Site.BACKGROUND, (" on a {b} background", " against a {b} background", " on {b}")
        ).format(b=spec["background"])
    if "frame" in spec:
        out += rng.choice(
            Site.FRAME,
            (
                ", with a {f} frame around the picture",
                ", with a {f} border around the edge",
                ", framed in {f}",
            ),
        ).format(f=spec["frame"])
    return out


def _describe_single(spec: Spec, rng: Chooser) -> str:
    np = _with_article(noun_phrase(spec, rng))
    if "position" in spec:
        where = rng.choice(Site.POSITION, POSITION_PHRASES[spec["position"]])
        if rng.random(Site.POSITION_FIRST) < 0.3:
            return f"{where}, {np}" + _scene_suffix(spec, rng)
        np = f"{np} {where}" if rng.random(Site.POSITION_COMMA) < 0.6 else f"{np}, placed {where}"
    return np + _scene_suffix(spec, rng)


def _describe_group(spec: Spec, rng: Chooser) -> str:
    n = spec["count"]
    arr = spec["arrangement"]
    scheme = spec.get("colour_scheme")
    nouns = noun_phrase(spec, rng, plural=True, colour=scheme is None)
    count = V.NUMBER_WORDS[n]
    extras: list[str] = []
    if scheme == "different":
        extras.append(
            rng.choice(Site.GROUP_COLOURS, ("coloured {c} {o}", "in {c} {o}")).format(
                c=_join(spec["colours"]), o=ORDER_WORDS[arr]
            )
        )
    elif scheme == "alternating":
        extras.append(
            rng.choice(
                Site.GROUP_ALTERNATING, ("alternating {a} and {b}", "in alternating {a} and {b}")
            ).format(a=spec["colours"][0], b=spec["colours"][1])
        )
    elif scheme == "gradient":
        extras.append(
            rng.choice(
                Site.GROUP_GRADIENT,
                ("shading from light {c} to dark {c} {o}", "going from light {c} to dark {c} {o}"),
            ).format(c=spec["colour"], o=ORDER_WORDS[arr])
        )
    if "spacing" in spec:
        extras.append(
            rng.choice(Site.SPACING_CLOSE, ("close together", "tightly spaced"))
            if spec["spacing"] == "close"
            else rng.choice(Site.SPACING_FAR, ("far apart", "widely spaced"))
        )
    if "size_progression" in spec:
        order = ORDER_WORDS[arr]
        extras.append(
            ("growing larger " if spec["size_progression"] == "growing" else "getting smaller ")
            + order
        )
    if arr == "grid":
        rows, cols = V.GRID_COUNTS[n]
        lead = rng.choice(
            Site.GRID_LEAD,
            (
                f"a {rows} by {cols} grid of {{n}}",
                f"{count} {{n}} arranged in a grid of {rows} rows and {cols} columns",
                f"{count} {{n}} in a {rows}x{cols} grid",
            ),
        )
    else:
        lead = rng.choice(
            Site.ARRANGEMENT_LEAD,
            {
                "row": (
                    f"{count} {{n}} in a row",
                    f"a row of {count} {{n}}",
                    f"{count} {{n}} side by side in a horizontal row",
                ),
                "column": (
                    f"{count} {{n}} in a column",
                    f"a column of {count} {{n}}",
                    f"{count} {{n}} stacked vertically",
                ),
                "circle": (
                    f"{count} {{n}} arranged in a circle",
                    f"a ring of {count} {{n}}",
                    f"{count} {{n}} forming a circle",
                ),
                "diagonal": (
                    f"{count} {{n}} along a diagonal from top left to bottom right",
                    f"{count} {{n}} in a diagonal line",
                ),
            }[arr],
        )
    text = lead.format(n=nouns)
    if extras:
        text += ", " + ", ".join(extras)
    return text + _scene_suffix(spec, rng)


def pair_parts(spec: Spec, rng: Chooser) -> tuple[str, str, str]:
    """The two objects' noun phrases (with their articles and size words) and the relation
    phrase of a pair, as its description words them."""
    first = {
        k: v
        for k, v in spec.items()
        if k not in ("second", "relation", "distance", "relative_size")
    }
    size_a = size_b = None
    if spec.get("relative_size") == "larger":
        size_a, size_b = rng.choice(Site.PAIR_SIZE_FIRST, ("large", "big")), "small"
    elif spec.get("relative_size") == "smaller":
        size_a, size_b = "small", rng.choice(Site.PAIR_SIZE_SECOND, ("large", "big"))
    a = _with_article(noun_phrase(first, rng.sub("a"), size_word=size_a))
    b = _with_article(noun_phrase(spec["second"], rng.sub("b"), size_word=size_b))
    phrase = rng.choice(Site.RELATION, RELATION_PHRASES[(spec["relation"], spec.get("distance"))])
    return a, b, phrase


def _describe_pair(spec: Spec, rng: Chooser) -> str:
    rel = spec["relation"]
    a, b, phrase = pair_parts(spec, rng)
    if rel == "inside" and rng.random(Site.INSIDE_TURN) < 0.4:
        text = f"{b} with {a} inside it"
    elif (
        rel in ("above", "below")
        and spec.get("distance") is None
        and rng.random(Site.ABOVE_BELOW_TURN) < 0.3
    ):
        text = f"{b} with {a} {phrase} it"
    else:
        text = f"{a} {phrase} {b}"
    return text + _scene_suffix(spec, rng)


def describe(spec: Spec) -> str:
    """The description of a spec, phrased by its ``phrasing`` seed."""
    rng = Chooser(int(spec.get("phrasing", 0)))
    composition = spec["composition"]
    if composition == "single":
        return _describe_single(spec, rng)
    if composition == "group":
        return _describe_group(spec, rng)
    return _describe_pair(spec, rng)
