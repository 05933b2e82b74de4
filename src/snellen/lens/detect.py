"""Captions composed from detections, for when no generative captioner is given.

The picture is split into regions that differ from its background colour (connected
components; the background is the median colour of the border). The strongest detections
(the largest regions, up to five) are described by what was measured: the colour name
nearest to the region's median colour, the shape its outline measures (corners and their
direction, convexity: :mod:`snellen.lens.outline`) or, where the outline fits no rule or the
name is not in the vocabulary, the one the contrastive scorer ranks first on the region's
crop, the count of regions and each region's place in a 3x3 grid. ``detections-scorer``
names every shape with the scorer alone. Captions read
"a red triangle at the bottom left", "2 shapes: a red triangle at the bottom left and a
blue circle at the top right", "there are 2 shapes", "there is 1 triangle".

This is not a captioner: it writes only what the detections say, and every run that uses
it is labelled ``composed`` (the module note and the run's labels). It suits pictures of
separate objects on a plain ground (diagrams, renders, the shapes sets), not photographs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image

from snellen.lens.captioners import Captioner, Captions
from snellen.lens.outline import outline_shape

# named colours as prototypes in RGB (several per name where one name spans a range)
COLOUR_NAMES: dict[str, tuple[tuple[int, int, int], ...]] = {
    "red": ((214, 39, 40), (200, 0, 0), (255, 40, 40), (160, 20, 30)),
    "orange": ((255, 127, 14), (255, 150, 0), (230, 110, 30)),
    "yellow": ((240, 210, 30), (255, 235, 0), (250, 220, 80)),
    "green": ((44, 160, 44), (0, 128, 0), (60, 200, 60), (20, 100, 40)),
    "blue": ((31, 90, 200), (0, 0, 255), (40, 60, 160), (30, 120, 230)),
    "cyan": ((0, 200, 220), (0, 255, 255)),
    "purple": ((128, 60, 170), (128, 0, 128), (150, 80, 200)),
    "pink": ((240, 120, 190), (255, 160, 200), (255, 105, 180)),
    "brown": ((140, 80, 30), (120, 70, 40)),
    "black": ((20, 20, 20), (0, 0, 0)),
    "gray": ((128, 128, 128), (160, 160, 160)),
    "white": ((250, 250, 250),),
}
ROWS = ("top", "middle", "bottom")
COLUMNS = ("left", "center", "right")
NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


@dataclass(frozen=True)
class Detection:
    """One region: its shape name (with the scorer's probability), colour name, size
    (share of the picture) and centre (0..1)."""

    shape: str
    shape_score: float
    colour: str
    area: float
    x: float
    y: float

    @property
    def place(self) -> str:
        row, col = ROWS[min(2, int(self.y * 3))], COLUMNS[min(2, int(self.x * 3))]
        if row == "middle" and col == "center":
            return "in the middle"
        if row == "middle":
            return f"on the {col}"
        if col == "center":
            return f"at the {row}"
        return f"at the {row} {col}"

    def phrase(self) -> str:
        article = "an" if self.colour[0] in "aeiou" else "a"
        return f"{article} {self.colour} {self.shape} {self.place}"


def _lab(rgb: np.ndarray) -> np.ndarray:
    """CIE Lab of sRGB values in 0..255 (D65), for perceptual colour distances."""
    c = rgb.astype(np.float64) / 255.0
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = c @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.stack(
        [116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1
    )


_PROTO_NAMES = [n for n, protos in COLOUR_NAMES.items() for _ in protos]
_PROTO_LAB = _lab(np.array([p for protos in COLOUR_NAMES.values() for p in protos]))


def colour_name(rgb: Sequence[float]) -> str:
    """The nearest named colour (in Lab) to ``rgb``."""
    d = np.linalg.norm(_PROTO_LAB - _lab(np.asarray(rgb, dtype=float)[None])[0], axis=1)
    return _PROTO_NAMES[int(d.argmin())]


def regions(image: Image.Image, *, min_share: float = 0.002, tolerance: float = 25.0) -> list[
    tuple[np.ndarray, tuple[int, int, int, int]]
]:  # fmt: skip
    """Connected regions that differ from the background (largest first), each as its pixel
    mask and bounding box (x0, y0, x1, y1)."""
    from scipy import ndimage

    a = np.asarray(image.convert("RGB"), dtype=np.float64)
    border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    background = np.median(border, axis=0)
    dist = np.linalg.norm(_lab(a) - _lab(background[None])[0], axis=-1)
    mask = dist > tolerance
    labels, n = ndimage.label(mask, structure=np.ones((3, 3)))
    found = []
    min_pixels = max(6, int(min_share * mask.size))
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        region = labels == index
        if region.sum() < min_pixels:
            continue
        ys, xs = box
        found.append((region, (xs.start, ys.start, xs.stop, ys.stop)))
    found.sort(key=lambda r: -int(r[0].sum()))
    return found


def _crop(
    a: np.ndarray, mask: np.ndarray, box: tuple[int, int, int, int], background: tuple[int, ...]
) -> Image.Image:
    """The region alone on the background colour, centred in a padded square."""
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0)
    pad = max(2, side // 4)
    crop = Image.new("RGB", (side + 2 * pad, side + 2 * pad), background)
    piece = np.where(mask[..., None], a, np.array(background, dtype=np.uint8))
    region = Image.fromarray(piece[y0:y1, x0:x1].astype(np.uint8))
    crop.paste(region, (pad + (side - (x1 - x0)) // 2, pad + (side - (y1 - y0)) // 2))
    return crop


class DetectionCaptioner(Captioner):
    """Captions composed from detections (see the module doc); shapes are named by their
    outline (``outline=True``) or by ``scorer`` over ``shapes`` ("a {colour} {shape}" prompts
    on each region's crop)."""

    kind = "composed"

    def __init__(
        self, scorer: Any, shapes: Sequence[str], *, max_regions: int = 5, outline: bool = True
    ) -> None:
        from snellen.lens.vocab import scorer_identity

        if scorer is None:
            from snellen.score import load_scorer

            scorer = load_scorer("snellen-shapes")
        self.scorer = scorer
        self.shapes = list(shapes)
        self.max_regions = max_regions
        self.outline = outline
        prefix = "detections" if outline else "detections-scorer"
        self.name = f"{prefix}:{scorer_identity(scorer)}"
        self._text_emb: dict[str, torch.Tensor] = {}

    def identity(self) -> dict[str, Any]:
        from snellen.lens.vocab import scorer_identity

        return {**super().identity(), "scorer": scorer_identity(self.scorer),
                "shapes": self.shapes, "max_regions": self.max_regions,
                **({"outline": 2} if self.outline else {}), "version": 1}  # fmt: skip

    def _shape_texts(self, colour: str) -> torch.Tensor:
        if colour not in self._text_emb:
            self._text_emb[colour] = self.scorer.embed_texts(
                [f"a {colour} {s}" for s in self.shapes]
            )
        return self._text_emb[colour]

    def detect(self, image: Image.Image) -> list[Detection]:
        """The strongest detections in ``image`` (largest regions first)."""
        rgb = image.convert("RGB")
        a = np.asarray(rgb)
        w, h = rgb.size
        found = regions(rgb)[: self.max_regions]
        if not found:
            return []
        background = tuple(int(v) for v in np.median(np.concatenate([a[0], a[-1]]), axis=0))
        colours = [colour_name(np.median(a[mask], axis=0)) for mask, _box in found]
        # the outline names what it can; the scorer sees only the regions it leaves
        shapes: list[tuple[str, float] | None] = [None] * len(found)
        if self.outline:
            for i, (mask, _box) in enumerate(found):
                measured, certainty = outline_shape(mask)
                if measured in self.shapes:
                    shapes[i] = (measured, certainty)
        left = [i for i, named in enumerate(shapes) if named is None]
        if left:
            emb = self.scorer.embed_images([_crop(a, *found[i], background) for i in left])
            for i, e in zip(left, emb, strict=True):
                probs = torch.softmax((e[None] @ self._shape_texts(colours[i]).t())[0] * 100, 0)
                best = int(probs.argmax())
                shapes[i] = (self.shapes[best], float(probs[best]))
        out = []
        for (mask, _box), colour, named in zip(found, colours, shapes, strict=True):
            assert named is not None  # noqa: S101 - every region was named above; narrows the type
            ys, xs = np.nonzero(mask)
            out.append(Detection(named[0], named[1], colour,
                                 float(mask.sum()) / (w * h), float(xs.mean()) / w,
                                 float(ys.mean()) / h))  # fmt: skip
        return out

    def caption(
        self, images: Sequence[Image.Image], n: int = 10, top_k: int = 50, seed: int = 0
    ) -> list[Captions]:
        return [self._compose(self.detect(im), n) for im in images]

    @staticmethod
    def _compose(found: list[Detection], n: int) -> Captions:
        if not found:
            return Captions("an empty picture", ("there are no shapes",)[:n], 0.0)
        count = len(found)
        words = NUMBER_WORDS[count] if count < len(NUMBER_WORDS) else str(count)
        if count == 1:
            beam = found[0].phrase()
        else:
            beam = f"{count} shapes: " + ", ".join(d.phrase() for d in found[:-1])
            beam += f" and {found[-1].phrase()}"
        lines = [f"there {'is' if count == 1 else 'are'} {count} shape{'s' * (count > 1)}"]
        by_shape: dict[str, int] = {}
        for d in found:
            by_shape[d.shape] = by_shape.get(d.shape, 0) + 1
        for shape, k in by_shape.items():
            lines.append(f"there {'is' if k == 1 else 'are'} {k} {shape}{'s' * (k > 1)}")
        lines += [f"the {d.shape} is {d.colour}" for d in found]
        lines.append(f"{words} shape{'s' * (count > 1)} in all")
        score = float(np.mean([d.shape_score for d in found]))
        return Captions(beam, (beam, *lines)[:n], score)


def detection_captioner(arg: str | None, **kw: Any) -> Captioner:
    """``detections[:SCORER]``: the scorer LENS already loaded (``scorer=``) unless one is
    named; shapes from the run's vocabulary (``vocab=``), else snellen's shape names."""
    from snellen.lens.vocab import shape_names

    scorer = kw.get("scorer")
    if arg or scorer is None:
        from snellen.score import load_scorer

        scorer = load_scorer(arg or "snellen-shapes", device=kw.get("device"))
    vocab = kw.get("vocab")
    names = [t for t in (vocab.tags if vocab is not None else shape_names()) if t]
    return DetectionCaptioner(scorer, names, outline=kw.get("outline", True))


def scorer_detection_captioner(arg: str | None, **kw: Any) -> Captioner:
    """``detections-scorer[:SCORER]``: as ``detections``, every shape named by the scorer."""
    return detection_captioner(arg, **{**kw, "outline": False})
