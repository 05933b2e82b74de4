"""``imagefolder``: any ``ROOT/CLASS/IMAGE`` folder set (classes in sorted folder order, as
torchvision's ImageFolder), read by one reader (:mod:`snellen.datasets.files`) as three
kinds:

* a zero-shot test set (``snellen eval``): class names from the folder names (underscores
  to spaces) or from ``--classnames FILE`` (one per line, in the sorted folder order);
  CLIP's 80 ImageNet prompt templates;
* labelled splits (``snellen probe``): ``ROOT/train/CLASS`` and ``ROOT/test/CLASS``, or
  ``ROOT/CLASS`` split 70/30, images resized to 64x64;
* a classification question set (``snellen lens``, also named ``folder``):
  ``ROOT/[SPLIT/]CLASS/IMAGE``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from snellen.datasets.base import BuildOptions
from snellen.datasets.files import IMAGE_SUFFIXES, class_folders, image_files, templates
from snellen.datasets.kinds import (
    VQA,
    Classification,
    ImageSource,
    LabelledSplits,
    require_root,
    stratified_split,
)
from snellen.errors import InputError
from snellen.records.questions import LensItem


# -- a zero-shot test set -----------------------------------------------------------------------
def image_folder(opts: BuildOptions, arg: str | None) -> Classification:
    root = require_root(opts.root, "imagefolder")
    folders = class_folders(root)
    if not folders:
        raise InputError(f"{root} has no class folders; lay images out as ROOT/CLASS/IMAGE")
    names = [f.name.replace("_", " ") for f in folders]
    if opts.classnames is not None:
        if not opts.classnames.exists():
            raise InputError(f"class-name file {opts.classnames} does not exist")
        given = [
            ln.strip()
            for ln in opts.classnames.read_text(encoding="utf-8").splitlines()
            if ln.strip()
        ]
        if len(given) != len(folders):
            raise InputError(
                f"{opts.classnames} has {len(given)} class names but {root} has {len(folders)} "
                f"class folders ({', '.join(f.name for f in folders[:5])}...); write one name per "
                "line, in the sorted order of the folders"
            )
        names = given
    images, labels = [], []
    for k, folder in enumerate(folders):
        for p in image_files(folder):
            images.append(ImageSource(path=str(p)))
            labels.append(k)
    if not images:
        raise InputError(
            f"{root}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in the class folders"
        )
    return Classification(images, labels, names, templates("imagenet1k"))


# -- labelled splits ----------------------------------------------------------------------------
def image_folder_splits(opts: BuildOptions, arg: str | None) -> LabelledSplits:
    """``ROOT/train/CLASS/*`` and ``ROOT/test/CLASS/*``, or ``ROOT/CLASS/*`` split 70/30."""
    root = opts.root
    if root is None or not root.is_dir():
        raise InputError("--dataset imagefolder needs --root DIR (one folder per class)")

    def read(d: Path, classes: list[str]) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = [], []
        for c, name in enumerate(classes):
            for p in image_files(d / name) if (d / name).is_dir() else []:
                xs.append(np.asarray(Image.open(p).convert("RGB").resize((64, 64))))
                ys.append(c)
        if not xs:
            raise InputError(f"{d}: no images in class folders")
        return np.stack(xs), np.array(ys)

    name = f"imagefolder:{opts.root_text or root}"
    if (root / "train").is_dir() and (root / "test").is_dir():
        classes = [p.name for p in class_folders(root / "train")]
        tx, ty = read(root / "train", classes)
        sx, sy = read(root / "test", classes)
        return LabelledSplits(name, classes, tx, ty, sx, sy)
    classes = [p.name for p in class_folders(root)]
    if len(classes) < 2:
        raise InputError(f"{root}: expected train/ and test/, or at least two class folders")
    x, y = read(root, classes)
    tx, sx, ty, sy = stratified_split(x, y, 0.3, opts.seed)
    return LabelledSplits(name, classes, tx, ty, sx, sy, {"split": "stratified 70/30"})


# -- a classification question set ------------------------------------------------------------
def folder_classes(root: Path) -> tuple[str, ...]:
    names: set[str] = set()
    for split_dir in ("train", "val", "test"):
        if (root / split_dir).is_dir():
            names |= {p.name for p in class_folders(root / split_dir)}
    if not names:
        names = {p.name for p in class_folders(root)}
    return tuple(sorted(names))


def load_folder(root: Path, split: str) -> list[LensItem]:
    folder = root / split if (root / split).is_dir() else None
    if folder is None:
        if any((root / s).is_dir() for s in ("train", "val", "test")):
            raise InputError(f"{root}: no {split}/ folder")
        folder = root
    ranked = []
    for cls in class_folders(folder):
        name = cls.name.replace("_", " ")
        for rank, p in enumerate(image_files(cls)):
            item = LensItem(
                id=f"{cls.name}/{p.stem}", image=str(p), question="", answers=(name,),
                label=name, split=split,
            )  # fmt: skip
            ranked.append((rank, cls.name, item))
    # classes interleaved (the first image of every class, then the second, ...), so the
    # first N items (--limit) cover the classes evenly
    items = [item for _, _, item in sorted(ranked, key=lambda r: (r[0], r[1]))]
    if not items:
        raise InputError(f"{folder}: no images in CLASS/ sub-folders")
    return items


def need_root(name: str, root: Path | None) -> Path:
    """``root`` of a question set read from files; an error naming the option otherwise."""
    if root is None:
        raise InputError(f"--dataset {name} needs --root DIR (the folder holding its files)")
    if not root.is_dir():
        raise InputError(f"--root {root}: no such folder")
    return root


def folder_questions(root: Path | None, name: str = "folder") -> VQA:
    r = need_root(name, root)
    split = "test" if (r / "test").is_dir() else "val" if (r / "val").is_dir() else "."
    return VQA(
        name, "classify", r, split, "train" if (r / "train").is_dir() else None,
        lambda s: load_folder(r, s), classes=tuple(c.replace("_", " ") for c in folder_classes(r)),
        question="What is the main object in the image?",
    )  # fmt: skip


def register() -> None:
    from snellen.datasets.base import register_dataset

    register_dataset(
        "imagefolder", Classification, image_folder,
        "ROOT/CLASS/IMAGE folders (--classnames FILE), CLIP's ImageNet prompts", task="zeroshot",
    )  # fmt: skip
    register_dataset(
        "imagefolder", LabelledSplits, image_folder_splits,
        "--root DIR: class folders (train/ test/)",
    )  # fmt: skip
    register_dataset(
        "imagefolder", VQA, lambda o, a: folder_questions(o.root),
        "DIR/[SPLIT/]CLASS/*.png (classify)", aliases=("folder",),
    )  # fmt: skip
