"""Tiny datasets in the exact official formats (ARO's VG-Relation / VG-Attribution JSON and
images, the Karpathy test JSON, SugarCrepe's JSON and val2017 folder, an ImageFolder),
drawn with PIL, and a random-init open_clip model saved to disk."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image, ImageDraw

COLOURS = {"red": (220, 30, 30), "blue": (30, 60, 220), "green": (30, 170, 60)}
SHAPES = ("circle", "square")


def shape_image(colour: str, shape: str, size: int = 96, offset: int = 0) -> Image.Image:
    im = Image.new("RGB", (size, size), "white")
    d = ImageDraw.Draw(im)
    box = (20 + offset, 20 + offset // 2, 76 + offset // 3, 76)
    (d.ellipse if shape == "circle" else d.rectangle)(box, fill=COLOURS[colour])
    return im


def make_vg(root: Path, which: str, broken: bool = False) -> Path:
    """ARO's layout: ROOT/visual_genome_{which}.json and ROOT/images/."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    big = Image.new("RGB", (200, 100), "white")
    big.paste(shape_image("red", "circle"), (0, 0))
    big.paste(shape_image("blue", "square"), (100, 0))
    big.save(root / "images" / "1.jpg")
    items = []
    if which == "relation":
        rels = ["on", "on", "next to", "holding"]
        for i, rel in enumerate(rels):
            items.append({
                "image_id": "1", "image_path": "1.jpg", "bbox_x": 100 * (i % 2), "bbox_y": 0,
                "bbox_w": 96, "bbox_h": 96, "relation_name": rel,
                "true_caption": f"the {'red circle' if i % 2 == 0 else 'blue square'} is {rel} the table",
                "false_caption": f"the table is {rel} the {'red circle' if i % 2 == 0 else 'blue square'}",
            })  # fmt: skip
    else:
        for i in range(30):
            pair = ["red", "blue"] if i < 26 else ["green", "blue"]
            items.append({
                "image_id": "1", "image_path": "1.jpg", "bbox_x": 0, "bbox_y": 0, "bbox_w": 200,
                "bbox_h": 96, "attributes": pair,
                "true_caption": f"the {pair[0]} circle and the {pair[1]} square",
                "false_caption": f"the {pair[1]} circle and the {pair[0]} square",
            })  # fmt: skip
    if broken:
        (root / "images" / "broken.jpg").write_bytes(b"not a jpeg at all")
        items.append({**items[0], "image_path": "broken.jpg"})
    path = root / f"visual_genome_{which}.json"
    path.write_text(json.dumps(items))
    return path


def make_karpathy(root: Path, filename: str, n: int = 12) -> Path:
    """BLIP/ARO's Karpathy test JSON with images under ROOT/val2014/."""
    (root / "val2014").mkdir(parents=True, exist_ok=True)
    items = []
    for i in range(n):
        colour = list(COLOURS)[i % 3]
        shape = SHAPES[(i // 3) % 2]
        name = f"val2014/COCO_val2014_{i:012d}.jpg"
        shape_image(colour, shape, offset=i).save(root / name)
        items.append({
            "image": name,
            "caption": [f"A {colour} {shape} on a white background.",
                        f"a picture of one {colour} {shape}"],
        })  # fmt: skip
    path = root / filename
    path.write_text(json.dumps(items))
    return path


def make_sugarcrepe(root: Path, subset: str = "swap_att") -> Path:
    (root / "val2017").mkdir(parents=True, exist_ok=True)
    data = {}
    for i, (colour, shape) in enumerate(
        [("red", "circle"), ("blue", "square"), ("green", "circle")]
    ):
        name = f"{i:012d}.jpg"
        shape_image(colour, shape).save(root / "val2017" / name)
        data[str(i * 3)] = {  # keys need not be contiguous
            "filename": name,
            "caption": f"a {colour} {shape}",
            "negative_caption": f"a {shape} {colour}",
        }
    path = root / f"{subset}.json"
    path.write_text(json.dumps(data))
    return path


def make_imagefolder(root: Path, per_class: int = 4) -> Path:
    for k, (colour, shape) in enumerate(
        [("red", "circle"), ("blue", "square"), ("green", "circle")]
    ):
        folder = root / f"{k}_{colour}_{shape}"
        folder.mkdir(parents=True, exist_ok=True)
        for j in range(per_class):
            shape_image(colour, shape, offset=3 * j).save(folder / f"{j}.png")
    return root


OPEN_CLIP_CONFIG = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 32, "head_width": 16, "patch_size": 8},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
}


def make_open_clip(tmp: Path, name: str = "tiny-eval-clip") -> tuple[str, object, object, object]:
    """A random-init ViT CLIP of open_clip saved to disk: (scorer name, model, preprocess,
    tokenizer)."""
    import open_clip
    import torch

    config = tmp / f"{name}.json"
    config.write_text(json.dumps(OPEN_CLIP_CONFIG))
    open_clip.add_model_config(config)
    torch.manual_seed(0)
    model, _, preprocess = open_clip.create_model_and_transforms(name)
    model.eval()
    weights = tmp / f"{name}.pt"
    torch.save({"state_dict": model.state_dict()}, weights)
    return f"open-clip:{config}:{weights}", model, preprocess, open_clip.get_tokenizer(name)
