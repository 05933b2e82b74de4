"""Image-text scorers (CLIP and kin) behind one interface, named by a string.

=================================  ===================================================
``hf-clip:ID_OR_PATH``             CLIP / SigLIP through transformers
``open-clip:ARCH:PRETRAINED``      open_clip (a tag, or a weights file; ARCH may be a
                                   model config JSON)
``siglip:ID_OR_PATH``               SigLIP through transformers (sigmoid scoring)
``siglip:ARCH:TAG``                SigLIP through open_clip (``ViT-B-16-SigLIP:webli``)
``siglip2:ID_OR_PATH``             SigLIP 2 through transformers
``siglip2:ARCH:TAG``               SigLIP 2 through open_clip
``dinov2:ID_OR_PATH``              DINOv2 image embeddings (image-to-image only)
``snellen-shapes[:PATH]``          the small CLIP snellen trains itself (shipped)
=================================  ===================================================

A scorer whose ``image_only`` is True (DINOv2) embeds images only: it scores a drawing
against a reference image, not against a description.

>>> from snellen.score import load_scorer
>>> scorer = load_scorer("snellen-shapes")
>>> scorer.similarity([image], ["a red circle"]).shape  # doctest: +SKIP
torch.Size([1, 1])
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from snellen.errors import InputError
from snellen.registry import Registry, parse_name
from snellen.score.base import Scorer, default_device

__all__ = [
    "DEFAULT_SCORER",
    "SCORERS",
    "Scorer",
    "default_device",
    "list_scorers",
    "load_scorer",
    "register",
    "scorer_name_for",
]

DEFAULT_SCORER = "snellen-shapes"

_Factory = Callable[..., Scorer]
#: scorer prefixes -> factories ``factory(ARGS or None, **options)``
SCORERS: Registry[_Factory] = Registry("scorer")


def register(prefix: str, factory: _Factory | str, help: str, *, replace: bool = False) -> None:
    """Make ``prefix:ARGS`` (or bare ``prefix``) load ``factory(ARGS or None, **options)``
    (``factory`` may be a ``"module:function"`` string, imported on first use)."""
    SCORERS.register(prefix, factory, help=help, replace=replace)


def _hf(arg: str | None, **kw: Any) -> Scorer:
    from snellen.score.hf import HFClipScorer

    if not arg:
        raise InputError(
            "hf-clip needs a model: hf-clip:openai/clip-vit-base-patch32 or hf-clip:/path"
        )
    return HFClipScorer(arg, **kw)


def _open_clip(arg: str | None, **kw: Any) -> Scorer:
    from snellen.score.openclip import OpenClipScorer

    if not arg:
        raise InputError(
            "open-clip needs ARCH:PRETRAINED, e.g. open-clip:ViT-B-32:laion2b_s34b_b79k"
        )
    return OpenClipScorer(arg, **kw)


def _shapes(arg: str | None, **kw: Any) -> Scorer:
    from snellen.score.shapes import ShapesScorer

    return ShapesScorer(arg or None, **kw)


register(
    "siglip",
    "snellen.score.siglip:load_siglip_1",
    "SigLIP: siglip:HUB_ID or siglip:LOCAL_DIR (transformers), siglip:ARCH:TAG (open_clip)",
)
register(
    "siglip2",
    "snellen.score.siglip:load_siglip_2",
    "SigLIP 2: siglip2:HUB_ID or siglip2:LOCAL_DIR (transformers), siglip2:ARCH:TAG (open_clip)",
)
register(
    "dinov2",
    "snellen.score.dino:load_dinov2",
    "DINOv2 image embeddings (image-to-image similarity only): dinov2:HUB_ID or dinov2:LOCAL_DIR",
)
register("hf-clip", _hf, "CLIP or SigLIP through transformers: hf-clip:HUB_ID or hf-clip:LOCAL_DIR")
register(
    "open-clip", _open_clip,
    "open_clip: open-clip:ARCH:TAG_OR_WEIGHTS_FILE (ARCH may be a model config .json)",
)  # fmt: skip
register(
    "snellen-shapes", _shapes, "snellen's own small CLIP for VAD shapes (shipped; non-standard)"
)


def list_scorers() -> dict[str, str]:
    """Registered scorer prefixes and what they load."""
    return SCORERS.help()


def load_scorer(name: str = DEFAULT_SCORER, **options: Any) -> Scorer:
    """The scorer named by ``name`` (see the module doc), or by the path of a model snellen
    wrote (:func:`scorer_name_for`). ``options``: ``device``, ``batch_size``."""
    if parse_name(name)[0] not in SCORERS and Path(name).expanduser().exists():
        name = scorer_name_for(name)
    if parse_name(name)[0] not in SCORERS:
        known = ", ".join(f"{p}:..." if p != DEFAULT_SCORER else p for p in SCORERS)
        raise InputError(
            f"unknown scorer {name!r} (and no such file); use one of {known}, or the path of a "
            "model snellen wrote"
        )
    factory, arg = SCORERS.resolve(name)
    return factory(arg, **options)


def scorer_name_for(path: str | Path) -> str:
    """The scorer name that loads a model file or folder as snellen writes them: a snellen
    shapes CLIP checkpoint (``snellen train-clip``) -> ``snellen-shapes:PATH``; a folder of
    ``save_pretrained`` -> ``hf-clip:PATH``. A bare open_clip weights file does not say its
    architecture: an error says how to name it."""
    p = Path(path).expanduser()
    if p.is_dir():
        if (p / "config.json").is_file():
            return f"hf-clip:{path}"
        raise InputError(
            f"{path}: a folder without config.json is not a model snellen can load; give a "
            "save_pretrained folder (hf-clip:DIR) or a checkpoint file"
        )
    from snellen.clip.model import is_checkpoint

    if is_checkpoint(p):
        return f"snellen-shapes:{path}"
    raise InputError(
        f"{path} is a weights file that does not say its architecture: load it as "
        f"open-clip:ARCH:{path} (ARCH: the open_clip model it was trained from, e.g. ViT-B-32)"
    )
