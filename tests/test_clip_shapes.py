"""snellen's own CLIP: the shipped checkpoint's zero-shot quality on held-out shapes, the
contrastive loss (with NegCLIP's extra columns), and the training loop on real pairs."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from snellen.clip import TrainConfig, clip_logits, clip_loss, load_checkpoint, train_clip
from snellen.clip.data import render_svg_reference
from snellen.clip.train import retrieval
from snellen.concepts import load_concepts
from snellen.score import load_scorer
from snellen.score.shapes import shipped_weights

REPO = Path(__file__).resolve().parents[1]
GALLERY = 100
# chance is 1% at R@1 in a gallery of 100, and a fidelity percentile of 50
MIN_R1 = 60.0
MIN_FIDELITY = 95.0


@pytest.fixture(scope="module")
def heldout_embeddings():
    """200 held-out shapes (shape-colour combinations never trained on; another seed than
    the one the training run evaluated on), through the scorer API a user calls."""
    scorer = load_scorer("snellen-shapes", device="cpu")
    concepts = load_concepts("shapes", 2 * GALLERY, seed=7, split="heldout")
    images = [render_svg_reference(c.programs["svg"], 256) for c in concepts]
    return scorer.embed_images(images), scorer.embed_texts([c.description for c in concepts])


def test_shipped_model_retrieves_heldout_shapes(heldout_embeddings):
    result = retrieval(*heldout_embeddings, gallery=GALLERY)
    assert result.n == 2 * GALLERY and result.gallery == GALLERY
    assert result.image_to_text_r1 >= MIN_R1, result
    assert result.text_to_image_r1 >= MIN_R1, result
    assert result.fidelity >= MIN_FIDELITY, result


def test_shipped_checkpoint_records_how_it_was_made():
    weights = shipped_weights()
    assert weights.stat().st_size < 8 * 2**20
    _, tokenizer, info = load_checkpoint(str(weights))
    assert info["command"].startswith("snellen train-clip")
    assert info["train_config"]["source"] == "shapes"
    assert info["heldout"]["gallery"] == GALLERY
    assert info["seconds"] < 30 * 60
    assert len(tokenizer) > 100


def test_clip_loss_by_hand_and_with_hard_negatives():
    img = F.normalize(torch.tensor([[1.0, 0.0], [0.0, 1.0]]), dim=-1)
    txt = F.normalize(torch.tensor([[1.0, 0.1], [0.2, 1.0]]), dim=-1)
    scale = torch.tensor(math.log(10.0))
    per_image, per_text = clip_logits(img, txt, scale)
    assert torch.allclose(per_image, 10 * img @ txt.t()) and torch.allclose(per_text, per_image.t())
    want = (
        F.cross_entropy(per_image, torch.arange(2)) + F.cross_entropy(per_text, torch.arange(2))
    ) / 2
    assert torch.allclose(clip_loss(img, txt, scale), want)
    # NegCLIP: hard negatives are extra columns for the images only
    neg = F.normalize(torch.tensor([[1.0, 0.05], [0.7, 0.7], [0.0, -1.0]]), dim=-1)
    per_image, per_text = clip_logits(img, txt, scale, neg)
    assert per_image.shape == (2, 5) and per_text.shape == (2, 2)
    # a negative as close to image 0 as its own caption makes the loss larger; one far away
    # from every image changes it little
    assert clip_loss(img, txt, scale, neg[:1]) > clip_loss(img, txt, scale) + 0.1
    assert clip_loss(img, txt, scale, neg[2:]) < clip_loss(img, txt, scale) + 0.01
    # the temperature is clamped at 100, as in CLIP
    big, _ = clip_logits(img, txt, torch.tensor(10.0))
    assert float(big.abs().max()) <= 100.0 + 1e-4


@pytest.mark.slow
def test_training_learns_real_pairs_from_a_jsonl_file(tmp_path):
    """The loop on a small JSONL set of rendered shapes: the training pairs are learnt, the
    checkpoint loads as a scorer and scores the same."""
    concepts = load_concepts("shapes", 96, seed=3)
    lines = []
    for i, c in enumerate(concepts):
        render_svg_reference(c.programs["svg"], 128).save(tmp_path / f"{i}.png")
        lines.append(json.dumps({"image": f"{i}.png", "caption": c.description}))
    (tmp_path / "pairs.jsonl").write_text("\n".join(lines) + "\n")
    cfg = TrainConfig(
        source=str(tmp_path / "pairs.jsonl"), n_train=96, n_eval=16, batch_size=32,
        epochs=25, lr=3e-3, warmup_steps=10, eval_gallery=16,
    )  # fmt: skip
    result = train_clip(cfg, tmp_path / "tiny.pt", log=None)
    assert result.steps == 25 * (80 // 32)
    assert result.history[-1]["loss"] < math.log(32)  # below chance for a batch of 32
    assert result.seen.image_to_text_r1 >= 50.0, result.seen  # chance: 1 in 16
    scorer = load_scorer(f"snellen-shapes:{tmp_path / 'tiny.pt'}", device="cpu")
    model, tokenizer, info = load_checkpoint(str(tmp_path / "tiny.pt"))
    assert info["train_config"]["source"].endswith("pairs.jsonl")
    from PIL import Image

    im = Image.open(tmp_path / "0.png")
    direct = model.encode_image(scorer_pixels(im, model.config.image_size))
    assert torch.allclose(scorer.embed_images([im]), direct, atol=1e-5)
    with pytest.raises(Exception, match="hard negatives are only known"):
        train_clip(TrainConfig(source=cfg.source, hard_negatives=1), None, log=None)


def test_negclip_training_runs_with_hard_negative_columns():
    """NegCLIP is a flag: shapes pairs carry their hard negatives into the logit matrix."""
    cfg = TrainConfig(
        n_train=128, n_eval=32, batch_size=64, epochs=1, hard_negatives=2, eval_gallery=32,
        warmup_steps=1,
    )  # fmt: skip
    result = train_clip(cfg, None, log=None)
    assert result.steps == 2 and math.isfinite(result.history[-1]["loss"])
    # the loss saw 64 captions and up to 128 negatives: above ln(64) at initialisation
    assert result.history[-1]["loss"] > math.log(64)
    assert result.heldout.hard_negative_accuracy is not None


def scorer_pixels(im, size: int) -> torch.Tensor:
    from snellen.clip.model import preprocess

    with torch.no_grad():
        return preprocess([im], size)


def test_train_clip_help_shows_the_real_defaults():
    from snellen.cli.train_clip import DEFAULTS

    cfg = TrainConfig()
    assert {k: getattr(cfg, k) for k in DEFAULTS} == DEFAULTS
    proc = subprocess.run(
        [sys.executable, "-m", "snellen", "train-clip", "--help"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0 and "--hard-negatives" in proc.stdout
    assert f"default {cfg.n_train}" in proc.stdout


def test_batched_resize_is_pils_bicubic_within_two_levels():
    import numpy as np
    from PIL import Image

    from snellen.clip.model import preprocess
    from snellen.imaging import on_white as to_rgb_on_white
    from snellen.imaging import square_on_white

    rng = np.random.default_rng(0)
    images = [
        Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8))
        for side in (256, 256, 97, 300, 40, 64)
    ] + [Image.new("RGBA", (120, 80), (255, 0, 0, 128))]
    ours = ((preprocess(images, 64) + 1) * 127.5).round().to(torch.int16)
    for im, got in zip(images, ours, strict=True):
        sq = square_on_white(to_rgb_on_white(im))
        if sq.size != (64, 64):
            sq = sq.resize((64, 64), Image.Resampling.BICUBIC)
        want = torch.from_numpy(np.asarray(sq, dtype=np.int16).copy()).permute(2, 0, 1)
        diff = (got - want).abs()
        assert int(diff.max()) <= 2 and float((diff > 0).float().mean()) < 0.01


def test_inference_encoder_computes_the_same_embeddings():
    import copy

    model, _, _ = load_checkpoint(str(shipped_weights()))
    plain = model.visual.eval()
    fast = copy.deepcopy(plain).for_inference()
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fast.modules())
    x = torch.rand(6, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(plain(x), fast(x), atol=1e-4)
