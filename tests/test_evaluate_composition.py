"""Winoground, What's Up, SugarCrepe++ and ColorSwap: their metrics against the authors'
definitions on identical inputs; their released layouts read from ``--root`` (fixtures drawn
here, in each layout, on pictures no other test uses) and scored end to end; the VAD twins'
exact truth; sweeps that resume; one table gathering any mix of tasks."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest
import torch
from PIL import Image, ImageDraw

from snellen.cli import main
from snellen.datasets import ImagePairs, Spatial, Triplets, build_dataset
from snellen.errors import InputError
from snellen.evaluate import list_eval, run_eval
from snellen.evaluate.metrics_composition import (
    SpatialAccuracy,
    WinogroundScore,
    triplet_scores,
    whatsup_accuracy,
    winoground_scores,
)
from snellen.evaluate.sweep import split_names, sweep

PALETTE = {"orange": (240, 140, 20), "purple": (120, 40, 160), "teal": (20, 150, 140)}


def picture(top: str, bottom: str, mark: str = "triangle", size: int = 80) -> Image.Image:
    """A triangle or a bar of colour ``top`` over one of colour ``bottom``."""
    im = Image.new("RGB", (size, size), (250, 250, 240))
    d = ImageDraw.Draw(im)
    if mark == "triangle":
        d.polygon([(40, 4), (10, 36), (70, 36)], fill=PALETTE[top])
    else:
        d.rectangle((8, 14, 72, 28), fill=PALETTE[top])
    d.rectangle((20, 48, 60, 76), fill=PALETTE[bottom])
    return im


# -- the authors' definitions, written as they state them ------------------------------------


def winoground_reference(result: dict[str, float]) -> tuple[bool, bool, bool]:
    """Winoground's dataset card: text_correct, image_correct, group_correct."""
    text = result["c0_i0"] > result["c1_i0"] and result["c1_i1"] > result["c0_i1"]
    image = result["c0_i0"] > result["c0_i1"] and result["c1_i1"] > result["c1_i0"]
    return text, image, text and image


def whatsup_reference(dataset: list[dict], preds: list[int]) -> tuple[float, float, float]:
    """What's Up's Controlled_Images.evaluate_scores (subset A): a dict per object pair keyed
    off the file name, pair and set counts over half and a quarter of the cases."""

    def key(d: dict) -> tuple[str, str]:
        name = d["image_path"].split("/")[-1]
        return name.split("_")[0], name.split("_")[-1][:-5]

    slots = {key(d): {"left": 0, "right": 0, "on": 0, "under": 0} for d in dataset}
    correct = [p == 0 for p in preds]
    for d, c in zip(dataset, correct, strict=True):
        slots[key(d)][d["image_path"].split("/")[-1].split("_")[1]] = c
    pair = sum(
        bool(s["left"] and s["right"]) + bool(s["on"] and s["under"]) for s in slots.values()
    )
    full = sum(sum(s.values()) == 4 for s in slots.values())
    n = len(dataset)
    return sum(correct) / n, pair / (n / 2), full / (n / 4)


def test_winoground_scores_match_the_papers_definition_with_ties():
    rng = random.Random(1)
    sims = torch.tensor(
        [[[rng.choice([0.1, 0.2, 0.3]) for _ in range(2)] for _ in range(2)] for _ in range(400)]
    )  # few values: many ties, which count as wrong
    ref = [
        winoground_reference({f"c{c}_i{i}": float(sims[k, c, i]) for c in (0, 1) for i in (0, 1)})
        for k in range(len(sims))
    ]
    got = winoground_scores(sims)
    for j, name in enumerate(("text_score", "image_score", "group_score")):
        assert got[name] == pytest.approx(sum(r[j] for r in ref) / len(ref))
    m = WinogroundScore()
    m.update(sims[:150])
    m.update(sims[150:])
    assert m.compute() == got


def test_sugarcrepe_pp_itt_and_tot_as_defined():
    g = torch.Generator().manual_seed(0)
    emb = [
        torch.nn.functional.normalize(torch.randn(300, 8, generator=g), dim=-1) for _ in range(4)
    ]
    img, p1, p2, neg = emb
    itt = [
        float(img[i] @ p1[i]) > float(img[i] @ neg[i])
        and float(img[i] @ p2[i]) > float(img[i] @ neg[i])
        for i in range(300)
    ]
    tot = [
        float(p1[i] @ p2[i]) > float(p1[i] @ neg[i])
        and float(p1[i] @ p2[i]) > float(p2[i] @ neg[i])
        for i in range(300)
    ]
    got = triplet_scores(img, p1, p2, neg)
    assert got == {"itt_accuracy": sum(itt) / 300, "tot_accuracy": sum(tot) / 300}


# -- released layouts ------------------------------------------------------------------------


def make_winoground(root: Path, n: int = 3) -> None:
    """Winoground's release: examples.jsonl and images/ex_K_img_C.png."""
    (root / "images").mkdir(parents=True)
    colours = list(PALETTE)
    tags = ["Object", "Relation", "Both"]
    with (root / "examples.jsonl").open("w") as f:
        for k in range(n):
            a, b = colours[k % 3], colours[(k + 1) % 3]
            picture(a, b).save(root / "images" / f"ex_{k}_img_0.png")
            picture(b, a).save(root / "images" / f"ex_{k}_img_1.png")
            f.write(json.dumps({
                "id": k, "caption_0": f"a {a} triangle over a {b} box",
                "caption_1": f"a {b} triangle over a {a} box",
                "image_0": f"ex_{k}_img_0", "image_1": f"ex_{k}_img_1",
                "tag": tags[k % 3], "secondary_tag": "Symbolic" if k == 0 else "",
                "num_main_preds": 1, "collapsed_tag": tags[k % 3],
            }) + "\n")  # fmt: skip


WHATSUP_PLACEMENTS = ("on", "under", "left_of", "right_of")


def make_whatsup_a(root: Path, objects: tuple[tuple[str, str], ...]) -> list[dict]:
    """What's Up's controlled_images_dataset.json (image_path keeps its data/ prefix) and
    controlled_images/OBJECT_PLACEMENT_OBJECT.jpeg."""
    (root / "controlled_images").mkdir(parents=True)
    items = []
    for first, second in objects:
        for j, place in enumerate(WHATSUP_PLACEMENTS):
            name = f"{first}_{place}_{second}.jpeg"
            picture(list(PALETTE)[j % 3], list(PALETTE)[(j + 1) % 3], "bar").save(
                root / "controlled_images" / name
            )
            words = {p: f"A {first} {p.replace('_', ' ')} a {second}" for p in WHATSUP_PLACEMENTS}
            words["left_of"] = f"A {first} to the left of a {second}"
            words["right_of"] = f"A {first} to the right of a {second}"
            options = [words[place]] + [words[p] for p in WHATSUP_PLACEMENTS if p != place]
            items.append(
                {"image_path": f"data/controlled_images/{name}", "caption_options": options}
            )
    (root / "controlled_images_dataset.json").write_text(json.dumps(items))
    return items


def test_winoground_layout_scored_with_text_image_group_and_tags(tmp_path):
    make_winoground(tmp_path)
    data = build_dataset("winoground", tmp_path)
    assert isinstance(data, ImagePairs) and len(data) == 3 and len(data.images) == 6
    assert data.images[1].path == str(tmp_path / "images" / "ex_0_img_1.png")
    assert data.tags["tag"] == ["Object", "Relation", "Both"]
    r = run_eval("winoground", "snellen-shapes", "winoground", tmp_path, workers=0, progress=False)
    assert set(r.metrics) >= {"text_score", "image_score", "group_score"}
    assert r.metrics["group_score"] <= min(r.metrics["text_score"], r.metrics["image_score"])
    assert r.metrics["chance"] == pytest.approx(1 / 6)
    assert set(r.breakdown["group_score_by_tag"]) == {"Object", "Relation", "Both"}
    assert r.counts["cases"] == 3
    both = r.breakdown["preference"]["both_images_prefer_one_caption"]
    assert both in (0.0, 1 / 3, 2 / 3, 1.0) and r.metrics["text_score"] <= 1 - both + 1e-9
    make_winoground(tmp_path / "repo" / "data", n=2)  # the dataset repository's own layout
    assert len(build_dataset("winoground", tmp_path / "repo")) == 2
    (tmp_path / "examples.jsonl").write_text('{"id": 0, "caption_0": "x"}\n')
    with pytest.raises(InputError, match=r"examples.jsonl:1: lacks caption_1"):
        build_dataset("winoground", tmp_path)


def test_whatsup_controlled_a_matches_the_authors_scoring(tmp_path):
    items = make_whatsup_a(tmp_path, (("mug", "table"), ("cup", "chair"), ("book", "box")))
    data = build_dataset("whatsup/controlled-a", tmp_path)
    assert isinstance(data, Spatial) and len(data) == 12
    # found by file name, not by the JSON's data/ prefix
    assert data.images[0].path == str(tmp_path / "controlled_images" / "mug_on_table.jpeg")
    assert data.group[:4] == ["on", "under", "left_of", "right_of"]
    assert data.slot[:4] == ["on", "under", "left", "right"] and data.answer == [0] * 12
    rng = random.Random(3)
    for _ in range(20):
        scores = [torch.tensor([rng.choice([0.0, 1.0]) for _ in range(4)]) for _ in range(12)]
        preds = [int(s.numpy().argmax()) for s in scores]  # numpy: the first maximum wins
        ref = whatsup_reference(items, preds)
        got = whatsup_accuracy(scores, data.answer, data.group, data.set_key, data.slot,
                               data.pairs)  # fmt: skip
        assert (got.accuracy, got.pair_accuracy, got.set_accuracy) == pytest.approx(ref)
        m = SpatialAccuracy(data.pairs)
        m.update(scores[:5], data.answer[:5], data.group[:5], data.set_key[:5], data.slot[:5])
        m.update(scores[5:], data.answer[5:], data.group[5:], data.set_key[5:], data.slot[5:])
        assert m.compute().set_accuracy == pytest.approx(ref[2])


def test_official_layouts_through_the_cli_into_one_csv(tmp_path):
    wino, whatsup, out = tmp_path / "wino", tmp_path / "whatsup", tmp_path / "runs"
    make_winoground(wino)
    make_whatsup_a(whatsup, (("mug", "table"), ("cup", "chair")))
    assert main(["eval", "winoground", "--dataset", "winoground", "--root", str(wino),
                 "--out", str(out), "--workers", "0"]) == 0  # fmt: skip
    assert main(["eval", "whatsup", "--dataset", "whatsup/controlled-a", "--root", str(whatsup),
                 "--out", str(out), "--workers", "0"]) == 0  # fmt: skip
    (run,) = out.glob("whatsup__*.json")
    confusion = json.loads(run.read_text())["breakdown"]["predicted_by_gold"]
    for gold in ("on", "under", "left", "right"):  # each gold placement's shares sum to one
        shares = [v for k, v in confusion.items() if k.startswith(f"{gold}->")]
        assert sum(shares) == pytest.approx(1.0)
        assert all(k.split("->")[1] in {"on", "under", "left", "right"} for k in confusion)
    assert main(["eval", "table", str(out), "--out", str(tmp_path / "t.csv")]) == 0
    rows = {r["task"]: r for r in csv.DictReader((tmp_path / "t.csv").open())}
    assert rows["winoground"]["metric"] == "group_score"
    assert float(rows["winoground"]["chance"]) == pytest.approx(1 / 6)
    assert rows["whatsup"]["metric"] == "accuracy" and float(rows["whatsup"]["chance"]) == 0.25
    for col in ("m:text_score", "m:image_score", "m:pair_accuracy", "m:set_accuracy"):
        assert col in rows["whatsup"]
    assert rows["whatsup"]["m:pair_accuracy"] != ""
    assert main(["eval", "table", str(out), "--out", str(tmp_path / "t.md")]) == 0
    assert "| winoground | winoground |" in (tmp_path / "t.md").read_text()


def test_whatsup_qa_and_sugarcrepe_pp_and_colorswap_layouts(tmp_path):
    (tmp_path / "val2017").mkdir()
    picture("teal", "orange").save(tmp_path / "val2017" / "000000000042.jpg")
    picture("orange", "teal").save(tmp_path / "val2017" / "000000000007.jpg")
    (tmp_path / "coco_qa_two_obj.json").write_text(json.dumps(
        [[42, "A triangle above a box", "A triangle below a box"],
         [7, "A box to the left of a bar", "A box to the right of a bar"]]
    ))  # fmt: skip
    qa = build_dataset("whatsup/coco-qa-two", tmp_path)
    assert isinstance(qa, Spatial) and qa.group == ["above", "left"] and not qa.set_key
    assert qa.images[0].path.endswith("val2017/000000000042.jpg")
    (tmp_path / "swap_att.json").write_text(json.dumps([
        {"id": 0, "filename": "000000000042.jpg", "caption": "a teal triangle over an orange box",
         "caption2": "an orange box under a teal triangle",
         "negative_caption": "an orange triangle over a teal box"},
    ]))  # fmt: skip
    scpp = build_dataset("sugarcrepe++/swap_att", tmp_path)
    assert isinstance(scpp, Triplets) and scpp.negatives == ["an orange triangle over a teal box"]
    r = run_eval("sugarcrepe++", "snellen-shapes", "sugarcrepe++/swap_att", tmp_path,
                 workers=0, progress=False)  # fmt: skip
    assert set(r.metrics) >= {"itt_accuracy", "tot_accuracy"} and r.counts["cases"] == 1

    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    def png(im: Image.Image) -> bytes:
        buf = io.BytesIO()
        im.save(buf, format="PNG")
        return buf.getvalue()

    (tmp_path / "cs" / "data").mkdir(parents=True)
    pq.write_table(pa.table({
        "id": [0, 1],
        "image_1": [{"bytes": png(picture("purple", "teal")), "path": None}] * 2,
        "image_2": [{"bytes": png(picture("teal", "purple")), "path": None}] * 2,
        "caption_1": ["a purple triangle on a teal box", "x"],
        "caption_2": ["a teal triangle on a purple box", "y"],
        "image_source": ["midjourney", "dalle3"], "caption_source": ["human", "human"],
    }), tmp_path / "cs" / "data" / "test-00000-of-00001.parquet")  # fmt: skip
    cs = build_dataset("colorswap", tmp_path / "cs")
    assert isinstance(cs, ImagePairs) and len(cs) == 2 and cs.images[0].load().size == (80, 80)
    assert cs.tags["image_source"] == ["midjourney", "dalle3"]
    with pytest.raises(InputError, match="no train-"):
        build_dataset("colorswap:train", tmp_path / "cs")


# -- VAD twins -------------------------------------------------------------------------------


def test_vad_winoground_twins_are_exact():
    data = build_dataset("vad-winoground", n=40, seed=5)
    assert isinstance(data, ImagePairs) and len(data) >= 30
    assert set(data.tags["tag"]) == {"object", "attribute", "relation"}
    for k, (c0, c1) in enumerate(data.captions):
        assert c0 != c1 and data.images[2 * k].svg != data.images[2 * k + 1].svg
        if data.tags["tag"][k] in ("object", "attribute"):
            # Winoground's rule: the same words (punctuation may move with them)
            assert sorted(c0.replace(",", "").split()) == sorted(c1.replace(",", "").split())
    only = build_dataset("vad-winoground:attribute", n=20, seed=5)
    assert set(only.tags["tag"]) == {"attribute"}


def test_vad_whatsup_sets_of_four_placements():
    data = build_dataset("vad-whatsup", n=16, seed=2)
    assert isinstance(data, Spatial) and len(data) == 16 and data.answer == [0] * 16
    assert data.slot[:4] == ["left", "right", "above", "below"]
    for k in range(0, 16, 4):
        block = data.candidates[k : k + 4]
        assert len({b[0] for b in block}) == 4  # four placements, four true captions
        assert all(sorted(b) == sorted(block[0]) for b in block)  # the same four options
        assert len({data.set_key[k + j] for j in range(4)}) == 1
    touching = build_dataset("vad-whatsup:touching", n=4, seed=2)
    assert touching.slot == ["left", "right", "on", "under"]
    assert touching.pairs == (("left", "right"), ("on", "under"))


# -- sweeps ----------------------------------------------------------------------------------


def test_sweep_writes_one_file_per_run_and_resumes(tmp_path, capsys):
    assert split_names(["a,b", "b", " c "]) == ["a", "b", "c"]
    out = tmp_path / "runs"
    first = sweep("winoground", "snellen-shapes", "vad-winoground,vad-winoground:object,nope",
                  out, n=8, workers=0, progress=False)  # fmt: skip
    assert [r.status for r in first.runs] == ["ran", "ran", "failed"]
    assert "nope" in first.failed[0].error
    assert len(list(out.glob("*.json"))) == 2
    again = sweep("winoground", "snellen-shapes", "vad-winoground,vad-winoground:object", out,
                  n=8, workers=0, progress=False)  # fmt: skip
    assert [r.status for r in again.runs] == ["complete", "complete"]
    assert [r.metrics for r in again.results] == [r.metrics for r in first.results]
    assert main(["eval", "winoground", "--dataset", "vad-winoground,vad-whatsup", "--n", "8",
                 "--out", str(out), "--workers", "0"]) == 1  # vad-whatsup is not a pair set  # fmt: skip
    assert main(["eval", "winoground", "--dataset", "vad-winoground,vad-whatsup"]) != 0
    assert "give --out DIR" in capsys.readouterr().err


def test_the_listing_names_the_new_sets():
    listing = list_eval()
    assert {"winoground", "whatsup", "sugarcrepe++"} <= set(listing["tasks"])
    assert {"winoground", "whatsup/controlled-a", "colorswap", "sugarcrepe++/swap_obj",
            "vad-winoground", "vad-whatsup"} <= set(listing["datasets"])  # fmt: skip
