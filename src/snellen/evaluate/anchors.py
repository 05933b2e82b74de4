"""Published numbers to print beside a result when the model and the dataset match the
paper's (SPEC: ARO, Yuksekgonul et al. 2023, Table 2 and its NegCLIP rows)."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Anchor:
    model: str  # what the paper evaluated
    pattern: str  # a regular expression over snellen model names that load that model
    dataset: str
    metric: str
    value: float
    source: str


_CLIP_B32 = r"^(open-clip:ViT-B-32(-quickgelu)?:openai|hf-clip:openai/clip-vit-base-patch32)$"
_NEGCLIP = r"^open-clip:ViT-B-32:.*negclip.*$"
_ARO = "ARO (Yuksekgonul et al., ICLR 2023)"

ANCHORS = [
    Anchor("CLIP ViT-B/32", _CLIP_B32, "aro/vg-relation", "macro_accuracy", 0.59, _ARO),
    Anchor("CLIP ViT-B/32", _CLIP_B32, "aro/vg-attribution", "macro_accuracy", 0.62, _ARO),
    Anchor("CLIP ViT-B/32", _CLIP_B32, "aro/coco-order", "accuracy", 0.46, _ARO),
    Anchor("CLIP ViT-B/32", _CLIP_B32, "aro/flickr-order", "accuracy", 0.59, _ARO),
    Anchor("NegCLIP", _NEGCLIP, "aro/vg-relation", "macro_accuracy", 0.81, _ARO),
    Anchor("NegCLIP", _NEGCLIP, "aro/vg-attribution", "macro_accuracy", 0.71, _ARO),
    Anchor("NegCLIP", _NEGCLIP, "aro/coco-order", "accuracy", 0.86, _ARO),
    Anchor("NegCLIP", _NEGCLIP, "aro/flickr-order", "accuracy", 0.91, _ARO),
]


def anchors_for(model: str, dataset: str) -> list[Anchor]:
    """The published numbers for this model on this dataset (none when they do not match)."""
    return [
        a
        for a in ANCHORS
        if a.dataset == dataset and re.match(a.pattern, model, flags=re.IGNORECASE)
    ]
