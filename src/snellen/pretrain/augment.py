"""The MoCo-v2 two-view augmentation on whole batches of tensors.

The same operations as aug-plus (random resized crop, horizontal flip, colour jitter with
probability 0.8, grayscale with probability 0.2, optional Gaussian blur), drawn per image
but applied to a batch at once with tensor operations: one ``affine_grid`` +
``grid_sample`` does crop, resize and flip together. On a CPU this is many times faster
than PIL per image, and on a GPU it runs on the device. Every random number comes from
the ``torch.Generator`` passed in, so a batch's views are a pure function of its seed (what
exact resume needs).

Differences from torchvision's ``ColorJitter``: the four jitters are applied in a fixed
order (brightness, contrast, saturation, hue) rather than a random one, and hue is a
rotation of the chroma plane in YIQ space rather than a shift in HSV.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_GREY = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
_RGB2YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])


@dataclass(frozen=True)
class ViewSpec:
    """One MoCo-v2 view: crop area fraction in ``[crop_min, 1]``, aspect ratio in
    [3/4, 4/3], flip p 0.5, jitter (0.4, 0.4, 0.4, 0.1) x ``jitter`` with p 0.8, grayscale
    p 0.2, blur (sigma 0.1-2.0 px at 224 px, scaled to ``size``) with p ``blur``."""

    size: int
    crop_min: float = 0.2
    jitter: float = 1.0
    grey: float = 0.2
    blur: float = 0.5


def _uniform(n: int, lo: float, hi: float, g: torch.Generator) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=g)


def _crop_flip(x: torch.Tensor, spec: ViewSpec, g: torch.Generator) -> torch.Tensor:
    n = len(x)
    area = _uniform(n, spec.crop_min, 1.0, g)
    ratio = torch.exp(_uniform(n, math.log(3 / 4), math.log(4 / 3), g))
    w = torch.sqrt(area * ratio).clamp(max=1.0)  # fractions of the image side
    h = torch.sqrt(area / ratio).clamp(max=1.0)
    cx = (1 - w) * (2 * torch.rand(n, generator=g) - 1)
    cy = (1 - h) * (2 * torch.rand(n, generator=g) - 1)
    flip = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 2] = w * flip, cx
    theta[:, 1, 1], theta[:, 1, 2] = h, cy
    grid = F.affine_grid(theta.to(x.device), [n, 3, spec.size, spec.size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def _jitter(x: torch.Tensor, spec: ViewSpec, g: torch.Generator) -> torch.Tensor:
    n, s = len(x), spec.jitter
    on = (torch.rand(n, generator=g) < 0.8).float().view(n, 1, 1, 1).to(x.device)

    def factor(strength: float) -> torch.Tensor:
        return _uniform(n, max(0.0, 1 - strength * s), 1 + strength * s, g).view(n, 1, 1, 1)

    b, c, sat = factor(0.4).to(x.device), factor(0.4).to(x.device), factor(0.4).to(x.device)
    hue = _uniform(n, -0.1 * s, 0.1 * s, g).to(x.device)
    y = (x * b).clamp(0, 1)
    grey = (y * _GREY.to(x.device)).sum(1, keepdim=True)
    y = ((y - grey.mean((2, 3), keepdim=True)) * c + grey.mean((2, 3), keepdim=True)).clamp(0, 1)
    grey = (y * _GREY.to(x.device)).sum(1, keepdim=True)
    y = ((y - grey) * sat + grey).clamp(0, 1)
    # hue: rotate the (I, Q) chroma plane by 2 pi hue
    yiq = torch.einsum("ij,njhw->nihw", _RGB2YIQ.to(x.device), y)
    cos, sin = torch.cos(2 * math.pi * hue), torch.sin(2 * math.pi * hue)
    i, q = yiq[:, 1], yiq[:, 2]
    cos, sin = cos.view(n, 1, 1), sin.view(n, 1, 1)
    yiq = torch.stack([yiq[:, 0], cos * i - sin * q, sin * i + cos * q], 1)
    y = torch.einsum("ij,njhw->nihw", torch.linalg.inv(_RGB2YIQ).to(x.device), yiq).clamp(0, 1)
    return on * y + (1 - on) * x


def _blur(x: torch.Tensor, spec: ViewSpec, g: torch.Generator) -> torch.Tensor:
    n, scale = len(x), spec.size / 224
    sigma = _uniform(n, 0.1 * scale, 2.0 * scale, g).to(x.device)
    on = (torch.rand(n, generator=g) < spec.blur).to(x.device)
    radius = max(1, math.ceil(3 * 2.0 * scale))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-(t.view(1, -1) ** 2) / (2 * sigma.view(-1, 1) ** 2))
    k = k / k.sum(1, keepdim=True)  # (n, taps): one separable kernel per image
    c = x.shape[1]
    w = k.repeat_interleave(c, 0)
    y = x.reshape(1, n * c, *x.shape[2:])
    y = F.conv2d(F.pad(y, (radius, radius, 0, 0), mode="reflect"), w.view(n * c, 1, 1, -1),
                 groups=n * c)  # fmt: skip
    y = F.conv2d(F.pad(y, (0, 0, radius, radius), mode="reflect"), w.view(n * c, 1, -1, 1),
                 groups=n * c)  # fmt: skip
    y = y.view_as(x)
    return torch.where(on.view(n, 1, 1, 1), y, x)


def augment_view(x: torch.Tensor, spec: ViewSpec, g: torch.Generator) -> torch.Tensor:
    """One view of a uint8 or [0, 1] float batch (N, 3, H, W): cropped to ``spec.size``,
    jittered, normalised with ImageNet's mean and sd."""
    x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
    y = _crop_flip(x, spec, g)
    if spec.jitter > 0:
        y = _jitter(y, spec, g)
    if spec.grey > 0:
        grey = (torch.rand(len(y), generator=g) < spec.grey).to(y.device).view(-1, 1, 1, 1)
        y = torch.where(grey, (y * _GREY.to(y.device)).sum(1, keepdim=True).expand_as(y), y)
    if spec.blur > 0:
        y = _blur(y, spec, g)
    mean = torch.tensor(IMAGENET_MEAN, device=y.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=y.device).view(1, 3, 1, 1)
    return (y - mean) / std


def two_views(
    x: torch.Tensor, spec: ViewSpec, g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """The query and key views of a batch."""
    return augment_view(x, spec, g), augment_view(x, spec, g)
