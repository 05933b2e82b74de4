"""Weights someone released, known by content: the only weights a scorer may call standard.

A local file is matched by its sha256 (:func:`snellen.store.digest.file_sha256`), never by
its name: a fine-tuned checkpoint saved as ``negclip-b32.pt`` is not the paper's NegCLIP. For
OpenAI's CLIP files the digest is part of the published download address
(``.../clip/models/SHA256/ViT-B-32.pt``, as open_clip's pretrained table lists them, and
open_clip checks a download against it). A hub id counts as released when the publisher's own
repository is listed here (the hub serves that repository's files, nobody else's).

A digest that is not published (the ARO authors' NegCLIP file, for one) cannot be listed
until someone computes it from the released file; :func:`register_released` adds one."""

from __future__ import annotations

from dataclasses import dataclass

from snellen.registry import Registry

__all__ = [
    "RELEASED",
    "ReleasedWeights",
    "register_released",
    "released_by_digest",
    "released_by_hub_id",
]


@dataclass(frozen=True)
class ReleasedWeights:
    """``model``: the name papers give it (what published numbers are keyed by); ``arch``:
    the open_clip model name it loads with; ``sha256`` of the released file, or ``hub_id`` of
    the publisher's repository; ``source``: where it was released."""

    model: str
    arch: str
    source: str
    sha256: str = ""
    hub_id: str = ""


#: released weights by sha256 (``sha256:DIGEST``) and by hub id (``hub:ORG/NAME``)
RELEASED: Registry[ReleasedWeights] = Registry("released weights")

_OPENAI = "https://openaipublic.azureedge.net/clip/models/{sha}/{file}"


def register_released(weights: ReleasedWeights) -> None:
    """Make a file with ``weights.sha256`` (or the hub repository ``weights.hub_id``) count as
    the released ``weights.model``."""
    if weights.sha256:
        RELEASED.register(f"sha256:{weights.sha256.lower()}", weights, help=weights.model,
                          replace=True, lazy=False)  # fmt: skip
    if weights.hub_id:
        RELEASED.register(f"hub:{weights.hub_id.lower()}", weights, help=weights.model,
                          replace=True, lazy=False)  # fmt: skip


def released_by_digest(sha256: str | None) -> ReleasedWeights | None:
    """The released weights whose file has this sha256, or None."""
    key = f"sha256:{(sha256 or '').lower()}"
    return RELEASED.get(key) if sha256 and key in RELEASED else None


def released_by_hub_id(hub_id: str) -> ReleasedWeights | None:
    """The released weights the publisher's hub repository ``hub_id`` holds, or None."""
    key = f"hub:{hub_id.strip().lower()}"
    return RELEASED.get(key) if key in RELEASED else None


def _openai(model: str, arch: str, sha: str, file: str) -> ReleasedWeights:
    return ReleasedWeights(model, arch, _OPENAI.format(sha=sha, file=file), sha256=sha)


for _w in (
    _openai("CLIP RN50", "RN50", "afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762", "RN50.pt"),
    _openai("CLIP RN101", "RN101", "8fa8567bab74a42d41c5915025a8e4538c3bdbe8804a470a72f30b0d94fab599", "RN101.pt"),
    _openai("CLIP RN50x4", "RN50x4", "7e526bd135e493cef0776de27d5f42653e6b4c8bf9e0f653bb11773263205fdd", "RN50x4.pt"),
    _openai("CLIP RN50x16", "RN50x16", "52378b407f34354e150460fe41077663dd5b39c54cd0bfd2b27167a4a06ec9aa", "RN50x16.pt"),
    _openai("CLIP RN50x64", "RN50x64", "be1cfb55d75a9666199fb2206c106743da0f6468c9d327f3e0d0a543a9919d9c", "RN50x64.pt"),
    _openai("CLIP ViT-B/32", "ViT-B-32", "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af", "ViT-B-32.pt"),
    _openai("CLIP ViT-B/16", "ViT-B-16", "5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f", "ViT-B-16.pt"),
    _openai("CLIP ViT-L/14", "ViT-L-14", "b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836", "ViT-L-14.pt"),
    _openai("CLIP ViT-L/14@336px", "ViT-L-14-336", "3035c92b350959924f9f00213499208652fc7ea050643e8b385c2dac08641f02", "ViT-L-14-336px.pt"),
    ReleasedWeights("CLIP ViT-B/32", "ViT-B-32", "OpenAI on the hub", hub_id="openai/clip-vit-base-patch32"),
    ReleasedWeights("CLIP ViT-B/16", "ViT-B-16", "OpenAI on the hub", hub_id="openai/clip-vit-base-patch16"),
    ReleasedWeights("CLIP ViT-L/14", "ViT-L-14", "OpenAI on the hub", hub_id="openai/clip-vit-large-patch14"),
    ReleasedWeights("CLIP ViT-L/14@336px", "ViT-L-14-336", "OpenAI on the hub", hub_id="openai/clip-vit-large-patch14-336"),
):  # fmt: skip
    register_released(_w)

# SigLIP, SigLIP 2 and DINOv2 as their publishers released them on the hub
_HUB_FAMILIES = {
    "SigLIP": ("google/siglip-", ("base-patch16-224", "base-patch16-256", "base-patch16-384",
               "base-patch16-512", "large-patch16-256", "large-patch16-384",
               "so400m-patch14-224", "so400m-patch14-384")),
    "SigLIP 2": ("google/siglip2-", ("base-patch16-224", "base-patch16-256", "base-patch16-384",
                 "base-patch16-512", "large-patch16-256", "large-patch16-384",
                 "large-patch16-512", "so400m-patch14-224", "so400m-patch14-384",
                 "so400m-patch16-256", "so400m-patch16-384", "so400m-patch16-512",
                 "giant-opt-patch16-256", "giant-opt-patch16-384")),
    "DINOv2": ("facebook/dinov2-", ("small", "base", "large", "giant")),
}  # fmt: skip
for _family, (_prefix, _sizes) in _HUB_FAMILIES.items():
    for _size in _sizes:
        register_released(
            ReleasedWeights(f"{_family} {_size}", _prefix + _size, "the publisher on the hub",
                            hub_id=_prefix + _size)
        )  # fmt: skip
