"""``snellen-shapes``: the small CLIP snellen trains itself on VAD shapes (``snellen
train-clip``), shipped with the package. ``snellen-shapes:PATH`` loads another checkpoint.

It knows the vocabulary of shape descriptions only: it is a useful fidelity scorer for the
shapes level, and a weak, clearly labelled stand-in for objects and scenes.

:meth:`ShapesScorer.trainable` opens the checkpoint for training (NegCLIP fine-tuning) and
saves the result as a checkpoint ``snellen-shapes:PATH`` loads."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from PIL import Image

from snellen.errors import InputError
from snellen.records import ScorerLabels
from snellen.score.base import Scorer, TrainableModel, as_tensor, default_device

if TYPE_CHECKING:
    from snellen.clip.model import ShapesCLIP
    from snellen.clip.tokenizer import WordTokenizer

WEIGHTS = "snellen-shapes.pt"


def shipped_weights() -> Path:
    return Path(str(resources.files("snellen.score") / "weights" / WEIGHTS))


class ShapesScorer(Scorer):
    def __init__(
        self, path: str | Path | None = None, device: str | torch.device | None = None,
        batch_size: int = 256,
    ) -> None:  # fmt: skip
        from snellen.clip.model import load_checkpoint

        weights = Path(path) if path else shipped_weights()
        if not weights.exists():
            raise InputError(
                f"ShapesCLIP checkpoint {weights} not found; train one with "
                "`snellen train-clip --out FILE.pt` and load it as snellen-shapes:FILE.pt"
            )
        self.name = "snellen-shapes" if path is None else f"snellen-shapes:{path}"
        self.device = torch.device(device) if device else default_device()
        self.batch_size = batch_size
        self.weights = weights
        self.model, self.tokenizer, self.info = load_checkpoint(str(weights))
        self.model.to(self.device)
        self.model.visual.for_inference()
        self.image_size = self.model.config.image_size
        self.labels = ScorerLabels(
            standard=False,
            domain="VAD shapes",
            note="snellen's own small CLIP trained on rendered VAD shapes; not comparable "
            "with published CLIP scores, and weak outside shape descriptions",
        )

    def _encode_images(self, images: list[Image.Image]) -> torch.Tensor:
        from snellen.clip.model import preprocess

        return as_tensor(
            self.model.visual(preprocess(images, self.image_size).to(self.device, self.dtype))
        )

    def image_transform(self) -> Callable[[Image.Image], torch.Tensor]:
        return partial(_pixels, size=self.image_size)

    def _encode_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        return as_tensor(self.model.visual(pixels))

    def _encode_texts(self, texts: list[str]) -> torch.Tensor:
        return as_tensor(self.model.text(self.tokenizer(texts).to(self.device)))

    def trainable(self) -> TrainableModel:
        """The checkpoint's own weights, opened for training (the scorer's image tower has
        its batch norms folded for speed, which cannot train)."""
        return ShapesTraining(self.weights, self.device)


class ShapesTraining(TrainableModel):
    """A ShapesCLIP checkpoint opened for training; :meth:`save` writes a checkpoint."""

    def __init__(self, weights: Path, device: torch.device) -> None:
        from snellen.clip.model import load_checkpoint

        model, tokenizer, info = load_checkpoint(str(weights))
        self.model: ShapesCLIP = model.to(device)
        self.module = self.model
        self.tokenizer: WordTokenizer = tokenizer
        self.info = info
        self.device = device
        self.image_size = model.config.image_size

    def pixels(self, images: torch.Tensor) -> torch.Tensor:
        return images.float().div_(127.5).sub_(1.0)

    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        return as_tensor(self.model.visual(pixels.to(self.device)))

    def encode_text(self, texts: list[str]) -> torch.Tensor:
        return as_tensor(self.model.text(self.tokenizer(texts).to(self.device)))

    def logit_scale(self) -> torch.Tensor:
        return self.model.logit_scale

    def image_parameters(self) -> list[torch.nn.Parameter]:
        return list(self.model.visual.parameters())

    def save(self, out: Path, info: dict[str, Any]) -> str:
        from snellen.clip.model import save_checkpoint

        self.model.cpu()
        save_checkpoint(str(out), self.model, self.tokenizer, {**info, "init_info": self.info})
        return f"snellen-shapes:{out}"


def _pixels(image: Image.Image, size: int) -> torch.Tensor:
    from snellen.clip.model import preprocess

    return preprocess([image], size)[0].contiguous()
