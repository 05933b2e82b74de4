"""SigLIP and SigLIP 2 by the names users know: ``siglip:ID_OR_PATH`` and
``siglip2:ID_OR_PATH`` through transformers, or ``siglip:ARCH:TAG`` / ``siglip2:ARCH:TAG``
through open_clip (``siglip:ViT-B-16-SigLIP:webli``, ``siglip2:ViT-B-16-SigLIP2:webli``).

SigLIP scores a pair with a sigmoid, ``sigmoid(exp(t) * cos + b)``, not a softmax over a
batch; :meth:`SiglipScorer.probabilities` gives that score. Fidelity ranks candidates by the
cosine, which orders them exactly as the sigmoid does (``exp(t) > 0``), so the percentile is
the same either way.

Labels: ``standard`` only for weights recognised as released: a hub id (not a local
directory) whose config is a SigLIP / SigLIP 2 model, or an open_clip (ARCH, TAG) pair in
open_clip's list of pretrained weights. A local directory or weights file is labelled
non-standard, since snellen cannot tell what it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from snellen.errors import InputError
from snellen.imaging import on_white
from snellen.records import ScorerLabels
from snellen.score.base import Scorer, default_device
from snellen.score.hf import hf_labels
from snellen.score.released import released_by_hub_id

__all__ = ["FAMILIES", "SiglipScorer", "load_siglip", "load_siglip_1", "load_siglip_2"]

#: registry prefix -> the transformers model types it accepts
FAMILIES: dict[str, tuple[str, ...]] = {"siglip": ("siglip",), "siglip2": ("siglip2",)}
_MAX_TEXT = {"siglip": 64, "siglip2": 64}


class SiglipScorer(Scorer):
    """A SigLIP or SigLIP 2 dual encoder through transformers."""

    def __init__(
        self,
        family: str,
        model_id: str,
        device: str | torch.device | None = None,
        batch_size: int = 64,
    ) -> None:
        from transformers import AutoModel, AutoProcessor

        self.name = f"{family}:{model_id}"
        self.family = family
        self.device = torch.device(device) if device else default_device()
        self.batch_size = batch_size
        local = Path(model_id).exists()
        try:
            self.model = AutoModel.from_pretrained(model_id, local_files_only=local)
            self.processor: Any = AutoProcessor.from_pretrained(  # type: ignore[no-untyped-call]
                model_id, local_files_only=local
            )
        except OSError as e:
            raise InputError(
                f"cannot load {model_id!r} as {family} with transformers ({e}); give a hub id "
                "(online, e.g. google/siglip-base-patch16-224 or google/siglip2-base-patch16-224) "
                "or a directory written by save_pretrained holding the model and its processor"
            ) from None
        model_type = str(getattr(self.model.config, "model_type", ""))
        if model_type not in FAMILIES[family]:
            raise InputError(
                f"{model_id!r} is a {model_type or type(self.model).__name__} model, not "
                f"{family}: use {'siglip2' if model_type == 'siglip2' else 'siglip'}:"
                f"{model_id} or hf-clip:{model_id}"
            )
        self.model.to(self.device).eval()
        self.labels = hf_labels(
            model_id, model_type, local, None if local else released_by_hub_id(model_id)
        )

    @staticmethod
    def _features(out: Any) -> torch.Tensor:
        return out if isinstance(out, torch.Tensor) else out.pooler_output

    def _encode_images(self, images: list[Image.Image]) -> torch.Tensor:
        # the image processor itself: the processor's call defaults would override a saved
        # SigLIP 2 patch budget
        inputs = self.processor.image_processor(
            images=[on_white(im) for im in images], return_tensors="pt"
        )
        args = {k: v.to(self.device) for k, v in inputs.items() if k != "input_ids"}
        args["pixel_values"] = args["pixel_values"].to(self.model.dtype)
        return self._features(self.model.get_image_features(**args))

    def _encode_texts(self, texts: list[str]) -> torch.Tensor:
        # both families were trained on texts padded to a fixed length
        inputs = self.processor(
            text=texts, padding="max_length", truncation=True,
            max_length=min(_MAX_TEXT[self.family], self._text_limit()), return_tensors="pt",
        )  # fmt: skip
        args = {
            k: v.to(self.device) for k, v in inputs.items() if k in ("input_ids", "attention_mask")
        }
        if self.family == "siglip":
            args.pop("attention_mask", None)  # SigLIP attends to its padding, as trained
        return self._features(self.model.get_text_features(**args))

    def _text_limit(self) -> int:
        return int(getattr(self.model.config.text_config, "max_position_embeddings", 64))

    @torch.no_grad()
    def probabilities(self, images: Sequence[Image.Image], texts: Sequence[str]) -> torch.Tensor:
        """SigLIP's sigmoid score ``sigmoid(exp(t) * cos + b)`` [len(images), len(texts)]."""
        cos = self.similarity(images, texts)
        scale = float(self.model.logit_scale.detach().float().exp().cpu())
        bias = float(self.model.logit_bias.detach().float().cpu())
        return torch.sigmoid(cos * scale + bias)


def load_siglip(family: str, arg: str | None, **options: Any) -> Scorer:
    """The scorer for ``FAMILY:ARG``: open_clip when ``ARG`` is ``ARCH:TAG`` naming a SigLIP
    architecture, transformers otherwise."""
    if not arg:
        raise InputError(
            f"{family} needs a model: {family}:google/{family}-base-patch16-224 (transformers), "
            f"{family}:/path/to/save_pretrained_dir, or {family}:ViT-B-16-"
            f"{'SigLIP2' if family == 'siglip2' else 'SigLIP'}:webli (open_clip)"
        )
    arch, sep, tag = arg.rpartition(":")
    if sep and "siglip" in arch.lower() and not Path(arg).exists():
        return _open_clip_siglip(family, arch, tag, **options)
    return SiglipScorer(family, arg, **options)


def _open_clip_siglip(family: str, arch: str, tag: str, **options: Any) -> Scorer:
    import open_clip

    from snellen.score.openclip import OpenClipScorer

    want2 = family == "siglip2"
    if ("siglip2" in arch.lower()) != want2:
        raise InputError(
            f"{arch} is {'a SigLIP 2' if not want2 else 'a SigLIP (1)'} architecture: name it "
            f"{'siglip2' if not want2 else 'siglip'}:{arch}:{tag}"
        )
    scorer = OpenClipScorer(f"{arch}:{tag}", **options)
    released = (arch, tag) in set(open_clip.list_pretrained())
    scorer.name = f"{family}:{arch}:{tag}"
    scorer.labels = ScorerLabels(
        released,
        family,
        ""
        if released
        else f"{arch} with weights {tag}: not an open_clip release, not "
        "comparable with published numbers",
    )
    return scorer


def load_siglip_1(arg: str | None, **options: Any) -> Scorer:
    return load_siglip("siglip", arg, **options)


def load_siglip_2(arg: str | None, **options: Any) -> Scorer:
    return load_siglip("siglip2", arg, **options)
