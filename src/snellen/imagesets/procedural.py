"""Procedural image generators, following "Learning to See by Looking at Noise" (Baradad et
al., 2021) and "Improving Fractal Pre-training" (Anderson and Farrell, 2022).

Every generator is a pure function ``(rng, size) -> (image, params)``: an ``(size, size, 3)``
uint8 array and the JSON-ready parameters that drew it. The same ``rng`` state gives the same
bytes on every machine (numpy's PCG64 and PIL's rasteriser are deterministic).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image, ImageDraw

Params = dict[str, Any]

# dead leaves ------------------------------------------------------------------------------

DEAD_LEAVES_VARIANTS = ("squares", "oriented", "mixed", "textured")
_SUPERSAMPLE = 2


def _leaf_radius(rng: np.random.Generator, rmin: float, rmax: float, alpha: float = 3.0) -> float:
    """A radius with density proportional to r^-alpha on [rmin, rmax] (the scale-invariant
    law of the dead-leaves model; alpha = 3 as in the paper), by inverse transform sampling."""
    u = rng.random()
    a = 1.0 - alpha
    return float((rmin**a + u * (rmax**a - rmin**a)) ** (1.0 / a))


def _polygon(shape: str, cx: float, cy: float, r: float, theta: float) -> list[tuple[float, float]]:
    if shape == "square":
        corners = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
    elif shape == "triangle":
        corners = [(np.cos(a), np.sin(a)) for a in np.pi / 2 + np.arange(3) * 2 * np.pi / 3]
    else:  # ellipse-ish circle as a 24-gon (rotation is irrelevant for a circle)
        corners = [(np.cos(a), np.sin(a)) for a in np.arange(24) * 2 * np.pi / 24]
    c, s = np.cos(theta), np.sin(theta)
    return [(cx + r * (c * x - s * y), cy + r * (s * x + c * y)) for x, y in corners]


def _texture(rng: np.random.Generator, size: int, colour: np.ndarray) -> Image.Image:
    """A texture for one leaf: a random-slope 1/f noise or a sinusoidal grating, tinted."""
    if rng.random() < 0.5:
        field = _spectrum_field(rng, size, float(rng.uniform(1.0, 2.5)), 1)[..., 0]
    else:
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
        f = rng.uniform(0.05, 0.5)
        th = rng.uniform(0, np.pi)
        field = np.sin(2 * np.pi * f * (xx * np.cos(th) + yy * np.sin(th)) + rng.uniform(0, 6.3))
        field = (field + 1) / 2
    other = rng.integers(0, 256, 3)
    img = colour[None, None, :] * field[..., None] + other[None, None, :] * (1 - field[..., None])
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def dead_leaves(
    rng: np.random.Generator, size: int, variant: str = "squares", max_leaves: int = 5000
) -> tuple[np.ndarray, Params]:
    """Dead leaves: opaque shapes of power-law sizes (radius density r^-3 between 2% and
    50% of the image) dropped on top of each other until they cover the whole canvas.

    ``squares``: axis-aligned squares; ``oriented``: squares at random angles; ``mixed``:
    squares, circles and triangles at random angles; ``textured``: mixed shapes each filled
    with its own texture instead of a flat colour.
    """
    if variant not in DEAD_LEAVES_VARIANTS:
        raise ValueError(f"dead-leaves variant must be one of {DEAD_LEAVES_VARIANTS}")
    big = size * _SUPERSAMPLE
    canvas = Image.new("RGB", (big, big), (0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    covered = Image.new("L", (big, big), 0)
    cover = ImageDraw.Draw(covered)
    rmin, rmax = big * 0.02, big * 0.5
    n = 0
    while n < max_leaves:
        n += 1
        r = _leaf_radius(rng, rmin, rmax)
        cx, cy = rng.uniform(-r, big + r, 2)
        if variant == "squares":
            shape, theta = "square", 0.0
        elif variant == "oriented":
            shape, theta = "square", float(rng.uniform(0, np.pi / 2))
        else:
            shape = ("square", "circle", "triangle")[int(rng.integers(0, 3))]
            theta = float(rng.uniform(0, 2 * np.pi))
        colour = rng.integers(0, 256, 3)
        poly = _polygon(shape, float(cx), float(cy), r, theta)
        cover.polygon(poly, fill=255)
        # a texture is invisible on a leaf a few pixels wide: those stay flat (much faster)
        if variant == "textured" and r >= 3 * _SUPERSAMPLE:
            x0, y0 = (max(0, int(min(p[i] for p in poly))) for i in (0, 1))
            x1, y1 = (min(big, int(max(p[i] for p in poly)) + 1) for i in (0, 1))
            if x1 > x0 and y1 > y0:
                mask = Image.new("L", (x1 - x0, y1 - y0), 0)
                ImageDraw.Draw(mask).polygon([(x - x0, y - y0) for x, y in poly], fill=255)
                tex = _texture(rng, max(x1 - x0, y1 - y0), colour.astype(np.float32))
                canvas.paste(tex.crop((0, 0, x1 - x0, y1 - y0)), (x0, y0), mask)
        else:
            draw.polygon(poly, fill=tuple(int(v) for v in colour))
        if n % 25 == 0 and covered.getextrema()[0] == 255:
            break
    image = canvas.resize((size, size), Image.Resampling.BOX)
    return np.asarray(image), {"variant": variant, "leaves": n, "alpha": 3.0}


# fractals (random iterated function systems) -----------------------------------------------


def sample_ifs(rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """A random IFS of 2-4 contractive affine maps whose singular values add up to a
    sigma-factor in [(5 + N) / 2, (6 + N) / 2] (Anderson and Farrell's rule, which keeps the
    attractor neither a dust nor a blob)."""
    n = int(rng.integers(2, 5))
    alpha = rng.uniform(0.5 * (5 + n), 0.5 * (6 + n))
    # split alpha over the maps' (sigma1 + 2 * sigma2) terms
    shares = rng.dirichlet(np.ones(n)) * alpha
    maps = []
    for share in shares:
        lo, hi = max(share - 1.0, 0.0) / 1.0, min(share, 1.0)
        s1 = rng.uniform(max(lo, share / 3.0), hi) if hi > max(lo, share / 3.0) else hi
        s2 = min((share - s1) / 2.0, s1)
        r1, r2 = rng.uniform(0, 2 * np.pi, 2)
        d = rng.choice([-1.0, 1.0])
        rot = lambda t: np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])  # noqa: E731
        a = rot(r1) @ np.diag([s1, d * s2]) @ rot(r2)
        b = rng.uniform(-1, 1, 2)
        maps.append((a, b))
    return maps


def fractal(
    rng: np.random.Generator, size: int, chains: int = 2048, steps: int = 40, burn_in: int = 12
) -> tuple[np.ndarray, Params]:
    """A random IFS attractor drawn by the chaos game, coloured by map, on a random
    background. Many short chains run side by side (each forgets its start within a few
    contractions), which gives the same attractor as one long chain, vectorised."""
    maps = sample_ifs(rng)
    dets = np.array([abs(np.linalg.det(a)) for a, _ in maps]) + 1e-3
    a_all = np.stack([a for a, _ in maps])
    b_all = np.stack([b for _, b in maps])
    p = rng.uniform(-1, 1, (chains, 2))
    pts, ids = [], []
    for step in range(steps):
        k = rng.choice(len(maps), size=chains, p=dets / dets.sum())
        p = np.einsum("nij,nj->ni", a_all[k], p) + b_all[k]
        if step >= burn_in:
            pts.append(p)
            ids.append(k)
    xy, choice = np.concatenate(pts), np.concatenate(ids)
    xy = np.nan_to_num(xy, nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = np.percentile(xy, 0.5, axis=0), np.percentile(xy, 99.5, axis=0)
    span = float(max(hi - lo)) or 1.0
    centre = (lo + hi) / 2
    pix = ((xy - centre) / span * 0.9 + 0.5) * (size - 1)
    ok = np.all((pix >= 0) & (pix < size), axis=1)
    ix = pix[ok].astype(int)
    colours = rng.integers(0, 256, (len(maps), 3))
    background = rng.integers(0, 256, 3)
    img = np.empty((size, size, 3), np.uint8)
    img[:] = background
    img[ix[:, 1], ix[:, 0]] = colours[choice[ok]]
    params = {"maps": [[*a.ravel().round(6).tolist(), *b.round(6).tolist()] for a, b in maps]}
    return img, params


# statistical images ---------------------------------------------------------------------------


def _spectrum_field(rng: np.random.Generator, size: int, slope: float, channels: int) -> np.ndarray:
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.fftfreq(size)[None, :]
    radius = np.sqrt(fx**2 + fy**2)
    radius[0, 0] = 1.0
    amp = 1.0 / radius**slope
    amp[0, 0] = 0.0
    out = np.empty((size, size, channels), np.float64)
    phase = rng.uniform(0, 2 * np.pi, (size, size))  # shared phase: coloured, not rainbow
    for c in range(channels):
        noise = amp * np.exp(1j * (phase + rng.normal(0, 0.3, (size, size))))
        f = np.real(np.fft.ifft2(noise))
        f = (f - f.min()) / (np.ptp(f) or 1.0)
        out[..., c] = f
    return out


def spectrum(rng: np.random.Generator, size: int) -> tuple[np.ndarray, Params]:
    """Random images with a 1/f^a amplitude spectrum (a in [0.5, 3.5]) and random phase, in
    a random colour basis (the paper's "spectrum + colour" model)."""
    slope = float(rng.uniform(0.5, 3.5))
    field = _spectrum_field(rng, size, slope, 3)
    mix = rng.normal(0, 1, (3, 3)) + np.eye(3) * 2
    img = field @ mix.T
    img = (img - img.min(axis=(0, 1))) / (np.ptp(img, axis=(0, 1)) + 1e-9)
    return (img * 255).astype(np.uint8), {"slope": round(slope, 6)}


def _upsample(field: np.ndarray, size: int) -> np.ndarray:
    return np.asarray(
        Image.fromarray(field.astype(np.float32), mode="F").resize(
            (size, size), Image.Resampling.BICUBIC
        )
    )


def wmm(rng: np.random.Generator, size: int) -> tuple[np.ndarray, Params]:
    """The wavelet-marginal model: multiscale coefficients drawn independently from
    heavy-tailed (generalised Laplacian, exp(-|x|^p)) marginals whose spread falls off as a
    power of the frequency, summed over a pyramid (each level upsampled smoothly); one field
    per colour channel, mixed by a random colour basis."""
    levels = max(1, int(np.log2(size)) - 1)
    decay = float(rng.uniform(0.5, 2.0))
    shape_p = float(rng.uniform(0.5, 1.5))
    chans = []
    for _ in range(3):
        field = np.zeros((size, size))
        for lev in range(levels + 1):
            n = min(size, 2 << lev)
            scale = 2.0 ** (-decay * lev)
            band = rng.choice([-1, 1], (n, n)) * rng.gamma(1 / shape_p, 1, (n, n)) ** (1 / shape_p)
            field += scale * (_upsample(band, size) if n < size else band)
        chans.append(field)
    field = np.stack(chans, -1)
    mix = rng.normal(0, 1, (3, 3)) + np.eye(3) * 2
    field = field @ mix.T
    lo, hi = np.percentile(field, 1, axis=(0, 1)), np.percentile(field, 99, axis=(0, 1))
    img = np.clip((field - lo) / (hi - lo + 1e-9), 0, 1)
    return (img * 255).astype(np.uint8), {"decay": round(decay, 6), "p": round(shape_p, 6)}
