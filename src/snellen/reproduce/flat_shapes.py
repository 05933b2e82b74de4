"""A held-out VQA set of flat coloured shapes, in the VQAv2 file layout, drawn by its own
small program (PIL polygons and ellipses, not the Visual Aptitude Dataset's emitters or
describer), so no part of LENS has seen its pictures or its wording.

Each picture holds one to three non-overlapping shapes on a plain or coloured background,
at 64-160 px, some saved as JPEG. Questions come in four VQAv2 question types with exact
answers (ten identical human answers, as a generated set can give):

==================  =====================================  ===========
question type       example                                answer type
==================  =====================================  ===========
what color is the   What color is the triangle?            other
what shape is the   What shape is the red object?          other
how many            How many shapes are there?             number
is there a          Is there a blue circle?                yes/no
==================  =====================================  ===========
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

SHAPES = ("circle", "square", "triangle", "star", "hexagon", "diamond")
COLORS = {
    "red": (214, 39, 40), "green": (44, 160, 44), "blue": (31, 90, 200),
    "yellow": (240, 210, 30), "purple": (128, 60, 170), "orange": (255, 127, 14),
    "black": (20, 20, 20), "pink": (240, 120, 190),
}  # fmt: skip
BACKGROUNDS = {
    "white": (255, 255, 255), "light gray": (225, 225, 225), "light blue": (205, 225, 245),
    "beige": (245, 235, 210), "light green": (215, 240, 215),
}  # fmt: skip
QUESTION_TYPES = ("what color is the", "what shape is the", "how many", "is there a")
ANSWER_TYPES = {"what color is the": "other", "what shape is the": "other",
                "how many": "number", "is there a": "yes/no"}  # fmt: skip


@dataclass(frozen=True)
class Flat:
    """One shape: its name, colour name, centre (0..1) and radius (share of the side)."""

    shape: str
    color: str
    x: float
    y: float
    r: float


def _polygon(shape: str, cx: float, cy: float, r: float, turn: float) -> list[tuple[float, float]]:
    if shape == "square":
        corners, start = 4, math.pi / 4
    elif shape == "diamond":
        corners, start = 4, 0.0
    elif shape == "triangle":
        corners, start = 3, -math.pi / 2
    elif shape == "hexagon":
        corners, start = 6, 0.0
    else:  # star: ten points, alternating radius
        return [
            (cx + (r if k % 2 == 0 else r * 0.45) * math.cos(-math.pi / 2 + turn + k * math.pi / 5),
             cy + (r if k % 2 == 0 else r * 0.45) * math.sin(-math.pi / 2 + turn + k * math.pi / 5))
            for k in range(10)
        ]  # fmt: skip
    return [
        (cx + r * math.cos(start + turn + 2 * math.pi * k / corners),
         cy + r * math.sin(start + turn + 2 * math.pi * k / corners))
        for k in range(corners)
    ]  # fmt: skip


def draw(shapes: list[Flat], background: str, size: int, rng: random.Random) -> Image.Image:
    """The picture, drawn at four times ``size`` and reduced (smooth edges)."""
    big = size * 4
    im = Image.new("RGB", (big, big), BACKGROUNDS[background])
    pen = ImageDraw.Draw(im)
    for s in shapes:
        cx, cy, r = s.x * big, s.y * big, s.r * big
        fill = COLORS[s.color]
        if s.shape == "circle":
            pen.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
        else:
            pen.polygon(_polygon(s.shape, cx, cy, r, rng.uniform(-0.12, 0.12)), fill=fill)
    return im.resize((size, size), Image.Resampling.LANCZOS)


def sample_scene(rng: random.Random) -> tuple[list[Flat], str]:
    """One to three shapes that do not overlap, and a background."""
    n = rng.choice((1, 1, 2, 2, 3))
    shapes: list[Flat] = []
    while len(shapes) < n:
        r = rng.uniform(0.09, 0.2) if n > 1 else rng.uniform(0.12, 0.3)
        x, y = rng.uniform(r + 0.03, 0.97 - r), rng.uniform(r + 0.03, 0.97 - r)
        if any(math.hypot(x - o.x, y - o.y) < r + o.r + 0.04 for o in shapes):
            continue
        shapes.append(Flat(rng.choice(SHAPES), rng.choice(list(COLORS)), x, y, r))
    return shapes, rng.choice(list(BACKGROUNDS))


def _plural(shape: str) -> str:
    return shape + "es" if shape.endswith("x") else shape + "s"


def question_for(kind: str, shapes: list[Flat], rng: random.Random) -> tuple[str, str] | None:
    """A question of ``kind`` about the scene and its exact answer (None: no such question
    has a single answer here)."""
    if kind == "what color is the":
        unique = [s for s in shapes if sum(o.shape == s.shape for o in shapes) == 1]
        if not unique:
            return None
        s = rng.choice(unique)
        return f"What color is the {s.shape}?", s.color
    if kind == "what shape is the":
        unique = [s for s in shapes if sum(o.color == s.color for o in shapes) == 1]
        if not unique:
            return None
        s = rng.choice(unique)
        return f"What shape is the {s.color} object?", s.shape
    if kind == "how many":
        if rng.random() < 0.5:
            return "How many shapes are there?", str(len(shapes))
        shape = rng.choice(shapes).shape
        return f"How many {_plural(shape)} are there?", str(sum(o.shape == shape for o in shapes))
    if rng.random() < 0.5:  # is there a: half true, half a colour or shape swapped
        s = rng.choice(shapes)
        return f"Is there a {s.color} {s.shape}?", "yes"
    for _ in range(20):
        color, shape = rng.choice(list(COLORS)), rng.choice(SHAPES)
        if not any(o.color == color and o.shape == shape for o in shapes):
            return f"Is there a {color} {shape}?", "no"
    return None


def build_flat_shapes_vqa(
    root: str | Path, n_val: int = 300, n_train: int = 200, seed: int = 0
) -> Path:
    """Write the set under ``root`` in the VQAv2 layout (``val2014/`` and ``train2014/``
    COCO-named images, ``v2_OpenEnded_mscoco_SPLIT2014_questions.json`` and
    ``v2_mscoco_SPLIT2014_annotations.json``); one question per picture, the question types
    in turn. Returns ``root``; an existing complete set is kept."""
    root = Path(root)
    for split, n, base in (("val", n_val, 1), ("train", n_train, 500_001)):
        qfile = root / f"v2_OpenEnded_mscoco_{split}2014_questions.json"
        afile = root / f"v2_mscoco_{split}2014_annotations.json"
        if (
            qfile.is_file()
            and afile.is_file()
            and (len(json.loads(qfile.read_text())["questions"]) == n)
        ):
            continue
        folder = root / f"{split}2014"
        folder.mkdir(parents=True, exist_ok=True)
        questions, annotations = [], []
        for i in range(n):
            kind = QUESTION_TYPES[i % len(QUESTION_TYPES)]
            rng = random.Random(f"flat/{seed}/{split}/{i}")  # noqa: S311 - seeded sampling for reproducible data, not security
            got = None
            while got is None:
                shapes, background = sample_scene(rng)
                got = question_for(kind, shapes, rng)
            question, answer = got
            image_id = base + i
            size = rng.choice((64, 96, 128, 160))
            image = draw(shapes, background, size, rng)
            name = folder / f"COCO_{split}2014_{image_id:012d}"
            if rng.random() < 0.3:
                image.save(name.with_suffix(".jpg"), quality=rng.randint(40, 90))
            else:
                image.save(name.with_suffix(".png"))
            qid = image_id * 10
            questions.append({"image_id": image_id, "question": question, "question_id": qid})
            annotations.append({
                "question_id": qid, "image_id": image_id, "question_type": kind,
                "answer_type": ANSWER_TYPES[kind], "multiple_choice_answer": answer,
                "answers": [{"answer": answer, "answer_confidence": "yes", "answer_id": k + 1}
                            for k in range(10)],
            })  # fmt: skip
        info = {"description": "flat shapes VQA (snellen reproduce lens; exact answers)",
                "seed": seed}  # fmt: skip
        afile.write_text(json.dumps({
            "info": info, "data_type": "mscoco", "data_subtype": f"{split}2014", "license": {},
            "annotations": annotations,
        }))  # fmt: skip
        qfile.write_text(json.dumps({
            "info": info, "task_type": "Open-Ended", "data_type": "mscoco",
            "data_subtype": f"{split}2014", "license": {}, "questions": questions,
        }))  # fmt: skip
    return root
