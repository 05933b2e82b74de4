"""The Inception-v3 network FID and KID are defined with: the 2015-12-05 TensorFlow graph
ported to PyTorch (the weights file ``pt_inception-2015-12-05-6726825d.pth``, identical to
torch-fidelity's ``weights-inception-2015-12-05-6726825d.pth``).

It is torchvision's Inception-v3 topology with the TF graph's quirks: 1008 classes, average
pools that do not count padding, and a *max* pool in the last block's pooling branch.
Features are the 2048-d global average pool ("pool3").

Input convention: RGB [N, 3, 299, 299] with values in [0, 255], uint8 or float (resized by
clean-fid's convention before, see :func:`snellen.metrics.images.load_pixels`), scaled as
``(x - 128) / 128``.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import inception as tvi

FID_WEIGHTS = "pt_inception-2015-12-05-6726825d.pth"
INPUT_SIZE = 299


class _PoolA(tvi.InceptionA):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        pool = F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
        return torch.cat([b1, b5, b3, self.branch_pool(pool)], 1)


class _PoolC(tvi.InceptionC):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = self.branch7x7dbl_1(x)
        bd = self.branch7x7dbl_5(self.branch7x7dbl_4(self.branch7x7dbl_3(self.branch7x7dbl_2(bd))))
        pool = F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
        return torch.cat([b1, b7, bd, self.branch_pool(pool)], 1)


class _PoolE(tvi.InceptionE):
    def __init__(self, in_channels: int, max_pool: bool) -> None:
        super().__init__(in_channels)
        self.max_pool = max_pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        if self.max_pool:
            pool = F.max_pool2d(x, 3, 1, 1)
        else:
            pool = F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
        return torch.cat([b1, b3, bd, self.branch_pool(pool)], 1)


class FIDInceptionV3(nn.Module):
    """Parameter names match the FID weights file, so it loads with ``load_state_dict``."""

    def __init__(self) -> None:
        super().__init__()
        conv = tvi.BasicConv2d
        self.Conv2d_1a_3x3 = conv(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = conv(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = conv(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = conv(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = conv(80, 192, kernel_size=3)
        self.Mixed_5b = _PoolA(192, pool_features=32)
        self.Mixed_5c = _PoolA(256, pool_features=64)
        self.Mixed_5d = _PoolA(288, pool_features=64)
        self.Mixed_6a = tvi.InceptionB(288)
        self.Mixed_6b = _PoolC(768, channels_7x7=128)
        self.Mixed_6c = _PoolC(768, channels_7x7=160)
        self.Mixed_6d = _PoolC(768, channels_7x7=160)
        self.Mixed_6e = _PoolC(768, channels_7x7=192)
        self.Mixed_7a = tvi.InceptionD(768)
        self.Mixed_7b = _PoolE(1280, max_pool=False)
        self.Mixed_7c = _PoolE(2048, max_pool=True)
        self.fc = nn.Linear(2048, 1008)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """[N, 3, 299, 299] in [0, 255] -> pool3 features [N, 2048] (float32)."""
        if images.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
            raise ValueError(f"expects images of {INPUT_SIZE}x{INPUT_SIZE} pixels")
        x = (images.float() - 128) / 128
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, 3, 2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, 3, 2)
        for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
            x = getattr(self, f"Mixed_{name}")(x)
        return x.mean(dim=(2, 3))


def load_fid_inception(path: str | Path) -> FIDInceptionV3:
    model = FIDInceptionV3()
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    return model.eval()
