"""VAD sets built by snellen with exact truth from the shapes generator
(:mod:`snellen.concepts.shapes`), drawn by their reference SVG programs.

By default they use the ``heldout`` split: every picture shows at least one shape-colour
combination that ``snellen-shapes`` never saw in training (the split it was trained
without), so the numbers measure composition, not memory. ``--split train`` takes pictures
made only of seen combinations.

* ``vad-aro/relation``: two shapes in a spatial relation (above, below, left of, right of,
  overlapping, behind), the true description vs the same words with the two objects'
  phrases exchanged (ARO's VG-Relation: "the horse is eating the grass" vs "the grass is
  eating the horse").
* ``vad-aro/attribution``: two shapes of different colours, the true description vs the one
  with the colours swapped (VG-Attribution).
* ``vad-aro/order``: any picture, its description vs its four ARO order perturbations.
* ``vad-zeroshot/shape`` / ``vad-zeroshot/colour``: single shapes classified by shape
  (2-D and 3-D) or by colour.
* ``vad-retrieval[:PERTURBATION]``: pictures and their descriptions, the captions optionally
  shuffled by one ARO perturbation (the bag-of-words test).
* ``vad-shapes``: labelled splits (for a probe) of single shapes of 8 classes in random
  colours, sizes and rotations, rendered at 64 pixels and split 50/50.
"""

from __future__ import annotations

import copy
import io
import random
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from PIL import Image

from snellen.datasets.base import BuildOptions
from snellen.datasets.kinds import (
    Classification,
    ImageSource,
    LabelledSplits,
    Retrieval,
    Selection,
    stratified_split,
)
from snellen.datasets.perturb import KINDS, order_options, perturb_all
from snellen.errors import InputError

Spec = dict[str, Any]
SPATIAL = ("above", "below", "left of", "right of", "overlapping", "behind")
SHAPE_TEMPLATES = ["a {c}", "a {c} in the centre", "one {c}", "a single {c}"]
COLOUR_TEMPLATES = ["a {c} shape", "a shape coloured {c}", "a {c} shape in the centre"]


def _concepts(
    n: int, seed: int, split: str | None, keep: Callable[[Spec], bool]
) -> Iterator[tuple[Spec, str, str]]:
    """(spec, description, svg program) of ``n`` concepts of ``split`` (None: ``heldout``)
    that ``keep`` accepts."""
    from snellen.concepts.shapes import SPLITS, iter_shapes

    split = split or "heldout"
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r} for a VAD set; use one of {', '.join(SPLITS)}")
    for concept in iter_shapes(n, seed, split, exclude=lambda s: not keep(s)):
        yield concept.attributes, concept.description, concept.programs["svg"]


def _svg(spec: Spec) -> str:
    from snellen.concepts.shapes import build_scene
    from snellen.concepts.shapes.emit_svg import emit_svg

    return emit_svg(build_scene(spec))


def _swap_objects(spec: Spec) -> Spec | None:
    from snellen.concepts.shapes import negative_specs

    for neg in negative_specs(spec):
        if (
            neg["relation"] == spec["relation"]
            and neg["shape"] == spec["second"]["shape"]
            and neg["second"]["shape"] == spec["shape"]
            and neg.get("colour") == spec["second"].get("colour")
        ):
            return neg
    return None


def swapped_relation_text(spec: Spec) -> tuple[str, str]:
    """(true, false) descriptions of a pair: the generator's own phrasing of the spec, and
    the same words with the two objects' phrases exchanged, each object keeping its own
    attributes and size word (ARO's "the horse is eating the grass" vs "the grass is eating
    the horse"). The false one describes the spec with its objects exchanged, a different
    picture for every relation here (none is symmetric)."""
    from snellen.concepts.shapes.describe import Chooser, Site, _scene_suffix, pair_parts

    rng = Chooser(int(spec.get("phrasing", 0)))
    rel = spec["relation"]
    a, b, phrase = pair_parts(spec, rng)
    suffix = _scene_suffix(spec, rng)
    if (
        rel in ("above", "below")
        and spec.get("distance") is None
        and rng.random(Site.ABOVE_BELOW_TURN) < 0.3
    ):
        return f"{b} with {a} {phrase} it{suffix}", f"{a} with {b} {phrase} it{suffix}"
    return f"{a} {phrase} {b}{suffix}", f"{b} {phrase} {a}{suffix}"


def _swap_colours(spec: Spec) -> Spec:
    swapped = copy.deepcopy(spec)
    swapped["colour"], swapped["second"]["colour"] = spec["second"]["colour"], spec["colour"]
    swapped.pop("lightness", None)
    swapped["second"].pop("lightness", None)
    if "lightness" in spec["second"]:
        swapped["lightness"] = spec["second"]["lightness"]
    if "lightness" in spec:
        swapped["second"]["lightness"] = spec["lightness"]
    return swapped


def relation(opts: Any, arg: str | None) -> Selection:
    def keep(s: Spec) -> bool:
        return (
            s["composition"] == "pair"
            and s["relation"] in SPATIAL
            and s["shape"] != s["second"]["shape"]
        )

    images, cands, groups = [], [], []
    for spec, text, svg in _concepts(opts.n, opts.seed, opts.split, keep):
        true, false = swapped_relation_text(spec)
        if true != text or false == text:  # a phrasing this rebuild does not know: skip it
            continue
        images.append(ImageSource(svg=svg))
        cands.append([false, text])
        groups.append(spec["relation"])
    return Selection(images, cands, [1] * len(images), groups, metric="macro", chance=0.5,
                     info={"truth": "exact (generator)", "false": "objects swapped"})  # fmt: skip


def attribution(opts: Any, arg: str | None) -> Selection:
    from snellen.concepts.shapes import describe

    def keep(s: Spec) -> bool:
        c1, c2 = s.get("colour"), s.get("second", {}).get("colour")
        return s["composition"] == "pair" and c1 is not None and c2 is not None and c1 != c2

    images, cands, groups = [], [], []
    for spec, text, svg in _concepts(opts.n, opts.seed, opts.split, keep):
        false = describe(_swap_colours(spec))
        if false == text or sorted(false.split()) != sorted(text.split()):
            continue  # keep the same words in another order, as ARO's VG-Attribution
        images.append(ImageSource(svg=svg))
        cands.append([false, text])
        a, b = spec["colour"], spec["second"]["colour"]
        groups.append(f"{a}_{b}")
    return Selection(images, cands, [1] * len(images), groups, metric="accuracy", chance=0.5,
                     info={"truth": "exact (generator)", "false": "colours swapped"})  # fmt: skip


def counting(opts: Any, arg: str | None) -> Selection:
    """Groups of copies: the true count vs the next count the generator draws for the
    arrangement, above or below at random (seeded), so that preferring larger or smaller
    numbers gains nothing."""
    import random

    from snellen.concepts.shapes import describe
    from snellen.concepts.shapes.negatives import neighbour_counts

    def keep(s: Spec) -> bool:
        return s["composition"] == "group" and s.get("colour_scheme") != "different"

    rng = random.Random(opts.seed)  # noqa: S311 - seeded sampling for reproducible data, not security
    images, cands, groups = [], [], []
    for spec, text, svg in _concepts(opts.n, opts.seed, opts.split, keep):
        options = [c for c in neighbour_counts(spec) if c is not None]
        if not options:
            continue
        false = describe({**spec, "count": rng.choice(options)})
        if false == text or len(false.split()) != len(text.split()):
            continue  # only the number words differ
        images.append(ImageSource(svg=svg))
        cands.append([false, text])
        groups.append(str(spec["count"]))
    return Selection(images, cands, [1] * len(images), groups, metric="accuracy", chance=0.5,
                     info={"truth": "exact (generator)", "false": "another count"})  # fmt: skip


def order(opts: Any, arg: str | None) -> Selection:
    images, texts, groups = [], [], []
    for spec, text, svg in _concepts(opts.n, opts.seed, opts.split, lambda s: True):
        images.append(ImageSource(svg=svg))
        texts.append(text)
        groups.append(spec["composition"])

    def draw(seed: int) -> list[list[str]]:
        return order_options(texts, seed)

    return Selection(images, [], [0] * len(images), groups, chance=0.2, draw=draw,
                     info={"false": "the four ARO order perturbations"})  # fmt: skip


def _zeroshot(opts: Any, key: str, templates: list[str]) -> Classification:
    from snellen.concepts.shapes import vocab as V

    def keep(s: Spec) -> bool:
        if s["composition"] != "single" or "background" in s:
            return False
        if s["shape"] not in V.FLAT_SHAPES and s["shape"] not in V.SOLID_SHAPES:
            return False
        return key in s

    images, values = [], []
    for spec, _text, svg in _concepts(opts.n, opts.seed, opts.split, keep):
        images.append(ImageSource(svg=svg))
        values.append(spec[key])
    classes = sorted(set(values))
    index = {c: i for i, c in enumerate(classes)}
    return Classification(images, [index[v] for v in values], classes, templates)


def zeroshot_shape(opts: Any, arg: str | None) -> Classification:
    return _zeroshot(opts, "shape", SHAPE_TEMPLATES)


def zeroshot_colour(opts: Any, arg: str | None) -> Classification:
    return _zeroshot(opts, "colour", COLOUR_TEMPLATES)


def retrieval(opts: Any, arg: str | None) -> Retrieval:
    if arg is not None and arg not in KINDS:
        raise InputError(
            f"vad-retrieval:{arg}: unknown perturbation; use one of {', '.join(KINDS)}"
        )
    images, texts = [], []
    for _spec, text, svg in _concepts(opts.n, opts.seed, opts.split, lambda s: True):
        images.append(ImageSource(svg=svg))
        texts.append(text)
    if arg is not None:
        texts = perturb_all(texts, arg, opts.seed)
    return Retrieval(images, [[t] for t in texts], {"perturbation": arg})


SHAPE_CLASSES = ("circle", "square", "triangle", "star", "heart", "cross", "hexagon", "diamond")


def vad_shapes(opts: BuildOptions, arg: str | None, n: int = 960, size: int = 64) -> LabelledSplits:
    """Single VAD shapes of 8 classes in random colours, sizes and rotations, rendered from
    their reference SVG programs."""
    from snellen.concepts.shapes import vocab as V
    from snellen.concepts.shapes.generate import programs_for
    from snellen.render import RenderJob, render_many

    seed = opts.seed
    rng = random.Random(f"vad-probe/{seed}")  # noqa: S311 - seeded sampling for reproducible data, not security
    jobs, labels = [], {}
    for i in range(n):
        c = i % len(SHAPE_CLASSES)
        spec: dict[str, Any] = {
            "composition": "single",
            "shape": SHAPE_CLASSES[c],
            "colour": rng.choice([c for c in V.COLOUR_NAMES if c != "white"]),  # on white
        }
        spec["size"] = rng.choice(("small", "medium", "large"))
        if rng.random() < 0.5:
            spec["rotation"] = rng.choice((15, 30, 45, 60))
        if rng.random() < 0.5:
            spec["position"] = rng.choice(V.POSITIONS)[0]
            spec["size"] = "small"
        jobs.append(RenderJob(str(i), "svg", programs_for(spec)["svg"], size=size))
        labels[str(i)] = c
    images = {}
    for r in render_many(jobs):
        if r.ok and r.square_png:
            images[r.id] = np.asarray(Image.open(io.BytesIO(r.square_png)).convert("RGB"))
    keys = sorted(images, key=int)
    x = np.stack([images[k] for k in keys])
    y = np.array([labels[k] for k in keys])
    tx, sx, ty, sy = stratified_split(x, y, 0.5, seed)
    return LabelledSplits("vad-shapes", list(SHAPE_CLASSES), tx, ty, sx, sy,
                          {"split": f"stratified 50/50 of {len(keys)} rendered shapes"})  # fmt: skip


def register() -> None:
    from snellen.datasets.base import register_dataset

    register_dataset(
        "vad-aro/relation",
        Selection,
        relation,
        "VAD pairs: true relation vs objects swapped (exact truth; chance 50%)",
        task="aro",
    )
    register_dataset(
        "vad-aro/attribution",
        Selection,
        attribution,
        "VAD pairs: true colours vs colours swapped (exact truth; chance 50%)",
        task="aro",
    )
    register_dataset(
        "vad-aro/counting",
        Selection,
        counting,
        "VAD groups: the true number of copies vs another (exact truth; chance 50%)",
        task="aro",
    )
    register_dataset(
        "vad-aro/order",
        Selection,
        order,
        "VAD descriptions vs their 4 ARO order perturbations (chance 20%)",
        task="aro",
    )
    register_dataset(
        "vad-zeroshot/shape",
        Classification,
        zeroshot_shape,
        "VAD single shapes, classified by shape",
        task="zeroshot",
    )
    register_dataset(
        "vad-zeroshot/colour",
        Classification,
        zeroshot_colour,
        "VAD single shapes, classified by colour",
        task="zeroshot",
    )
    register_dataset(
        "vad-retrieval",
        Retrieval,
        retrieval,
        "VAD pictures and descriptions; vad-retrieval:PERTURBATION shuffles captions",
        task="retrieval",
    )
    register_dataset(
        "vad-shapes", LabelledSplits, vad_shapes, "8 VAD shape classes rendered from SVG"
    )
