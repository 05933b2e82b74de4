"""DINOv2 image embeddings through transformers (``dinov2:ID_OR_PATH``), for image-to-image
similarity: a drawing against its concept's exact reference rendering, as StarVector and
DeTikZify compare images with DINO features.

An image-only scorer: :meth:`embed_images` works, text embedding is an error that says so.
The embedding is the CLS token of the last layer after the final layer norm (transformers'
``pooler_output``), the image representation DINOv2's paper evaluates. ``standard`` only
for a hub id (released weights); a local directory is labelled non-standard.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from PIL import Image

from snellen.errors import InputError
from snellen.imaging import on_white
from snellen.score.base import Scorer, default_device
from snellen.score.hf import hf_labels
from snellen.score.released import released_by_hub_id

__all__ = ["Dinov2Scorer", "ImageOnly"]


class ImageOnly(Scorer):
    """A scorer that embeds images only (image-to-image similarity)."""

    image_only = True

    def _encode_texts(self, texts: list[str]) -> torch.Tensor:
        raise InputError(
            f"{self.name} embeds images only (image-to-image similarity); name an image-text "
            "scorer (hf-clip:, open-clip:, siglip:, siglip2:, snellen-shapes) for fidelity"
        )

    @property
    def dim(self) -> int:
        return int(self.embed_images([Image.new("RGB", (32, 32), "white")]).shape[1])


class Dinov2Scorer(ImageOnly):
    def __init__(
        self, model_id: str, device: str | torch.device | None = None, batch_size: int = 64
    ) -> None:
        from transformers import AutoImageProcessor, AutoModel

        self.name = f"dinov2:{model_id}"
        self.device = torch.device(device) if device else default_device()
        self.batch_size = batch_size
        local = Path(model_id).exists()
        try:
            self.model = AutoModel.from_pretrained(model_id, local_files_only=local)
            self.processor = AutoImageProcessor.from_pretrained(model_id, local_files_only=local)
        except OSError as e:
            raise InputError(
                f"cannot load {model_id!r} as DINOv2 with transformers ({e}); give a hub id "
                "(online, e.g. facebook/dinov2-small) or a directory written by save_pretrained "
                "holding the model and its image processor"
            ) from None
        model_type = str(getattr(self.model.config, "model_type", ""))
        if not model_type.startswith("dinov2"):
            raise InputError(f"{model_id!r} is a {model_type!r} model, not DINOv2")
        self.model.to(self.device).eval()
        self.labels = hf_labels(
            model_id, model_type, local, None if local else released_by_hub_id(model_id)
        )

    def _encode_images(self, images: list[Image.Image]) -> torch.Tensor:
        inputs = self.processor(images=[on_white(im) for im in images], return_tensors="pt")
        pixels = inputs["pixel_values"].to(self.device, self.model.dtype)
        out = self.model(pixel_values=pixels)
        pooled: torch.Tensor = out.pooler_output
        return pooled


def load_dinov2(arg: str | None, **options: Any) -> Scorer:
    if not arg:
        raise InputError(
            "dinov2 needs a model: dinov2:facebook/dinov2-small (online) or dinov2:/path"
        )
    return Dinov2Scorer(arg, **options)
