"""The kinds of dataset :func:`snellen.datasets.build_dataset` returns, one dataclass each:
the test sets of the evaluation suite (classification, retrieval, caption selection, spatial
selection, image pairs, triplets), labelled train/test splits (what a probe fits and scores)
and questions about images (:class:`VQA`, what LENS answers).

An :class:`ImageSource` is a small picklable description of one image (a file with an
optional crop box, one of snellen's reference SVG programs, or raw pixels), so the data
loader's worker processes decode, crop, render and resize, and only pixel tensors travel
back to the process that runs the model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from snellen.errors import InputError
from snellen.records.questions import LensItem


@dataclass(frozen=True)
class ImageSource:
    """One image: ``path`` (cropped to ``bbox`` = x, y, w, h when given), ``svg`` (a
    reference program, rasterised at ``render_size``) or ``raw`` (mode, width, height, bytes)."""

    path: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    svg: str | None = None
    raw: tuple[str, int, int, bytes] | None = None

    def load(self, render_size: int = 224) -> Image.Image:
        if self.svg is not None:
            from snellen.clip.data import render_svg_reference

            return render_svg_reference(self.svg, render_size).convert("RGB")
        if self.raw is not None:
            mode, w, h, data = self.raw
            return Image.frombytes(mode, (w, h), data).convert("RGB")
        assert self.path is not None  # noqa: S101 - an invariant that narrows the type, not a check of input
        with Image.open(self.path) as im:
            image = im.convert("RGB")
        if self.bbox is not None:
            left, top, width, height = self.bbox
            image = image.crop((left, top, left + width, top + height))
        return image

    def describe(self) -> str:
        return self.path or ("<svg>" if self.svg is not None else "<pixels>")


@dataclass
class Classification:
    """Images with one class label each, the class names, and the prompt templates
    (``{c}`` stands for a class name) whose text embeddings are averaged per class."""

    images: list[ImageSource]
    labels: list[int]
    classnames: list[str]
    templates: list[str]
    info: dict[str, object] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.images)

    def take(self, n: int) -> Classification:
        return Classification(
            self.images[:n], self.labels[:n], self.classnames, self.templates, self.info
        )


@dataclass
class Retrieval:
    """Images, each with one or more captions that describe it (COCO has five)."""

    images: list[ImageSource]
    captions: list[list[str]]
    info: dict[str, object] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.images)

    def take(self, n: int) -> Retrieval:
        return Retrieval(self.images[:n], self.captions[:n], self.info)


@dataclass
class Selection:
    """Image-caption selection (ARO, SugarCrepe): each image has candidate captions, and
    ``answer[i]`` is the index of the true one in ``options(seed)[i]``. Candidates keep the
    reference code's order, since a tie goes to the first candidate (argmax), as there.

    ``group[i]`` names the breakdown a case belongs to (relation, attribute pair,
    perturbation set); ``metric`` is ``accuracy`` (over all cases) or ``macro`` (the mean of
    per-group accuracies, over groups with at least ``min_count`` cases and not in
    ``drop_groups``). ``draw`` regenerates random candidates for another seed (order
    perturbations); it is None when the candidates are fixed."""

    images: list[ImageSource]
    candidates: list[list[str]]
    answer: list[int]
    group: list[str]
    metric: str = "accuracy"
    min_count: int = 1
    drop_groups: frozenset[str] = frozenset()
    chance: float | None = None
    draw: Callable[[int], list[list[str]]] | None = None
    info: dict[str, object] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.images)

    def options(self, seed: int) -> list[list[str]]:
        return self.candidates if self.draw is None else self.draw(seed)[: len(self.images)]

    def take(self, n: int) -> Selection:
        draw = self.draw
        return Selection(
            self.images[:n], self.candidates[:n], self.answer[:n], self.group[:n], self.metric,
            self.min_count, self.drop_groups, self.chance,
            None if draw is None else (lambda seed: draw(seed)[:n]), self.info,
        )  # fmt: skip


@dataclass
class Spatial(Selection):
    """What's Up (Kamath et al., 2023): image-caption selection where the true caption is
    the first candidate and the others move the objects to another placement. The controlled
    sets photograph each object pair in four placements: ``set_key[i]`` names case i's
    object pair (the four pictures that share it) and ``slot[i]`` its placement
    (``left``, ``right``, ``on``, ``under``, ``in-front``, ``behind`` ...); ``pairs`` are the
    placements that form a pair (left/right, on/under). Empty for the QA sets, which have
    no sets."""

    set_key: list[str] = field(default_factory=list)
    slot: list[str] = field(default_factory=list)
    pairs: tuple[tuple[str, str], ...] = ()

    def take(self, n: int) -> Spatial:
        return Spatial(
            self.images[:n], self.candidates[:n], self.answer[:n], self.group[:n], self.metric,
            self.min_count, self.drop_groups, self.chance, None, self.info,
            self.set_key[:n], self.slot[:n], self.pairs,
        )  # fmt: skip


@dataclass
class ImagePairs:
    """Two images and two captions per case, caption c describing image c (Winoground,
    ColorSwap): ``images[2 * k + c]`` is case k's image c and ``captions[k][c]`` its caption.
    ``tags`` maps a breakdown's name (``tag``, ``collapsed_tag`` ...) to each case's value;
    ``ids`` are the cases' own ids."""

    images: list[ImageSource]
    captions: list[list[str]]
    tags: dict[str, list[str]] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)
    info: dict[str, object] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.captions)

    def take(self, n: int) -> ImagePairs:
        return ImagePairs(
            self.images[: 2 * n], self.captions[:n],
            {k: v[:n] for k, v in self.tags.items()}, self.ids[:n], self.info,
        )  # fmt: skip


@dataclass
class Triplets:
    """SugarCrepe++ (Dumpala et al., 2024): one image, two captions that describe it in
    different words (``positives[i]``) and one hard negative with the words of the first
    (``negatives[i]``); ``group[i]`` is the subset."""

    images: list[ImageSource]
    positives: list[list[str]]
    negatives: list[str]
    group: list[str]
    info: dict[str, object] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.images)

    def take(self, n: int) -> Triplets:
        return Triplets(
            self.images[:n], self.positives[:n], self.negatives[:n], self.group[:n], self.info
        )


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


@dataclass
class VQA:
    """Questions about images, as LENS asks them: a ``task`` (``vqa``; ``classify`` and
    ``binary`` sets ask one question of every image), the evaluation split, maybe a train
    split (for few-shot examples and the majority baseline), and for classification its
    classes. ``loader`` reads the items of a split."""

    name: str
    task: str
    root: Path
    eval_split: str
    train_split: str | None
    loader: Callable[[str], list[LensItem]]
    classes: tuple[str, ...] = ()
    class_template: str = "a photo of a {}"
    question: str = ""
    notes: list[str] = field(default_factory=list)

    def items(self, split: str | None = None) -> list[LensItem]:
        return self.loader(split or self.eval_split)

    def train_items(self) -> list[LensItem]:
        if self.train_split is None:
            return []
        try:
            return self.loader(self.train_split)
        except InputError:
            return []


#: the test sets of the evaluation suite (what ``snellen eval`` tasks take)
EvalDataset = Classification | Retrieval | Selection | ImagePairs | Triplets
EVAL_KINDS: tuple[type[EvalDataset], ...] = (
    Classification, Retrieval, Selection, ImagePairs, Triplets,
)  # fmt: skip
#: every kind :func:`snellen.datasets.build_dataset` returns
Dataset = EvalDataset | LabelledSplits | VQA


def require_file(path: Path, what: str, fix: str) -> Path:
    """``path`` when it exists; else an InputError naming it, what it should be and the fix."""
    if not path.exists():
        raise InputError(f"{path} not found: expected {what}; {fix}")
    return path


def read_json(path: Path, what: str, fix: str) -> object:
    import json

    require_file(path, what, fix)
    try:
        with path.open(encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: not valid JSON ({e}); expected {what}") from None


def raw_source(image: Image.Image) -> ImageSource:
    image = image.convert("RGB")
    return ImageSource(raw=("RGB", image.width, image.height, image.tobytes()))


def require_root(root: Path | None, name: str) -> Path:
    if root is None:
        raise InputError(f"{name} reads its files from a directory: pass --root DIR")
    if not root.is_dir():
        raise InputError(
            f"{root} is not a directory; pass the folder holding {name}'s files as --root"
        )
    return root


def stratified_split(
    x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int
) -> tuple[np.ndarray, ...]:
    """(train_x, test_x, train_y, test_y): a seeded split that keeps the class shares, for
    the labelled sets that ship without one."""
    from sklearn.model_selection import train_test_split

    return tuple(train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y))
