"""Throughput of the image-text scorer and the check-up metrics: batched (what snellen does)
against a naive per-image loop, in the same run on the same images, with the peak memory of
each, and the cost of FID's matrix square root at 2,048 dimensions.

    .venv/bin/python benchmarks/score.py            # 256 images
    .venv/bin/python benchmarks/score.py --quick    # 48 images, a smaller FID check

Naive loops, written the way the metric is usually used:
  scorer     embed_images([image]) per image
  fidelity   per image: embed it, score it against its category's candidate texts (the
             candidate embeddings are computed once in both modes, inside the timing)
  diversity  LPIPS(a, b) per pair of images of a concept, each pair through the network
             (batched: every image through the network once, distances from the features)
  realism    feature network per image (batched: the metric's own batches), then FID and KID
Every row is the best of two runs. Images are VAD shapes rendered from their reference
programs at 256 px (so every metric resizes them). Peak memory: the largest resident set size while the row ran, and how far
above the resident size when it began.
"""

from __future__ import annotations

import argparse
import os
import platform
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch


class PeakRSS:
    """Samples this process's resident set size every few milliseconds."""

    def __init__(self) -> None:
        self.page = os.sysconf("SC_PAGE_SIZE")

    def rss(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * self.page

    def __enter__(self) -> PeakRSS:
        self.start = self.peak = self.rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self.rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())


def timed(fn: Callable[[], Any], repeat: int = 2) -> tuple[float, PeakRSS, Any]:
    """The best of ``repeat`` runs (the first also pays one-time costs: oneDNN builds its
    kernels for every new input shape), with the peak memory of the first."""
    best = float("inf")
    for i in range(repeat):
        with PeakRSS() as m:
            t0 = time.perf_counter()
            out = fn()
            best = min(best, time.perf_counter() - t0)
        if i == 0:
            mem = m
    return best, mem, out


def render_images(n: int, size: int = 256) -> tuple[list, list[str]]:
    from snellen.clip.data import render_svg_reference
    from snellen.concepts import load_concepts

    concepts = load_concepts("shapes", n, seed=123)
    images = [render_svg_reference(c.programs["svg"], size).convert("RGB") for c in concepts]
    return images, [c.description for c in concepts]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer images, a smaller FID check")
    ap.add_argument("--n", type=int, help="images (default 256, --quick 48)")
    ap.add_argument("--scorer", default="snellen-shapes", help="scorer to time")
    ap.add_argument("--device", default=None, help="torch device (default: cuda when present)")
    args = ap.parse_args()
    n = args.n or (48 if args.quick else 256)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))

    from snellen.metrics import fidelity
    from snellen.metrics.diversity import Diversity, lpips_distance
    from snellen.metrics.images import load_uint8
    from snellen.metrics.realism import (
        feature_extractor,
        fid_from_features,
        kid_from_features,
        trace_sqrt_product,
    )
    from snellen.score import load_scorer

    images, captions = render_images(n)
    categories = ["shapes"] * n
    rows: list[tuple[str, str, float, PeakRSS]] = []

    def row(name: str, mode: str, seconds: float, mem: PeakRSS) -> None:
        rows.append((name, mode, seconds, mem))
        print(f"  {name:<10} {mode:<8} {n / seconds:9.1f} img/s", flush=True)

    print(f"{n} images, device {device}, {torch.get_num_threads()} torch threads", flush=True)

    # -- the scorer ----------------------------------------------------------------------
    scorer = load_scorer(args.scorer, device=device)
    scorer.embed_images(images[:4])  # warm-up: first calls allocate
    s, mem, batched = timed(lambda: scorer.embed_images(images))
    row("scorer", "batched", s, mem)
    s, mem, naive = timed(lambda: torch.cat([scorer.embed_images([im]) for im in images]))
    row("scorer", "naive", s, mem)
    assert torch.allclose(batched, naive, atol=1e-4), "batched and naive embeddings differ"

    # -- fidelity -----------------------------------------------------------------------
    s, mem, frame = timed(lambda: fidelity(scorer, images, captions, categories))
    row("fidelity", "batched", s, mem)

    def fidelity_naive() -> list[float]:
        cand_emb = scorer.embed_texts(captions)
        out = []
        for im, cap in zip(images, captions, strict=True):
            sim = scorer.embed_images([im])[0] @ cand_emb.t()
            true = sim[captions.index(cap)]
            above, ties = int((sim > true).sum()), int((sim == true).sum()) - 1
            out.append(100.0 * (len(captions) - 1 - above - ties / 2) / (len(captions) - 1))
        return out

    s, mem, pct = timed(fidelity_naive)
    row("fidelity", "naive", s, mem)
    assert np.allclose(frame["percentile"].to_numpy(), pct, atol=1e-3)

    # -- diversity: groups of 8 images ---------------------------------------------------
    dist = lpips_distance(device=device)
    groups = [i // 8 for i in range(n)]

    def diversity_batched() -> Any:
        metric = Diversity(dist)
        for i in range(0, n, 64):
            metric.update(images[i : i + 64], groups[i : i + 64])
        return metric.compute()

    s, mem, div = timed(diversity_batched)
    row("diversity", "batched", s, mem)

    @torch.no_grad()
    def diversity_naive() -> list[float]:
        means = []
        for g in sorted(set(groups)):
            members = [im for im, gg in zip(images, groups, strict=True) if gg == g]
            pairs = []
            for i in range(len(members)):
                for j in range(i + 1, len(members)):
                    a = load_uint8([members[i]], 224).to(device).float() / 127.5 - 1
                    b = load_uint8([members[j]], 224).to(device).float() / 127.5 - 1
                    pairs.append(float(dist.net(a, b)))
            means.append(float(np.mean(pairs)) if pairs else float("nan"))
        return means

    s, mem, div_naive = timed(diversity_naive)
    row("diversity", "naive", s, mem)
    ok = div["diversity"].notna().to_numpy()
    assert np.allclose(div["diversity"].to_numpy()[ok], np.asarray(div_naive)[ok], atol=1e-4)

    # -- realism -------------------------------------------------------------------------
    feats = feature_extractor("efficientnet-lite0", device=device)
    reference = feats(images[: n // 2])

    def realism_from(features: torch.Tensor) -> tuple[float, float]:
        return fid_from_features(features, reference), kid_from_features(features, reference)[0]

    s, mem, (fid_b, _) = timed(lambda: realism_from(feats(images)))
    row("realism", "batched", s, mem)
    s, mem, (fid_n, _) = timed(lambda: realism_from(torch.cat([feats([im]) for im in images])))
    row("realism", "naive", s, mem)
    assert abs(fid_b - fid_n) < 1e-3 * max(1.0, fid_b)

    # -- FID's square root at 2048 dimensions --------------------------------------------
    dim, samples = (2048, 2500) if not args.quick else (2048, 2100)
    rng = np.random.default_rng(0)
    f1 = rng.normal(size=(samples, dim)).astype(np.float32)
    f2 = (rng.normal(size=(samples, dim)) * 1.1 + 0.05).astype(np.float32)
    t0 = time.perf_counter()
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    cov_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours = trace_sqrt_product(s1, s2)
    ours_s = time.perf_counter() - t0
    sqrtm_s = float("nan")
    scipy_tr = float("nan")
    try:
        from scipy import linalg

        t0 = time.perf_counter()
        root = linalg.sqrtm(s1 @ s2)
        sqrtm_s = time.perf_counter() - t0
        scipy_tr = float(np.trace(root).real)
    except Exception as e:  # noqa: BLE001 - a reference timing only
        print(f"scipy sqrtm failed: {e}")

    # -- table ---------------------------------------------------------------------------
    print()
    print(
        f"snellen score benchmark: {n} images (256 px renders of VAD shapes), device "
        f"{device}, {torch.get_num_threads()} threads, {platform.machine()}, torch "
        f"{torch.__version__}, scorer {scorer.name}"
    )
    print(
        f"{'stage':<10} | {'batched img/s':>13} | {'naive img/s':>11} | {'speed-up':>8} | "
        f"{'peak MB (batched)':>17} | {'peak MB (naive)':>15}"
    )
    print("-" * 91)
    by = {(name, mode): (sec, mem) for name, mode, sec, mem in rows}
    for name in ("scorer", "fidelity", "diversity", "realism"):
        (sb, mb), (sn, mn) = by[(name, "batched")], by[(name, "naive")]
        print(
            f"{name:<10} | {n / sb:13.1f} | {n / sn:11.1f} | {sn / sb:7.1f}x | "
            f"{mb.peak / 2**20:8.0f} (+{(mb.peak - mb.start) / 2**20:4.0f}) | "
            f"{mn.peak / 2**20:6.0f} (+{(mn.peak - mn.start) / 2**20:4.0f})"
        )
    print()
    print(f"FID at {dim} dims ({samples} samples per set): covariances {cov_s:.2f} s, "
          f"tr sqrt(S1 S2) by two symmetric eigendecompositions {ours_s:.2f} s "
          f"(scipy.linalg.sqrtm {sqrtm_s:.2f} s; traces {ours:.3f} vs {scipy_tr:.3f})")  # fmt: skip
    extract = by[("realism", "batched")][0] / n * samples
    share = 100 * ours_s / (ours_s + cov_s + extract)
    print(f"  extracting the features of those {samples} images at the measured batched rate "
          f"would take {extract:.0f} s; the square root is {share:.1f}% of the FID's time")  # fmt: skip


if __name__ == "__main__":
    main()
