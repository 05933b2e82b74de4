"""Published numbers to print beside a result when the weights and the dataset are the
paper's (SPEC: ARO, Yuksekgonul et al. 2023, Table 2 and its NegCLIP rows).

A number is matched to the released weights a scorer runs (:mod:`snellen.score.released`,
known by content), never to a model's name: a local fine-tune saved as ``negclip.pt`` gets no
NegCLIP row. The ARO authors' NegCLIP file has no published digest, so its rows appear only
once its sha256 is registered (``register_released(ReleasedWeights("NegCLIP", ...))``)."""

from __future__ import annotations

from snellen.records.evaluation import PublishedNumber
from snellen.score.released import ReleasedWeights

__all__ = ["ANCHORS", "Anchor", "anchors_for"]

#: one published number, keyed by the released model's name and the dataset
Anchor = PublishedNumber

_ARO = "ARO (Yuksekgonul et al., ICLR 2023)"
_B32 = "CLIP ViT-B/32"

ANCHORS: tuple[Anchor, ...] = (
    Anchor(_B32, "macro_accuracy", 0.59, _ARO, "aro/vg-relation"),
    Anchor(_B32, "macro_accuracy", 0.62, _ARO, "aro/vg-attribution"),
    Anchor(_B32, "accuracy", 0.46, _ARO, "aro/coco-order"),
    Anchor(_B32, "accuracy", 0.59, _ARO, "aro/flickr-order"),
    Anchor("NegCLIP", "macro_accuracy", 0.81, _ARO, "aro/vg-relation"),
    Anchor("NegCLIP", "macro_accuracy", 0.71, _ARO, "aro/vg-attribution"),
    Anchor("NegCLIP", "accuracy", 0.86, _ARO, "aro/coco-order"),
    Anchor("NegCLIP", "accuracy", 0.91, _ARO, "aro/flickr-order"),
)


def anchors_for(released: ReleasedWeights | None, dataset: str) -> list[Anchor]:
    """The published numbers for these released weights on this dataset (none for weights
    that are not a known release)."""
    if released is None:
        return []
    return [a for a in ANCHORS if a.dataset == dataset and a.model == released.model]
