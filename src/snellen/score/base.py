"""The image-text scorer interface: embed images, embed texts, compare them.

Every scorer returns L2-normalised embeddings, so a similarity is a cosine. Work is done in
batches of ``batch_size`` on the scorer's device (CUDA when present, unless told otherwise),
in float32 unless ``precision`` says otherwise: ``"amp"`` is ``torch.autocast`` at the
device's default type (bfloat16 on the CPU, float16 on CUDA), as clip_benchmark's ``--amp``;
``"bf16"`` runs a bfloat16 copy of the model (weights and activations), as OpenAI's CLIP
runs in float16 on a GPU: the fastest on CPUs with bfloat16 matrix units, since autocast
re-casts weights and leaves PyTorch's fused attention path. Embeddings are float32 always.
"""

from __future__ import annotations

import contextlib
import copy
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from PIL import Image

from snellen.errors import InputError
from snellen.records import ScorerLabels
from snellen.score.released import ReleasedWeights

#: ``precision`` values: float32, torch.autocast, a bfloat16 copy of the model
PRECISIONS = ("fp32", "amp", "bf16")

#: the scorer families with a trainable view (:meth:`Scorer.trainable`), as a user names them
TRAINABLE = "snellen-shapes[:FILE.pt], open-clip:ARCH:WEIGHTS or hf-clip:DIR"


def as_tensor(value: object) -> torch.Tensor:
    """``value``, which a model's untyped forward returned, as the tensor it is."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"expected a tensor from the model, got {type(value).__name__}")
    return value


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def pil_images(images: torch.Tensor) -> list[Image.Image]:
    """A uint8 batch [N, 3, H, W] as PIL images."""
    arr = images.permute(0, 2, 3, 1).cpu().numpy()
    return [Image.fromarray(a) for a in arr]


class TrainableModel(ABC):
    """A loaded scorer's model opened for training (:meth:`Scorer.trainable`): its torch
    ``module``, pixels from uint8 images, text and image embeddings with gradients
    (unnormalised), the learnable temperature, the image tower's parameters (to lock it), and
    :meth:`save`, which writes the trained weights in the format the scorer family loads.
    Fine-tuning (:mod:`snellen.evaluate.negclip`) needs nothing else of a model family."""

    module: torch.nn.Module
    device: torch.device
    image_size: int

    @abstractmethod
    def pixels(self, images: torch.Tensor) -> torch.Tensor:
        """The model's input (on the CPU) for a uint8 batch [N, 3, H, W]."""

    @abstractmethod
    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        """Image embeddings [N, D] of :meth:`pixels`' output, with gradients."""

    @abstractmethod
    def encode_text(self, texts: list[str]) -> torch.Tensor:
        """Text embeddings [N, D], with gradients."""

    @abstractmethod
    def logit_scale(self) -> torch.Tensor:
        """The learnable log temperature (a parameter of :attr:`module`)."""

    @abstractmethod
    def image_parameters(self) -> list[torch.nn.Parameter]:
        """The parameters of the image tower and its projection."""

    @abstractmethod
    def save(self, out: Path, info: dict[str, Any]) -> str:
        """Write the trained model to ``out`` (``info``: how it was trained, kept where the
        format has room); returns the scorer name that loads it."""


class Scorer(ABC):
    """An image-text model behind one interface.

    ``name`` is the registry string that loads it again; ``labels``
    (:class:`~snellen.records.ScorerLabels`) say what its numbers may be compared with:
    ``standard`` only for weights someone released (:mod:`snellen.score.released`; never a
    local checkpoint unless its sha256 is a released file's), ``domain`` (what it was trained
    on) and a free-text ``note``; the default is not standard. ``released``: the released
    weights it runs, when it runs some. ``precision``: ``"fp32"`` (default), ``"amp"`` or
    ``"bf16"`` (see the module doc).
    """

    name: str = ""
    labels: ScorerLabels = ScorerLabels()
    released: ReleasedWeights | None = None
    device: torch.device
    batch_size: int = 64
    model: Any  # the torch module(s), when the scorer has them
    _precision: str = "fp32"
    _fp32_model: Any = None

    @property
    def precision(self) -> str:
        return self._precision

    @precision.setter
    def precision(self, value: str) -> None:
        if value not in PRECISIONS:
            raise InputError(f"precision {value!r}: use one of {', '.join(PRECISIONS)}")
        if value == self._precision:
            return
        model = getattr(self, "model", None)
        if value == "bf16":
            if not isinstance(model, torch.nn.Module):
                raise InputError(f"{self.name}: no torch model to run in bfloat16; use amp")
            self._fp32_model = model
            self.model = copy.deepcopy(model).to(torch.bfloat16)
        elif self._precision == "bf16":
            self.model = self._fp32_model
        self._precision = value

    @property
    def dtype(self) -> torch.dtype:
        """The type pixels go into the model as."""
        return torch.bfloat16 if self._precision == "bf16" else torch.float32

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self._precision != "amp":
            return contextlib.nullcontext()
        return torch.autocast(self.device.type)

    def _text_order(self, texts: Sequence[str]) -> list[int] | None:
        """The order to embed ``texts`` in (shortest first, so a batch is padded only to its
        own longest text), or None to keep theirs."""
        return None

    @abstractmethod
    def _encode_images(self, images: list[Image.Image]) -> torch.Tensor:
        """Unnormalised embeddings [len(images), D] for one batch."""

    @abstractmethod
    def _encode_texts(self, texts: list[str]) -> torch.Tensor:
        """Unnormalised embeddings [len(texts), D] for one batch."""

    @torch.no_grad()
    def embed_images(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """L2-normalised image embeddings [N, D] (float32, on the CPU)."""
        with self._autocast():
            out = [
                self._encode_images(list(images[i : i + self.batch_size])).float().cpu()
                for i in range(0, len(images), self.batch_size)
            ]
        return F.normalize(torch.cat(out), dim=-1) if out else torch.zeros(0, self.dim)

    @torch.no_grad()
    def embed_texts(self, texts: Sequence[str]) -> torch.Tensor:
        """L2-normalised text embeddings [N, D] (float32, on the CPU), in the order given."""
        order = self._text_order(texts) if len(texts) > 1 else None
        seq = list(texts) if order is None else [texts[i] for i in order]
        with self._autocast():
            out = [
                self._encode_texts(seq[i : i + self.batch_size]).float().cpu()
                for i in range(0, len(seq), self.batch_size)
            ]
        if not out:
            return torch.zeros(0, self.dim)
        emb = torch.cat(out)
        if order is not None:
            emb = emb[torch.argsort(torch.tensor(order))]
        return F.normalize(emb, dim=-1)

    def image_transform(self) -> Callable[[Image.Image], torch.Tensor] | None:
        """A picklable function turning one PIL image into this scorer's pixel tensor, so
        images can be decoded and resized in data-loader worker processes (then embed them
        with :meth:`embed_pixels`); None when the scorer only takes PIL images."""
        return None

    def _encode_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} takes PIL images only")

    @torch.no_grad()
    def embed_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        """L2-normalised embeddings [N, D] of a batch made by :meth:`image_transform`."""
        with self._autocast():
            emb = self._encode_pixels(pixels.to(self.device, self.dtype)).float().cpu()
        return F.normalize(emb, dim=-1)

    def similarity(self, images: Sequence[Image.Image], texts: Sequence[str]) -> torch.Tensor:
        """Cosine similarities [len(images), len(texts)]."""
        return self.embed_images(images) @ self.embed_texts(texts).t()

    @property
    def dim(self) -> int:
        return int(self.embed_texts(["a"]).shape[1])

    def trainable(self) -> TrainableModel:
        """This scorer's model opened for training (:class:`TrainableModel`); an
        ``InputError`` for a family that cannot be trained here."""
        raise InputError(f"cannot fine-tune {self.name!r}: fine-tune {TRAINABLE}")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} on {self.device}>"
