"""The fast paths of `snellen eval`: open_clip text towers run over the positions that reach
the pooled token only (same embeddings as the whole context), texts embedded shortest first
(returned in the caller's order), and the ``amp`` precision (bfloat16 autocast)."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from evaluate_helpers import OPEN_CLIP_CONFIG, make_karpathy, make_open_clip
from snellen.errors import InputError
from snellen.evaluate import run_eval
from snellen.evaluate.embed import clear_text_cache, embed_texts
from snellen.score import load_scorer
from snellen.score.openclip import encode_text_trimmed, trimmable

TEXTS = [
    "a red circle",
    "a photo of a big blue square with a small green triangle next to it on a white table",
    "x",
    "a sketch of a circle.",
    "",
    "a red circle",
    " ".join(["word"] * 90),  # longer than the context: truncated, its end of text at 76
]


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    return make_open_clip(tmp_path_factory.mktemp("clip"))


def test_trimmed_text_tower_equals_the_whole_context(tiny_clip):
    name, model, _, tokenizer = tiny_clip
    assert trimmable(model)
    ids = tokenizer(TEXTS)
    with torch.inference_mode():
        full = model.encode_text(ids)
        short = tokenizer(TEXTS[:4])
        trimmed = encode_text_trimmed(model, short)
        assert int(short.argmax(-1).max()) + 1 < 77  # the batch really is trimmed
        assert torch.allclose(trimmed, full[:4], atol=1e-5)
        assert torch.allclose(encode_text_trimmed(model, ids), full, atol=1e-5)
    scorer = load_scorer(name, device="cpu", batch_size=2)
    assert scorer.trim
    got = scorer.embed_texts(TEXTS)  # shortest first inside, in the caller's order out
    assert torch.allclose(got, F.normalize(full, dim=-1), atol=1e-5)
    clear_text_cache()
    cached = embed_texts(scorer, TEXTS)
    assert torch.allclose(cached, got, atol=1e-6)


@pytest.mark.parametrize(
    "text_cfg", [{"no_causal_mask": True}, {"pool_type": "last"}], ids=["bidirectional", "last"]
)
def test_other_text_towers_run_whole(tmp_path, text_cfg):
    import open_clip

    config = {**OPEN_CLIP_CONFIG, "text_cfg": {**OPEN_CLIP_CONFIG["text_cfg"], **text_cfg}}
    path = tmp_path / "tiny-untrimmable-clip.json"
    path.write_text(json.dumps(config))
    open_clip.add_model_config(path)
    torch.manual_seed(0)
    model = open_clip.create_model("tiny-untrimmable-clip").eval()
    assert not trimmable(model)
    weights = tmp_path / "w.pt"
    torch.save(model.state_dict(), weights)
    scorer = load_scorer(f"open-clip:{path}:{weights}", device="cpu")
    assert not scorer.trim
    tokenizer = open_clip.get_tokenizer("tiny-untrimmable-clip")
    with torch.inference_mode():
        want = F.normalize(model.encode_text(tokenizer(TEXTS)), dim=-1)
    assert torch.allclose(scorer.embed_texts(TEXTS), want, atol=1e-6)


def test_amp_precision(tmp_path, tiny_clip):
    name = tiny_clip[0]
    make_karpathy(tmp_path, "coco_karpathy_test.json", n=6)
    scorer = load_scorer(name, device="cpu")
    fp32 = embed_texts(scorer, TEXTS)
    result = run_eval(
        "retrieval", scorer, "retrieval/coco", tmp_path, workers=0, progress=False,
        precision="amp",
    )  # fmt: skip
    assert result.options["precision"] == "amp"
    assert result.counts == {"images": 6, "texts": 12, "skipped": 0}
    amp = embed_texts(scorer, TEXTS)  # cached apart from the float32 embeddings
    assert not torch.equal(amp, fp32)
    assert F.cosine_similarity(amp, fp32).min() > 0.98
    scorer.precision = "fp32"
    assert torch.equal(embed_texts(scorer, TEXTS), fp32)
    with pytest.raises(InputError, match="precision"):
        run_eval("retrieval", scorer, "retrieval/coco", tmp_path, workers=0, progress=False,
                 precision="fp16")  # fmt: skip


def test_cli_precision(tmp_path, tiny_clip, capsys):
    from snellen.cli import main

    make_karpathy(tmp_path, "coco_karpathy_test.json", n=6)
    out = tmp_path / "run.json"
    rc = main(["eval", "retrieval", "--model", tiny_clip[0], "--dataset", "retrieval/coco",
               "--root", str(tmp_path), "--workers", "0", "--precision", "amp",
               "--out", str(out)])  # fmt: skip
    assert rc == 0
    assert json.loads(out.read_text())["options"]["precision"] == "amp"


def test_bf16_precision(tiny_clip):
    name, model, _, _ = tiny_clip
    scorer = load_scorer(name, device="cpu", batch_size=3)
    fp32_model = scorer.model
    pixels = torch.rand(4, 3, 32, 32)
    want_img, want_txt = scorer.embed_pixels(pixels), scorer.embed_texts(TEXTS)
    scorer.precision = "bf16"
    assert next(scorer.model.parameters()).dtype == torch.bfloat16
    img, txt = scorer.embed_pixels(pixels), scorer.embed_texts(TEXTS)
    assert img.dtype == txt.dtype == torch.float32
    assert F.cosine_similarity(img, want_img).min() > 0.98
    assert F.cosine_similarity(txt, want_txt).min() > 0.98
    scorer.precision = "fp32"  # back to the float32 model itself, not a round trip
    assert scorer.model is fp32_model
    assert torch.equal(scorer.embed_texts(TEXTS), want_txt)


def test_bf16_shapes_scorer():
    from snellen.datasets import build_dataset

    data = build_dataset("vad-retrieval", n=8)
    scorer = load_scorer("snellen-shapes", device="cpu")
    want = scorer.embed_texts(data.captions[0])
    scorer.precision = "bf16"
    got = scorer.embed_texts(data.captions[0])
    assert F.cosine_similarity(got, want).min() > 0.98
    result = run_eval("retrieval", scorer, "vad-retrieval", data=data, workers=0, progress=False)
    assert result.options["precision"] == "bf16" and result.counts["images"] == 8
