"""Scorers load through the path a user takes: real architectures (CLIP and SigLIP through
transformers, a ViT CLIP through open_clip) built from their config classes with random
weights, saved to disk and loaded by registry name; and the shipped snellen-shapes model."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from snellen.errors import InputError
from snellen.score import list_scorers, load_scorer

WORDS = ["<pad>", "<unk>", "<s>", "</s>", "a", "red", "blue", "circle", "square", "green"]
TEXTS = ["a red circle", "a blue square", "green"]


def _images() -> list[Image.Image]:
    rgba = Image.new("RGBA", (40, 30), (0, 0, 0, 0))
    rgba.paste((0, 160, 0, 255), (5, 5, 20, 20))
    return [Image.new("RGB", (40, 30), (220, 0, 0)), Image.new("L", (30, 30), 90), rgba]


def _word_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    tk = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tk.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 2), ("</s>", 3)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tk, unk_token="<unk>", pad_token="<pad>", bos_token="<s>",
        eos_token="</s>", model_max_length=16,
    )  # fmt: skip


def _tiny_hf(kind: str):
    from transformers import (
        CLIPConfig,
        CLIPImageProcessor,
        CLIPModel,
        CLIPProcessor,
        SiglipConfig,
        SiglipImageProcessor,
        SiglipModel,
        SiglipProcessor,
    )

    torch.manual_seed(0)
    text = dict(
        vocab_size=len(WORDS), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, max_position_embeddings=16, pad_token_id=0, bos_token_id=2,
        eos_token_id=3,
    )  # fmt: skip
    vision = dict(
        hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
        image_size=32, patch_size=8,
    )  # fmt: skip
    if kind == "clip":
        model = CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=16))
        image_processor = CLIPImageProcessor(
            size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
        )
        processor = CLIPProcessor(image_processor=image_processor, tokenizer=_word_tokenizer())
    else:
        model = SiglipModel(SiglipConfig(text_config=text, vision_config=vision))
        image_processor = SiglipImageProcessor(size={"height": 32, "width": 32})
        processor = SiglipProcessor(image_processor=image_processor, tokenizer=_word_tokenizer())
    return model.eval(), processor


@pytest.mark.parametrize("kind", ["clip", "siglip"])
def test_hf_clip_loads_a_saved_model_and_matches_it(kind, tmp_path):
    from snellen.imaging import on_white as to_rgb_on_white

    model, processor = _tiny_hf(kind)
    model.save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    scorer = load_scorer(f"hf-clip:{tmp_path}", device="cpu", batch_size=2)
    assert scorer.name == f"hf-clip:{tmp_path}" and scorer.labels.standard is False
    got = scorer.similarity(_images(), TEXTS)

    # the same computation straight on the in-memory model: the weights survived the trip
    padding = "max_length" if kind == "siglip" else True
    with torch.no_grad():
        pix = processor(images=[to_rgb_on_white(im) for im in _images()], return_tensors="pt")
        img = model.get_image_features(pixel_values=pix["pixel_values"])
        tok = processor(text=TEXTS, padding=padding, return_tensors="pt")
        txt = model.get_text_features(
            input_ids=tok["input_ids"], attention_mask=tok["attention_mask"]
        )
    img = img if isinstance(img, torch.Tensor) else img.pooler_output
    txt = txt if isinstance(txt, torch.Tensor) else txt.pooler_output
    want = (
        torch.nn.functional.normalize(img, dim=-1) @ torch.nn.functional.normalize(txt, dim=-1).t()
    )
    assert got.shape == (3, 3)
    assert torch.allclose(got, want, atol=1e-5)
    assert float(got.std()) > 1e-4  # different inputs, different scores
    assert torch.allclose(scorer.embed_texts(TEXTS).norm(dim=1), torch.ones(3), atol=1e-5)


def test_hf_clip_says_what_is_wrong_with_a_bad_path(tmp_path):
    with pytest.raises(InputError, match="save_pretrained"):
        load_scorer(f"hf-clip:{tmp_path / 'missing'}", device="cpu")


OPEN_CLIP_CONFIG = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 32, "head_width": 16, "patch_size": 8},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
}


def test_open_clip_loads_a_saved_architecture_and_matches_it(tmp_path):
    import open_clip

    from snellen.imaging import on_white as to_rgb_on_white

    config = tmp_path / "tiny-vit-clip.json"
    config.write_text(json.dumps(OPEN_CLIP_CONFIG))
    open_clip.add_model_config(config)
    torch.manual_seed(0)
    model, _, preprocess = open_clip.create_model_and_transforms("tiny-vit-clip")
    model.eval()
    weights = tmp_path / "tiny-vit-clip.pt"
    torch.save({"state_dict": model.state_dict()}, weights)

    scorer = load_scorer(f"open-clip:{config}:{weights}", device="cpu")
    got = scorer.similarity(_images(), TEXTS)
    tokenizer = open_clip.get_tokenizer("tiny-vit-clip")
    with torch.no_grad():
        img = model.encode_image(torch.stack([preprocess(to_rgb_on_white(im)) for im in _images()]))
        txt = model.encode_text(tokenizer(TEXTS))
    want = (
        torch.nn.functional.normalize(img, dim=-1) @ torch.nn.functional.normalize(txt, dim=-1).t()
    )
    assert torch.allclose(got, want, atol=1e-5)
    assert float(got.std()) > 1e-4


def test_open_clip_needs_weights_and_names_the_fix(tmp_path):
    with pytest.raises(InputError, match="open-clip:ViT-B-32:TAG"):
        load_scorer("open-clip:ViT-B-32", device="cpu")
    with pytest.raises(InputError, match="does not exist"):
        load_scorer(f"open-clip:{tmp_path / 'none.json'}:{tmp_path / 'w.pt'}", device="cpu")


def test_registry_names_and_errors():
    assert set(list_scorers()) >= {"hf-clip", "open-clip", "snellen-shapes"}
    with pytest.raises(InputError, match="unknown scorer"):
        load_scorer("dall-e:3")
    with pytest.raises(InputError, match="hf-clip needs a model"):
        load_scorer("hf-clip")


def test_snellen_shapes_is_shipped_and_labelled(tmp_path):
    scorer = load_scorer("snellen-shapes", device="cpu")
    assert scorer.labels.standard is False and "not comparable" in scorer.labels.note
    emb = scorer.embed_images(_images())
    assert emb.shape == (3, scorer.dim)
    assert torch.allclose(emb.norm(dim=1), torch.ones(3), atol=1e-5)
    # a copy of the checkpoint loads by path, and scores the same
    from snellen.score.shapes import shipped_weights

    copy = tmp_path / "copy.pt"
    copy.write_bytes(shipped_weights().read_bytes())
    other = load_scorer(f"snellen-shapes:{copy}", device="cpu")
    assert torch.allclose(other.similarity(_images(), TEXTS), scorer.similarity(_images(), TEXTS))
    with pytest.raises(InputError, match="train-clip"):
        load_scorer(f"snellen-shapes:{tmp_path / 'missing.pt'}")
