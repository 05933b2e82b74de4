"""Official-format datasets read from tiny fixtures in their exact layouts, through the same
`build_dataset` and `snellen eval` a user calls; bad input gives one clear error naming the
file and the fix; an image that does not decode is a counted skip."""

from __future__ import annotations

import json

import pytest

from evaluate_helpers import make_imagefolder, make_karpathy, make_sugarcrepe, make_vg
from snellen.cli import main
from snellen.datasets import Retrieval, Selection, build_dataset
from snellen.errors import InputError
from snellen.evaluate import run_eval


def test_vg_relation_crops_to_the_box_and_orders_false_then_true(tmp_path):
    make_vg(tmp_path, "relation")
    data = build_dataset("aro/vg-relation", tmp_path)
    assert isinstance(data, Selection) and len(data) == 4
    assert data.candidates[0] == [
        "the table is on the red circle",
        "the red circle is on the table",
    ]
    assert data.answer == [1, 1, 1, 1]
    crop = data.images[1].load()
    assert crop.size == (96, 96)
    assert crop.getpixel((48, 48)) == pytest.approx((30, 60, 220), abs=40)  # the blue square
    assert "next to" in data.drop_groups and data.metric == "macro"


def test_vg_runs_end_to_end_with_a_broken_image_counted_as_a_skip(tmp_path):
    make_vg(tmp_path, "relation", broken=True)
    out = tmp_path / "runs"
    assert main(["eval", "aro", "--dataset", "aro/vg-relation", "--root", str(tmp_path),
                 "--out", str(out), "--workers", "0"]) == 0  # fmt: skip
    (path,) = out.glob("*.json")
    row = json.loads(path.read_text())
    assert row["counts"]["skipped"] == 1 and row["counts"]["cases"] == 4
    assert "broken.jpg" in row["skipped"][0]
    # the macro leaves out the symmetric relation, as ARO's notebook
    assert set(row["breakdown"]["groups_in_macro"]) == {"holding", "on"}
    per = row["breakdown"]["per_group"]
    assert row["metrics"]["macro_accuracy"] == pytest.approx((per["holding"] + per["on"]) / 2)
    assert row["comparable_with_published"] is False  # snellen-shapes is not a published CLIP
    for key in ("task", "dataset", "model", "pretrained", "metrics", "language", "seconds",
                "seed", "snellen_version"):  # fmt: skip
        assert key in row


def test_vg_attribution_macro_keeps_pairs_with_25_cases(tmp_path):
    make_vg(tmp_path, "attribution")
    r = run_eval("aro", "snellen-shapes", "aro/vg-attribution", tmp_path, workers=0, progress=False)
    assert r.breakdown["groups_in_macro"] == {"red_blue": 1.0}
    assert r.metrics["macro_accuracy"] == pytest.approx(r.breakdown["per_group"]["red_blue"])


def test_coco_order_one_case_per_caption_with_four_perturbations(tmp_path):
    make_karpathy(tmp_path, "coco_karpathy_test.json", n=3)
    data = build_dataset("aro/coco-order", tmp_path)
    assert len(data) == 6
    opts = data.options(0)
    assert opts[0][0] == "a red circle on a white background" and len(opts[0]) == 5
    assert data.options(0) == opts and data.options(1) != opts
    r = run_eval("aro", "snellen-shapes", "aro/coco-order", tmp_path, n_seeds=3, workers=0,
                 progress=False)  # fmt: skip
    assert r.seeds == [0, 1, 2] and "accuracy_std" in r.metrics
    assert len(r.breakdown["accuracy_by_seed"]) == 3


def test_sugarcrepe_and_karpathy_retrieval(tmp_path):
    make_sugarcrepe(tmp_path)
    data = build_dataset("sugarcrepe/swap_att", tmp_path)
    assert data.candidates[1] == ["a blue square", "a square blue"] and data.answer[0] == 0
    make_karpathy(tmp_path, "flickr30k_test.json", n=5)
    ret = build_dataset("retrieval/flickr", tmp_path)
    assert isinstance(ret, Retrieval) and len(ret) == 5 and len(ret.captions[0]) == 2
    r = run_eval("retrieval", "snellen-shapes", "retrieval/flickr", tmp_path, workers=0,
                 progress=False)  # fmt: skip
    assert r.counts == {"images": 5, "texts": 10, "skipped": 0}
    assert r.metrics["image_retrieval_recall@5"] == 1.0  # 5 images: the top 5 holds them all


def test_imagefolder_classnames_and_bad_input(tmp_path):
    make_imagefolder(tmp_path / "folder")
    data = build_dataset("imagefolder", tmp_path / "folder")
    assert data.classnames == ["0 red circle", "1 blue square", "2 green circle"]
    assert len(data.templates) == 80 and "{c}" in data.templates[0]
    names = tmp_path / "names.txt"
    names.write_text("red circle\nblue square\ngreen circle\n")
    data = build_dataset("imagefolder", tmp_path / "folder", classnames=names)
    assert data.classnames[1] == "blue square"
    names.write_text("red circle\nblue square\n")
    with pytest.raises(InputError, match=r"names.txt has 2 class names but .* has 3"):
        build_dataset("imagefolder", tmp_path / "folder", classnames=names)
    with pytest.raises(InputError, match="pass --root"):
        build_dataset("aro/vg-relation")
    with pytest.raises(InputError, match="visual_genome_relation.json not found"):
        build_dataset("aro/vg-relation", tmp_path)
    (tmp_path / "swap_obj.json").write_text("{not json")
    with pytest.raises(InputError, match="swap_obj.json: not valid JSON"):
        build_dataset("sugarcrepe/swap_obj", tmp_path)
    (tmp_path / "visual_genome_relation.json").write_text(json.dumps([{"image_path": "x.jpg"}]))
    with pytest.raises(InputError, match="case 0 lacks"):
        build_dataset("aro/vg-relation", tmp_path)
    with pytest.raises(InputError, match="did you mean 'vad-aro/relation'"):
        build_dataset("vad-aro/relations")


def test_the_cli_says_what_is_wrong(tmp_path, capsys):
    assert main(["eval", "zeroshot", "--dataset", "vad-aro/relation", "--n", "4"]) == 2
    assert "task 'zeroshot' needs a classification set" in capsys.readouterr().err
    assert (
        main(["eval", "aro", "--dataset", "aro/vg-relation", "--root", str(tmp_path / "no")]) == 2
    )
    assert "is not a directory" in capsys.readouterr().err


def test_packaged_labelled_sets():
    digits = build_dataset("digits", limit=20)
    assert len(digits) == 20 and digits.classnames[3] == "3"
    assert digits.images[0].load().size == (8, 8)
    try:
        fashion = build_dataset("fashion-mnist", limit=10)
    except InputError as e:
        pytest.skip(str(e))
    assert len(fashion) == 10 and fashion.classnames[9] == "ankle boot"
    assert fashion.images[0].load().size == (28, 28)
