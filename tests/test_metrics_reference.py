"""The check-up metrics against the reference implementations everyone trusts, on identical
weights and identical inputs: LPIPS vs the ``lpips`` package, FID/KID vs torchmetrics and
clean-fid, the FID Inception port vs torch-fidelity's, the resizing vs clean-fid's."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import score_helpers
from snellen.metrics import (
    Diversity,
    Realism,
    diversity,
    fid_from_features,
    frechet_distance,
    kid_from_features,
    lpips_distance,
    realism,
)
from snellen.metrics.lpips import TAPS, load_lpips

shape_images = score_helpers.shape_images


# -- LPIPS -----------------------------------------------------------------------------------
def _backbone_file(net: str, path) -> str:
    """A torchvision AlexNet / VGG-16 with fixed-seed random weights, saved like the
    released backbone files (the real ones cannot be downloaded here)."""
    from torchvision import models

    torch.manual_seed(0)
    model = (models.alexnet if net == "alex" else models.vgg16)(weights=None)
    file = path / f"{net}-random.pth"
    torch.save(model.features.state_dict(), file)
    return str(file)


def _reference_lpips(net: str, backbone: str):
    """The ``lpips`` package's model: its shipped linear heads, our backbone weights."""
    import lpips

    model = lpips.LPIPS(net=net, pretrained=True, pnet_rand=True, verbose=False).eval()
    state = torch.load(backbone, weights_only=True)
    for k, (a, b) in enumerate(TAPS[net], start=1):
        part = {}
        for key, value in state.items():
            idx, _, rest = key.partition(".")
            if a <= int(idx) < b:
                part[f"{idx}.{rest}"] = value
        getattr(model.net, f"slice{k}").load_state_dict(part)
    return model


@pytest.mark.parametrize("net", ["alex", "vgg"])
def test_lpips_matches_the_lpips_package(net, tmp_path):
    backbone = _backbone_file(net, tmp_path)
    ours = load_lpips(net, backbone)
    ref = _reference_lpips(net, backbone)
    gen = torch.Generator().manual_seed(1)
    a = torch.rand(4, 3, 64, 64, generator=gen) * 2 - 1
    b = (a + 0.3 * torch.randn(4, 3, 64, 64, generator=gen)).clamp(-1, 1)
    with torch.no_grad():
        got = ours(a, b)
        want = ref(a, b).flatten()
    assert got.shape == want.shape == (4,)
    assert torch.allclose(got, want, atol=1e-4, rtol=0), (got, want)
    assert float(want.min()) > 0  # a test on distances that are all zero would prove nothing


def test_diversity_is_the_mean_pairwise_lpips_of_the_package(tmp_path, shape_images):
    backbone = _backbone_file("alex", tmp_path)
    ref = _reference_lpips("alex", backbone)
    dist = lpips_distance("alex", backbone, device="cpu")
    assert dist.standard and dist.label == "lpips[alex]"
    images = shape_images[:4]
    frame = diversity(images, ["c"] * 4, dist, size=64)
    from snellen.metrics.images import load_uint8

    x = load_uint8(images, 64).float() / 127.5 - 1
    with torch.no_grad():
        pairs = [float(ref(x[i : i + 1], x[j : j + 1])) for i in range(4) for j in range(i + 1, 4)]
    assert frame["images"].tolist() == [4]
    assert abs(float(frame["diversity"][0]) - np.mean(pairs)) < 1e-4


def test_diversity_update_compute_reset_and_functional_agree(shape_images):
    dist = lpips_distance(device="cpu")  # offline default: EfficientNet-Lite0, non-standard
    assert not dist.standard and "non-standard" in dist.label
    groups = ["a", "a", "a", "b", "b", "c"]
    images = shape_images[:6]
    metric = Diversity(dist, size=96)
    metric.update(images[:2], groups[:2])
    metric.update(images[2:], groups[2:])
    batched = metric.compute().set_index("group")
    functional = diversity(images, groups, dist, size=96).set_index("group")
    assert batched["images"].to_dict() == {"a": 3, "b": 2, "c": 1}
    assert np.isnan(batched.loc["c", "diversity"])  # one image: no pair
    np.testing.assert_allclose(
        batched.loc[["a", "b"], "diversity"], functional.loc[["a", "b"], "diversity"], atol=1e-6
    )
    assert (batched.loc[["a", "b"], "diversity"] > 0).all()
    metric.reset()
    assert len(metric.compute()) == 0
    # identical images are at distance zero
    same = diversity([images[0], images[0].copy()], ["x", "x"], dist, size=96)
    assert float(same["diversity"][0]) == pytest.approx(0.0, abs=1e-6)


# -- FID and KID on features -----------------------------------------------------------------
class _Identity(torch.nn.Module):
    """Hands torchmetrics our features unchanged ("identical features")."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.num_features = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def _features(seed: int, n: int, dim: int, shift: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(dim, dim)) / np.sqrt(dim)
    return rng.normal(size=(n, dim)) @ mix + shift


def test_fid_matches_torchmetrics_and_clean_fid():
    from cleanfid.fid import frechet_distance as clean_frechet
    from torchmetrics.image.fid import FrechetInceptionDistance

    x = _features(0, 300, 64, 0.0)
    y = _features(1, 250, 64, 0.15)
    ours = fid_from_features(x, y)

    tm = FrechetInceptionDistance(feature=_Identity(64), reset_real_features=True)
    tm.update(torch.from_numpy(y).float(), real=True)
    tm.update(torch.from_numpy(x).float(), real=False)
    want_tm = float(tm.compute())

    mu1, s1 = x.mean(0), np.cov(x, rowvar=False)
    mu2, s2 = y.mean(0), np.cov(y, rowvar=False)
    want_clean = float(clean_frechet(mu1, s1, mu2, s2))
    assert ours > 1.0  # far enough from zero that agreement means something
    assert abs(ours - want_clean) < 1e-3, (ours, want_clean)
    # torchmetrics accumulates float32 features in float64 sums: agreement to its precision
    assert abs(ours - want_tm) < 1e-3 * max(1.0, ours), (ours, want_tm)
    assert frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-8)


def test_kid_matches_torchmetrics_and_clean_fid():
    from cleanfid.fid import kernel_distance
    from torchmetrics.image.kid import KernelInceptionDistance

    x = _features(2, 120, 32, 0.0)
    y = _features(3, 120, 32, 0.3)
    # one subset as large as both sets: no sampling, every implementation computes the same sum
    ours, std = kid_from_features(x, y, subsets=1, subset_size=120)
    assert std == 0.0
    want_clean = kernel_distance(x, y, num_subsets=1, max_subset_size=120)
    tm = KernelInceptionDistance(feature=_Identity(32), subsets=1, subset_size=120)
    tm.update(torch.from_numpy(y).double(), real=True)
    tm.update(torch.from_numpy(x).double(), real=False)
    want_tm = float(tm.compute()[0])
    assert ours > 1e-3
    assert abs(ours - want_clean) < 1e-6 and abs(ours - want_tm) < 1e-6, (ours, want_clean, want_tm)
    # sampled subsets of a smaller size scatter around the exact value
    mean, spread = kid_from_features(x, y, subsets=50, subset_size=60, seed=0)
    assert spread > 0 and abs(mean - ours) < 3 * spread


def test_fid_inception_port_matches_torch_fidelity(tmp_path):
    """Same (random, fixed-seed) weights file in both networks, same uint8 input: the 2048-d
    pool features agree; so the TF graph's quirks (no-pad average pools, the max pool in
    Mixed_7c) are ported right and the real FID weights file will load into ours."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    from snellen.metrics.inception import FIDInceptionV3, load_fid_inception

    torch.manual_seed(0)
    net = FIDInceptionV3()
    # non-trivial batch-norm statistics, so every branch contributes
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    file = tmp_path / "fid-inception-random.pth"
    torch.save(net.state_dict(), file)
    ours = load_fid_inception(file)
    ref = FeatureExtractorInceptionV3(
        "inception-v3-compat", ["2048"], feature_extractor_weights_path=str(file)
    ).eval()
    images = (torch.rand(2, 3, 299, 299, generator=torch.Generator().manual_seed(3)) * 255).to(
        torch.uint8
    )
    with torch.no_grad():
        got = ours(images)
        (want,) = ref(images)
    assert got.shape == want.shape == (2, 2048)
    assert torch.allclose(got, want, rtol=1e-4, atol=1e-5 * float(want.abs().max()))


def test_resize_convention_is_clean_fids(shape_images):
    """Our FID pixels are clean-fid's 'clean' resize (PIL bicubic per channel in float, not
    re-quantised) exactly; the 8-bit copy differs by rounding only; resizing the 8-bit RGB
    image instead would move edge pixels by several grey levels."""
    from cleanfid.resize import make_resizer

    from snellen.metrics.images import load_pixels, load_uint8

    resize = make_resizer("PIL", False, "bicubic", (299, 299))
    worst_naive = 0.0
    for image in shape_images[:3]:
        rgb = np.asarray(image.convert("RGB"))
        want = resize(rgb).astype(np.float64)
        got = load_pixels([image], 299)[0].permute(1, 2, 0).numpy().astype(np.float64)
        assert np.abs(got - want).max() < 1e-3
        got8 = load_uint8([image], 299)[0].permute(1, 2, 0).numpy().astype(np.float64)
        assert np.abs(got8 - want).max() <= 0.5 + 1e-4
        naive = np.asarray(image.resize((299, 299), Image.Resampling.BICUBIC), dtype=np.float64)
        worst_naive = max(worst_naive, float(np.abs(naive - want).max()))
    assert worst_naive > 2.0


# -- realism, the metric ---------------------------------------------------------------------
def test_realism_update_compute_reset_and_functional_agree(shape_images, tmp_path):
    refs = tmp_path / "reference"
    refs.mkdir()
    for i, image in enumerate(shape_images[6:12]):
        image.save(refs / f"{i}.png")
    images = shape_images[:6]
    metric = Realism(refs, kid_subsets=1, kid_subset_size=6)
    metric.update(images[:3])
    metric.update(images[3:])
    batched = metric.compute()
    functional = realism(images, refs, metric.features, kid_subsets=1, kid_subset_size=6)
    key = "fid[efficientnet-lite0, non-standard]"
    assert batched["standard"] is False and key in batched
    assert batched["images"] == 6 and batched["reference_images"] == 6
    assert batched[key] == pytest.approx(functional[key], rel=1e-6)
    assert batched[key] > 0
    # the set against itself
    assert metric.against_reference(sorted(refs.iterdir()))[key] == pytest.approx(0.0, abs=1e-3)
    metric.reset()
    assert metric.compute()[key] is None


def test_efficientnet_lite0_recognises_a_real_photo():
    """The offline feature network is the real ImageNet model: a cat photo comes out a cat."""
    skimage_data = pytest.importorskip("skimage.data")
    from snellen.metrics.efficientnet import load_efficientnet_lite0, normalise
    from snellen.metrics.images import load_uint8

    net = load_efficientnet_lite0()
    x = load_uint8([Image.fromarray(skimage_data.chelsea())], 224).float() / 255
    with torch.no_grad():
        top = net(normalise(x)).topk(3).indices[0].tolist()
    assert any(281 <= c <= 287 for c in top), top  # ImageNet's domestic and wild cats


def test_folded_efficientnet_computes_the_same_features():
    import copy

    from snellen.metrics.efficientnet import load_efficientnet_lite0

    plain = load_efficientnet_lite0()
    folded = copy.deepcopy(plain).fold_batchnorm().to(memory_format=torch.channels_last)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    x = torch.rand(2, 3, 224, 224) * 2 - 1
    with torch.no_grad():
        a = plain.features(x)
        b = folded.features(x.contiguous(memory_format=torch.channels_last))
    assert torch.allclose(a, b, atol=1e-4 * float(a.abs().max()))
