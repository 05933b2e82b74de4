"""The file readers every dataset shares: the image suffixes, ImageFolder-style class folders,
the IDX format (MNIST, Fashion-MNIST), where Debian installs Fashion-MNIST, and CLIP's prompt
templates."""

from __future__ import annotations

import gzip
import json
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

#: the image files a folder set reads, in the order a lookup by name tries them
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")
#: Debian's ``dataset-fashion-mnist`` (``apt-get install dataset-fashion-mnist``)
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def class_folders(root: Path) -> list[Path]:
    """The class folders of an ImageFolder-style ``root`` (``ROOT/CLASS/IMAGE``), in sorted
    order as torchvision's ImageFolder (hidden folders left out)."""
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def image_files(folder: Path) -> list[Path]:
    """The images under one class folder (sub-folders included), sorted by path."""
    return [p for p in sorted(folder.rglob("*")) if is_image(p) and p.is_file()]


def read_idx(path: Path) -> np.ndarray:
    """A gzipped IDX file (the MNIST format: a magic number whose last byte is the number of
    dimensions, one big-endian 32-bit size per dimension, then unsigned bytes)."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


@cache
def templates(name: str) -> list[str]:
    """CLIP's prompt templates (``imagenet1k``: the 80 of the CLIP paper; ``mnist``)."""
    text = (resources.files("snellen.datasets") / "templates.json").read_text(encoding="utf-8")
    return list(json.loads(text)[name])
