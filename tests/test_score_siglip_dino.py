"""SigLIP, SigLIP 2 and DINOv2 load by their registry names from real architectures built
from their transformers configs with random weights, saved with ``save_pretrained`` and
loaded through the normal path; their numbers match the in-memory model; local weights are
labelled non-standard. DINOv2 is image-only and scores drawings against references."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from snellen.errors import InputError
from snellen.score import list_scorers, load_scorer
from test_score_loading import TEXTS, WORDS, _images, _word_tokenizer

TEXT = dict(
    vocab_size=len(WORDS), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
    num_attention_heads=2, max_position_embeddings=16, pad_token_id=0, bos_token_id=2,
    eos_token_id=3,
)  # fmt: skip


def _siglip2(path: Path) -> tuple[torch.nn.Module, object]:
    from transformers import Siglip2Config, Siglip2ImageProcessor, Siglip2Model, Siglip2Processor

    torch.manual_seed(0)
    vision = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                  num_attention_heads=2, num_patches=16, patch_size=8)  # fmt: skip
    model = Siglip2Model(Siglip2Config(text_config=TEXT, vision_config=vision)).eval()
    processor = Siglip2Processor(
        image_processor=Siglip2ImageProcessor(patch_size=8, max_num_patches=16),
        tokenizer=_word_tokenizer(),
    )
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return model, processor


def _siglip(path: Path) -> torch.nn.Module:
    from transformers import SiglipConfig, SiglipImageProcessor, SiglipModel, SiglipProcessor

    torch.manual_seed(0)
    vision = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                  num_attention_heads=2, image_size=32, patch_size=8)  # fmt: skip
    model = SiglipModel(SiglipConfig(text_config=TEXT, vision_config=vision)).eval()
    processor = SiglipProcessor(
        image_processor=SiglipImageProcessor(size={"height": 32, "width": 32}),
        tokenizer=_word_tokenizer(),
    )
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return model


def _dinov2(path: Path) -> torch.nn.Module:
    from transformers import BitImageProcessor, Dinov2Config, Dinov2Model

    torch.manual_seed(0)
    model = Dinov2Model(Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=64, image_size=32, patch_size=8)).eval()  # fmt: skip
    BitImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    ).save_pretrained(path)
    model.save_pretrained(path)
    return model


def test_the_registry_names_them() -> None:
    names = list_scorers()
    assert {"siglip", "siglip2", "dinov2"} <= set(names)
    for name in ("siglip", "siglip2", "dinov2"):
        with pytest.raises(InputError, match="needs a model"):
            load_scorer(name)


def test_siglip2_loads_matches_the_model_and_scores_with_a_sigmoid(tmp_path: Path) -> None:
    from snellen.imaging import on_white

    model, processor = _siglip2(tmp_path)
    scorer = load_scorer(f"siglip2:{tmp_path}", device="cpu", batch_size=2)
    assert scorer.name == f"siglip2:{tmp_path}"
    assert scorer.labels.standard is False and "not a released model" in scorer.labels.note
    got = scorer.similarity(_images(), TEXTS)
    with torch.no_grad():
        pix = processor.image_processor(
            images=[on_white(im) for im in _images()], return_tensors="pt"
        )
        img = model.get_image_features(**pix)
        # the tokenizer as loaded back (the tiny word-level one comes back as SigLIP 2's own
        # class): the model's computation is what is compared
        tok = scorer.processor.tokenizer(
            TEXTS, padding="max_length", max_length=16, return_tensors="pt"
        )
        txt = model.get_text_features(
            input_ids=tok["input_ids"], attention_mask=tok["attention_mask"]
        )
    img = img if isinstance(img, torch.Tensor) else img.pooler_output
    txt = txt if isinstance(txt, torch.Tensor) else txt.pooler_output
    want = (
        torch.nn.functional.normalize(img, dim=-1) @ torch.nn.functional.normalize(txt, dim=-1).t()
    )
    assert torch.allclose(got, want, atol=1e-5) and float(got.std()) > 1e-4
    probs = scorer.probabilities(_images(), TEXTS)
    scale, bias = float(model.logit_scale.detach().exp()), float(model.logit_bias.detach())
    assert torch.allclose(probs, torch.sigmoid(want * scale + bias), atol=1e-5)
    # the sigmoid orders candidates as the cosine does, so fidelity ranks are the same
    assert torch.equal(probs.argsort(dim=1), got.argsort(dim=1))


def test_siglip_rejects_a_siglip2_directory_and_loads_its_own(tmp_path: Path) -> None:
    _siglip2(tmp_path / "two")
    with pytest.raises(InputError, match="siglip2:"):
        load_scorer(f"siglip:{tmp_path / 'two'}", device="cpu")
    _siglip(tmp_path / "one")
    scorer = load_scorer(f"siglip:{tmp_path / 'one'}", device="cpu")
    assert scorer.similarity(_images(), TEXTS).shape == (3, 3)
    assert scorer.labels.standard is False


def test_open_clip_siglip_names_are_checked_against_the_family() -> None:
    with pytest.raises(InputError, match="siglip2:ViT-B-16-SigLIP2:webli"):
        load_scorer("siglip:ViT-B-16-SigLIP2:webli", device="cpu")


def test_dinov2_embeds_images_only_and_matches_the_model(tmp_path: Path) -> None:
    from snellen.imaging import on_white

    model = _dinov2(tmp_path)
    scorer = load_scorer(f"dinov2:{tmp_path}", device="cpu")
    assert scorer.labels.standard is False
    emb = scorer.embed_images(_images())
    from transformers import AutoImageProcessor

    proc = AutoImageProcessor.from_pretrained(tmp_path)
    with torch.no_grad():
        want = model(
            **proc(images=[on_white(im) for im in _images()], return_tensors="pt")
        ).pooler_output
    assert torch.allclose(emb, torch.nn.functional.normalize(want, dim=-1), atol=1e-5)
    with pytest.raises(InputError, match="images only"):
        scorer.embed_texts(["a red circle"])
