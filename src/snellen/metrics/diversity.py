"""Diversity: the mean pairwise perceptual distance (LPIPS) between images of one concept.

Each image passes through the network once; the distances of all pairs in a group are then
taken from the cached features, so a group of k images costs k network passes, not k(k-1).
Images are resized by the convention of :mod:`snellen.metrics.images` (``size`` pixels,
default 224) and scaled to [-1, 1].
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torch import nn

from snellen.metrics.bootstrap import mean_interval
from snellen.metrics.images import load_uint8


class Distance:
    """A perceptual distance with its label: ``lpips[alex]`` or a non-standard offline one."""

    net: Any  # LPIPS or OfflineLPIPS: features() and distance_from_features()

    def __init__(self, net: nn.Module, name: str, standard: bool, device: torch.device) -> None:
        self.net, self.name, self.standard, self.device = net.to(device), name, standard, device

    @property
    def label(self) -> str:
        return self.name if self.standard else f"{self.name}, non-standard"


def lpips_distance(
    net: str = "alex",
    weights: str | Path | None = None,
    heads: str | Path | None = None,
    device: str | torch.device | None = None,
) -> Distance:
    """LPIPS with the given backbone weights file, or (no file) the offline default:
    EfficientNet-Lite0 features with uniform heads, labelled non-standard."""
    from snellen.metrics.lpips import OfflineLPIPS, load_lpips
    from snellen.score.base import default_device

    dev = torch.device(device) if device else default_device()
    if weights is None:
        return Distance(OfflineLPIPS(), "lpips[efficientnet-lite0, uniform]", False, dev)
    return Distance(load_lpips(net, weights, heads), f"lpips[{net}]", True, dev)


@torch.no_grad()
def mean_pairwise(
    distance: Distance, images: Sequence[Image.Image | str | Path], size: int = 224
) -> float:
    """Mean distance over all unordered pairs of ``images`` (NaN with fewer than two)."""
    if len(images) < 2:
        return float("nan")
    return _mean_pairwise_uint8(distance, load_uint8(list(images), size))


class Diversity:
    """Collects images by group (e.g. concept id, or (concept, language, model)); ``compute``
    returns one row per group with the mean pairwise distance and the number of images."""

    def __init__(self, distance: Distance | None = None, size: int = 224) -> None:
        self.distance = distance or lpips_distance()
        self.size = size
        self.reset()

    def reset(self) -> None:
        self._groups: dict[Hashable, list[torch.Tensor]] = defaultdict(list)
        self._meta: dict[Hashable, dict[str, Any]] = {}

    def update(
        self,
        images: Sequence[Image.Image | str | Path],
        groups: Sequence[Hashable],
        meta: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        # kept as uint8 at the metric's size: 150 kB an image at 224 px
        pixels = load_uint8(list(images), self.size)
        for i, g in enumerate(groups):
            self._groups[g].append(pixels[i])
            if meta is not None:
                self._meta.setdefault(g, dict(meta[i]))

    @torch.no_grad()
    def compute(self) -> pd.DataFrame:
        rows = []
        for g, imgs in self._groups.items():
            value = float("nan")
            if len(imgs) >= 2:
                value = _mean_pairwise_uint8(self.distance, torch.stack(imgs))
            rows.append(
                {**self._meta.get(g, {}), "group": g, "images": len(imgs), "diversity": value}
            )
        return pd.DataFrame(rows, columns=None if rows else ["group", "images", "diversity"])


@torch.no_grad()
def _mean_pairwise_uint8(distance: Distance, pixels: torch.Tensor) -> float:
    from snellen.metrics.realism import network_batch

    step = network_batch(distance.device)
    chunks = [
        distance.net.features(pixels[i : i + step].to(distance.device).float().div(127.5).sub(1))
        for i in range(0, len(pixels), step)
    ]
    feats = [torch.cat(level) for level in zip(*chunks, strict=True)]
    n = len(pixels)
    ia, ib = torch.triu_indices(n, n, offset=1, device=feats[0].device)
    total = 0.0
    for s in range(0, len(ia), 256):
        fa = [f[ia[s : s + 256]] for f in feats]
        fb = [f[ib[s : s + 256]] for f in feats]
        total += float(distance.net.distance_from_features(fa, fb).sum())
    return total / len(ia)


def diversity(
    images: Sequence[Image.Image | str | Path],
    groups: Sequence[Hashable],
    distance: Distance | None = None,
    size: int = 224,
) -> pd.DataFrame:
    """Functional form of :class:`Diversity`."""
    metric = Diversity(distance, size)
    metric.update(images, groups)
    return metric.compute()


def summarise(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Mean diversity over groups with at least two images, per ``by`` columns, with the
    mean's bootstrap interval over groups (``mean_lo``/``mean_hi``)."""
    ok = frame[frame["diversity"].notna()] if len(frame) else frame
    if not len(ok):
        return pd.DataFrame(columns=[*by, "mean", "count"])
    keys = [c for c in by if c in ok.columns]
    if not keys:
        lo, hi = mean_interval(ok["diversity"].tolist())
        return pd.DataFrame([{"mean": float(np.mean(ok["diversity"])), "count": len(ok),
                              "mean_lo": lo, "mean_hi": hi}])  # fmt: skip
    out = ok.groupby(keys, dropna=False)["diversity"].agg(["mean", "count", _lo, _hi])
    return out.rename(columns={"_lo": "mean_lo", "_hi": "mean_hi"}).reset_index()


def _lo(values: pd.Series) -> float | None:
    return mean_interval(values.tolist())[0]


def _hi(values: pd.Series) -> float | None:
    return mean_interval(values.tolist())[1]
