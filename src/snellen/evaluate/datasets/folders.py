"""Zero-shot classification sets: any ImageFolder, and the labelled sets that install from
packages here.

* ``imagefolder``: ``ROOT/CLASS/IMAGE`` (classes in sorted folder order, as torchvision's
  ImageFolder); class names from the folder names (underscores to spaces) or from
  ``--classnames FILE`` (one per line, in the sorted folder order); CLIP's 80 ImageNet
  prompt templates.
* ``fashion-mnist``: the 10,000 test images of Fashion-MNIST (Zalando's 28x28 grey clothing
  photographs), from Debian's ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``).
* ``digits``: scikit-learn's 1,797 handwritten digits (8x8, from the UCI optical digits set),
  which ship inside scikit-learn; CLIP's MNIST template.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from snellen.errors import InputError
from snellen.evaluate.data import Classification, ImageSource, raw_source, require_root
from snellen.imaging import levels_to_uint8

SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = [
    "t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
    "ankle boot",
]  # fmt: skip
FASHION_TEMPLATES = [
    "a photo of a {c}.",
    "a photo of the {c}.",
    "a photo of a {c}, a type of clothing.",
]


@cache
def templates(name: str) -> list[str]:
    """CLIP's prompt templates (``imagenet1k``: the 80 of the CLIP paper; ``mnist``)."""
    text = (resources.files("snellen.evaluate") / "templates.json").read_text(encoding="utf-8")
    return list(json.loads(text)[name])


def image_folder(opts: Any, arg: str | None) -> Classification:
    root = require_root(opts.root, "imagefolder")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
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
        for p in sorted(folder.rglob("*")):
            if p.suffix.lower() in SUFFIXES and p.is_file():
                images.append(ImageSource(path=str(p)))
                labels.append(k)
    if not images:
        raise InputError(f"{root}: no images ({', '.join(sorted(SUFFIXES))}) in the class folders")
    return Classification(images, labels, names, templates("imagenet1k"))


def _idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def fashion_mnist(opts: Any, arg: str | None) -> Classification:
    root = opts.root or FASHION_DIR
    images_file = root / "t10k-images-idx3-ubyte.gz"
    if not images_file.exists():
        raise InputError(
            f"{images_file} not found: install Debian's dataset-fashion-mnist "
            "(apt-get install dataset-fashion-mnist) or pass --root DIR holding the t10k files"
        )
    pixels = _idx(images_file)
    labels = _idx(root / "t10k-labels-idx1-ubyte.gz")
    n = len(pixels) if opts.limit is None else min(opts.limit, len(pixels))
    images = [raw_source(Image.fromarray(pixels[i], "L")) for i in range(n)]
    return Classification(images, [int(x) for x in labels[:n]], FASHION_CLASSES, FASHION_TEMPLATES)


def digits(opts: Any, arg: str | None) -> Classification:
    from sklearn.datasets import load_digits

    d = load_digits()
    n = len(d.images) if opts.limit is None else min(opts.limit, len(d.images))
    images = [raw_source(Image.fromarray(levels_to_uint8(d.images[i], 16), "L")) for i in range(n)]
    return Classification(images, [int(x) for x in d.target[:n]], [str(i) for i in range(10)],
                          templates("mnist"))  # fmt: skip


def register() -> None:
    from snellen.evaluate.datasets.base import register_dataset

    register_dataset(
        "imagefolder",
        "zeroshot",
        image_folder,
        "ROOT/CLASS/IMAGE folders (--classnames FILE), CLIP's ImageNet prompts",
    )
    register_dataset(
        "fashion-mnist",
        "zeroshot",
        fashion_mnist,
        "Fashion-MNIST test set (Debian dataset-fashion-mnist)",
    )
    register_dataset("digits", "zeroshot", digits,
                     "scikit-learn's 1,797 handwritten digits (8x8)")  # fmt: skip
