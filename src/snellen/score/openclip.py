"""Models through open_clip (``open-clip:ARCH:PRETRAINED_OR_PATH``).

``ARCH`` is an open_clip model name (``ViT-B-32``) or the path of a model config JSON (it is
registered under its file stem); ``PRETRAINED`` is a tag (``laion2b_s34b_b79k``, online) or a
weights file. ``open-clip:hf-hub:ORG/REPO`` and ``open-clip:local-dir:PATH`` pass through to
open_clip's own schemas.

Texts are embedded shortest first, and for open_clip's ``CLIP`` class (OpenAI CLIP and the
standard open_clip text tower: causal attention, pooled at the end-of-text token or the
first one) the text transformer runs over the first ``L`` positions only, ``L`` being one past
the last pooled position in the batch: under the causal mask no later position reaches a
pooled one, so the embeddings are the same (to float rounding) at a fraction of the cost
(CLIP prompts are about 10 of 77 tokens). Other towers run whole (:func:`trimmable`).

:meth:`OpenClipScorer.trainable` opens the model for training (NegCLIP fine-tuning); the
trained weights are saved as a state dict that ``open-clip:ARCH:FILE`` loads."""

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
from snellen.score.released import ReleasedWeights, released_by_digest, released_by_hub_id
from snellen.store.digest import file_sha256


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``ARCH:PRETRAINED`` -> (model name, pretrained); schema names pass through whole."""
    if spec.startswith(("hf-hub:", "local-dir:")):
        return spec, None
    if ":" not in spec:
        return spec, None
    arch, pretrained = spec.rsplit(":", 1)
    return arch, pretrained or None


def resolve_arch(arch: str) -> str:
    """An open_clip model name; a ``.json`` model config is registered with open_clip and
    named by its file stem."""
    if not arch.endswith(".json"):
        return arch
    import open_clip

    config = Path(arch)
    if not config.exists():
        raise InputError(f"open_clip model config {config} does not exist")
    open_clip.add_model_config(config)
    return config.stem


def identify(arch: str, pretrained: str | None) -> tuple[ReleasedWeights | None, ScorerLabels]:
    """Which released weights ``open-clip:ARCH:PRETRAINED`` runs, and its labels. A weights
    file is known by its sha256 only; a tag of open_clip's pretrained table names released
    weights (open_clip checks OpenAI's files against the digest in their address)."""
    not_released = "not comparable with published numbers"
    if pretrained is None:
        hub = arch.removeprefix("hf-hub:") if arch.startswith("hf-hub:") else ""
        released = released_by_hub_id(hub) if hub else None
        if released is not None:
            return released, ScorerLabels(True, arch, f"{released.model} as released")
        if hub and _in_open_clip_table(hub):
            return None, ScorerLabels(True, arch, f"open_clip's release {hub}")
        return None, ScorerLabels(False, arch, f"{arch} is not a known release: {not_released}")
    path = Path(pretrained).expanduser()
    if path.is_file():
        digest = file_sha256(path)
        released = released_by_digest(digest)
        if released is None:
            note = f"a local checkpoint, not a released file (sha256 {digest[:12]}): {not_released}"
            return None, ScorerLabels(False, arch, note, digest)
        note = f"{released.model} as released ({released.source})"
        return released, ScorerLabels(True, arch, note, digest)
    import open_clip

    cfg = open_clip.get_pretrained_cfg(arch, pretrained)
    if not cfg:
        note = f"{pretrained} is neither a file nor a released tag: {not_released}"
        return None, ScorerLabels(False, arch, note)
    # OpenAI's address carries its file's sha256; open_clip may fetch a hub copy of the same
    # release instead, so the digest names the release here, not the file on disk
    url = str(cfg.get("url", ""))
    released = released_by_digest(url.split("/")[-2] if "openaipublic" in url else None)
    note = f"{released.model} as released" if released else f"open_clip's {pretrained!r} release"
    return released, ScorerLabels(True, arch, note)


def _in_open_clip_table(hub: str) -> bool:
    """Whether open_clip's pretrained table lists the hub repository ``hub`` as a release."""
    import open_clip

    want = hub.strip("/").lower()
    return any(
        str(open_clip.get_pretrained_cfg(arch, tag).get("hf_hub", "")).strip("/").lower() == want
        for arch, tag in open_clip.list_pretrained()
    )


class OpenClipScorer(Scorer):
    def __init__(
        self, spec: str, device: str | torch.device | None = None, batch_size: int = 64
    ) -> None:
        import open_clip

        self.name = f"open-clip:{spec}"
        self.device = torch.device(device) if device else default_device()
        self.batch_size = batch_size
        arch, pretrained = parse_spec(spec)
        self.arch_spec = arch  # as given: a config .json is found again by its path
        arch = resolve_arch(arch)
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
        self.trim = trimmable(self.model)
        self.released, self.labels = identify(arch, pretrained)

    def _encode_images(self, images: list[Image.Image]) -> torch.Tensor:
        pixels = torch.stack([self.preprocess(on_white(im)) for im in images])
        return as_tensor(self.model.encode_image(pixels.to(self.device, self.dtype)))

    def image_transform(self) -> Callable[[Image.Image], torch.Tensor]:
        return partial(_pixels, preprocess=self.preprocess)

    def _encode_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        return as_tensor(self.model.encode_image(pixels))

    def _text_order(self, texts: Sequence[str]) -> list[int] | None:
        if not self.trim:
            return None
        ends = pooled_positions(self.model, self.tokenizer(list(texts)))
        return sorted(range(len(texts)), key=lambda i: int(ends[i]))

    def _encode_texts(self, texts: list[str]) -> torch.Tensor:
        ids = self.tokenizer(texts).to(self.device)
        if self.trim:
            return encode_text_trimmed(self.model, ids)
        return as_tensor(self.model.encode_text(ids))

    def trainable(self) -> TrainableModel:
        return OpenClipTraining(self)


class OpenClipTraining(TrainableModel):
    """An open_clip model opened for training (the scorer's own module: training changes
    the scorer); :meth:`save` writes its state dict."""

    def __init__(self, scorer: OpenClipScorer) -> None:
        self._model: Any = scorer.model
        self.module = scorer.model
        self.preprocess = scorer.preprocess
        self.tokenizer = scorer.tokenizer
        self.device = scorer.device
        self.arch = scorer.arch_spec
        size = self._model.visual.image_size
        self.image_size = int(size[0] if isinstance(size, tuple | list) else size)

    def pixels(self, images: torch.Tensor) -> torch.Tensor:
        return torch.stack([as_tensor(self.preprocess(on_white(im))) for im in pil_images(images)])

    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        return as_tensor(self._model.encode_image(pixels.to(self.device)))

    def encode_text(self, texts: list[str]) -> torch.Tensor:
        # the whole text tower (not the trimmed one of scoring): the gradients are the model's
        return as_tensor(self._model.encode_text(self.tokenizer(texts).to(self.device)))

    def logit_scale(self) -> torch.Tensor:
        return as_tensor(self._model.logit_scale)

    def image_parameters(self) -> list[torch.nn.Parameter]:
        return list(self._model.visual.parameters())

    def save(self, out: Path, info: dict[str, Any]) -> str:
        torch.save(self.module.state_dict(), out)
        return f"open-clip:{self.arch}:{out}"


def trimmable(model: Any) -> bool:
    """Whether :func:`encode_text_trimmed` computes ``model.encode_text`` exactly: open_clip's
    ``CLIP`` with its own ``encode_text``, a causal attention mask and a pooling that reads
    one position at or before the end of text."""
    try:
        from open_clip.model import CLIP
        from open_clip.transformer import Transformer
    except ImportError:  # pragma: no cover - another open_clip layout
        return False
    if not isinstance(model, CLIP) or type(model).encode_text is not CLIP.encode_text:
        return False
    mask = getattr(model, "attn_mask", None)
    if not isinstance(mask, torch.Tensor) or not isinstance(model.transformer, Transformer):
        return False
    n = mask.shape[-1]
    causal = torch.ones(n, n, dtype=torch.bool).triu(1)
    if mask.shape != (n, n) or not torch.equal(torch.isneginf(mask.cpu()), causal):
        return False
    if torch.any(mask.cpu()[~causal] != 0):
        return False
    pool = getattr(model, "text_pool_type", "argmax")
    return pool in ("argmax", "first") or (pool == "eos" and model.text_eos_id is not None)


def pooled_positions(model: Any, ids: torch.Tensor) -> torch.Tensor:
    """The position each row of ``ids`` is pooled at, as open_clip's ``text_global_pool``."""
    pool = getattr(model, "text_pool_type", "argmax")
    if pool == "first":
        return torch.zeros(ids.shape[0], dtype=torch.long, device=ids.device)
    if pool == "eos":
        return as_tensor((ids == model.text_eos_id).int().argmax(dim=-1))
    return ids.argmax(dim=-1)


def encode_text_trimmed(model: Any, ids: torch.Tensor) -> torch.Tensor:
    """``model.encode_text(ids)`` (unnormalised) with the transformer run over the first
    ``max(pooled position) + 1`` positions only (see the module doc; ``trimmable(model)``
    must hold)."""
    from open_clip.transformer import text_global_pool

    length = int(pooled_positions(model, ids).max()) + 1
    ids = ids[:, :length]
    cast_dtype = model.transformer.get_cast_dtype()
    x = model.token_embedding(ids).to(cast_dtype)
    x = x + model.positional_embedding[:length].to(cast_dtype)
    x = model.transformer(x, attn_mask=model.attn_mask[:length, :length])
    x = model.ln_final(x)
    x = text_global_pool(x, ids, model.text_pool_type, eos_token_id=model.text_eos_id)
    if model.text_projection is not None:
        if isinstance(model.text_projection, torch.nn.Linear):
            x = model.text_projection(x)
        else:
            x = x @ model.text_projection
    return as_tensor(x)


def _pixels(image: Image.Image, preprocess: Any) -> torch.Tensor:
    return as_tensor(preprocess(on_white(image)))
