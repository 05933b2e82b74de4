"""The shapes generator: determinism, uniqueness, coverage, programs, negatives, splits."""

from __future__ import annotations

import json
import math
import random

from snellen.concepts import export_concepts, load_concepts
from snellen.concepts.shapes import (
    ATTRIBUTE_KINDS,
    build_scene,
    colour_pairs,
    describe,
    generate_shapes,
    hard_negatives,
    is_heldout_pair,
    iter_shapes,
    negative_specs,
)
from snellen.concepts.shapes import vocab as V
from snellen.concepts.shapes.scene import clip_lines, dash_runs, inside
from snellen.languages import part, with_part


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path):
    a = export_concepts("shapes", 300, 7, tmp_path / "a.jsonl").read_bytes()
    b = export_concepts("shapes", 300, 7, tmp_path / "b.jsonl").read_bytes()
    c = export_concepts("shapes", 300, 8, tmp_path / "c.jsonl").read_bytes()
    assert a == b
    assert a != c
    first = json.loads(a.splitlines()[0])
    assert set(first) >= {"id", "category", "description", "attributes", "programs"}


def test_at_least_32_attribute_kinds():
    assert len(ATTRIBUTE_KINDS) >= 32
    assert len(set(ATTRIBUTE_KINDS)) == len(ATTRIBUTE_KINDS)


def test_every_kind_occurs_in_a_2000_concept_export(tmp_path):
    path = export_concepts("shapes-2000", None, 0, tmp_path / "s.jsonl")
    seen: dict[str, int] = dict.fromkeys(ATTRIBUTE_KINDS, 0)
    for line in path.read_text().splitlines():
        concept = json.loads(line)
        assert sorted(concept["programs"]) == sorted(with_part("emitter"))
        assert all(code.strip() for code in concept["programs"].values())
        for kind in concept["attributes"]["kinds"]:
            seen[kind] += 1
    assert [k for k, v in seen.items() if v == 0] == []


def test_descriptions_and_specs_unique_in_20000():
    descriptions = set()
    for concept in iter_shapes(20000, seed=3):
        descriptions.add(concept.description)
    assert len(descriptions) == 20000


def test_phrasing_varies():
    texts = [c.description for c in generate_shapes(300, seed=1)]
    circles = [t for t in texts if "circle" in t]
    assert len({t.split(" ")[0] for t in texts}) > 10  # not one template
    assert any(t.startswith(("in the", "at the", "on the")) for t in texts) or len(circles) > 0


def test_combinatorial_size_exceeds_400k():
    # A lower bound: plain pairs on a white background, with nothing but the two shapes, their
    # two (different) colours and one of the seven relations other than "inside", are already
    # more than 400,000 distinct specs, each with its own description.
    colours = len([c for c in V.COLOUR_NAMES if c != "white"])
    shapes = len(V.FLAT_SHAPES) + len(V.SOLID_SHAPES)
    relations = len([r for r in V.RELATIONS if r != "inside"])
    plain_pairs = shapes * shapes * colours * (colours - 1) * relations
    assert plain_pairs > 400_000
    # single 2-D shapes with one of the textures in one of the other colours add more
    singles = (
        len(V.FLAT_SHAPES)
        * colours
        * len(V.TEXTURES)
        * (len(V.COLOUR_NAMES) - 1)
        * len(V.BACKGROUNDS)
    )
    assert singles > 50_000


def test_stream_is_a_prefix_of_a_longer_stream():
    short = [c.to_dict() for c in iter_shapes(50, seed=4)]
    longer = [c.to_dict() for c in iter_shapes(80, seed=4)]
    assert longer[:50] == short


def test_spec_rebuilds_the_same_concept():
    for concept in generate_shapes(100, seed=5):
        assert describe(concept.attributes) == concept.description
        scene = build_scene(concept.attributes)
        assert scene.items
        assert part("svg", "emitter")(scene) == concept.programs["svg"]


def test_hard_negatives_differ_from_description():
    for concept in generate_shapes(400, seed=6):
        negatives = hard_negatives(concept)
        assert negatives, concept.description
        assert concept.description not in negatives
        assert len(set(negatives)) == len(negatives)


def test_relation_negatives_swap_arguments():
    pairs = [
        c
        for c in generate_shapes(400, seed=2)
        if c.attributes["composition"] == "pair" and c.attributes["relation"] == "above"
    ]
    assert pairs
    for concept in pairs:
        specs = negative_specs(concept.attributes)
        swapped = specs[0]
        assert swapped["shape"] == concept.attributes["second"]["shape"]
        assert swapped["second"]["shape"] == concept.attributes["shape"]
        assert specs[1]["relation"] == "below"


def test_heldout_split_has_no_overlap():
    train = generate_shapes(600, seed=0, split="train")
    held = generate_shapes(300, seed=0, split="heldout")
    train_pairs = {p for c in train for p in colour_pairs(c.attributes)}
    held_pairs = {p for c in held for p in colour_pairs(c.attributes) if is_heldout_pair(*p)}
    assert held_pairs
    assert not any(is_heldout_pair(*p) for p in train_pairs)
    assert not held_pairs & train_pairs
    assert all(any(is_heldout_pair(*p) for p in colour_pairs(c.attributes)) for c in held)
    # every shape and colour still occurs in training
    flat_shapes = {s for s, _ in train_pairs}
    assert len(flat_shapes) >= len(V.FLAT_SHAPES) + len(V.SOLID_SHAPES) - 2


def test_exclude_rule_is_applied():
    concepts = generate_shapes(100, seed=0, exclude=lambda spec: spec["shape"] == "circle")
    assert all(c.attributes["shape"] != "circle" for c in concepts)


def test_load_concepts_shapes_sample():
    a = load_concepts("shapes-20", seed=9)
    b = load_concepts("shapes", 20, seed=9)
    assert [c.to_dict() for c in a] == [c.to_dict() for c in b]
    assert a[0].id == "shapes/9/000000"


def test_programs_are_complete_documents():
    for concept in generate_shapes(50, seed=11):
        p = concept.programs
        assert "size(400, 400);" in p["processing"] and "void setup()" in p["processing"]
        assert p["tikz"].startswith("\\documentclass[tikz") and "\\end{document}" in p["tikz"]
        assert p["svg"].startswith(
            '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400"'
        )
        assert "import turtle" in p["turtle"] and p["turtle"].rstrip().endswith("turtle.done()")
        compile(p["turtle"], "turtle", "exec")
        compile(p["matplotlib"], "matplotlib", "exec")


def test_clipped_stripes_stay_inside_the_shape():
    star = [
        (
            200 + 100 * math.cos(math.radians(-90 + 36 * i)) * (1 if i % 2 == 0 else 0.45),
            200 + 100 * math.sin(math.radians(-90 + 36 * i)) * (1 if i % 2 == 0 else 0.45),
        )
        for i in range(10)
    ]
    segments = clip_lines(star, 0, 10)
    assert segments
    for (x1, y1), (x2, y2) in segments:
        assert inside(((x1 + x2) / 2, (y1 + y2) / 2), star)


def test_dash_runs_cover_half_the_path():
    runs = dash_runs([(0, 0), (100, 0)], False, 10, 10)
    assert len(runs) == 5
    assert sum(b[0] - a[0] for a, b in runs) == 50


def test_random_module_state_is_not_used():
    random.seed(1)
    a = [c.description for c in generate_shapes(20, seed=0)]
    random.seed(2)
    b = [c.description for c in generate_shapes(20, seed=0)]
    assert a == b
