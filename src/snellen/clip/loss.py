"""The contrastive image-text loss (CLIP), written so hard negative captions (NegCLIP) are
extra columns of the image-to-text logits and nothing else changes."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# CLIP clamps the learnable temperature so logits never exceed 100.
MAX_LOGIT_SCALE = math.log(100.0)


def clip_logits(
    image_emb: torch.Tensor,
    text_emb: torch.Tensor,
    logit_scale: torch.Tensor,
    hard_negative_text_emb: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(image->text logits [B, B+M], text->image logits [B, B]) for L2-normalised embeddings.

    ``logit_scale`` is the log of the inverse temperature (clamped to ``MAX_LOGIT_SCALE``).
    ``hard_negative_text_emb`` [M, D] are captions that match no image of the batch; they
    compete with the true caption of every image, which is what NegCLIP adds.
    """
    scale = logit_scale.clamp(max=MAX_LOGIT_SCALE).exp()
    texts = text_emb
    if hard_negative_text_emb is not None and len(hard_negative_text_emb):
        texts = torch.cat([text_emb, hard_negative_text_emb], dim=0)
    per_image = scale * image_emb @ texts.t()
    per_text = scale * text_emb @ image_emb.t()
    return per_image, per_text


def clip_loss(
    image_emb: torch.Tensor,
    text_emb: torch.Tensor,
    logit_scale: torch.Tensor,
    hard_negative_text_emb: torch.Tensor | None = None,
) -> torch.Tensor:
    """Symmetric cross-entropy over the batch similarity matrix; pair i is (image i, text i)."""
    per_image, per_text = clip_logits(image_emb, text_emb, logit_scale, hard_negative_text_emb)
    labels = torch.arange(image_emb.shape[0], device=image_emb.device)
    return (F.cross_entropy(per_image, labels) + F.cross_entropy(per_text, labels)) / 2
