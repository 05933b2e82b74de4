"""``snellen probe``: a frozen backbone's features on a labelled set, scored by a linear
classifier and by weighted kNN, always next to a random-init backbone of the same
architecture (the floor a number must be read against)."""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from snellen.datasets import LabelledSplits, build_dataset
from snellen.errors import InputError
from snellen.probe.metrics import Accuracy, knn_predict, logistic_lbfgs, logistic_sgd
from snellen.records import to_plain

LINEAR_METHODS = ("lbfgs", "sgd")
_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


@dataclass(frozen=True)
class ProbeScores:
    """One backbone's probe results."""

    model: str  # "checkpoint" or "random-init"
    linear_top1: float
    knn_top1: float
    feature_dim: int
    seconds: float


@dataclass(frozen=True)
class ProbeReport:
    """A probe run: what was probed, on what, and the scores of each backbone."""

    checkpoint: str
    arch: str
    dataset: str
    classes: int
    train_size: int
    test_size: int
    seed: int
    size: int
    k: int
    linear: str
    results: list[ProbeScores] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(to_plain(self))


@torch.no_grad()
def extract_features(
    backbone: torch.nn.Module, images: np.ndarray, size: int, batch_size: int = 256
) -> torch.Tensor:
    """Pooled features of uint8 ``images`` ((N, H, W) or (N, H, W, 3)), resized to
    ``size`` and normalised as in pre-training."""
    backbone.eval()
    out = []
    for i in range(0, len(images), batch_size):
        x = torch.from_numpy(np.array(images[i : i + batch_size])).float() / 255.0
        x = x.unsqueeze(-1).expand(*x.shape, 3) if x.ndim == 3 else x
        x = x.permute(0, 3, 1, 2)
        if x.shape[-1] != size or x.shape[-2] != size:
            x = F.interpolate(
                x, size=(size, size), mode="bilinear", align_corners=False, antialias=True
            )
        out.append(backbone((x - _MEAN) / _STD).flatten(1))
    return torch.cat(out)


def score_features(
    train: torch.Tensor,
    train_y: torch.Tensor,
    test: torch.Tensor,
    test_y: torch.Tensor,
    *,
    k: int = 5,
    linear: str = "lbfgs",
    classes: int | None = None,
    seed: int = 0,
) -> tuple[float, float]:
    """(linear top-1, kNN top-1) of cached features."""
    if linear not in LINEAR_METHODS:
        raise InputError(f"--linear {linear}: choose one of {', '.join(LINEAR_METHODS)}")
    classes = classes or int(max(train_y.max(), test_y.max())) + 1
    if linear == "lbfgs":
        scores = logistic_lbfgs(train, train_y, test, classes=classes)
    else:
        scores = logistic_sgd(train, train_y, test, seed=seed, classes=classes)
    lin, knn = Accuracy(), Accuracy()
    lin.update(scores, test_y)
    knn.update(knn_predict(train, train_y, test, k=k, classes=classes), test_y)
    return lin.compute(), knn.compute()


def _cached(cache: Path | None, key: str, make: Any) -> torch.Tensor:
    if cache is None:
        return make()
    path = cache / f"{key}.pt"
    if path.exists():
        return torch.load(path)
    cache.mkdir(parents=True, exist_ok=True)
    value = make()
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    torch.save(value, tmp)
    os.replace(tmp, path)
    return value


def probe(
    checkpoint: str | os.PathLike[str],
    dataset: str = "fashion-mnist",
    *,
    root: str | None = None,
    k: int = 5,
    linear: str = "lbfgs",
    size: int | None = None,
    train_limit: int | None = None,
    test_limit: int | None = None,
    seed: int = 0,
    cache_dir: str | os.PathLike[str] | None = None,
    threads: int | None = None,
    out: str | os.PathLike[str] | None = None,
    data: LabelledSplits | None = None,
) -> ProbeReport:
    """Probe the backbone of ``checkpoint`` and a random-init twin on ``dataset``."""
    from snellen.pretrain import load_backbone
    from snellen.pretrain.moco import make_backbone

    if threads:
        torch.set_num_threads(threads)
    backbone, arch = load_backbone(checkpoint)
    config = torch.load(checkpoint, map_location="cpu", weights_only=False)["config"]
    size = size or int(config["size"])
    width = int(config.get("width", 64))
    if data is None:
        data = build_dataset(dataset, root or None, kind=LabelledSplits, seed=seed)
    splits = data.limit(train_limit, test_limit, seed)
    ty, sy = torch.from_numpy(splits.train_y).long(), torch.from_numpy(splits.test_y).long()
    torch.manual_seed(seed)
    floor, _ = make_backbone(arch, width)
    digest = hashlib.sha256(Path(checkpoint).read_bytes()).hexdigest()[:16]
    data_key = (
        f"{splits.name.replace('/', '_').replace(':', '_')}-{len(ty)}-{len(sy)}-s{seed}-{size}px"
    )
    cache = Path(cache_dir) if cache_dir else None
    results = []
    for name, net, net_key in (
        ("checkpoint", backbone, digest),
        ("random-init", floor, f"{arch}-w{width}-random-s{seed}"),
    ):
        t0 = time.monotonic()
        tr = _cached(
            cache,
            f"{net_key}-{data_key}-train",
            lambda n=net: extract_features(n, splits.train_x, size),
        )
        te = _cached(
            cache,
            f"{net_key}-{data_key}-test",
            lambda n=net: extract_features(n, splits.test_x, size),
        )
        lin, knn = score_features(
            tr, ty, te, sy, k=k, linear=linear, classes=len(splits.classes), seed=seed
        )
        results.append(ProbeScores(name, round(lin, 5), round(knn, 5), tr.shape[1],
                                   round(time.monotonic() - t0, 2)))  # fmt: skip
    report = ProbeReport(
        str(checkpoint), arch, splits.name, len(splits.classes), len(ty), len(sy), seed, size, k,
        linear, results, splits.notes,
    )  # fmt: skip
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(report.to_dict(), indent=2))
    return report
