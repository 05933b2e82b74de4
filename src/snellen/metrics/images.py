"""Turning images (PIL images or files) into the pixel tensors the metric networks take,
with one resizing convention everywhere: RGB composited on white, padded to a square on
white, then clean-fid's "clean" resize to the network's size: each channel resized
separately as a 32-bit float image with PIL's (antialiasing) bicubic filter, clipped to
[0, 255], and *not* rounded back to 8 bits.

clean-fid showed that FID moves with the resizing filter and with quantisation. Resizing
the 8-bit RGB image directly is not the same: PIL clips and rounds between its horizontal
and vertical passes, which moves pixels next to sharp edges (rendered drawings are full of
them) by up to ten grey levels. :func:`load_pixels` gives the float result FID and KID use;
:func:`load_uint8` rounds it to 8 bits (compact storage for LPIPS, which has no standard
resize; it differs from the float result by rounding only).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from snellen.errors import InputError
from snellen.imaging import on_white, square_on_white

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")


def open_image(image: Image.Image | str | Path) -> Image.Image:
    if isinstance(image, Image.Image):
        return image
    try:
        im = Image.open(image)
        im.load()
        return im
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read image {image}: {e}") from None


def clean_resize(image: Image.Image | str | Path, size: int) -> np.ndarray:
    """float32 [size, size, 3] in [0, 255]: the convention above, for one image."""
    im = square_on_white(on_white(open_image(image)))
    rgb = np.asarray(im, dtype=np.float32)
    if im.size == (size, size):
        return rgb
    channels = [
        np.asarray(
            Image.fromarray(rgb[:, :, c], mode="F").resize((size, size), Image.Resampling.BICUBIC)
        )
        for c in range(3)
    ]
    return np.clip(np.stack(channels, axis=2), 0, 255)


def load_pixels(images: Sequence[Image.Image | str | Path], size: int) -> torch.Tensor:
    """float32 [N, 3, size, size] in [0, 255] by the convention above."""
    if not images:
        return torch.zeros(0, 3, size, size)
    batch = np.stack([clean_resize(im, size) for im in images])
    return torch.from_numpy(batch).permute(0, 3, 1, 2).contiguous()


def load_uint8(images: Sequence[Image.Image | str | Path], size: int) -> torch.Tensor:
    """uint8 [N, 3, size, size]: :func:`load_pixels` rounded to 8 bits."""
    return load_pixels(images, size).round_().to(torch.uint8)


def image_files(folder: str | Path) -> list[Path]:
    """The image files under ``folder`` (recursively), sorted."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"reference image folder {root} does not exist or is not a folder")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise InputError(f"{root} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return files
