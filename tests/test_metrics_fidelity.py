"""Fidelity on examples small enough to check by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from snellen.metrics import Fidelity, aggregate, fidelity, rank_and_percentile
from snellen.records import ScorerLabels
from snellen.score import Scorer

NAN = float("nan")


def test_rank_and_percentile_by_hand():
    sim = torch.tensor(
        [
            [0.9, 0.5, 0.1, 0.0],  # truth 0: first of 4 -> 100
            [0.9, 0.5, 0.1, 0.0],  # truth 1: one above, two below -> 100 * 2/3
            [0.3, 0.3, 0.3, 0.3],  # truth 2: three ties -> 100 * (3 - 1.5)/3 = 50
            [0.9, 0.5, 0.1, 0.0],  # truth 1 among {0, 1} only -> last of 2 -> 0
            [0.9, 0.5, 0.1, 0.0],  # truth 3 alone -> nothing to rank against
        ]
    )
    truth = torch.tensor([0, 1, 2, 1, 3])
    valid = torch.ones(5, 4, dtype=torch.bool)
    valid[3] = torch.tensor([True, True, False, False])
    valid[4] = torch.tensor([False, False, False, True])
    rank, pct = rank_and_percentile(sim, truth, valid)
    assert rank.tolist() == [1, 2, 1, 2, 1]
    want = [100.0, 200 / 3, 50.0, 0.0, NAN]
    for got, w in zip(pct.tolist(), want, strict=True):
        assert (math.isnan(got) and math.isnan(w)) or got == pytest.approx(w)


COLOURS = {"red": (1.0, 0.0, 0.0), "green": (0.0, 1.0, 0.0), "blue": (0.0, 0.0, 1.0)}


class ColourScorer(Scorer):
    """A transparent scorer for checking by hand: an image is its mean RGB, a text the sum
    of the colour words it names."""

    def __init__(self) -> None:
        self.name, self.device, self.batch_size = "colour", torch.device("cpu"), 2
        self.labels = ScorerLabels(False, "colours", "test scorer")

    def _encode_images(self, images: list[Image.Image]) -> torch.Tensor:
        return torch.stack(
            [torch.tensor(np.asarray(im.convert("RGB"), np.float32).mean((0, 1))) for im in images]
        )

    def _encode_texts(self, texts: list[str]) -> torch.Tensor:
        out = torch.full((len(texts), 3), 1e-3)
        for i, t in enumerate(texts):
            for word, rgb in COLOURS.items():
                if word in t:
                    out[i] += torch.tensor(rgb)
        return out


def _solid(rgb: tuple[int, int, int]) -> Image.Image:
    return Image.new("RGB", (8, 8), rgb)


SHAPES = ["a red square", "a green square", "a blue square"]
CASES = [
    # image, description, category, expected percentile
    (_solid((255, 0, 0)), "a red square", "shapes", 100.0),  # best of 3
    (_solid((0, 0, 255)), "a red square", "shapes", 25.0),  # below blue, tied with green
    (_solid((128, 0, 128)), "a blue square", "shapes", 75.0),  # ties red, beats green
    (_solid((0, 200, 0)), "a green apple", "objects", 100.0),  # among the objects only
    (_solid((200, 0, 0)), "a green apple", "objects", 0.0),
]


def test_fidelity_by_hand_and_aggregated():
    images = [c[0] for c in CASES]
    descriptions = [c[1] for c in CASES]
    categories = [c[2] for c in CASES]
    frame = fidelity(
        ColourScorer(), images, descriptions, categories,
        candidates={"shapes": SHAPES, "objects": ["a red apple"]}, batch_size=2,
    )  # fmt: skip
    assert frame["percentile"].tolist() == pytest.approx([c[3] for c in CASES])
    assert frame["candidates"].tolist() == [3, 3, 3, 2, 2]
    assert frame["rank"].tolist() == [1, 2, 1, 1, 2]
    tables = aggregate(frame.assign(language=["svg", "svg", "tikz", "svg", "tikz"]))
    assert tables["all"]["mean"][0] == pytest.approx(60.0)
    by_cat = tables["category"].set_index("category")["mean"].to_dict()
    assert by_cat == pytest.approx({"shapes": 200 / 3, "objects": 50.0})
    assert set(tables) == {"all", "category", "language", "category,language"}


def test_fidelity_update_compute_reset_agree_with_the_functional_form():
    scorer = ColourScorer()
    metric = Fidelity(scorer, candidates={"shapes": SHAPES, "objects": ["a red apple"]})
    for case in (CASES[:2], CASES[2:]):
        metric.update(
            [c[0] for c in case], [c[1] for c in case], [c[2] for c in case],
            meta=[{"language": "svg"} for _ in case],
        )  # fmt: skip
    batched = metric.compute()
    functional = fidelity(
        scorer, [c[0] for c in CASES], [c[1] for c in CASES], [c[2] for c in CASES],
        candidates={"shapes": SHAPES, "objects": ["a red apple"]},
    )  # fmt: skip
    assert batched["percentile"].tolist() == functional["percentile"].tolist()
    assert batched["language"].tolist() == ["svg"] * 5
    metric.reset()
    assert len(metric.compute()) == 0
    # reset keeps the candidates given up front
    metric.update([CASES[0][0]], [CASES[0][1]], ["shapes"])
    assert metric.compute()["candidates"].tolist() == [3]
    # without them, an image competes only with the descriptions seen so far
    bare = Fidelity(scorer)
    bare.update([CASES[0][0]], [CASES[0][1]], ["shapes"])
    only = bare.compute()
    assert only["candidates"].tolist() == [1] and math.isnan(only["percentile"][0])
    with pytest.raises(ValueError, match="same length"):
        metric.update([CASES[0][0]], [], [])
