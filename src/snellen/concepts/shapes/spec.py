"""Sampling structured shape specs.

A spec is a JSON-able dict. Its top level describes the (first) object and the scene;
``composition`` is ``single`` (one object), ``group`` (``count`` copies in an
``arrangement``) or ``pair`` (the object and ``second`` in a ``relation``). Keys appear only
when the description mentions them, so the keys are exactly the attribute kinds used.
"""

from __future__ import annotations

import random
import zlib

from snellen.concepts.shapes import vocab as V
from snellen.concepts.shapes.types import Spec

DARK_BACKGROUNDS = ("black", "dark blue", "dark green")


def allowed_colours(background: str | None) -> tuple[str, ...]:
    """Colours that stay clearly visible on ``background`` (None: white)."""
    if background is None:
        banned: tuple[str, ...] = ("white",)
    elif background == "light grey":
        banned = ("white", "grey")
    elif background in DARK_BACKGROUNDS:
        banned = (
            ("black",)
            + (("blue", "purple") if background == "dark blue" else ())
            + (("green",) if background == "dark green" else ())
        )
    else:
        hue = background.split()[-1]
        banned = ("white", hue, "yellow" if hue == "yellow" else hue)
    return tuple(c for c in V.COLOUR_NAMES if c not in banned)


def is_heldout_pair(shape: str, colour: str) -> bool:
    """Whether a (shape, colour) combination belongs to the held-out split.

    A fixed fifth of the combinations of 2-D and 3-D shapes with colours, chosen by a
    checksum so that every release of the package agrees.
    """
    if shape not in V.FLAT_SHAPES and shape not in V.SOLID_SHAPES:
        return False
    return zlib.crc32(f"{shape}|{colour}".encode()) % 5 == 0


def colour_pairs(spec: Spec) -> list[tuple[str, str]]:
    """Every (shape, colour) combination a spec shows."""
    out = []
    if spec["composition"] == "group" and spec.get("colours"):
        out += [(spec["shape"], c) for c in spec["colours"]]
    elif "colour" in spec:
        out.append((spec["shape"], spec["colour"]))
    if "second" in spec and "colour" in spec["second"]:
        out.append((spec["second"]["shape"], spec["second"]["colour"]))
    return out


def _family(rng: random.Random, weights: tuple[float, float, float, float]) -> str:
    families = (V.POINT_SHAPES, V.LINE_SHAPES, V.FLAT_SHAPES, V.SOLID_SHAPES)
    return rng.choice(rng.choices(families, weights)[0])


def _other(rng: random.Random, options: tuple[str, ...], *exclude: str | None) -> str:
    return rng.choice([o for o in options if o not in exclude])


def _flat_modifiers(
    rng: random.Random, obj: Spec, colours: tuple[str, ...], scale: float = 1.0
) -> None:
    shape = obj["shape"]
    if shape == "polygon":
        obj["sides"] = rng.choice((7, 9, 10))
    elif shape == "star" and rng.random() < 0.4:
        obj["sides"] = rng.choice((5, 6, 7, 8))
    if shape == "triangle" and rng.random() < 0.4 * scale:
        obj["direction"] = rng.choice(V.TRIANGLE_DIRECTIONS)
    if shape in V.WITH_ASPECT and rng.random() < 0.4 * scale:
        obj["aspect"] = rng.choice(("wide", "tall"))
    if shape in V.WITH_CORNERS and rng.random() < 0.35 * scale:
        obj["corners"] = "rounded"
    if shape in V.ROTATABLE and rng.random() < 0.25 * scale:
        obj["rotation"] = rng.choice(V.ROTATIONS)
    _fill(rng, obj, scale)
    if rng.random() < 0.2 * scale and obj.get("fill") != "hollow":
        obj["outline_colour"] = _other(rng, colours, obj["colour"])
    if rng.random() < 0.2 * scale:
        obj["thickness"] = rng.choice(V.THICKNESSES)
    if rng.random() < 0.15 * scale:
        obj["line_style"] = rng.choice(V.LINE_STYLES)
    if rng.random() < 0.1 * scale:
        obj["opacity"] = "semi-transparent"
    if rng.random() < 0.12 * scale:
        obj["shadow"] = "drop shadow"


def _fill(rng: random.Random, obj: Spec, scale: float) -> None:
    """Hollow, or a texture (its colour, direction and density), or plain."""
    r = rng.random()
    if r < 0.15 * scale:
        obj["fill"] = "hollow"
    elif r < 0.4 * scale:
        obj["texture"] = rng.choice(V.TEXTURES)
        if rng.random() < 0.7:
            obj["texture_colour"] = _other(rng, V.COLOUR_NAMES, obj["colour"])
        if obj["texture"] == "stripes" and rng.random() < 0.6:
            obj["texture_direction"] = rng.choice(V.TEXTURE_DIRECTIONS)
        if rng.random() < 0.35:
            obj["texture_density"] = rng.choice(V.DENSITIES)


def _colour(rng: random.Random, obj: Spec, colours: tuple[str, ...], p_light: float = 0.15) -> None:
    obj["colour"] = rng.choice(colours)
    if obj["colour"] in V.SHADEABLE and rng.random() < p_light:
        obj["lightness"] = rng.choice(("light", "dark"))


def _object(rng: random.Random, shape: str, colours: tuple[str, ...], scale: float = 1.0) -> Spec:
    obj: Spec = {"shape": shape}
    if shape in V.POINT_SHAPES or shape in V.LINE_SHAPES:
        if rng.random() < 0.85 or "black" not in colours:
            _colour(rng, obj, colours)
    else:
        _colour(rng, obj, colours)
    if shape in V.FLAT_SHAPES:
        _flat_modifiers(rng, obj, colours, scale)
    elif shape in V.SOLID_SHAPES:
        if rng.random() < 0.3 * scale:
            obj["shading"] = rng.choice(("flat", "shaded"))
        if rng.random() < 0.3 * scale:
            obj["viewpoint"] = rng.choice(("upper left", "upper right"))
    elif shape in V.POINT_SHAPES:
        if rng.random() < 0.6:
            obj["marker"] = rng.choice(V.MARKERS)
    else:
        _line_modifiers(rng, obj)
    return obj


def _line_modifiers(rng: random.Random, obj: Spec) -> None:
    """Orientation or direction, length, thickness and style of a line or an arrow."""
    shape = obj["shape"]
    if shape == "line" and rng.random() < 0.6:
        obj["orientation"] = rng.choice(V.ORIENTATIONS)
    if shape in ("zigzag line", "wavy line") and rng.random() < 0.5:
        obj["orientation"] = rng.choice(("horizontal", "vertical"))
    if shape == "arrow":
        if rng.random() < 0.3:
            obj["arrowheads"] = "double"
            obj["direction"] = rng.choice(("right", "up"))
        elif rng.random() < 0.7:
            obj["direction"] = rng.choice(V.ARROW_DIRECTIONS)
    if rng.random() < 0.4:
        obj["length"] = rng.choice(V.LENGTHS)
    if rng.random() < 0.4:
        obj["thickness"] = rng.choice(V.THICKNESSES)
    if rng.random() < 0.3:
        obj["line_style"] = rng.choice(V.LINE_STYLES)


def _scene_keys(rng: random.Random, p_background: float) -> tuple[str | None, tuple[str, ...]]:
    background = rng.choice(V.BACKGROUND_NAMES) if rng.random() < p_background else None
    return background, allowed_colours(background)


def _finish(spec: Spec, background: str | None, rng: random.Random, p_frame: float) -> Spec:
    if background:
        spec["background"] = background
    if rng.random() < p_frame:
        frame_colours = [c for c in V.FRAME_COLOURS if c in allowed_colours(background)]
        spec["frame"] = rng.choice(frame_colours)
    spec["phrasing"] = rng.randrange(1 << 30)
    spec["kinds"] = kinds_of(spec)
    return spec


def kinds_of(spec: Spec) -> list[str]:
    present = set(spec)
    if "second" in spec:
        present |= set(spec["second"])
    if "colours" in spec:
        present |= {"colour"}
    return [k for k in V.ATTRIBUTE_KINDS if k in present]


def sample_single(rng: random.Random) -> Spec:
    background, colours = _scene_keys(rng, 0.2)
    shape = _family(rng, (0.07, 0.17, 0.5, 0.26))
    spec: Spec = {"composition": "single", **_object(rng, shape, colours)}
    if shape in V.POINT_SHAPES:
        if rng.random() < 0.4:
            spec["size"] = rng.choice(("tiny", "small", "large"))
        if rng.random() < 0.5:
            spec["position"] = rng.choice(V.POSITIONS)[0]
    elif shape not in V.LINE_SHAPES:
        if rng.random() < 0.4:
            spec["size"] = rng.choice(("tiny", "small", "medium", "large"))
        if rng.random() < 0.35 and spec.get("size") != "large":
            spec["position"] = rng.choice(V.POSITIONS)[0]
            if spec["position"] != "centre" and "size" not in spec:
                spec["size"] = rng.choice(("tiny", "small"))
    elif rng.random() < 0.25:
        spec["length"] = "short"
        spec["position"] = rng.choice(V.POSITIONS)[0]
    return _finish(spec, background, rng, 0.1)


def sample_group(rng: random.Random) -> Spec:
    background, colours = _scene_keys(rng, 0.2)
    shape = _family(rng, (0.1, 0.0, 0.7, 0.2))
    arrangement = rng.choice(V.ARRANGEMENTS)
    if arrangement == "grid":
        count = rng.choice(tuple(V.GRID_COUNTS))
    elif arrangement == "circle":
        count = rng.randint(3, 9)
    else:
        count = rng.randint(2, 6)
    spec: Spec = {
        "composition": "group",
        "shape": shape,
        "count": count,
        "arrangement": arrangement,
    }
    r = rng.random()
    if r < 0.2 and count <= 5:
        spec["colour_scheme"] = "different"
        spec["colours"] = rng.sample(colours, count)
    elif r < 0.35 and count >= 3:
        spec["colour_scheme"] = "alternating"
        spec["colours"] = rng.sample(colours, 2)
    elif r < 0.45 and count >= 3:
        spec["colour_scheme"] = "gradient"
        spec["colour"] = rng.choice([c for c in colours if c in V.SHADEABLE])
    else:
        _colour(rng, spec, colours, 0.1)
    if shape in V.FLAT_SHAPES:
        reference = dict(spec)
        reference.setdefault("colour", spec.get("colours", [colours[0]])[0])
        _flat_modifiers(rng, reference, colours, 0.4)
        for key, value in reference.items():
            if key not in spec and key not in ("outline_colour", "texture_colour"):
                spec[key] = value
        for key in ("outline_colour", "texture_colour"):
            if key in reference and reference[key] not in spec.get("colours", [spec.get("colour")]):
                spec[key] = reference[key]
    elif shape in V.SOLID_SHAPES and rng.random() < 0.2:
        spec["viewpoint"] = rng.choice(("upper left", "upper right"))
    elif shape in V.POINT_SHAPES and rng.random() < 0.5:
        spec["marker"] = rng.choice(V.MARKERS)
    if rng.random() < 0.3:
        spec["spacing"] = rng.choice(V.SPACINGS)
    if (
        arrangement in ("row", "column", "diagonal")
        and count >= 3
        and rng.random() < 0.2
        and shape not in V.POINT_SHAPES
    ):
        spec["size_progression"] = rng.choice(V.SIZE_PROGRESSIONS)
    return _finish(spec, background, rng, 0.05)


def sample_pair(rng: random.Random) -> Spec:
    background, colours = _scene_keys(rng, 0.15)
    relation = rng.choice(V.RELATIONS)
    if relation == "inside":
        second_shape = rng.choice(V.CONTAINERS)
        first_shape = _family(rng, (0.1, 0.0, 0.6, 0.3))
    else:
        first_shape = _family(rng, (0.0, 0.0, 0.65, 0.35))
        second_shape = _family(rng, (0.0, 0.0, 0.65, 0.35))
    first = _object(rng, first_shape, colours, 0.35)
    second = _object(rng, second_shape, tuple(c for c in colours if c != first.get("colour")), 0.35)
    if relation == "inside":
        for key in (
            "fill",
            "opacity",
            "shadow",
            "line_style",
            "texture",
            "texture_colour",
            "texture_direction",
            "texture_density",
        ):
            second.pop(key, None)
    if (
        relation in ("overlapping", "behind")
        and first_shape in V.FLAT_SHAPES
        and rng.random() < 0.25
    ):
        first["opacity"] = "semi-transparent"
    spec: Spec = {"composition": "pair", **first, "relation": relation, "second": second}
    if relation in ("above", "below", "left of", "right of") and rng.random() < 0.4:
        spec["distance"] = rng.choice(V.DISTANCES)
    if relation != "inside" and rng.random() < 0.3:
        spec["relative_size"] = rng.choice(("larger", "smaller"))
    return _finish(spec, background, rng, 0.05)


def sample_spec(rng: random.Random) -> Spec:
    kind = rng.choices(("single", "group", "pair"), (0.45, 0.3, 0.25))[0]
    if kind == "single":
        return sample_single(rng)
    if kind == "group":
        return sample_group(rng)
    return sample_pair(rng)
