"""LENS end to end through the command line on real architectures with random weights: a
BLIP captioner and a CLIP scorer built from transformers' config classes and saved to disk
(loaded as ``hf:DIR`` and ``hf-clip:DIR``), a two-layer Llama reasoner with SmolLM2's
tokenizer (``hf:DIR``), Tesseract OCR; on fixtures in the official file formats. Random
weights make the answers meaningless, so the tests check the machinery: every stage ran,
records are keyed and reused, metrics agree with the stored answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lens_helpers import save_tiny_blip, save_tiny_clip, save_tiny_llama, write_memes, write_vqav2
from snellen.cli import main
from snellen.lens import LensAnswer, VisionText, Vocabulary, build_vocab
from snellen.metrics.vqa import vqa_score
from snellen.store import Run


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("lens-models")
    return {
        "clip": save_tiny_clip(root / "clip"),
        "blip": save_tiny_blip(root / "blip"),
        "llm": save_tiny_llama(root / "llm"),
    }


def _args(models: dict[str, Path], *extra: str) -> list[str]:
    return ["--vision", f"hf-clip:{models['clip']}", "--captioner", f"hf:{models['blip']}",
            "--model", f"hf:{models['llm']}", "--max-tokens", "3", "--captions", "3", "--caption-tokens", "4",
            "--threshold", "-1", *extra]  # fmt: skip


def test_vqa_end_to_end_then_resume_reuses_everything(
    models: dict[str, Path], tmp_path: Path
) -> None:
    root = write_vqav2(tmp_path / "vqa")
    out = tmp_path / "run"
    assert (
        main(
            [
                "lens",
                "vqa",
                "--dataset",
                "vqav2",
                "--root",
                str(root),
                "--out",
                str(out),
                "--answers",
                "closed",
                *_args(models),
            ]
        )
        == 0
    )
    m = json.loads((out / "metrics.json").read_text())["vqa"]
    readings = {"", "-extracted", "-closed"}
    assert m["n"] == 3 and set(m["methods"]) == {
        *(f"lens{r}" for r in readings),
        *(f"blind{r}" for r in readings),
        "lens-calibrated",
        "vision",
        "majority",
    }
    vocabulary = {"red", "dark red", "1", "one", "2", "yes"}  # every answer in the annotations
    stored = list(Run(out).load_records(LensAnswer))
    closed = {a.item: a for a in stored if a.method == "lens-closed"}
    assert len(closed) == 3 and {a.prediction for a in closed.values()} <= vocabulary
    # calibrated: the candidate the captions raise most over the blind prompt's ranking
    blind = {a.item: json.loads(a.reply) for a in stored if a.method == "blind-closed"}
    for a in (a for a in stored if a.method == "lens-calibrated"):
        with_text = json.loads(closed[a.item].reply)
        gain = {c: with_text[c] - blind[a.item][c] for c in with_text}
        assert gain[a.prediction] == pytest.approx(max(gain.values()))
    for name, r in m["methods"].items():  # every mean carries its bootstrap interval
        assert r["interval"][0] <= r["accuracy"] <= r["interval"][1], name
    assert {(c["method"], c["baseline"]) for c in m["comparisons"]} >= {
        ("lens", "blind"),
        ("lens-closed", "blind-closed"),
        ("lens-extracted", "majority"),
    }
    assert m["mode"] == "vqa" and list(m["modules"]) == ["captions"]
    assert m["answer_in_text"]["n"] == 2  # the yes/no question is left out
    assert set(m["methods"]["lens"]["per_question_type"]) == {"what"}
    assert set(m["methods"]["lens"]["per_answer_type"]) == {"other", "number", "yes/no"}
    # majority answer: the most common label of the val split (no train split here)
    assert m["methods"]["majority"]["accuracy"] == pytest.approx(1 / 3)
    assert any("majority answer taken from the evaluation split" in n for n in m["labels"])
    run = Run(out)
    vis = list(run.load_records(VisionText))
    assert len(vis) == 2 and all(len(v.texts) == 4 and v.module == "captions" for v in vis)
    items = {it["id"]: it for it in run.records("lens_item")}
    answers = list(run.load_records(LensAnswer))
    for a in answers:  # stored scores are the official VQA accuracy of the stored predictions
        assert a.score == pytest.approx(vqa_score(a.prediction, items[a.item]["answers"]))
    lens = [a for a in answers if a.method == "lens"]
    assert all(
        a.prompt.startswith("Captions: ") and a.prompt.endswith("Short Answer:") for a in lens
    )
    assert m["timing"]["reasoner_calls"] == 6
    report = (out / "report.html").read_text()
    assert "What colour is the circle?" in report and "data:image/png;base64," in report
    assert (out / "lens_answer.parquet").is_file()

    # the same command again: no vision work, no LLM call, the same numbers
    assert (
        main(
            [
                "lens",
                "vqa",
                "--dataset",
                "vqav2",
                "--root",
                str(root),
                "--out",
                str(out),
                "--answers",
                "closed",
                *_args(models),
            ]
        )
        == 0
    )
    again = json.loads((out / "metrics.json").read_text())["vqa"]
    assert again["timing"]["reasoner_calls"] == 0 and again["methods"] == m["methods"]
    assert again["timing"]["closed_items"] == 0  # the ranked answers were stored
    assert run.count(VisionText.kind) == 2
    # another prompt mode reuses nothing it cannot, and nothing it can: captions stay
    assert main(["lens", "vqa", "--dataset", "vqav2", "--root", str(root), "--out", str(out),
                 "--mode", "all", "--baselines", "majority", *_args(models)]) == 0  # fmt: skip
    assert {v.module for v in run.load_records(VisionText)} == {"captions", "tags", "ocr"}
    assert run.count(VisionText.kind) == 6


def test_binary_memes_with_ocr_and_the_fixed_hm_prompt(
    models: dict[str, Path], tmp_path: Path
) -> None:
    root = write_memes(tmp_path / "memes")
    vocab = Vocabulary(["dog", "cat", "text"], {"dog": ["four legs"], "cat": ["whiskers"]})
    vocab.save(tmp_path / "vocab.json")
    out = tmp_path / "run"
    assert main(["lens", "binary", "--dataset", "hateful-memes", "--root", str(root), "--out", str(out),
                 "--vocab", str(tmp_path / "vocab.json"), "--shots", "1", *_args(models)]) == 0  # fmt: skip
    m = json.loads((out / "metrics.json").read_text())["binary"]
    assert m["mode"] == "hm" and set(m["modules"]) == {"tags", "attributes", "captions", "ocr"}
    for r in m["methods"].values():
        assert 0 <= r["accuracy"] <= 1 and "auc" in r
    run = Run(out)
    ocr = {v.image: v for v in run.load_records(VisionText) if v.module == "ocr"}
    hello = ocr["img/00001.png"]
    assert "HELLO" in hello.texts and all(0 < c <= 1 for c in hello.scores)
    lens = [a for a in run.load_records(LensAnswer) if a.method == "lens"]
    for a in lens:
        query = a.prompt.split("\n\n")[-1]
        assert query.count("Tags:") == 1 and query.count("\nAttributes: a ") == 1
        assert 'OCR: this is an image with written "' in query and a.prediction in ("0", "1")
    assert "Short Answer: " in lens[0].prompt.split("\n\n")[0]  # the solved example


def test_classify_and_vocab_with_llm_descriptors(models: dict[str, Path], tmp_path: Path) -> None:
    from snellen.datasets import build_shapes_classify

    root = build_shapes_classify(tmp_path / "shapes", n_test=4, n_train=4, size=48)
    out = tmp_path / "run"
    assert main(["lens", "classify", "--dataset", "shapes-classify", "--root", str(root),
                 "--out", str(out), "--limit", "3", *_args(models)]) == 0  # fmt: skip
    m = json.loads((out / "metrics.json").read_text())["classify"]
    classes = set(json.loads(json.dumps(m["methods"]["vision"]["per_class"])))
    assert m["n"] == 3 and len(classes) >= 1
    preds = {a.prediction for a in Run(out).load_records(LensAnswer)}
    from snellen.lens.vocab import shape_names

    assert preds <= set(shape_names())  # every answer was mapped to a class

    vrun = tmp_path / "vocab-run"
    v = build_vocab(["shapes"], descriptors="llm", model=f"hf:{models['llm']}", run=vrun, limit=2,
                    out=tmp_path / "v.json", max_tokens=8)  # fmt: skip
    assert v.tags == ["circle", "ellipse"] and (tmp_path / "v.json").is_file()
    cached = Run(vrun).cache_count()
    assert cached == 2 and Run(vrun).count("lens_descriptors") == 2
    build_vocab(
        ["shapes"], descriptors="llm", model=f"hf:{models['llm']}", run=vrun, limit=2, max_tokens=8
    )
    assert Run(vrun).cache_count() == cached


def test_a_set_snellen_builds_goes_into_a_new_out_without_a_root(
    models: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "new-run"  # the docs' offline quick start: no --root, a fresh --out
    args = ["lens", "vqa", "--dataset", "shapes-vqa", "--out", str(out), "--limit", "2",
            "--baselines", "majority", *_args(models)]  # fmt: skip
    assert main(args) == 0
    assert (out / "data" / "shapes-vqa").is_dir() and (out / "metrics.json").is_file()
    assert main(args) == 0  # and resumes there
