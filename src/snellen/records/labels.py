"""What a scorer's numbers may be compared with (:class:`ScorerLabels`), one record for every
scorer and every reader (the scoring step, the evaluation suite, LENS)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ScorerLabels"]


@dataclass(frozen=True)
class ScorerLabels:
    """``standard``: the scorer runs weights someone released and others report numbers for
    (a known file by its sha256, or a registry's released tag); only then may its numbers sit
    beside published ones. The default is not standard, so a scorer that says nothing is never
    taken for a published model. ``domain``: what it was trained on. ``note``: why it is not
    standard, or what to keep in mind. ``weights_sha256``: the digest of the weights file,
    when it is known."""

    standard: bool = False
    domain: str = ""
    note: str = ""
    weights_sha256: str | None = None

    def summary(self) -> dict[str, Any]:
        """``standard``, ``domain`` and ``note`` as a dict (and ``weights_sha256`` when it is
        known): the scorer's entry in a run's ``metrics.json``."""
        out: dict[str, Any] = {"standard": self.standard, "domain": self.domain, "note": self.note}
        if self.weights_sha256 is not None:
            out["weights_sha256"] = self.weights_sha256
        return out
