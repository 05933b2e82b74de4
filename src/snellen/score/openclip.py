"""Models through open_clip (``open-clip:ARCH:PRETRAINED_OR_PATH``).

``ARCH`` is an open_clip model name (``ViT-B-32``) or the path of a model config JSON (it is
registered under its file stem); ``PRETRAINED`` is a tag (``laion2b_s34b_b79k``, online) or a
weights file. ``open-clip:hf-hub:ORG/REPO`` and ``open-clip:local-dir:PATH`` pass through to
open_clip's own schemas."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from snellen.errors import InputError
from snellen.imaging import on_white
from snellen.score.base import Scorer, default_device


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``ARCH:PRETRAINED`` -> (model name, pretrained); schema names pass through whole."""
    if spec.startswith(("hf-hub:", "local-dir:")):
        return spec, None
    if ":" not in spec:
        return spec, None
    arch, pretrained = spec.rsplit(":", 1)
    return arch, pretrained or None


class OpenClipScorer(Scorer):
    def __init__(
        self, spec: str, device: str | torch.device | None = None, batch_size: int = 64
    ) -> None:
        import open_clip

        self.name = f"open-clip:{spec}"
        self.device = torch.device(device) if device else default_device()
        self.batch_size = batch_size
        arch, pretrained = parse_spec(spec)
        if arch.endswith(".json"):
            config = Path(arch)
            if not config.exists():
                raise InputError(f"open_clip model config {config} does not exist")
            open_clip.add_model_config(config)
            arch = config.stem
        if pretrained is None and not arch.startswith(("hf-hub:", "local-dir:")):
            raise InputError(
                f"{self.name}: say which weights: open-clip:{arch}:TAG (online) or "
                f"open-clip:{arch}:/path/to/weights.pt (a local file)"
            )
        try:
            model, _, preprocess = open_clip.create_model_and_transforms(
                arch, pretrained=pretrained, device=self.device
            )
        except RuntimeError as e:
            raise InputError(f"cannot load {self.name}: {e}") from None
        self.model = model.eval()
        self.preprocess = preprocess
        self.tokenizer = open_clip.get_tokenizer(arch)
        self.labels = {"standard": True, "domain": arch, "note": ""}

    def _encode_images(self, images: list[Image.Image]) -> torch.Tensor:
        pixels = torch.stack([self.preprocess(on_white(im)) for im in images])
        return self.model.encode_image(pixels.to(self.device))

    def image_transform(self) -> Callable[[Image.Image], torch.Tensor]:
        return partial(_pixels, preprocess=self.preprocess)

    def _encode_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model.encode_image(pixels)

    def _encode_texts(self, texts: list[str]) -> torch.Tensor:
        return self.model.encode_text(self.tokenizer(texts).to(self.device))


def _pixels(image: Image.Image, preprocess: Any) -> torch.Tensor:
    from snellen.imaging import on_white

    return preprocess(on_white(image))
