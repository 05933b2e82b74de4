"""What an evaluation dataset is made of: image sources that load in a worker process, and
the three shapes of test set the tasks take (classification, retrieval, caption selection).

An :class:`ImageSource` is a small picklable description of one image (a file with an
optional crop box, one of snellen's reference SVG programs, or raw pixels), so the data
loader's worker processes decode, crop, render and resize, and only pixel tensors travel
back to the process that runs the model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from snellen.errors import InputError


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


Dataset = Classification | Retrieval | Selection | ImagePairs | Triplets


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
