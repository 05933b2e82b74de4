"""Caches that follow what they cache (a retrained checkpoint, a model sweep), and runs that
stop with a clear error when no image can be read."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
import torch

from evaluate_helpers import make_imagefolder, make_karpathy, make_open_clip, make_vg
from snellen.cli import main
from snellen.errors import InputError
from snellen.evaluate import evaluate


def test_a_checkpoint_retrained_at_the_same_open_clip_path_gets_another_identity(
    tmp_path: Path,
) -> None:
    from snellen.lens.vocab import source_identity

    name, model, _, _ = make_open_clip(tmp_path)
    before = source_identity(name)
    assert before == source_identity(name)
    weights = Path(name.rsplit(":", 1)[1])
    state = {k: v + 0.01 for k, v in model.state_dict().items()}  # type: ignore[attr-defined]
    torch.save({"state_dict": state}, weights)
    assert source_identity(name) != before
    config = Path(name.split(":")[1])
    after_weights = source_identity(name)
    config.write_text(config.read_text().replace('"layers": 2', '"layers": 3', 1))
    assert source_identity(name) != after_weights


def test_the_text_cache_frees_scorers_that_are_gone_and_stays_under_its_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from snellen.evaluate import embed
    from snellen.score import load_scorer

    embed.clear_text_cache()
    monkeypatch.setattr(embed, "_CACHE_LIMIT", 50)
    for i in range(6):  # a sweep: one scorer after another, each dropped after use
        scorer = load_scorer("snellen-shapes", device="cpu")
        embed.embed_texts(scorer, [f"a red circle {i} {j}" for j in range(20)])
        del scorer
        gc.collect()
        assert embed.cached_texts() <= 50
    gc.collect()
    assert embed.cached_texts() == 0
    live = [load_scorer("snellen-shapes", device="cpu") for _ in range(4)]
    for k, scorer in enumerate(live):  # several at once: the cap holds across all of them
        out = embed.embed_texts(scorer, [f"a blue square {k} {j}" for j in range(20)])
        assert out.shape[0] == 20
        assert embed.cached_texts() <= 50


def _break_images(root: Path) -> None:
    for image in root.rglob("*"):
        if image.suffix.lower() in (".png", ".jpg"):
            image.write_bytes(b"not an image")


@pytest.mark.parametrize(
    ("task", "dataset", "make"),
    [
        ("zeroshot", "imagefolder", lambda root: make_imagefolder(root)),
        ("retrieval", "retrieval/coco", lambda root: make_karpathy(root, "coco_karpathy_test.json")),
        ("aro", "aro/vg-relation", lambda root: make_vg(root, "relation")),
    ],
)  # fmt: skip
def test_a_run_where_no_image_loads_ends_with_a_clear_error(
    task: str, dataset: str, make, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "data"
    make(root)
    _break_images(root)
    with pytest.raises(InputError, match="could be read"):
        evaluate(task, "snellen-shapes", dataset, root, progress=False, workers=0)
    code = main(["eval", task, "--dataset", dataset, "--root", str(root), "--workers", "0"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and dataset in err
