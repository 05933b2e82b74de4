"""Ranking a true candidate among others by similarity: the rank (1 = best) and the percentile
of that rank, with ties counted half. Fidelity (:mod:`snellen.metrics.fidelity`), CLIP
retrieval (:mod:`snellen.clip.train`) and recognition grading use this one definition.

``percentile = 100 * (N - 1 - above - ties / 2) / (N - 1)`` over the N valid candidates: 100
when ranked first, 0 when last. With N < 2 there is nothing to rank against and the
percentile is undefined (NaN), never 50 or 100.
"""

from __future__ import annotations

import torch

__all__ = ["rank_and_percentile"]


def rank_and_percentile(
    sim: torch.Tensor, truth: torch.Tensor, valid: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Ranks (1 = best) and percentiles of candidate ``truth[i]`` in row ``i`` of ``sim``
    [N, C]. ``valid`` [N, C] (bool) restricts each row's candidates (e.g. to its category)."""
    sim = sim.double()
    n_rows = sim.shape[0]
    true = sim[torch.arange(n_rows), truth].unsqueeze(1)
    if valid is None:
        valid = torch.ones_like(sim, dtype=torch.bool)
    others = valid.clone()
    others[torch.arange(n_rows), truth] = False
    above = ((sim > true) & others).sum(1).double()
    ties = ((sim == true) & others).sum(1).double()
    n = valid.sum(1).double()
    pct = 100.0 * (n - 1 - above - ties / 2) / (n - 1)
    pct = torch.where(n >= 2, pct, torch.full_like(pct, float("nan")))
    return (above + 1).long(), pct
