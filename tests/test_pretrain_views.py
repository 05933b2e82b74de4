"""The batched MoCo-v2 views (a pure function of the generator's seed, cropped to the
asked size, normalised) and the CPU-sized backbones (feature sizes that follow --width)."""

from __future__ import annotations

import pytest
import torch

from snellen.errors import InputError
from snellen.pretrain.augment import ViewSpec, augment_view, two_views
from snellen.pretrain.moco import MoCo, make_backbone


def _batch() -> torch.Tensor:
    return torch.randint(0, 256, (6, 3, 20, 20), generator=torch.Generator().manual_seed(1),
                         dtype=torch.uint8)  # fmt: skip


def test_views_are_a_pure_function_of_the_seed() -> None:
    spec = ViewSpec(16, blur=0.5)
    a = two_views(_batch(), spec, torch.Generator().manual_seed(7))
    b = two_views(_batch(), spec, torch.Generator().manual_seed(7))
    c = two_views(_batch(), spec, torch.Generator().manual_seed(8))
    assert a[0].shape == (6, 3, 16, 16) and a[1].shape == (6, 3, 16, 16)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])
    assert not torch.equal(a[0], a[1])  # query and key views differ


def test_a_view_without_colour_changes_only_resamples_the_image() -> None:
    # no jitter, grey or blur: crop, resize and flip interpolate bilinearly, so every pixel
    # of a view lies within its image's own range per channel (after the same normalising)
    x = _batch()
    spec = ViewSpec(16, jitter=0.0, grey=0.0, blur=0.0)
    y = augment_view(x, spec, torch.Generator().manual_seed(0))
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    ref = (x.float() / 255 - mean) / std
    lo, hi = ref.amin((2, 3), keepdim=True), ref.amax((2, 3), keepdim=True)
    assert bool(((y >= lo - 1e-4) & (y <= hi + 1e-4)).all())
    coloured = augment_view(x, ViewSpec(16, jitter=1.0, grey=0.0, blur=0.0),
                            torch.Generator().manual_seed(0))  # fmt: skip
    assert not torch.allclose(coloured, y)


@pytest.mark.parametrize(("arch", "width", "dim"),
                         [("resnet18-cifar", 8, 64), ("convnet", 16, 128)])  # fmt: skip
def test_cpu_backbones_follow_the_width(arch: str, width: int, dim: int) -> None:
    net, feat = make_backbone(arch, width)
    assert feat == dim
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, dim)
    moco = MoCo(arch, width=width, hidden=64)
    assert moco(torch.zeros(2, 3, 32, 32)).shape == (2, 128)


def test_fixed_width_archs_refuse_a_width() -> None:
    with pytest.raises(InputError, match="--width"):
        make_backbone("resnet18", 32)
    with pytest.raises(InputError, match="--arch"):
        make_backbone("vgg", 64)
