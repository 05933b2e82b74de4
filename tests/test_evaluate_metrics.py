"""The suite's metrics against the reference implementations on identical inputs:
clip_benchmark's zero-shot accuracy / balanced accuracy and retrieval recall, and ARO's
caption selection (argmax, first maximum wins a tie) with the notebook's macro accuracy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from snellen.evaluate.metrics import (
    RetrievalRecall,
    SelectionAccuracy,
    ZeroShotAccuracy,
    retrieval_recall,
    selection_accuracy,
    zeroshot_metrics,
)


def topk_accuracy(logits: torch.Tensor, target: torch.Tensor, topk=(1,)) -> list[float]:
    """clip_benchmark 1.6.2's ``accuracy`` (top-K of ``torch.topk``, hits over N), whose last
    line calls ``float()`` on a one-element array and so fails under numpy 2; the same
    computation with the conversion done by ``.item()``."""
    pred = logits.topk(max(topk), 1, True, True)[1].t()
    correct = pred.eq(target.view(1, -1).expand_as(pred))
    return [correct[:k].reshape(-1).float().sum().item() / len(target) for k in topk]


def test_zeroshot_matches_clip_benchmark():
    from clip_benchmark.metrics import zeroshot_classification as zc
    from sklearn.metrics import balanced_accuracy_score

    with pytest.raises(TypeError):  # the upstream failure the helper above works around
        zc.accuracy(torch.eye(3), torch.arange(3))
    accuracy = topk_accuracy

    g = torch.Generator().manual_seed(0)
    logits = torch.randn(200, 7, generator=g)
    target = torch.randint(0, 7, (200,), generator=g)
    ours = zeroshot_metrics(logits, target)
    acc1, acc5 = accuracy(logits, target, topk=(1, 5))
    assert ours["acc1"] == pytest.approx(acc1, abs=1e-12)
    assert ours["acc5"] == pytest.approx(acc5, abs=1e-12)
    bal = balanced_accuracy_score(target.numpy(), logits.argmax(1).numpy())
    assert ours["mean_per_class_recall"] == pytest.approx(bal, abs=1e-12)
    m = ZeroShotAccuracy()
    m.update(logits[:50], target[:50])
    m.update(logits[50:], target[50:])
    assert m.compute() == ours


def test_retrieval_matches_clip_benchmark():
    from clip_benchmark.metrics.zeroshot_retrieval import recall_at_k

    g = torch.Generator().manual_seed(1)
    images = F.normalize(torch.randn(30, 8, generator=g), dim=-1)
    owner = torch.arange(30).repeat_interleave(3)  # three captions per image
    texts = F.normalize(images[owner] + 0.9 * torch.randn(90, 8, generator=g), dim=-1)
    ours = retrieval_recall(images, texts, owner, ks=(1, 5, 10))
    scores = texts @ images.t()
    positive = torch.zeros_like(scores, dtype=torch.bool)
    positive[torch.arange(90), owner] = True
    for k in (1, 5, 10):
        ref_i = (recall_at_k(scores, positive, k) > 0).float().mean().item()
        ref_t = (recall_at_k(scores.T, positive.T, k) > 0).float().mean().item()
        assert ours[f"image_retrieval_recall@{k}"] == pytest.approx(ref_i, abs=1e-7)
        assert ours[f"text_retrieval_recall@{k}"] == pytest.approx(ref_t, abs=1e-7)
    assert 0 < ours["image_retrieval_recall@1"] < 1
    m = RetrievalRecall()
    m.update(images[:10], texts[:30], owner[:30])
    m.update(images[10:], texts[30:], owner[30:] - 10)
    assert m.compute() == pytest.approx(ours)


def test_selection_is_aros_argmax_and_macro_accuracy():
    import pandas as pd

    rng = np.random.default_rng(0)
    scores = rng.normal(size=(120, 2)).round(1)  # rounding makes ties
    groups = [f"r{i % 7}" for i in range(120)] + []
    # ARO's VG-Relation: candidates [false, true], right when argmax == 1
    correct = np.argmax(scores, axis=-1) == 1
    res = selection_accuracy(list(torch.tensor(scores)), [1] * 120, groups, 1, {"r3"})
    assert res.accuracy == pytest.approx(correct.mean())
    df = pd.DataFrame({"g": groups, "c": correct}).groupby("g").c.mean()
    assert res.per_group == pytest.approx(df.to_dict())
    assert res.macro_accuracy == pytest.approx(df.drop("r3").mean())
    assert (scores[:, 0] == scores[:, 1]).any()  # ties present and counted against the truth
    # at least 25 cases per group (VG-Attribution): groups of 17-18 cases drop out
    assert (
        selection_accuracy(list(torch.tensor(scores)), [1] * 120, groups, 25).macro_accuracy is None
    )
    m = SelectionAccuracy(drop_groups=frozenset({"r3"}))
    m.update(list(torch.tensor(scores[:60])), [1] * 60, groups[:60])
    m.update(list(torch.tensor(scores[60:])), [1] * 60, groups[60:])
    assert m.compute().macro_accuracy == pytest.approx(res.macro_accuracy)


def test_a_tie_goes_to_the_first_candidate():
    tie = [torch.tensor([0.5, 0.5, 0.1])]
    assert selection_accuracy(tie, [0]).accuracy == 1.0
    assert selection_accuracy(tie, [1]).accuracy == 0.0
