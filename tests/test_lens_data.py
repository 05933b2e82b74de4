"""LENS's loaders on fixtures in the official formats, the shapes sets snellen builds, the
prompt modes and the vocabulary file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lens_helpers import write_memes, write_vqav2
from snellen.datasets import VQA, build_dataset, build_shapes_classify, build_shapes_vqa
from snellen.datasets.vqa import load_vqa
from snellen.errors import InputError
from snellen.lens import TEMPLATES, Prompter, Vocabulary
from snellen.lens.answers import ClassMapper, clean_reply


@pytest.mark.parametrize("layout", ["vqav2", "okvqa", "plain"])
def test_vqa_loader_reads_official_and_plain_layouts(layout: str, tmp_path: Path) -> None:
    root = write_vqav2(
        tmp_path, official=layout != "plain", prefix="v2_" if layout == "vqav2" else ""
    )
    ds = build_dataset(
        "okvqa" if layout == "okvqa" else "vqav2", root, kind=VQA, work=tmp_path / "work"
    )
    items = ds.items()
    assert [it.id for it in items] == ["420", "421", "730"]
    assert items[0].question == "What colour is the circle?" and items[0].label == "red"
    assert len(items[1].answers) == 10 and items[1].answer_type == "number"
    want = "COCO_val2014_000000000042.jpg" if layout != "plain" else "42.png"
    assert Path(items[0].image).name == want and Path(items[2].image).is_file()
    assert ds.train_items() == []  # no train files: few-shot says so, majority uses val


def test_vqa_loader_names_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no questions file for split 'val'"):
        load_vqa(tmp_path, "val")
    root = write_vqav2(tmp_path / "d")
    (root / "images" / "COCO_val2014_000000000042.jpg").unlink()
    with pytest.raises(InputError, match="no image for image_id 42"):
        load_vqa(root, "val")
    with pytest.raises(InputError, match="needs --root"):
        build_dataset("vqav2", None, kind=VQA, work=tmp_path)


def test_memes_and_folder_loaders(tmp_path: Path) -> None:
    ds = build_dataset("hateful-memes", write_memes(tmp_path / "m"), kind=VQA, work=tmp_path)
    assert ds.task == "binary" and ds.eval_split == "dev"
    assert [(it.id, it.label, it.text) for it in ds.items()] == [
        ("1", "0", "HELLO WORLD"),
        ("2", "1", "GOOD DOGS"),
    ]
    assert len(ds.train_items()) == 2
    folder = tmp_path / "f"
    for cls in ("red_circle", "blue"):
        (folder / cls).mkdir(parents=True)
        (folder / cls / "a.png").write_bytes((Path(ds.items()[0].image)).read_bytes())
    fd = build_dataset("folder", folder, kind=VQA, work=tmp_path)
    assert fd.classes == ("blue", "red circle") and fd.train_split is None
    assert sorted(it.label for it in fd.items()) == ["blue", "red circle"]


def test_shapes_vqa_is_seeded_exact_and_holds_out_combinations(tmp_path: Path) -> None:
    from snellen.concepts.shapes import is_heldout_pair

    a = build_shapes_vqa(tmp_path / "a", n_val=12, n_train=12, seed=3, size=48)
    b = build_shapes_vqa(tmp_path / "b", n_val=12, n_train=12, seed=3, size=48)
    qa = (a / "v2_OpenEnded_shapes_val_questions.json").read_text()
    assert qa == (b / "v2_OpenEnded_shapes_val_questions.json").read_text()
    assert (a / "images" / "1.png").read_bytes() == (b / "images" / "1.png").read_bytes()
    ds = build_dataset("shapes-vqa", a, kind=VQA, work=tmp_path)
    val, train = ds.items(), ds.train_items()
    assert len(val) == 12 and len(train) == 12
    kinds = json.loads((a / "v2_shapes_val_annotations.json").read_text())["annotations"]
    assert {k["question_type"] for k in kinds} == {"colour", "count", "relation", "exists"}
    for items, held in ((val, True), (train, False)):
        for it in items:
            assert len(set(it.answers)) == 1 and len(it.answers) == 10
            if it.question.startswith("What colour is the "):
                shape = it.question.removeprefix("What colour is the ").rstrip("?")
                assert is_heldout_pair(shape, it.label) is held


def test_shapes_classify_folder(tmp_path: Path) -> None:
    root = build_shapes_classify(tmp_path / "c", n_test=6, n_train=6, size=48)
    ds = build_dataset("shapes-classify", root, kind=VQA, work=tmp_path)
    assert ds.task == "classify" and ds.class_template == "a {}"
    assert {it.label for it in ds.items()} <= set(ds.classes)
    assert len(ds.items()) >= 5 and len(ds.train_items()) >= 5


def test_prompt_modes_put_every_field_under_its_own_heading() -> None:
    texts = {"tags": ["dog", "cat"], "attributes": ["a dog, which has fur"],
             "captions": ["beam cap", "s1", "s2"], "ocr": ["HELLO", "WORLD"]}  # fmt: skip
    hm = Prompter.for_mode("hm").fill(texts, "Is it hateful?")
    assert hm.count("Tags:") == 1 and "Tags: dog, cat\nAttributes: a dog, which has fur\n" in hm
    assert "Caption: beam cap\n" in hm and 'written "HELLO WORLD"' in hm
    assert (
        Prompter.for_mode("vqa").fill(texts, "Q?")
        == "Captions: s1, s2\nQuestion: Q?\nShort Answer:"
    )
    assert Prompter.for_mode("vision").modules() == ["tags", "attributes"]
    assert Prompter.for_mode("all").modules() == ["tags", "attributes", "captions", "ocr"]
    assert set(TEMPLATES) == {"vqa", "vision", "hm", "all"}
    shot = Prompter.for_mode("vqa").with_shots("QUERY", [({"captions": ["b", "x"]}, "Q1?", "red")])
    assert shot == "Captions: x\nQuestion: Q1?\nShort Answer: red\n\nQUERY"
    custom = Prompter.for_mode("vqa", "Seen: {tags}\n{question} ->")
    assert custom.modules() == ["tags"]
    with pytest.raises(InputError, match="unknown field"):
        Prompter.for_mode("vqa", "{colour}")


def test_vocabulary_file_and_answer_mapping(tmp_path: Path) -> None:
    v = Vocabulary(["dog", "cat"], {"dog": ["four legs", "fur"]})
    v.save(tmp_path / "v.json")
    back = Vocabulary.load(tmp_path / "v.json")
    assert back.attribute_texts() == ["a dog, which has four legs", "a dog, which has fur"]
    with pytest.raises(InputError, match="snellen lens vocab"):
        Vocabulary.load(tmp_path / "missing.json")
    assert clean_reply("The answer is: Red.\nmore") == "Red"
    assert (
        clean_reply("No, there is no box.") == "no"
        and clean_reply("The answer is 4. There are 4") == "4"
    )
    assert clean_reply("3.5 apples.") == "3.5 apples"
    mapper = ClassMapper(["circle", "right triangle", "cube"])
    assert mapper.map("Circle.") == ("circle", "exact")
    assert mapper.map("a right-angled triangle shape") == ("right triangle", "embedding")
