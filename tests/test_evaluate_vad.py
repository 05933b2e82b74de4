"""VAD sets with exact truth from the shapes generator, and `snellen eval` end to end on them:
one JSON per run, `eval table` to Markdown / CSV / Parquet, `--list`, and the Python twin."""

from __future__ import annotations

import itertools
import json
import re

import pandas as pd
import pytest

import snellen
from snellen.cli import main
from snellen.concepts.shapes import describe, in_split
from snellen.datasets import Classification, Retrieval, Selection, build_dataset
from snellen.datasets.vad import (
    SPATIAL,
    _svg,
    _swap_colours,
    _swap_objects,
    swapped_relation_text,
)


@pytest.fixture(scope="module")
def relation():
    return build_dataset("vad-aro/relation", n=12, seed=0)


def test_relation_false_caption_swaps_the_objects_and_shows_another_picture(relation):
    from snellen.concepts.shapes import iter_shapes

    assert isinstance(relation, Selection) and len(relation) == 12
    assert relation.answer == [1] * 12 and set(relation.group) <= set(SPATIAL)
    specs = list(
        itertools.islice(
            (
                c.attributes
                for c in iter_shapes(None, 0, "heldout")
                if c.attributes["composition"] == "pair"
                and c.attributes["relation"] in SPATIAL
                and c.attributes["shape"] != c.attributes["second"]["shape"]
            ),
            3,
        )
    )
    for spec in specs:
        swapped = _swap_objects(spec)
        assert swapped is not None and swapped["relation"] == spec["relation"]
        assert (swapped["shape"], swapped["second"]["shape"]) == (
            spec["second"]["shape"],
            spec["shape"],
        )
        assert describe(swapped) != describe(spec)
        assert _svg(swapped) != _svg(spec)  # exact truth: a different drawing
        assert in_split(spec, "heldout")
    for false, true in relation.candidates:
        assert false != true and sorted(false.split()) == sorted(true.split())  # same words
    # the rebuilt true caption is the generator's own description, and the false one is the
    # description of the swapped picture up to each object's own phrasing
    for spec in specs:
        true, false = swapped_relation_text(spec)
        assert true == describe(spec)


def test_attribution_swaps_colours_only():
    data = build_dataset("vad-aro/attribution", n=8, seed=1)
    for (false, true), group in zip(data.candidates, data.group, strict=True):
        a, b = group.split("_")
        assert false != true and a != b and sorted(false.split()) == sorted(true.split())
    spec = {"composition": "pair", "shape": "circle", "colour": "red", "lightness": "dark",
            "relation": "above", "second": {"shape": "square", "colour": "blue"}, "phrasing": 3}  # fmt: skip
    swapped = _swap_colours(spec)
    assert swapped["colour"] == "blue" and swapped["second"] == {
        "shape": "square",
        "colour": "red",
        "lightness": "dark",
    }


def test_counting_changes_the_number_only_up_or_down():
    numbers = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
               "nine": 9}  # fmt: skip
    data = build_dataset("vad-aro/counting", n=40, seed=0)
    assert len(data) >= 30 and data.chance == 0.5
    directions = set()
    for (false, true), group in zip(data.candidates, data.group, strict=True):
        a, b = false.split(), true.split()
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        assert len(a) == len(b) and diff, (false, true)
        # only number words and grid sizes ("a 2x3 grid", "a 2 by 3 grid") change
        assert all(b[i] in numbers or re.fullmatch(r"\d+(x\d+)?", b[i]) for i in diff), (
            false,
            true,
        )
        assert int(group) in [numbers[w] for w in b if w in numbers] or "grid" in b
        directions.add(numbers.get(a[diff[0]], 0) > numbers.get(b[diff[0]], 0))
    assert directions == {True, False}  # the false count is sometimes more, sometimes less


def test_order_zeroshot_and_retrieval_sets():
    order = build_dataset("vad-aro/order", n=6, seed=0)
    assert order.chance == 0.2 and all(len(o) == 5 for o in order.options(0))
    shapes = build_dataset("vad-zeroshot/shape", n=10, seed=0)
    assert isinstance(shapes, Classification) and len(shapes) == 10
    colours = build_dataset("vad-zeroshot/colour", n=10, seed=0)
    assert all(c in ("red", "blue", "green", "yellow", "orange", "purple", "pink", "brown",
                     "black", "grey", "cyan", "white") for c in colours.classnames)  # fmt: skip
    plain = build_dataset("vad-retrieval", n=6, seed=0)
    shuffled = build_dataset("vad-retrieval:shuffle_trigrams", n=6, seed=0)
    assert isinstance(plain, Retrieval)
    assert plain.images == shuffled.images and plain.captions != shuffled.captions
    for a, b in zip(plain.captions, shuffled.captions, strict=True):
        assert sorted(a[0].replace(",", " ,").split()) == sorted(b[0].split())


def test_eval_end_to_end_one_json_per_run_and_a_table(tmp_path, capsys):
    out = tmp_path / "runs"
    assert main(["eval", "--list"]) == 0
    listed = capsys.readouterr().out
    assert "vad-aro/relation" in listed and "sugarcrepe/swap_att" in listed and "zeroshot" in listed
    assert main(["eval", "aro", "--dataset", "vad-aro/order", "--n", "16", "--seeds", "2",
                 "--out", str(out), "--workers", "1"]) == 0  # fmt: skip
    assert "accuracy_std" in capsys.readouterr().out
    assert main(["eval", "retrieval", "--dataset", "vad-retrieval", "--n", "16",
                 "--out", str(out / "r.json")]) == 0  # fmt: skip
    r = snellen.run_eval("zeroshot", "snellen-shapes", "vad-zeroshot/colour", n=16, out=out,
                         progress=False)  # fmt: skip
    assert 0 <= r.metrics["acc1"] <= 1 and r.counts["images"] == 16
    rows = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
    assert len(rows) == 3 and {row["task"] for row in rows} == {"aro", "retrieval", "zeroshot"}
    assert all(row["snellen_version"] == snellen.__version__ for row in rows)
    for suffix in ("md", "csv", "parquet", "html"):
        assert main(["eval", "table", str(out), "--out", str(tmp_path / f"t.{suffix}")]) == 0
    table = pd.read_parquet(tmp_path / "t.parquet")
    assert len(table) == 3 and set(table["metric"]) == {
        "accuracy",
        "image_retrieval_recall@1",
        "acc1",
    }
    assert pd.read_csv(tmp_path / "t.csv").shape[0] == 3
    assert "| aro | vad-aro/order |" in (tmp_path / "t.md").read_text()
    page = (tmp_path / "t.html").read_text()
    assert (
        page.startswith("<!DOCTYPE html>") and "per_class_recall" in page and "<script" not in page
    )
