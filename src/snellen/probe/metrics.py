"""Probe metrics and classifiers on cached features: top-1 accuracy (a torchmetrics-style
class and its functional twin), the weighted k-nearest-neighbour vote of Wu et al. (2018)
used by MoCo (cosine similarity, weights exp(s / 0.07)), and multinomial logistic
regression fitted by L-BFGS or by the MoCo linear-evaluation SGD recipe."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def accuracy(preds: torch.Tensor, target: torch.Tensor) -> float:
    """Top-1 accuracy; ``preds`` are class indices (N,) or scores (N, C)."""
    if preds.ndim == 2:
        preds = preds.argmax(1)
    return float((preds == target).float().mean()) if len(target) else float("nan")


class Accuracy:
    """Top-1 accuracy accumulated over batches (``update`` / ``compute`` / ``reset``)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.correct = 0
        self.total = 0

    def update(self, preds: torch.Tensor, target: torch.Tensor) -> None:
        if preds.ndim == 2:
            preds = preds.argmax(1)
        self.correct += int((preds == target).sum())
        self.total += int(target.numel())

    def compute(self) -> float:
        return self.correct / self.total if self.total else float("nan")


def knn_predict(
    train: torch.Tensor,
    train_y: torch.Tensor,
    test: torch.Tensor,
    k: int = 5,
    temperature: float = 0.07,
    classes: int | None = None,
    chunk: int = 1024,
) -> torch.Tensor:
    """Weighted kNN: each of the ``k`` most cosine-similar training features votes for its
    class with weight exp(similarity / temperature)."""
    classes = classes or int(train_y.max()) + 1
    train = F.normalize(train.float(), dim=1)
    out = []
    for i in range(0, len(test), chunk):
        q = F.normalize(test[i : i + chunk].float(), dim=1)
        sim, idx = (q @ train.T).topk(min(k, len(train)), dim=1)
        votes = torch.zeros(len(q), classes)
        votes.scatter_add_(1, train_y[idx], (sim / temperature).exp())
        out.append(votes.argmax(1))
    return torch.cat(out)


def _standardise(train: torch.Tensor, test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mean, std = train.mean(0), train.std(0) + 1e-6
    return (train - mean) / std, (test - mean) / std


def logistic_lbfgs(
    train: torch.Tensor,
    train_y: torch.Tensor,
    test: torch.Tensor,
    c: float = 1.0,
    max_iter: int = 500,
    classes: int | None = None,
) -> torch.Tensor:
    """Multinomial logistic regression on standardised features, minimising
    ``C * sum(cross-entropy) + ||W||^2 / 2`` (scikit-learn's objective, bias not penalised)
    with L-BFGS; returns test scores (N, C)."""
    classes = classes or int(train_y.max()) + 1
    x, xt = _standardise(train.double(), test.double())
    w = torch.zeros(x.shape[1], classes, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(classes, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1, max_iter=max_iter, tolerance_grad=1e-6,
                            tolerance_change=1e-9, history_size=20, line_search_fn="strong_wolfe")  # fmt: skip
    lam = 1.0 / (c * len(x))

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(x @ w + b, train_y) + 0.5 * lam * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return (xt @ w + b).float()


def logistic_sgd(
    train: torch.Tensor,
    train_y: torch.Tensor,
    test: torch.Tensor,
    epochs: int = 100,
    lr: float = 30.0,
    batch_size: int = 256,
    seed: int = 0,
    classes: int | None = None,
) -> torch.Tensor:
    """MoCo's linear evaluation: a linear layer on frozen (here: cached, un-augmented)
    features, SGD with momentum 0.9, lr 30, no weight decay, lr x0.1 at 60% and 80% of the
    epochs. Returns test scores (N, C)."""
    classes = classes or int(train_y.max()) + 1
    g = torch.Generator().manual_seed(seed)
    layer = torch.nn.Linear(train.shape[1], classes)
    with torch.no_grad():
        layer.weight.normal_(0, 0.01, generator=g)
        layer.bias.zero_()
    opt = torch.optim.SGD(layer.parameters(), lr=lr, momentum=0.9, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.MultiStepLR(
        opt, [int(epochs * 0.6), int(epochs * 0.8)], gamma=0.1
    )
    x = train.float()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), batch_size):
            idx = order[i : i + batch_size]
            loss = F.cross_entropy(layer(x[idx]), train_y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    with torch.no_grad():
        return layer(test.float())


def as_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()
