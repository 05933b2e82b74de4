"""Numbers set beside a paper's only when they are comparable: released weights known by
content, the full official split, exact precision, every image read; result files that
never overwrite a run with other options; one default for a scorer's labels."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import snellen.score.released as released_mod
from evaluate_helpers import OPEN_CLIP_CONFIG, make_open_clip, make_vg
from snellen.cli import main
from snellen.evaluate import load_results, results_table, run_eval
from snellen.records import ScorerLabels
from snellen.registry import Registry
from snellen.score import Scorer, load_scorer
from snellen.score.released import ReleasedWeights, register_released


@pytest.fixture
def released(monkeypatch: pytest.MonkeyPatch) -> Registry[ReleasedWeights]:
    """A private copy of the released-weights table, so a test may add a digest to it."""
    table: Registry[ReleasedWeights] = Registry("released weights")
    for name in released_mod.RELEASED:
        table.register(name, released_mod.RELEASED.get(name), lazy=False)
    monkeypatch.setattr(released_mod, "RELEASED", table)
    return table


@pytest.fixture
def tiny(tmp_path: Path) -> str:
    name, *_ = make_open_clip(tmp_path)
    return name


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _as_released(name: str, model: str = "CLIP ViT-B/32") -> None:
    weights = Path(name.rsplit(":", 1)[1])
    register_released(ReleasedWeights(model, "ViT-B-32", "a test release", sha256=_sha(weights)))


def test_a_full_fp32_run_of_released_weights_is_comparable_and_gets_the_anchor(
    tiny: str, released: Registry[ReleasedWeights], tmp_path: Path
) -> None:
    make_vg(tmp_path / "vg", "relation")
    _as_released(tiny)
    r = run_eval("aro", tiny, "aro/vg-relation", tmp_path / "vg", progress=False, workers=0)
    assert r.comparable_with_published and r.not_comparable_because == []
    assert [(a.model, a.value) for a in r.published] == [("CLIP ViT-B/32", 0.59)]


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"limit": 2}, "--limit 2"),
        ({"precision": "bf16"}, "precision bf16"),
        ({"precision": "amp"}, "precision amp"),
        ({"broken": True}, "could not be read"),
    ],
)
def test_a_subset_reduced_precision_or_skipped_images_is_not_comparable(
    tiny: str, released: Registry[ReleasedWeights], tmp_path: Path, options: dict, reason: str
) -> None:
    make_vg(tmp_path / "vg", "relation", broken=bool(options.pop("broken", False)))
    _as_released(tiny)
    r = run_eval("aro", tiny, "aro/vg-relation", tmp_path / "vg", progress=False, workers=0,
                 **options)  # fmt: skip
    assert not r.comparable_with_published
    assert any(reason in why for why in r.not_comparable_because), r.not_comparable_because
    assert r.published == []


def test_the_cli_and_the_table_print_the_reason_instead_of_the_paper_number(
    tiny: str, released: Registry[ReleasedWeights], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    make_vg(tmp_path / "vg", "relation")
    _as_released(tiny)
    out = tmp_path / "runs"
    args = ["eval", "aro", "--model", tiny, "--dataset", "aro/vg-relation", "--root",
            str(tmp_path / "vg"), "--workers", "0", "--out", str(out)]  # fmt: skip
    assert main([*args, "--limit", "2"]) == 0
    text = capsys.readouterr().out
    assert "published (" not in text and "--limit 2: a subset" in text
    assert main(args) == 0
    assert "published (CLIP ViT-B/32" in capsys.readouterr().out
    df = results_table(out).set_index("comparable")
    assert df.loc[False, "published"] is None or df.loc[False, "published"] != 0.59
    assert "--limit 2" in df.loc[False, "not_comparable_because"]
    assert df.loc[True, "published"] == 0.59


def test_an_old_record_marked_comparable_on_a_subset_is_checked_again(tmp_path: Path) -> None:
    row = {
        "task": "aro", "dataset": "aro/vg-relation", "model": "open-clip:ViT-B-32:openai",
        "pretrained": "openai", "metrics": {"macro_accuracy": 0.6},
        "comparable_with_published": True, "model_labels": {"standard": True},
        "published": [{"model": "CLIP ViT-B/32", "metric": "macro_accuracy", "value": 0.59,
                       "source": "ARO"}],
        "options": {"limit": 100, "precision": "bf16"},
    }  # fmt: skip
    (tmp_path / "old.json").write_text(json.dumps(row))
    (old,) = load_results(tmp_path)
    assert any("--limit 100" in w for w in old.why_not_comparable())
    assert any("bf16" in w for w in old.why_not_comparable())
    assert not results_table(tmp_path).loc[0, "comparable"]


def test_a_local_checkpoint_named_negclip_is_not_standard_and_gets_no_negclip_anchor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import open_clip
    from open_clip import factory

    # an architecture registered as ViT-B-32 (small, for speed), so the model name is the one
    # the documented NegCLIP command produces: open-clip:ViT-B-32:negclip-b32.pt
    monkeypatch.setitem(factory._MODEL_CONFIGS, "ViT-B-32", OPEN_CLIP_CONFIG)
    torch.manual_seed(0)
    model, _, _ = open_clip.create_model_and_transforms("ViT-B-32")
    weights = tmp_path / "negclip-b32.pt"
    torch.save({"state_dict": model.state_dict()}, weights)
    scorer = load_scorer(f"open-clip:ViT-B-32:{weights}", device="cpu")
    assert scorer.labels.standard is False and scorer.released is None
    assert scorer.labels.weights_sha256 == _sha(weights)
    assert "local checkpoint" in scorer.labels.note
    make_vg(tmp_path / "vg", "relation")
    r = run_eval("aro", scorer, "aro/vg-relation", tmp_path / "vg", progress=False, workers=0)
    assert r.published == [] and not r.comparable_with_published
    assert any(w.startswith("model:") for w in r.not_comparable_because)


def test_a_released_file_is_known_by_content_whatever_its_name(
    tiny: str, released: Registry[ReleasedWeights], tmp_path: Path
) -> None:
    _as_released(tiny, "NegCLIP")
    weights = Path(tiny.rsplit(":", 1)[1])
    renamed = tmp_path / "renamed" / "anything.pt"
    renamed.parent.mkdir()
    shutil.copy(weights, renamed)
    config = tiny.rsplit(":", 1)[0].removeprefix("open-clip:")
    scorer = load_scorer(f"open-clip:{config}:{renamed}", device="cpu")
    assert scorer.labels.standard and scorer.released is not None
    assert scorer.released.model == "NegCLIP"
    with torch.no_grad():  # another file at the same path is another model
        state = torch.load(renamed, weights_only=True)["state_dict"]
        next(iter(state.values())).add_(1.0)
        torch.save({"state_dict": state}, renamed)
    again = load_scorer(f"open-clip:{config}:{renamed}", device="cpu")
    assert not again.labels.standard and again.released is None


def test_an_open_clip_tag_of_openai_names_the_released_clip_by_its_published_digest() -> None:
    from snellen.score.openclip import identify

    rel, labels = identify("ViT-B-32-quickgelu", "openai")
    assert rel is not None and rel.model == "CLIP ViT-B/32" and labels.standard
    assert rel.sha256 == "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af"
    rel, labels = identify("ViT-B-32", "no-such-tag")
    assert rel is None and not labels.standard
    assert identify("hf-hub:laion/CLIP-ViT-B-32-laion2B-s34B-b79K", None)[1].standard
    assert not identify("hf-hub:someone/my-clip-finetune", None)[1].standard


def test_runs_differing_in_any_result_option_write_separate_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    base = {"progress": False, "workers": 0, "n": 12}
    runs = [
        {}, {"limit": 5}, {"limit": 6}, {"n": 14}, {"split": "train"}, {"precision": "amp"},
        {"n_seeds": 2}, {"seed": 1},
    ]  # fmt: skip
    for extra in runs:
        run_eval("aro", "snellen-shapes", "vad-aro/order", out=out, **{**base, **extra})
    files = sorted(out.glob("*.json"))
    assert len(files) == len(runs)
    results = load_results(out)
    assert sorted((r.options["limit"] or 0, r.options["n"]) for r in results).count((0, 12)) == 5
    again = run_eval("aro", "snellen-shapes", "vad-aro/order", out=out, **{**base, "limit": 5})
    assert again.resumed.get("complete") == 1


def test_a_model_named_by_a_long_path_gets_a_short_distinct_file_name() -> None:
    from dataclasses import replace

    from snellen.evaluate.run import result_name

    result = run_eval("aro", "snellen-shapes", "vad-aro/order", n=12, progress=False, workers=0)
    deep = "/" + "/".join(["a-rather-long-directory-name"] * 12)
    names = {
        result_name(replace(result, model=f"open-clip:{deep}/cfg.json:{deep}/{tag}.pt"))
        for tag in ("one", "two")
    }
    assert len(names) == 2
    assert all(len(n.encode()) < 200 and n.endswith(".json") for n in names)
    assert result_name(result).startswith("aro__vad-aro-order__snellen-shapes__")


class _Unlabelled(Scorer):
    """A scorer that says nothing about what it may be compared with."""

    def __init__(self) -> None:
        self.name, self.device, self.batch_size = "unlabelled", torch.device("cpu"), 4

    def _encode_images(self, images: list[Image.Image]) -> torch.Tensor:
        pixels = [np.asarray(im.convert("RGB").resize((2, 2)), np.float32) for im in images]
        return torch.from_numpy(np.stack(pixels)).flatten(1)

    def _encode_texts(self, texts: list[str]) -> torch.Tensor:
        return torch.stack([torch.arange(12).float() * (1 + len(t) % 5) for t in texts])


def test_a_scorer_that_says_nothing_is_not_standard_in_eval_and_in_scoring(
    tmp_path: Path,
) -> None:
    from score_helpers import make_scored_run
    from snellen.metrics import score_run

    scorer = _Unlabelled()
    assert scorer.labels == ScorerLabels() and scorer.labels.standard is False
    make_vg(tmp_path / "vg", "relation")
    r = run_eval("aro", scorer, "aro/vg-relation", tmp_path / "vg", progress=False, workers=0)
    assert not r.comparable_with_published
    run = make_scored_run(tmp_path / "run", n_concepts=2)
    summary = score_run(run, scorer=scorer, diversity=False)
    assert summary.scorer["standard"] is False
    assert any("non-standard" in note for note in summary.labels)
