"""Image-to-image similarity of a drawing to its concept's exact reference rendering (every
VAD shape has one): the cosine of two image embeddings, as StarVector and DeTikZify score
drawings with DINO features.

The embeddings come from an image scorer of the scorer registry (``dinov2:facebook/dinov2-
small``: standard with released weights) or, by default and offline, from the EfficientNet-
Lite0 features snellen's realism metric uses (labelled non-standard: an ImageNet classifier,
not a published similarity metric).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from PIL import Image

from snellen.metrics.fidelity import aggregate, records_table
from snellen.records.checkup import Drawing, Reference
from snellen.records.scores import SimilaritySummary, Tables
from snellen.store import Run

__all__ = ["DEFAULT_ENCODER", "reference_similarity"]

DEFAULT_ENCODER = "efficientnet-lite0"
DEFINITION = (
    "cosine similarity of the image embeddings of a drawing and its concept's reference "
    "rendering (concepts with a reference program only)"
)

Encoder = Callable[[list[Image.Image]], torch.Tensor]


def _open(run: Run, ref: str) -> Image.Image:
    im = Image.open(run.resolve_image(ref))
    im.load()
    return im.convert("RGB")


def load_encoder(name: str | None, device: str | None = None) -> tuple[str, bool, Encoder]:
    """``(label, standard, embed)`` for an image scorer name, or the offline default."""
    if name is None or name == DEFAULT_ENCODER:
        from snellen.metrics.realism import feature_extractor

        feats = feature_extractor(DEFAULT_ENCODER, None, device)
        return DEFAULT_ENCODER, False, lambda ims: feats(ims)
    from snellen.score import load_scorer

    scorer = load_scorer(name, **({"device": device} if device else {}))
    return scorer.name, scorer.labels.standard, scorer.embed_images


def reference_similarity(
    run: Run,
    drawings: Sequence[Drawing],
    encoder: str | None = None,
    *,
    device: str | None = None,
    batch_size: int = 32,
) -> tuple[SimilaritySummary | None, dict[str, float]]:
    """The similarity of every rendered drawing whose concept has a rendered reference, and
    their summary (None when no drawing has a reference)."""
    refs = {r.concept_id: r for r in run.load_records(Reference) if r.image}
    scored = [d for d in drawings if d.ok and d.concept_id in refs]
    if not scored:
        return None, {}
    label, standard, embed = load_encoder(encoder, device)

    def embed_all(images: list[str]) -> torch.Tensor:
        out = [
            F.normalize(
                embed([_open(run, r) for r in images[i : i + batch_size]]).float().cpu(), dim=-1
            )
            for i in range(0, len(images), batch_size)
        ]
        return torch.cat(out)

    concepts = sorted({d.concept_id for d in scored})
    ref_emb = dict(zip(concepts, embed_all([str(refs[c].image) for c in concepts]), strict=True))
    draw_emb = embed_all([str(d.image) for d in scored])
    values = {d.key: float(draw_emb[i] @ ref_emb[d.concept_id]) for i, d in enumerate(scored)}
    rows = [
        {"similarity": values[d.key], "category": d.category, "language": d.language,
         "model": d.model, "task": d.task}
        for d in scored
    ]  # fmt: skip
    tables = aggregate(rows, "similarity", ("category", "language", "model", "task"))
    metric = f"similarity[{label}{'' if standard else ', non-standard'}]"
    summary = SimilaritySummary(
        metric=metric,
        standard=standard,
        definition=DEFINITION,
        overall=records_table(tables["all"])[0],
        by=Tables({k: records_table(v) for k, v in tables.items() if k != "all"}),
    )
    return summary, values
