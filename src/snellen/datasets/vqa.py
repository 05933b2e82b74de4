"""Question sets (:class:`~snellen.datasets.kinds.VQA`, what LENS answers): questions about
images, loaded from the official file formats, plus two sets snellen builds itself from
the VAD shapes generator (exact answers, seeded, held-out shape-colour combinations in the
evaluation split).

======================  ==========  =========================================================
``vqav2`` / ``okvqa``   vqa         ``--root DIR``: questions JSON + annotations JSON + images
                                    (official names such as
                                    ``v2_OpenEnded_mscoco_val2014_questions.json`` and
                                    ``COCO_val2014_000000000042.jpg``, or plain
                                    ``questions.json``, ``annotations.json``,
                                    ``images/{image_id}.png|jpg``)
``shapes-vqa``          vqa         built by snellen (VQAv2 format) into ``--root`` or the run
``folder``              classify    ``--root DIR``: ``DIR/[SPLIT/]CLASS/*.png|jpg`` (in
                                    :mod:`snellen.datasets.folders`)
``shapes-classify``     classify    built by snellen (a folder set of single VAD shapes)
``hateful-memes``       binary      ``--root DIR``: ``train.jsonl``, ``dev.jsonl`` or
                                    ``dev_seen.jsonl`` (``id``, ``img``, ``label``, ``text``)
======================  ==========  =========================================================
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

from snellen.datasets.base import Builder, BuildOptions
from snellen.datasets.files import IMAGE_SUFFIXES
from snellen.datasets.folders import folder_questions, need_root
from snellen.datasets.kinds import VQA
from snellen.errors import InputError
from snellen.records.questions import LensItem


# -- VQAv2 / OK-VQA ---------------------------------------------------------------------------
def _find_json(root: Path, split: str, names: list[str], word: str) -> Path | None:
    for name in names:
        if (root / name).is_file():
            return root / name
    hits = sorted(p for p in root.glob(f"*{split}*{word}*.json") if p.is_file())
    return hits[0] if hits else None


def vqa_files(root: Path, split: str) -> tuple[Path, Path]:
    """The questions and annotations files of ``split`` under ``root``."""
    q = _find_json(
        root, split,
        [f"v2_OpenEnded_mscoco_{split}2014_questions.json",
         f"OpenEnded_mscoco_{split}2014_questions.json", f"{split}_questions.json"],
        "question",
    )  # fmt: skip
    a = _find_json(
        root, split,
        [f"v2_mscoco_{split}2014_annotations.json", f"mscoco_{split}2014_annotations.json",
         f"{split}_annotations.json"],
        "annotation",
    )  # fmt: skip
    if q is None and a is None and split in ("val", "test", "eval"):
        q = root / "questions.json" if (root / "questions.json").is_file() else None
        a = root / "annotations.json" if (root / "annotations.json").is_file() else None
    if q is None or a is None:
        missing = "questions" if q is None else "annotations"
        raise InputError(
            f"{root}: no {missing} file for split {split!r}; expected e.g. "
            f"v2_OpenEnded_mscoco_{split}2014_questions.json + v2_mscoco_{split}2014_annotations"
            ".json (or questions.json + annotations.json) and an images/ folder"
        )
    return q, a


def _image_index(root: Path) -> dict[str, Path]:
    index: dict[str, Path] = {}
    for folder in (root / "images", root):
        if not folder.is_dir():
            continue
        pattern = "*" if folder == root else "**/*"
        for p in folder.glob(pattern):
            if p.suffix.lower() in IMAGE_SUFFIXES and p.name not in index:
                index[p.name] = p
    for sub in root.iterdir():
        if sub.is_dir() and sub.name != "images":
            for p in sub.glob("*"):
                if p.suffix.lower() in IMAGE_SUFFIXES and p.name not in index:
                    index[p.name] = p
    return index


def _vqa_image(index: dict[str, Path], image_id: int, split: str, subtype: str) -> Path | None:
    names = [f"COCO_{subtype}_{image_id:012d}", f"COCO_{split}2014_{image_id:012d}",
             f"{image_id}", f"{image_id:012d}"]  # fmt: skip
    for name in names:
        for ext in IMAGE_SUFFIXES:
            if name + ext in index:
                return index[name + ext]
    return None


def load_vqa(root: Path, split: str) -> list[LensItem]:
    """Items of a VQAv2 / OK-VQA style split (one per question)."""
    qfile, afile = vqa_files(root, split)
    try:
        questions = json.loads(qfile.read_text())
        annotations = json.loads(afile.read_text())
        qs = questions["questions"]
        anns = {a["question_id"]: a for a in annotations["annotations"]}
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise InputError(f"{qfile} / {afile}: not in the VQA format ({e})") from None
    subtype = str(questions.get("data_subtype", f"{split}2014"))
    index = _image_index(root)
    items = []
    for q in qs:
        ann = anns.get(q["question_id"])
        if ann is None:
            raise InputError(f"{afile}: no annotation for question {q['question_id']}")
        image = _vqa_image(index, int(q["image_id"]), split, subtype)
        if image is None:
            raise InputError(
                f"{root}: no image for image_id {q['image_id']} (looked for "
                f"COCO_{subtype}_{int(q['image_id']):012d}.jpg and {q['image_id']}.png|jpg)"
            )
        answers = tuple(str(a["answer"]) for a in ann["answers"])
        label = ann.get("multiple_choice_answer") or Counter(answers).most_common(1)[0][0]
        items.append(
            LensItem(
                id=str(q["question_id"]),
                image=str(image),
                question=q["question"],
                answers=answers,
                label=str(label),
                split=split,
                answer_type=str(ann.get("answer_type", "")),
                question_type=str(ann.get("question_type", "")),
            )  # fmt: skip
        )
    return items


# -- Hateful Memes --------------------------------------------------------------------------
def load_memes(root: Path, split: str) -> list[LensItem]:
    names = [f"{split}.jsonl"] + ([f"{split}_seen.jsonl", f"{split}_unseen.jsonl"])
    path = next((root / n for n in names if (root / n).is_file()), None)
    if path is None:
        raise InputError(f"{root}: no {' or '.join(names)} (Hateful Memes JSONL)")
    items = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            image = root / rec["img"]
            label = str(int(rec["label"])) if "label" in rec else ""
            items.append(
                LensItem(
                    id=str(rec["id"]),
                    image=str(image),
                    question="",
                    answers=(label,),
                    label=label,
                    split=split,
                    text=str(rec.get("text", "")),
                )  # fmt: skip
            )
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
            raise InputError(f"{path}:{n}: expected id, img, label, text ({e})") from None
        if not image.is_file():
            raise InputError(f"{path}:{n}: image {image} does not exist")
    return items


# -- shapes sets built by snellen -------------------------------------------------------------
QUESTION_KINDS = ("colour", "count", "relation", "exists")
_REL_WORD = {"left of": "left of", "right of": "right of", "above": "above", "below": "below"}


def _plural(noun: str) -> str:
    return noun + ("es" if noun.endswith(("x", "s", "sh", "ch")) else "s")


def _shapes_question(
    kind: str, rng: random.Random, split: str
) -> tuple[dict, str, str, str] | None:
    from snellen.concepts.shapes import in_split
    from snellen.concepts.shapes import vocab as V
    from snellen.concepts.shapes.spec import sample_group, sample_pair, sample_single, sample_spec

    solid = V.FLAT_SHAPES + V.SOLID_SHAPES
    if kind == "colour":
        spec = sample_single(rng)
        if spec["shape"] not in solid or "colour" not in spec:
            return None
        q, a, t = f"What colour is the {spec['shape']}?", spec["colour"], "other"
    elif kind == "count":
        spec = sample_group(rng)
        if spec["shape"] not in solid:
            return None
        q, a, t = f"How many {_plural(spec['shape'])} are there?", str(spec["count"]), "number"
    elif kind == "relation":
        spec = sample_pair(rng)
        rel = spec["relation"]
        if rel not in _REL_WORD or spec["shape"] == spec["second"]["shape"]:
            return None
        q = f"What is {_REL_WORD[rel]} the {spec['second']['shape']}?"
        a, t = spec["shape"], "other"
    else:
        spec = sample_spec(rng)
        shown = {spec["shape"]} | ({spec["second"]["shape"]} if "second" in spec else set())
        if not shown <= set(solid):
            return None
        ask = rng.choice(sorted(shown)) if rng.random() < 0.5 else rng.choice(V.FLAT_SHAPES)
        q, a, t = f"Is there a {ask}?", "yes" if ask in shown else "no", "yes/no"
    if not in_split(spec, "heldout" if split != "train" else "train"):
        return None
    return spec, q, a, t


def render_spec(spec: dict, size: int) -> object:
    """A shapes spec drawn from its reference SVG program at ``size`` pixels."""
    from snellen.clip.data import render_svg_reference
    from snellen.concepts.shapes.emit_svg import emit_svg
    from snellen.concepts.shapes.geometry import build_scene

    return render_svg_reference(emit_svg(build_scene(spec)), size)


def build_shapes_vqa(
    root: str | Path, n_val: int = 200, n_train: int = 200, seed: int = 0, size: int = 128
) -> Path:
    """Write a shapes VQA set in the VQAv2 file format: ``val`` questions show at least one
    held-out shape-colour combination, ``train`` none; question kinds rotate through colour,
    count, relation and yes/no existence; every answer is exact (ten identical human
    answers). Returns ``root``."""
    root = Path(root)
    (root / "images").mkdir(parents=True, exist_ok=True)
    for split, n, base in (("val", n_val, 1), ("train", n_train, 1_000_001)):
        questions, annotations = [], []
        for i in range(n):
            kind = QUESTION_KINDS[i % len(QUESTION_KINDS)]
            for attempt in range(500):
                got = _shapes_question(kind, random.Random(f"{seed}/{split}/{i}/{attempt}"), split)  # noqa: S311 - seeded sampling for reproducible data, not security
                if got is not None:
                    break
            else:
                raise RuntimeError(f"no {kind} question found for {split} item {i}")
            spec, question, answer, answer_type = got
            image_id = base + i
            render_spec(spec, size).save(root / "images" / f"{image_id}.png")  # type: ignore[attr-defined]
            questions.append(
                {"image_id": image_id, "question": question, "question_id": image_id * 10}
            )
            annotations.append({
                "question_id": image_id * 10, "image_id": image_id, "question_type": kind,
                "answer_type": answer_type, "multiple_choice_answer": answer,
                "answers": [{"answer": answer, "answer_confidence": "yes", "answer_id": k + 1}
                            for k in range(10)],
            })  # fmt: skip
        info = {"description": "snellen shapes VQA (VAD shapes, exact answers)", "seed": seed}
        (root / f"v2_OpenEnded_shapes_{split}_questions.json").write_text(json.dumps({
            "info": info, "task_type": "Open-Ended", "data_type": "shapes",
            "data_subtype": split, "license": {}, "questions": questions,
        }))  # fmt: skip
        (root / f"v2_shapes_{split}_annotations.json").write_text(json.dumps({
            "info": info, "data_type": "shapes", "data_subtype": split, "license": {},
            "annotations": annotations,
        }))  # fmt: skip
    return root


def build_shapes_classify(
    root: str | Path, n_test: int = 100, n_train: int = 100, seed: int = 0, size: int = 128
) -> Path:
    """Write a folder classification set of single 2-D and 3-D VAD shapes (class = shape):
    ``test`` shows held-out shape-colour combinations only, ``train`` none."""
    from snellen.concepts.shapes import in_split
    from snellen.concepts.shapes import vocab as V
    from snellen.concepts.shapes.spec import sample_single

    root = Path(root)
    solid = V.FLAT_SHAPES + V.SOLID_SHAPES
    for split, n in (("test", n_test), ("train", n_train)):
        for i in range(n):
            shape = solid[i % len(solid)]
            for attempt in range(2000):
                spec = sample_single(random.Random(f"{seed}/{split}/{i}/{attempt}"))  # noqa: S311 - seeded sampling for reproducible data, not security
                if spec["shape"] == shape and in_split(
                    spec, "heldout" if split == "test" else "train"
                ):
                    break
            else:
                continue  # some shapes have no held-out colour on every background
            folder = root / split / shape.replace(" ", "_")
            folder.mkdir(parents=True, exist_ok=True)
            render_spec(spec, size).save(folder / f"{i:05d}.png")  # type: ignore[attr-defined]
    return root


# -- the registry -----------------------------------------------------------------------------
def _work(opts: BuildOptions, name: str) -> Path:
    """Where snellen builds set ``name``: ``--root``, else the run's data folder."""
    if opts.root is not None:
        return opts.root
    if opts.work is None:
        raise InputError(f"--dataset {name}: pass --root DIR (the folder to build it in)")
    return opts.work / name


def _vqa(name: str) -> Builder:
    def make(opts: BuildOptions, arg: str | None) -> VQA:
        r = need_root(name, opts.root)
        return VQA(name, "vqa", r, "val", "train", lambda s: load_vqa(r, s))

    return make


def _shapes_vqa(opts: BuildOptions, arg: str | None) -> VQA:
    r = _work(opts, "shapes-vqa")
    if not list(r.glob("*val*questions*.json")):
        build_shapes_vqa(r)
    ds = VQA("shapes-vqa", "vqa", r, "val", "train", lambda s: load_vqa(r, s))
    ds.notes.append("built by snellen from VAD shapes; val shows held-out combinations")
    return ds


def _shapes_classify(opts: BuildOptions, arg: str | None) -> VQA:
    r = _work(opts, "shapes-classify")
    if not (r / "test").is_dir():
        build_shapes_classify(r)
    ds = folder_questions(r, "shapes-classify")
    ds.class_template = "a {}"
    ds.question = "What shape is in the image?"
    return ds


def _memes(opts: BuildOptions, arg: str | None) -> VQA:
    r = need_root("hateful-memes", opts.root)
    split = "dev" if any((r / n).is_file() for n in ("dev.jsonl", "dev_seen.jsonl")) else "test"
    return VQA(
        "hateful-memes", "binary", r, split, "train", lambda s: load_memes(r, s),
        classes=("not hateful", "hateful"), question="Is the image hateful? Answer yes or no.",
    )  # fmt: skip


def register() -> None:
    from snellen.datasets.base import register_dataset

    register_dataset("vqav2", VQA, _vqa("vqav2"), "VQAv2 files under --root (vqa)")
    register_dataset(
        "okvqa", VQA, _vqa("okvqa"), "OK-VQA files under --root (vqa)", aliases=("ok-vqa",)
    )
    register_dataset("shapes-vqa", VQA, _shapes_vqa, "shapes VQA built by snellen (vqa)")
    register_dataset(
        "shapes-classify", VQA, _shapes_classify, "single VAD shapes by snellen (classify)"
    )
    register_dataset(
        "hateful-memes", VQA, _memes, "Hateful Memes JSONL under --root (binary)",
        aliases=("memes",),
    )  # fmt: skip
