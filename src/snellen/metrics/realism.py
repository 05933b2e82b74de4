"""Realism: Fréchet Inception Distance (FID) and Kernel Inception Distance (KID) between a
set of images and a reference set.

Features: ``inception`` is the standard FID network (:mod:`snellen.metrics.inception`,
weights from a local file: ``pt_inception-2015-12-05-6726825d.pth``); ``efficientnet-lite0``
is snellen's offline default (1280-d ImageNet features, :mod:`snellen.metrics.efficientnet`)
and is *non-standard*: its values are labelled so and must not be compared with published
FIDs.

FID = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^1/2). The trace of the square root is
the sum of the square roots of the eigenvalues of S1^1/2 S2 S1^1/2 (symmetric, PSD), found
with two symmetric eigendecompositions in float64: no general matrix square root.
KID = the unbiased MMD^2 with the kernel k(x, y) = (x.y / d + 1)^3, averaged over random
subsets (``subset_size`` capped at the smaller set, so it works for small sets).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from snellen.errors import InputError
from snellen.metrics.images import image_files, load_pixels


# -- the distances, on features --------------------------------------------------------------
def mean_cov(features: torch.Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f = np.asarray(features, dtype=np.float64)
    if f.shape[0] < 2:
        raise InputError("FID needs at least 2 images per set")
    return f.mean(axis=0), np.cov(f, rowvar=False)


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """tr((S1 S2)^1/2) for symmetric PSD S1, S2, via eigh of S1^1/2 S2 S1^1/2."""
    t1 = torch.from_numpy(np.ascontiguousarray(sigma1, dtype=np.float64))
    t2 = torch.from_numpy(np.ascontiguousarray(sigma2, dtype=np.float64))
    w, v = torch.linalg.eigh((t1 + t1.T) / 2)
    root1 = (v * w.clamp(min=0).sqrt()) @ v.T
    m = root1 @ t2 @ root1
    eig = torch.linalg.eigvalsh((m + m.T) / 2)
    return float(eig.clamp(min=0).sqrt().sum())


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray
) -> float:
    diff = np.asarray(mu1, np.float64) - np.asarray(mu2, np.float64)
    covmean = trace_sqrt_product(sigma1, sigma2)
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * covmean)


def fid_from_features(features1: Any, features2: Any) -> float:
    return frechet_distance(*mean_cov(features1), *mean_cov(features2))


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    m, n = len(x), len(y)
    sxx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    syy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(sxx + syy - 2 * kxy.mean())


def kid_from_features(
    features1: Any, features2: Any, subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """(mean, std) of the unbiased polynomial-kernel MMD^2 over ``subsets`` random subsets of
    ``min(subset_size, len(features1), len(features2))`` from each set. With one subset as
    large as both sets there is no sampling: the value is exact."""
    x = np.asarray(features1, np.float64)
    y = np.asarray(features2, np.float64)
    size = min(subset_size, len(x), len(y))
    if size < 2:
        raise InputError("KID needs at least 2 images per set")
    if subsets == 1 and size == len(x) == len(y):
        return _mmd2_unbiased(x, y), 0.0
    rng = np.random.default_rng(seed)
    values = [
        _mmd2_unbiased(
            x[rng.choice(len(x), size, replace=False)], y[rng.choice(len(y), size, replace=False)]
        )
        for _ in range(subsets)
    ]
    return float(np.mean(values)), float(np.std(values))


# -- feature extractors ----------------------------------------------------------------------
def network_batch(device: torch.device) -> int:
    """Images per network pass. On a CPU these 224-299 px convolutional networks are memory
    bound: EfficientNet-Lite0 (batch norms folded, channels-last) took 13-15 ms an image in
    batches of 2-4, 18-20 ms alone and 23-25 ms in batches of 16 (its expanded activations
    no longer fit in cache), so CPU batches stay small."""
    return 64 if device.type == "cuda" else 4


@dataclass
class FeatureExtractor:
    """A network mapping images to feature vectors, with what its numbers may be compared to."""

    name: str
    standard: bool
    size: int
    net: Any  # FIDInceptionV3 or EfficientNetLite0
    device: torch.device
    batch_size: int | None = None

    @torch.no_grad()
    def __call__(self, images: Sequence[Image.Image | str | Path]) -> torch.Tensor:
        out = []
        step = self.batch_size or network_batch(self.device)
        for i in range(0, len(images), step):
            batch = load_pixels(images[i : i + step], self.size).to(self.device)
            batch = batch.contiguous(memory_format=torch.channels_last)
            out.append(self._forward(batch).float().cpu())
        return torch.cat(out) if out else torch.zeros(0, 1)

    def _forward(self, batch: torch.Tensor) -> torch.Tensor:
        if self.name == "inception":
            return self.net(batch)
        from snellen.metrics.efficientnet import normalise

        return self.net.features(normalise(batch / 255))

    @property
    def label(self) -> str:
        return self.name if self.standard else f"{self.name}, non-standard"


def feature_extractor(
    name: str = "efficientnet-lite0",
    weights: str | Path | None = None,
    device: str | torch.device | None = None,
) -> FeatureExtractor:
    """``inception`` (needs ``weights``: the FID Inception file) or ``efficientnet-lite0``
    (weights from the installed package unless given)."""
    from snellen.score.base import default_device

    dev = torch.device(device) if device else default_device()
    if name == "inception":
        if weights is None or not Path(weights).exists():
            raise InputError(
                "the standard FID network needs its weights file: pass --inception-weights "
                "pt_inception-2015-12-05-6726825d.pth (or run without it for the non-standard "
                "efficientnet-lite0 features)"
            )
        from snellen.metrics.inception import INPUT_SIZE, load_fid_inception

        inception = load_fid_inception(weights).to(dev).to(memory_format=torch.channels_last)
        return FeatureExtractor("inception", True, INPUT_SIZE, inception, dev)
    if name == "efficientnet-lite0":
        from snellen.metrics.efficientnet import load_efficientnet_lite0

        lite0 = load_efficientnet_lite0(weights).fold_batchnorm().to(dev)
        lite0 = lite0.to(memory_format=torch.channels_last)
        return FeatureExtractor("efficientnet-lite0", False, 224, lite0, dev)
    raise InputError(f"unknown feature network {name!r}; use inception or efficientnet-lite0")


# -- the metric --------------------------------------------------------------------------------
class Realism:
    """FID and KID of the images passed to ``update`` against a reference set.

    ``reference`` is a folder of images or a list of images; its features are computed once.
    """

    def __init__(
        self,
        reference: str | Path | Sequence[Image.Image | str | Path],
        features: FeatureExtractor | None = None,
        kid_subsets: int = 100,
        kid_subset_size: int = 1000,
    ) -> None:
        self.features = features or feature_extractor()
        refs = image_files(reference) if isinstance(reference, (str, Path)) else list(reference)
        self.reference_count = len(refs)
        self._ref = self.features(refs)
        self.kid_subsets, self.kid_subset_size = kid_subsets, kid_subset_size
        self.reset()

    def reset(self) -> None:
        self._feats: list[torch.Tensor] = []

    def update(self, images: Sequence[Image.Image | str | Path]) -> None:
        if images:
            self._feats.append(self.features(list(images)))

    def compute(self) -> dict[str, Any]:
        feats = torch.cat(self._feats) if self._feats else torch.zeros(0, self._ref.shape[1])
        return self.score_features(feats)

    def against_reference(self, images: Sequence[Image.Image | str | Path]) -> dict[str, Any]:
        """FID and KID of ``images`` alone (the accumulated state is left as it is)."""
        return self.score_features(self.features(list(images)))

    def score_features(self, feats: torch.Tensor) -> dict[str, Any]:
        """FID and KID of a set given by its features (from ``self.features``)."""
        label = self.features.label
        out: dict[str, Any] = {
            "features": self.features.name,
            "standard": self.features.standard,
            "images": len(feats),
            "reference_images": self.reference_count,
            "resize": f"clean-fid convention: PIL bicubic per channel in float32 to "
            f"{self.features.size}x{self.features.size}, not re-quantised (after compositing on "
            "white and padding to a square)",
        }
        if len(feats) < 2:
            out.update({f"fid[{label}]": None, f"kid[{label}]": None, "kid_std": None})
            return out
        kid, kid_std = kid_from_features(feats, self._ref, self.kid_subsets, self.kid_subset_size)
        out.update(
            {
                f"fid[{label}]": fid_from_features(feats, self._ref),
                f"kid[{label}]": kid,
                "kid_std": kid_std,
            }
        )
        return out


def realism(
    images: Sequence[Image.Image | str | Path],
    reference: str | Path | Sequence[Image.Image | str | Path],
    features: FeatureExtractor | None = None,
    **kid_options: Any,
) -> dict[str, Any]:
    """Functional form of :class:`Realism`."""
    metric = Realism(reference, features, **kid_options)
    metric.update(images)
    return metric.compute()
