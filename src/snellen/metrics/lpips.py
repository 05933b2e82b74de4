"""LPIPS (Zhang et al., 2018): a learned perceptual distance between two images.

Each image goes through a backbone (AlexNet or VGG-16 conv features, torchvision's
architectures); at five ReLU taps the features are unit-normalised along channels, the
squared difference is weighted per channel by a linear head (a 1x1 convolution with one
output), averaged over space, and summed over taps. Inputs are RGB in [-1, 1], first
shifted and scaled by the fixed per-channel constants of the paper's scaling layer.

Weights come from local files: the backbone (a torchvision state dict, e.g.
``alexnet-owt-7be5be79.pth`` or ``vgg16-397923af.pth``) and the linear heads (the LPIPS v0.1
files ``alex.pth`` / ``vgg.pth``). Without files, :func:`offline_lpips` gives a labelled
non-standard distance on EfficientNet-Lite0 features with uniform heads.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torchvision import models

# ReLU taps: (start, end) slices of torchvision's ``features`` Sequential
TAPS = {
    "alex": ((0, 2), (2, 5), (5, 8), (8, 10), (10, 12)),
    "vgg": ((0, 4), (4, 9), (9, 16), (16, 23), (23, 30)),
}
CHANNELS = {"alex": (64, 192, 384, 256, 256), "vgg": (64, 128, 256, 512, 512)}
# the paper's scaling layer: x -> (x - shift) / scale, for inputs in [-1, 1]
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
EPS = 1e-10


def unit_normalise(x: torch.Tensor) -> torch.Tensor:
    return x / (x.pow(2).sum(dim=1, keepdim=True).sqrt() + EPS)


class LPIPS(nn.Module):
    """``forward(a, b)`` -> distances [N] for image batches in [-1, 1]; ``features(x)`` and
    ``distance_from_features(fa, fb)`` split the work so pairwise distances within a set
    cost one backbone pass per image."""

    def __init__(self, net: str = "alex") -> None:
        super().__init__()
        if net not in TAPS:
            raise ValueError(f"net must be one of {sorted(TAPS)}")
        self.net = net
        backbone = (models.alexnet if net == "alex" else models.vgg16)(weights=None).features
        self.slices = nn.ModuleList(nn.Sequential(*backbone[a:b]) for a, b in TAPS[net])
        for m in self.slices.modules():
            if isinstance(m, nn.ReLU):
                m.inplace = False
        self.heads = nn.ModuleList(nn.Conv2d(c, 1, 1, bias=False) for c in CHANNELS[net])
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    def load_backbone(self, state: dict[str, torch.Tensor]) -> None:
        """A torchvision AlexNet/VGG-16 state dict (whole model or ``features`` only)."""
        feats = {
            k.removeprefix("features."): v
            for k, v in state.items()
            if not k.startswith("classifier")
        }
        for i, (a, b) in enumerate(TAPS[self.net]):
            part = {}
            for k, v in feats.items():
                idx, _, rest = k.partition(".")
                if idx.isdigit() and a <= int(idx) < b:
                    part[f"{int(idx) - a}.{rest}"] = v
            self.slices[i].load_state_dict(part)

    def load_heads(self, state: dict[str, torch.Tensor]) -> None:
        """The LPIPS linear heads: keys ``lin{k}.model.1.weight`` (the released files)."""
        for k, head in enumerate(self.heads):
            key = next(
                (
                    n
                    for n in (f"lin{k}.model.1.weight", f"lin{k}.weight", f"{k}.weight")
                    if n in state
                ),
                None,
            )
            if key is None:
                raise KeyError(f"no weight for head {k} in the LPIPS head file")
            assert isinstance(head, nn.Conv2d)  # noqa: S101 - an invariant that narrows the type, not a check of input
            head.weight.data.copy_(state[key].view_as(head.weight))

    shift: torch.Tensor
    scale: torch.Tensor

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        h = (x - self.shift) / self.scale
        out = []
        for s in self.slices:
            h = s(h)
            out.append(unit_normalise(h))
        return out

    def distance_from_features(
        self, fa: list[torch.Tensor], fb: list[torch.Tensor]
    ) -> torch.Tensor:
        total = torch.zeros(fa[0].shape[0], device=fa[0].device)
        for head, a, b in zip(self.heads, fa, fb, strict=True):
            total = total + head((a - b) ** 2).mean(dim=(1, 2, 3))
        return total

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.distance_from_features(self.features(a), self.features(b))


class OfflineLPIPS(nn.Module):
    """LPIPS's recipe on EfficientNet-Lite0's seven stage outputs with uniform heads (every
    channel weighted 1, i.e. 2 - 2 cos per position): non-standard, for offline use."""

    def __init__(self) -> None:
        super().__init__()
        from snellen.metrics.efficientnet import load_efficientnet_lite0

        self.backbone = load_efficientnet_lite0()
        self.requires_grad_(False)
        self.eval()

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        # inputs in [-1, 1] are exactly this network's input scaling
        return [unit_normalise(h) for h in self.backbone.stages(x)]

    def distance_from_features(
        self, fa: list[torch.Tensor], fb: list[torch.Tensor]
    ) -> torch.Tensor:
        total = torch.zeros(fa[0].shape[0], device=fa[0].device)
        for a, b in zip(fa, fb, strict=True):
            total = total + ((a - b) ** 2).sum(dim=1).mean(dim=(1, 2))
        return total

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.distance_from_features(self.features(a), self.features(b))


def load_lpips(
    net: str = "alex", backbone: str | Path | None = None, heads: str | Path | None = None
) -> LPIPS:
    """LPIPS with weights from local files (``heads`` defaults to the file shipped inside the
    ``lpips`` package when it is installed)."""
    model = LPIPS(net)
    if backbone is None:
        raise FileNotFoundError(
            f"LPIPS-{net} needs its backbone weights file (torchvision {net}); pass --lpips-weights"
        )
    model.load_backbone(torch.load(backbone, map_location="cpu", weights_only=True))
    if heads is None:
        heads = packaged_heads(net)
    model.load_heads(torch.load(heads, map_location="cpu", weights_only=True))
    return model


def packaged_heads(net: str) -> Path:
    try:
        import lpips as lpips_package
    except ImportError:
        raise FileNotFoundError(
            f"no LPIPS head file given and the lpips package is not installed; pass the "
            f"v0.1 {net}.pth head file"
        ) from None
    return Path(lpips_package.__file__).parent / "weights" / "v0.1" / f"{net}.pth"
