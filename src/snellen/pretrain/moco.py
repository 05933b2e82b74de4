"""MoCo-v2 as small parts (lightly's projection head, momentum update and InfoNCE loss with a
memory-bank queue): a query encoder, its momentum copy, and the loss that holds the queue."""

from __future__ import annotations

import copy

import torch
import torchvision
from lightly.loss import NTXentLoss
from lightly.models.modules import MoCoProjectionHead
from lightly.models.utils import deactivate_requires_grad, update_momentum
from torch import nn

from snellen.errors import InputError

ARCHS = ("resnet18", "resnet50")


def make_backbone(arch: str) -> tuple[nn.Module, int]:
    """A torchvision ResNet without its classifier (random init) and its feature size."""
    if arch not in ARCHS:
        raise InputError(f"--arch {arch}: choose one of {', '.join(ARCHS)}")
    net = getattr(torchvision.models, arch)(weights=None)
    dim = net.fc.in_features
    net.fc = nn.Identity()
    return net, dim


class MoCo(nn.Module):
    """Query encoder (backbone + MLP head) and its momentum (key) encoder."""

    def __init__(self, arch: str = "resnet18", dim: int = 128, hidden: int = 2048) -> None:
        super().__init__()
        self.arch = arch
        self.backbone, feat = make_backbone(arch)
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
