"""Small real models and data in official formats for the LENS tests: a random-init BLIP
captioner and CLIP scorer built from transformers' own config classes and saved the way any
Hugging Face model is; a two-layer Llama with SmolLM2's real tokenizer; VQAv2, OK-VQA,
Hateful Memes and folder fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from PIL import Image, ImageDraw

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[DEC]", "a", "red", "blue", "circle", "square",
         "green", "photo", "of", "the", "is", "there", "cat", "dog", "meme", "hateful", "yes", "no"]  # fmt: skip


def word_tokenizer(bos: str = "[CLS]", eos: str = "[SEP]", max_len: int = 16):
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    ids = {w: i for i, w in enumerate(WORDS)}
    tk = Tokenizer(models.WordLevel(ids, unk_token="[UNK]"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tk.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", special_tokens=[(bos, ids[bos]), (eos, ids[eos])]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tk, unk_token="[UNK]", pad_token="[PAD]", bos_token=bos,
        eos_token=eos, sep_token="[SEP]", cls_token="[CLS]", model_max_length=max_len,
        additional_special_tokens=["[DEC]"],
    )  # fmt: skip


def save_tiny_clip(path: Path) -> Path:
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    torch.manual_seed(0)
    text = dict(vocab_size=len(WORDS), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=2, max_position_embeddings=16, pad_token_id=0,
                bos_token_id=2, eos_token_id=3)  # fmt: skip
    vision = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                  num_attention_heads=2, image_size=32, patch_size=8)  # fmt: skip
    model = CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=16))
    processor = CLIPProcessor(
        image_processor=CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}),
        tokenizer=word_tokenizer(),
    )  # fmt: skip
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path


def save_tiny_blip(path: Path) -> Path:
    from transformers import (
        BlipConfig,
        BlipForConditionalGeneration,
        BlipImageProcessor,
        BlipProcessor,
    )

    torch.manual_seed(0)
    text = dict(vocab_size=len(WORDS), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=2, max_position_embeddings=32, pad_token_id=0,
                bos_token_id=WORDS.index("[DEC]"), sep_token_id=3, eos_token_id=3,
                encoder_hidden_size=32)  # fmt: skip
    vision = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                  num_attention_heads=2, image_size=32, patch_size=8)  # fmt: skip
    model = BlipForConditionalGeneration(
        BlipConfig(text_config=text, vision_config=vision, projection_dim=16)
    )
    processor = BlipProcessor(
        image_processor=BlipImageProcessor(size={"height": 32, "width": 32}),
        tokenizer=word_tokenizer(),
    )
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path


def save_tiny_llama(path: Path) -> Path:
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from snellen.llm.embedded import smollm2_path

    gguf = smollm2_path()
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
    )  # fmt: skip
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def picture(colour: tuple[int, int, int], shape: str = "circle", size: int = 64) -> Image.Image:
    im = Image.new("RGB", (size, size), "white")
    d = ImageDraw.Draw(im)
    box = (size // 4, size // 4, 3 * size // 4, 3 * size // 4)
    (d.ellipse if shape == "circle" else d.rectangle)(box, fill=colour)
    return im


def write_vqav2(root: Path, *, official: bool = True, prefix: str = "v2_") -> Path:
    """Three questions on two images in the VQAv2 format (official file names, or plain)."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    pics = {42: picture((220, 0, 0)), 73: picture((0, 0, 220), "square")}
    for image_id, im in pics.items():
        name = f"COCO_val2014_{image_id:012d}.jpg" if official else f"{image_id}.png"
        im.save(root / "images" / name)
    qs = [(42, 420, "What colour is the circle?", ["red"] * 9 + ["dark red"], "other"),
          (42, 421, "How many circles are there?", ["1"] * 6 + ["one"] * 2 + ["2"] * 2, "number"),
          (73, 730, "Is there a square?", ["yes"] * 10, "yes/no")]  # fmt: skip
    questions = {"info": {}, "task_type": "Open-Ended", "data_type": "mscoco",
                 "data_subtype": "val2014", "license": {},
                 "questions": [{"image_id": i, "question": q, "question_id": qid} for i, qid, q, _, _ in qs]}  # fmt: skip
    annotations = {"info": {}, "data_type": "mscoco", "data_subtype": "val2014", "license": {},
                   "annotations": [{"question_id": qid, "image_id": i, "question_type": "what",
                                    "answer_type": t, "multiple_choice_answer": a[0],
                                    "answers": [{"answer": x, "answer_confidence": "yes", "answer_id": k + 1}
                                                for k, x in enumerate(a)]}
                                   for i, qid, _, a, t in qs]}  # fmt: skip
    if official:
        qname = f"{prefix}OpenEnded_mscoco_val2014_questions.json"
        aname = f"{prefix}mscoco_val2014_annotations.json"
    else:
        qname, aname = "questions.json", "annotations.json"
    (root / qname).write_text(json.dumps(questions))
    (root / aname).write_text(json.dumps(annotations))
    return root


def write_memes(root: Path) -> Path:
    """Hateful Memes JSONL (dev + train) with images carrying their text, for OCR."""
    (root / "img").mkdir(parents=True, exist_ok=True)
    rows = {
        "dev": [(1, "HELLO WORLD", 0), (2, "GOOD DOGS", 1)],
        "train": [(3, "CATS RULE", 0), (4, "NO DOGS", 1)],
    }
    for split, items in rows.items():
        lines = []
        for i, text, label in items:
            im = Image.new("RGB", (320, 120), "white")
            ImageDraw.Draw(im).text((20, 40), text, fill="black", font_size=36)
            im.save(root / "img" / f"{i:05d}.png")
            lines.append(
                json.dumps({"id": i, "img": f"img/{i:05d}.png", "label": label, "text": text})
            )
        (root / f"{split}.jsonl").write_text("\n".join(lines) + "\n")
    return root
