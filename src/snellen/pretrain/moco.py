"""MoCo-v2 as small parts (lightly's projection head, momentum update and InfoNCE loss with a
memory-bank queue): a query encoder, its momentum copy, and the loss that holds the queue.

Backbones (``BACKBONES``): torchvision's ImageNet ResNet-18/-50 (a 7x7 stride-2 stem and a max-pool: right
for 64-224 px), and ``resnet18-cifar``, the CIFAR variant (3x3 stride-1 stem, no max-pool)
whose channel widths scale with ``width`` (64 is the standard 64-128-256-512), so that a
32 px image keeps a 4x4 map in the last stage and a narrow net trains on a CPU; and
``convnet``, a plain 5-layer CNN for the smallest budgets.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
import torchvision
from lightly.loss import NTXentLoss
from lightly.models.modules import MoCoProjectionHead
from lightly.models.utils import deactivate_requires_grad, update_momentum
from torch import nn

from snellen.errors import InputError
from snellen.registry import Registry


class _Block(nn.Module):
    """The ResNet basic block (two 3x3 convolutions, BN, identity or 1x1 shortcut)."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class CifarResNet18(nn.Module):
    """ResNet-18 with the CIFAR stem (3x3 conv, stride 1, no max-pool), stages of
    ``width``, 2x, 4x, 8x channels, global average pool; ``feature_dim`` = 8 x width."""

    def __init__(self, width: int = 64) -> None:
        super().__init__()
        w = [width, 2 * width, 4 * width, 8 * width]
        self.stem = nn.Sequential(
            nn.Conv2d(3, w[0], 3, 1, 1, bias=False), nn.BatchNorm2d(w[0]), nn.ReLU(inplace=True)
        )
        layers, cin = [], w[0]
        for i, cout in enumerate(w):
            stride = 1 if i == 0 else 2
            layers += [_Block(cin, cout, stride), _Block(cout, cout, 1)]
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.feature_dim = w[3]
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(self.stem(x)).mean((2, 3))


class ConvNet(nn.Module):
    """Five 3x3 convolutions with BN and ReLU, a 2x2 max-pool after each of the first four,
    of ``width``, 2x, 4x, 8x, 8x channels, global average pool: ``feature_dim`` = 8 x width.
    At 32 px and width 32 it costs about what a width-8 CIFAR ResNet-18 does while giving
    256 features instead of 64 (a steadier random-init floor)."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        chans = [3, width, 2 * width, 4 * width, 8 * width, 8 * width]
        layers: list[nn.Module] = []
        for i in range(5):
            layers += [nn.Conv2d(chans[i], chans[i + 1], 3, 1, 1, bias=False),
                       nn.BatchNorm2d(chans[i + 1]), nn.ReLU(inplace=True)]  # fmt: skip
            if i < 4:
                layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.feature_dim = chans[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x).mean((2, 3))


def _convnet(width: int) -> tuple[nn.Module, int]:
    if width < 4:
        raise InputError(f"--width {width}: use at least 4 channels in the first layer")
    net = ConvNet(width)
    return net, net.feature_dim


def _torchvision(name: str) -> Callable[[int], tuple[nn.Module, int]]:
    def make(width: int) -> tuple[nn.Module, int]:
        if width != 64:
            raise InputError(f"--arch {name} has fixed widths; --width applies to resnet18-cifar")
        net = getattr(torchvision.models, name)(weights=None)
        dim = net.fc.in_features
        net.fc = nn.Identity()
        return net, dim

    return make


def _cifar(width: int) -> tuple[nn.Module, int]:
    if width < 4:
        raise InputError(f"--width {width}: use at least 4 channels in the first stage")
    net = CifarResNet18(width)
    return net, net.feature_dim


BACKBONES: Registry[Callable[[int], tuple[nn.Module, int]]] = Registry("backbone")
BACKBONES.register(
    "resnet18", _torchvision("resnet18"), help="torchvision ResNet-18 (ImageNet stem)"
)
BACKBONES.register(
    "resnet50", _torchvision("resnet50"), help="torchvision ResNet-50 (ImageNet stem)"
)
BACKBONES.register(
    "resnet18-cifar", _cifar, help="ResNet-18, CIFAR stem, channels scale with --width"
)
BACKBONES.register(
    "convnet", _convnet, help="5-layer CNN with max-pools, channels scale with --width"
)
ARCHS = tuple(BACKBONES.names())


def make_backbone(arch: str, width: int = 64) -> tuple[nn.Module, int]:
    """A backbone without classifier (random init) and its feature size."""
    if arch not in BACKBONES:
        raise InputError(f"--arch {arch}: choose one of {', '.join(ARCHS)}")
    return BACKBONES.get(arch)(width)


class MoCo(nn.Module):
    """Query encoder (backbone + MLP head) and its momentum (key) encoder."""

    def __init__(
        self, arch: str = "resnet18", dim: int = 128, hidden: int = 2048, width: int = 64
    ) -> None:
        super().__init__()
        self.arch = arch
        self.backbone, feat = make_backbone(arch, width)
        self.projection_head = MoCoProjectionHead(feat, hidden, dim)
        self.backbone_momentum = copy.deepcopy(self.backbone)
        self.projection_head_momentum = copy.deepcopy(self.projection_head)
        deactivate_requires_grad(self.backbone_momentum)
        deactivate_requires_grad(self.projection_head_momentum)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.projection_head(self.backbone(x))

    @torch.no_grad()
    def forward_momentum(self, x: torch.Tensor) -> torch.Tensor:
        return self.projection_head_momentum(self.backbone_momentum(x)).detach()

    @torch.no_grad()
    def update_momentum(self, m: float) -> None:
        update_momentum(self.backbone, self.backbone_momentum, m)
        update_momentum(self.projection_head, self.projection_head_momentum, m)


def moco_loss(
    queue: int, dim: int = 128, temperature: float = 0.2, distributed: bool = False
) -> NTXentLoss:
    """InfoNCE against a queue of ``queue`` past keys (the queue lives in the loss's memory
    bank; save ``loss.memory_bank.bank`` and ``bank_ptr`` to resume exactly)."""
    return NTXentLoss(
        temperature=temperature, memory_bank_size=(queue, dim), gather_distributed=distributed
    )
