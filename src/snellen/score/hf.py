"""CLIP and SigLIP models through transformers (``hf-clip:ID_OR_PATH``): a hub id when
online, a local directory (``save_pretrained`` output) when offline.

:meth:`HFClipScorer.trainable` opens the model for training (NegCLIP fine-tuning); the
trained model is saved with ``save_pretrained``, a directory ``hf-clip:DIR`` loads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from snellen.errors import InputError
from snellen.imaging import on_white
from snellen.records import ScorerLabels
from snellen.score.base import Scorer, TrainableModel, as_tensor, default_device, pil_images
from snellen.score.released import ReleasedWeights, released_by_hub_id


def hf_labels(
    model_id: str, model_type: str, local: bool, released: ReleasedWeights | None
) -> ScorerLabels:
    """Standard only for a publisher's released hub repository; a local directory is somebody's
    copy or fine-tune, whatever its name."""
    if released is not None:
        return ScorerLabels(True, model_type, f"{released.model} as released ({released.source})")
    why = (
        "a local model directory, not a released model"
        if local
        else f"{model_id} is not a known released model (snellen.score.released)"
    )
    return ScorerLabels(False, model_type, f"{why}: not comparable with published numbers")


def _to_rgb(images: list[Image.Image]) -> list[Image.Image]:
    return [on_white(im) for im in images]


class HFClipScorer(Scorer):
    def __init__(
        self, model_id: str, device: str | torch.device | None = None, batch_size: int = 64
    ) -> None:
        from transformers import AutoModel, AutoProcessor

        self.name = f"hf-clip:{model_id}"
        self.device = torch.device(device) if device else default_device()
        self.batch_size = batch_size
        local = Path(model_id).exists()
        try:
            self.model = AutoModel.from_pretrained(model_id, local_files_only=local)
            self.processor = AutoProcessor.from_pretrained(model_id, local_files_only=local)  # type: ignore[no-untyped-call]
        except OSError as e:
            raise InputError(
                f"cannot load {model_id!r} with transformers ({e}); give a hub id (online) or "
                "a directory written by save_pretrained holding the model and its processor"
            ) from None
        if not hasattr(self.model, "get_image_features") or not hasattr(
            self.model, "get_text_features"
        ):
            raise InputError(
                f"{model_id!r} is a {type(self.model).__name__}, not a dual image-text encoder "
                "(CLIP, SigLIP, ...)"
            )
        self.model.to(self.device).eval()
        model_type = getattr(self.model.config, "model_type", "")
        # SigLIP was trained on texts padded to the full length; CLIP on the shortest padding.
        self._padding: Any = "max_length" if "siglip" in model_type else True
        self.released = None if local else released_by_hub_id(model_id)
        self.labels = hf_labels(model_id, model_type, local, self.released)

    @staticmethod
    def _features(out: Any) -> torch.Tensor:
        # transformers 5 may return a model output with the projected features as pooler_output
        if isinstance(out, torch.Tensor):
            return out
        return as_tensor(out.pooler_output)

    def _encode_images(self, images: list[Image.Image]) -> torch.Tensor:
        inputs = self.processor(images=_to_rgb(images), return_tensors="pt")
        pixels = inputs["pixel_values"].to(self.device, self.model.dtype)
        return self._features(self.model.get_image_features(pixel_values=pixels))

    def image_transform(self) -> Callable[[Image.Image], torch.Tensor]:
        return partial(_pixels, image_processor=self.processor.image_processor)

    def _encode_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        return self._features(
            self.model.get_image_features(pixel_values=pixels.to(self.model.dtype))
        )

    def _text_order(self, texts: Sequence[str]) -> list[int] | None:
        if self._padding is not True:  # padded to the full length: the order does not matter
            return None
        ids = self.processor.tokenizer(list(texts), truncation=True)["input_ids"]
        return sorted(range(len(texts)), key=lambda i: len(ids[i]))

    def _encode_texts(self, texts: list[str]) -> torch.Tensor:
        inputs = self.processor(
            text=texts, padding=self._padding, truncation=True, return_tensors="pt"
        )
        inputs = {k: v.to(self.device) for k, v in inputs.items() if k != "pixel_values"}
        return self._features(self.model.get_text_features(**inputs))

    def trainable(self) -> TrainableModel:
        return HFTraining(self)


class HFTraining(TrainableModel):
    """A transformers dual encoder opened for training (the scorer's own module: training
    changes the scorer); :meth:`save` writes a ``save_pretrained`` directory."""

    def __init__(self, scorer: HFClipScorer) -> None:
        self._model: Any = scorer.model
        self.module = scorer.model
        self.processor: Any = scorer.processor
        self._padding = scorer._padding
        self.device = scorer.device
        self.image_size = int(self._model.config.vision_config.image_size)

    def pixels(self, images: torch.Tensor) -> torch.Tensor:
        return as_tensor(
            self.processor(images=_to_rgb(pil_images(images)), return_tensors="pt")["pixel_values"]
        )

    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        out = self._model.get_image_features(pixel_values=pixels.to(self.device))
        return HFClipScorer._features(out)

    def encode_text(self, texts: list[str]) -> torch.Tensor:
        inputs = self.processor(
            text=texts, padding=self._padding, truncation=True, return_tensors="pt"
        )
        inputs = {k: v.to(self.device) for k, v in inputs.items() if k != "pixel_values"}
        return HFClipScorer._features(self._model.get_text_features(**inputs))

    def logit_scale(self) -> torch.Tensor:
        return as_tensor(self._model.logit_scale)

    def image_parameters(self) -> list[torch.nn.Parameter]:
        tower = getattr(self._model, "vision_model", None)
        if tower is None:
            raise InputError(f"cannot find the image tower of {type(self._model).__name__}")
        params = list(tower.parameters())
        projection = getattr(self._model, "visual_projection", None)
        if projection is not None:
            params += list(projection.parameters())
        return params

    def save(self, out: Path, info: dict[str, Any]) -> str:
        self._model.save_pretrained(out)
        self.processor.save_pretrained(out)
        return f"hf-clip:{out}"


def _pixels(image: Image.Image, image_processor: Any) -> torch.Tensor:
    return as_tensor(
        image_processor(images=_to_rgb([image]), return_tensors="pt")["pixel_values"][0]
    )
