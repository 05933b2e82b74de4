"""``snellen reproduce vision``: the vision check-up's second finding, that a ResNet
pre-trained with MoCo-v2 on images drawn by LLM-written programs learns features that
rival or beat procedural image sources (and that LLM programs mixed with shaders do best).

For every source: build its images (once, seed 0), pre-train the same backbone with the
same MoCo-v2 budget under each seed (an online kNN monitor on held-out Fashion-MNIST images
after every epoch), then read each frozen backbone with a linear probe (L-BFGS logistic
regression) and a weighted kNN on Fashion-MNIST and the handwritten digits. Beside them:
the random-init floor (the same backbone untrained, one per seed) and the in-domain upper
bound (MoCo on Fashion-MNIST's own training images). Every step is stored under ``--out``
(datasets, per (source, seed) checkpoints, probe results), so a killed run continues.
"""

from __future__ import annotations

import functools
import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from snellen.errors import InputError
from snellen.registry import Registry
from snellen.reproduce.findings import (
    Figure,
    Finding,
    ReproduceOptions,
    checked_counts,
    checked_settings,
)

CLAIM = (
    "A ResNet pre-trained with MoCo-v2 on images rendered from LLM-written programs learns "
    "features that beat procedural image sources (dead leaves, fractals, noise, shaders); "
    "LLM programs mixed with shaders are the best of all."
)
PAPER = "Sharma et al., A Vision Check-up for Language Models (CVPR 2024), section 5"
FLOOR = "random-init"
IN_DOMAIN = "in-domain"
LLM_SOURCES = ("transcripts", "transcripts+shaders")
PROBES = ("fashion-mnist", "digits")
# Fashion-MNIST training images 50,000-59,999 are held out of the probe and of the
# in-domain source: the online kNN monitor reads them (a bank and its queries)
MONITOR_BANK = (50_000, 58_000)
MONITOR_QUERIES = (58_000, 60_000)
PROBE_POOL = 50_000


@dataclass(frozen=True)
class VisionPreset:
    """Every number that shapes a vision run."""

    n: int  # images per source
    epochs: int
    seeds: int
    arch: str
    width: int
    size: int
    batch_size: int
    lr: float  # per 256 images
    queue: int  # capped at the data by the trainer
    key_momentum: float
    temperature: float
    warmup: float  # fraction of the steps
    crop_min: float
    jitter: float
    blur: float
    knn_k: int
    fmnist_train: int
    fmnist_test: int
    threads: int
    sources: tuple[str, ...]
    monitor_bank: int = 2000  # held-out Fashion-MNIST images the online kNN votes with
    monitor_queries: int = 1000  # and the ones it classifies
    in_domain: bool = True  # run the in-domain upper bound too


ALL_SOURCES = (
    "transcripts", "vad-shapes", "dead-leaves", "fractals", "shaders", "spectrum", "wmm",
    "transcripts+shaders",
)  # fmt: skip

PRESETS: dict[str, VisionPreset] = {
    # tests and a first look: minutes, tiny and too short to learn much
    "quick": VisionPreset(
        n=256,
        epochs=2,
        seeds=2,
        arch="convnet",
        width=8,
        size=32,
        batch_size=64,
        lr=0.06,
        queue=256,
        key_momentum=0.99,
        temperature=0.2,
        warmup=0.05,
        crop_min=0.2,
        jitter=1.0,
        blur=0.0,
        knn_k=20,
        fmnist_train=300,
        fmnist_test=200,
        threads=1,
        sources=("dead-leaves", "spectrum"),
        monitor_bank=300,
        monitor_queries=200,
    ),
    # 2 CPU cores, all sources in about an hour on an idle machine
    "cpu": VisionPreset(
        n=4000,
        epochs=6,
        seeds=2,
        arch="convnet",
        width=32,
        size=32,
        batch_size=128,
        lr=0.06,
        queue=1024,
        key_momentum=0.99,
        temperature=0.2,
        warmup=0.05,
        crop_min=0.2,
        jitter=1.0,
        blur=0.0,
        knn_k=20,
        fmnist_train=10_000,
        fmnist_test=5_000,
        threads=2,
        sources=ALL_SOURCES,
    ),
    # one GPU: full-width CIFAR ResNet-18 at 64 px on 100k images per source
    "gpu": VisionPreset(
        n=100_000,
        epochs=100,
        seeds=3,
        arch="resnet18",
        width=64,
        size=64,
        batch_size=256,
        lr=0.06,
        queue=65_536,
        key_momentum=0.99,
        temperature=0.2,
        warmup=0.02,
        crop_min=0.2,
        jitter=1.0,
        blur=0.5,
        knn_k=20,
        fmnist_train=50_000,
        fmnist_test=10_000,
        threads=8,
        sources=ALL_SOURCES,
    ),
    # the paper's schedule: ResNet-50, 1.3M images, 200 epochs at 224 px (MoCo-v2's recipe)
    "paper": VisionPreset(
        n=1_300_000,
        epochs=200,
        seeds=2,
        arch="resnet50",
        width=64,
        size=224,
        batch_size=256,
        lr=0.03,
        queue=65_536,
        key_momentum=0.999,
        temperature=0.2,
        warmup=0.0,
        crop_min=0.2,
        jitter=1.0,
        blur=0.5,
        knn_k=20,
        fmnist_train=50_000,
        fmnist_test=10_000,
        threads=16,
        sources=ALL_SOURCES,
    ),
}


# -- sources ------------------------------------------------------------------------------


def _recordings() -> str:
    from snellen.data import ROOT

    tsvs = sorted((ROOT / "llm-drawings").glob("*.tsv"))
    if not tsvs:
        raise InputError("no recorded transcripts under snellen/data/llm-drawings")
    return "transcripts:" + ",".join(str(p) for p in tsvs)


def _shaders() -> str:
    from snellen.data import ROOT

    return f"shaders:{ROOT / 'shaders'}"


SOURCES: Registry[Callable[[], str]] = Registry("vision source")
SOURCES.register("transcripts", _recordings,
                 help="the 400 recorded GPT-4 / GPT-3.5 drawing programs with parametric variants")  # fmt: skip
SOURCES.register("vad-shapes", lambda: "vad-shapes", help="VAD shape concepts drawn from SVG")
SOURCES.register("dead-leaves", lambda: "dead-leaves:mixed", help="dead leaves, mixed shapes")
SOURCES.register("fractals", lambda: "fractals", help="random IFS fractals")
SOURCES.register("shaders", _shaders, help="the shipped GLSL shaders at random times")
SOURCES.register("spectrum", lambda: "spectrum", help="1/f^a noise, random colour basis")
SOURCES.register("wmm", lambda: "wmm", help="wavelet-marginal model noise")
SOURCES.register(
    "transcripts+shaders",
    lambda: f"mix:{_recordings()}=0.5,{_shaders()}=0.5",
    help="LLM programs and shaders, half each (the paper's best)",
)


# -- options ------------------------------------------------------------------------------


def resolve(options: ReproduceOptions) -> VisionPreset:
    """The preset with the user's overrides (``--sources/--seeds/--n/--epochs`` and
    ``--set KEY=VALUE`` for any other field)."""
    preset = PRESETS[options.preset]
    changes: dict[str, Any] = {}
    if options.sources:
        for s in options.sources:
            if s not in SOURCES and s != IN_DOMAIN:
                raise InputError(
                    f"--sources {s}: choose from {', '.join([*SOURCES.names(), IN_DOMAIN])}"
                )
        changes["sources"] = tuple(s for s in options.sources if s != IN_DOMAIN)
    changes.update(checked_counts(options, n_unit="image per source"))
    fields = {f: type(v) for f, v in asdict(preset).items() if f != "sources"}
    extra = {key.replace("-", "_"): text for key, text in options.extra.items()}
    changes.update(checked_settings("vision", extra, fields))
    return replace(preset, **changes)


# -- data ---------------------------------------------------------------------------------


@functools.cache
def _fashion() -> Any:
    from snellen.datasets import LabelledSplits, build_dataset

    return build_dataset("fashion-mnist", kind=LabelledSplits)


def build_in_domain(out: Path, n: int, size: int) -> Path:
    """Fashion-MNIST training images (the probe's pool, never the monitor's) as RGB shards
    of ``size`` px: the in-domain source."""
    from PIL import Image

    from snellen.imagesets.shards import SHARD_DIR, shard_name, write_shard
    from snellen.render.image import to_png

    done = out / "dataset.json"
    if done.exists() and json.loads(done.read_text()).get("n") == n:
        return out
    fm = _fashion()
    pool = min(n, PROBE_POOL)
    order = np.random.default_rng(0).permutation(PROBE_POOL)[:pool]
    (out / SHARD_DIR).mkdir(parents=True, exist_ok=True)
    for k, start in enumerate(range(0, pool, 1000)):
        items = []
        for i in range(start, min(pool, start + 1000)):
            img = Image.fromarray(fm.train_x[order[i]]).convert("RGB").resize((size, size))
            items.append((f"{i:09d}", to_png(img), {"source": IN_DOMAIN, "index": int(order[i])}))
        write_shard(out / SHARD_DIR / shard_name(k), items)
    done.write_text(json.dumps({"source": "fashion-mnist train", "n": n, "size": size}))
    return out


def build_source(name: str, preset: VisionPreset, out: Path, progress: bool) -> Path:
    from snellen.imagesets import build_dataset

    target = out / "data" / name
    if name == IN_DOMAIN:
        return build_in_domain(target, preset.n, preset.size)
    build_dataset(SOURCES.get(name)(), preset.n, preset.size, target, seed=0,
                  shard_size=500, workers=os.cpu_count() or 1, progress=progress)  # fmt: skip
    return target


def sample_images(data: Path, count: int = 8) -> list[np.ndarray]:
    """The first ``count`` images of a dataset directory (for the page's grid)."""
    import io

    from PIL import Image

    from snellen.imagesets.shards import read_bytes
    from snellen.pretrain.data import index_images

    members = index_images([data])
    step = max(1, len(members) // count)
    return [
        np.asarray(Image.open(io.BytesIO(read_bytes(m))).convert("RGB"))
        for m in members[::step][:count]
    ]


# -- training and probing -----------------------------------------------------------------


def knn_monitor(preset: VisionPreset) -> Callable[[torch.nn.Module], dict[str, float]]:
    """solo-learn's online kNN: held-out Fashion-MNIST training images (by default 2,000 as
    the bank, 1,000 queries, never used by the probes) read by the backbone being trained."""
    from snellen.probe import extract_features, knn_predict

    fm = _fashion()
    size, k = preset.size, preset.knn_k
    bank = slice(MONITOR_BANK[0], MONITOR_BANK[0] + min(preset.monitor_bank, 8000))
    queries = slice(MONITOR_QUERIES[0], MONITOR_QUERIES[0] + min(preset.monitor_queries, 2000))
    bank_x, bank_y = fm.train_x[bank], fm.train_y[bank]
    q_x, q_y = fm.train_x[queries], fm.train_y[queries]
    by, qy = torch.from_numpy(bank_y).long(), torch.from_numpy(q_y).long()

    def monitor(backbone: torch.nn.Module) -> dict[str, float]:
        bank = extract_features(backbone, bank_x, size)
        query = extract_features(backbone, q_x, size)
        pred = knn_predict(bank, by, query, k=k, classes=10)
        return {"knn": float((pred == qy).float().mean())}

    return monitor


def _probe_splits(preset: VisionPreset) -> dict[str, Any]:
    from snellen.datasets import LabelledSplits, build_dataset

    fm = _fashion()
    pool = replace(fm, train_x=fm.train_x[:PROBE_POOL], train_y=fm.train_y[:PROBE_POOL])
    return {
        "fashion-mnist": pool.limit(preset.fmnist_train, preset.fmnist_test, 0),
        "digits": build_dataset("digits", kind=LabelledSplits, seed=0),
    }


def probe_backbone(
    backbone: torch.nn.Module, preset: VisionPreset, splits: dict[str, Any]
) -> dict[str, dict[str, float]]:
    from snellen.probe import extract_features, score_features

    out = {}
    for name, sp in splits.items():
        tr = extract_features(backbone, sp.train_x, preset.size)
        te = extract_features(backbone, sp.test_x, preset.size)
        ty, sy = torch.from_numpy(sp.train_y).long(), torch.from_numpy(sp.test_y).long()
        lin, knn = score_features(tr, ty, te, sy, k=preset.knn_k, classes=len(sp.classes))
        out[name] = {"linear": lin, "knn": knn, "train": len(ty), "test": len(sy)}
    return out


def _digest(preset: VisionPreset, name: str) -> str:
    """A short key of the settings a (source, seed) result depends on: a rerun with other
    settings in the same ``--out`` trains anew instead of reusing it."""
    import hashlib

    fields = asdict(preset)
    for key in ("sources", "seeds", "in_domain"):
        fields.pop(key)
    for key, default in (("monitor_bank", 2000), ("monitor_queries", 1000)):
        if fields[key] == default:  # keys written before these were settings stay valid
            fields.pop(key)
    if name == FLOOR:  # the floor is the untrained backbone: only these shape it
        keep = ("arch", "width", "size", "knn_k", "fmnist_train", "fmnist_test",
                "monitor_bank", "monitor_queries")  # fmt: skip
        fields = {k: fields[k] for k in keep if k in fields}
    text = json.dumps(fields, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)


def run_one(
    name: str, seed: int, preset: VisionPreset, out: Path, splits: dict[str, Any], progress: bool
) -> dict[str, Any]:
    """Pre-train (or, for the floor, initialise) one backbone and probe it; stored in
    ``out/probes`` so a rerun skips it."""
    from snellen.pretrain import load_backbone, pretrain
    from snellen.pretrain.moco import make_backbone

    stored = out / "probes" / f"{name}-s{seed}-{_digest(preset, name)}.json"
    if stored.exists():
        return dict(json.loads(stored.read_text()))
    t0 = time.monotonic()
    record: dict[str, Any] = {"source": name, "seed": seed}
    torch.set_num_threads(preset.threads)
    if name == FLOOR:
        torch.manual_seed(seed)
        backbone, _ = make_backbone(preset.arch, preset.width)
        record["monitor"] = [{"epoch": 0, **knn_monitor(preset)(backbone)}]
    else:
        data = build_source(name, preset, out, progress)
        ckpt = out / "ckpt" / f"{name}-s{seed}-{_digest(preset, name)}.pt"
        ckpt.parent.mkdir(parents=True, exist_ok=True)
        result = pretrain(
            str(data), ckpt, arch=preset.arch, width=preset.width, epochs=preset.epochs,
            batch_size=preset.batch_size, size=preset.size, lr=preset.lr, queue=preset.queue,
            momentum=preset.key_momentum, temperature=preset.temperature, warmup=preset.warmup,
            crop_min=preset.crop_min, jitter=preset.jitter, blur=preset.blur, seed=seed,
            threads=preset.threads, progress=progress, save_every=200,
            monitor=knn_monitor(preset),
        )  # fmt: skip
        state = torch.load(ckpt, map_location="cpu", weights_only=False)
        record.update(
            checkpoint=str(ckpt), images=state["images"], steps=state["step"],
            queue=state["queue_size"], images_per_s=result.images_per_s,
            loss=[round(h["loss"], 4) for h in state["history"]], monitor=state["monitor"],
        )  # fmt: skip
        backbone, _ = load_backbone(ckpt)
    record["probes"] = probe_backbone(backbone, preset, splits)
    record["seconds"] = round(time.monotonic() - t0, 1)
    record["load_average"] = os.getloadavg()[0]
    _write_json(stored, record)
    return record


# -- the finding --------------------------------------------------------------------------


def _mean_sd(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def summarise(records: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One row per (source, probe): mean and sd over seeds, in points (percent)."""
    rows = []
    for name, recs in records.items():
        for probe in PROBES:
            lin = [100 * r["probes"][probe]["linear"] for r in recs]
            knn = [100 * r["probes"][probe]["knn"] for r in recs]
            (lm, ls), (km, ks) = _mean_sd(lin), _mean_sd(knn)
            mon = [r["monitor"] for r in recs if r.get("monitor")]
            row: dict[str, Any] = {
                "source": name, "probe": probe,
                "linear_mean": round(lm, 2), "linear_sd": round(ls, 2),
                "knn_mean": round(km, 2), "knn_sd": round(ks, 2), "seeds": len(recs),
                "images": int(recs[0].get("images", 0)),
            }  # fmt: skip
            if recs[0].get("loss"):
                first = [statistics.fmean(r["loss"][: max(1, len(r["loss"]) // 10)]) for r in recs]
                last = [statistics.fmean(r["loss"][-max(1, len(r["loss"]) // 10) :]) for r in recs]
                peak = [max(r["loss"]) for r in recs]
                row.update(
                    loss_first=round(statistics.fmean(first), 3),
                    loss_peak=round(statistics.fmean(peak), 3),
                    loss_last=round(statistics.fmean(last), 3),
                )
            if mon and len(mon[0]) > 1:
                row.update(
                    monitor_knn_start=round(100 * statistics.fmean(m[0]["knn"] for m in mon), 2),
                    monitor_knn_end=round(100 * statistics.fmean(m[-1]["knn"] for m in mon), 2),
                )
            rows.append(row)
    return rows


PAPER_PROCEDURAL = 3  # procedural sources a full comparison ranks the LLM images against


def _short_of_the_paper(
    trained: dict[str, dict[str, Any]], floor: dict[str, Any], top_llm: str,
    procedural: list[str],
) -> list[str]:  # fmt: skip
    """What a run lacks before its ranking may be called the paper's finding."""
    missing = []
    if len(procedural) < PAPER_PROCEDURAL:
        missing.append(
            f"ranked against {len(procedural)} procedural source(s), fewer than "
            f"{PAPER_PROCEDURAL} (run all sources)"
        )
    if "transcripts+shaders" not in trained:
        missing.append("the mixture of LLM programs with shaders was not run")
    knn, knn_floor = trained[top_llm].get("knn_mean"), floor.get("knn_mean")
    if knn is not None and knn_floor is not None and knn <= knn_floor:
        missing.append(f"the kNN probe disagrees ({top_llm} {knn:.2f} vs floor {knn_floor:.2f})")
    return missing


def verdict(rows: list[dict[str, Any]]) -> tuple[str, str, list[str]]:
    """Which sources beat the floor beyond their spread on Fashion-MNIST linear, and where
    the LLM sources rank among the procedural ones."""
    fm = {r["source"]: r for r in rows if r["probe"] == "fashion-mnist"}
    if FLOOR not in fm:
        return "undecided at this preset", "no random-init floor was run", []
    floor = fm[FLOOR]
    trained = {s: r for s, r in fm.items() if s not in (FLOOR, IN_DOMAIN)}
    notes = []

    def beats(r: dict[str, Any]) -> tuple[bool, float]:
        margin = r["linear_mean"] - floor["linear_mean"]
        spread = max(r["linear_sd"], floor["linear_sd"])
        return margin >= 1.0 and margin >= 2 * spread and r["seeds"] >= 2, margin

    winners = [s for s, r in trained.items() if beats(r)[0]]
    ranked = sorted(trained, key=lambda s: -trained[s]["linear_mean"])
    for s in ranked:
        ok, margin = beats(trained[s])
        notes.append(
            f"{s}: Fashion-MNIST linear {trained[s]['linear_mean']:.2f} +- "
            f"{trained[s]['linear_sd']:.2f} ({margin:+.2f} over the floor "
            f"{floor['linear_mean']:.2f} +- {floor['linear_sd']:.2f}); "
            + ("beats the floor beyond the spread" if ok else "within the floor's reach")
        )
    if IN_DOMAIN in fm:
        notes.append(
            f"in-domain upper bound: {fm[IN_DOMAIN]['linear_mean']:.2f} +- "
            f"{fm[IN_DOMAIN]['linear_sd']:.2f}"
        )
    if not winners:
        return ("undecided at this preset",
                "no source beats the random-init floor on Fashion-MNIST linear by 1 point and "
                "twice the larger sd", notes)  # fmt: skip
    llm = [s for s in ranked if s in LLM_SOURCES]
    procedural = [s for s in ranked if s not in LLM_SOURCES]
    best = ranked[0]
    head = f"best: {best} ({', '.join(winners)} beat the floor beyond their spread)"
    if not llm:
        return "undecided at this preset", f"{head}; no LLM source was run", notes
    if not procedural:
        return "undecided at this preset", f"{head}; no procedural source to rank against", notes
    top_llm = llm[0]
    rank = ranked.index(top_llm) + 1
    where = f"{top_llm} ranks {rank} of {len(ranked)}"
    llm_r, proc_r = trained[top_llm], trained[procedural[0]]
    gap = llm_r["linear_mean"] - proc_r["linear_mean"]
    spread = max(llm_r["linear_sd"], proc_r["linear_sd"])
    if top_llm not in winners:
        return "does not hold", f"{head}; {where}, not above the floor beyond its spread", notes
    if gap >= 2 * spread and gap > 0:
        # "holds" only for the paper's comparison: its procedural sources and its mixture, and
        # the kNN probe agreeing with the linear one; less is a finding in kind
        missing = _short_of_the_paper(trained, floor, top_llm, procedural)
        if missing:
            return ("holds in kind",
                    f"{head}; {where}, above the best procedural source by {gap:.2f}; "
                    f"not the paper's whole comparison: {'; '.join(missing)}", notes)  # fmt: skip
        return "holds", f"{head}; {where}, above the best procedural source by {gap:.2f}", notes
    return ("holds in kind",
            f"{head}; {where}: LLM images teach features beyond the floor, but not beyond "
            f"the best procedural source ({procedural[0]}, {gap:+.2f} points)", notes)  # fmt: skip


def run(options: ReproduceOptions) -> Finding:
    """Run the study at ``options.preset`` into ``options.out`` and return its finding."""
    preset = resolve(options)
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    load_start = os.getloadavg()
    splits = _probe_splits(preset)
    names = [FLOOR, *preset.sources, *([IN_DOMAIN] if preset.in_domain else [])]
    records: dict[str, list[dict[str, Any]]] = {}
    for name in names:
        records[name] = [
            run_one(name, seed, preset, out, splits, options.progress)
            for seed in range(preset.seeds)
        ]
    rows = summarise(records)
    v, reason, notes = verdict(rows)
    samples = {n: sample_images(out / "data" / n) for n in names if n != FLOOR}
    figures = draw(records, rows, samples, preset, out)
    load_end = os.getloadavg()
    trained = [r for n in names if n != FLOOR for r in records[n]]
    notes.append(
        f"load average {load_start[0]:.1f} at the start, {load_end[0]:.1f} at the end "
        f"(1-minute), {os.cpu_count()} cores; pre-training at "
        f"{statistics.fmean(r['images_per_s'] for r in trained):.0f} images/s on average"
    )
    config: dict[str, Any] = {k: v for k, v in asdict(preset).items() if k != "sources"}
    config["sources"] = ",".join(preset.sources)
    config["load_average_start"] = round(load_start[0], 2)
    config["load_average_end"] = round(load_end[0], 2)
    seconds = sum(r["seconds"] for recs in records.values() for r in recs)
    return Finding(
        name="vision", claim=CLAIM, paper=PAPER, preset=options.preset, verdict=v,
        reason=reason, seconds=round(max(seconds, time.monotonic() - t0), 1), rows=rows,
        command=_command(options), config=config, figures=figures, notes=notes,
    )  # fmt: skip


def _command(options: ReproduceOptions) -> str:
    parts = ["snellen reproduce vision", f"--preset {options.preset}"]
    if options.sources:
        parts.append(f"--sources {','.join(options.sources)}")
    for key in ("seeds", "n", "epochs"):
        if getattr(options, key) is not None:
            parts.append(f"--{key} {getattr(options, key)}")
    parts += [f"--set {k}={v}" for k, v in options.extra.items()]
    return " ".join(parts)


# -- figures ------------------------------------------------------------------------------


def _smooth(values: list[float], window: int) -> np.ndarray:
    if len(values) < window or window < 2:
        return np.asarray(values)
    kernel = np.ones(window) / window
    return np.convolve(values, kernel, mode="valid")


def draw(
    records: dict[str, list[dict[str, Any]]],
    rows: list[dict[str, Any]],
    samples: dict[str, list[np.ndarray]],
    preset: VisionPreset,
    out: Path,
) -> list[Figure]:
    """Per source: its sample images beside its loss and kNN-monitor curves and its probe
    results; and the probe accuracies of all sources against the floor."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in records if n != FLOOR]
    by = {(r["source"], r["probe"]): r for r in rows}
    floor_knn = statistics.fmean(r["monitor"][0]["knn"] for r in records[FLOOR]) * 100
    fig, axes = plt.subplots(len(names), 3, figsize=(13, 2.2 * len(names)),
                             gridspec_kw={"width_ratios": [1.6, 1, 1]}, squeeze=False)  # fmt: skip
    for row, name in zip(axes, names, strict=True):
        imgs = samples.get(name, [])
        if imgs:
            tiles = [np.asarray(i) for i in imgs[:8]]
            h = max(t.shape[0] for t in tiles)
            grid = np.concatenate(
                [np.concatenate(tiles[:4], 1), np.concatenate(tiles[4:8], 1)]
                if len(tiles) == 8 and all(t.shape[0] == h for t in tiles)
                else [np.concatenate(tiles, 1)],
                0,
            )
            row[0].imshow(grid, interpolation="nearest")
        row[0].set_axis_off()
        fm = by[(name, "fashion-mnist")]
        dg = by[(name, "digits")]
        row[0].set_title(
            f"{name}: FMNIST lin {fm['linear_mean']:.1f}±{fm['linear_sd']:.1f} "
            f"kNN {fm['knn_mean']:.1f}; digits lin {dg['linear_mean']:.1f}",
            fontsize=8,
            loc="left",
        )
        for seed, rec in enumerate(records[name]):
            loss = rec.get("loss", [])
            window = max(1, len(loss) // 40)
            sm = _smooth(loss, window)
            row[1].plot(np.arange(len(sm)) + window, sm, lw=1, label=f"seed {seed}")
            mon = rec.get("monitor", [])
            row[2].plot([m["epoch"] for m in mon], [100 * m["knn"] for m in mon], marker="o",
                        ms=3, lw=1, label=f"seed {seed}")  # fmt: skip
        queue_full = records[name][0].get("queue", 0) / preset.batch_size
        if queue_full:
            row[1].axvline(queue_full, color="grey", ls=":", lw=1)
        row[1].set_ylabel("MoCo loss", fontsize=8)
        row[2].axhline(floor_knn, color="grey", ls="--", lw=1)
        row[2].set_ylabel("kNN monitor %", fontsize=8)
        for ax in row[1:]:
            ax.tick_params(labelsize=7)
    axes[-1][1].set_xlabel("step (dotted: queue full)", fontsize=8)
    axes[-1][2].set_xlabel("epoch (dashed: random init)", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "sources.png", dpi=80)
    plt.close(fig)
    _palette_png(out / "sources.png")

    order = sorted(
        {r["source"] for r in rows}, key=lambda s: -by[(s, "fashion-mnist")]["linear_mean"]
    )
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), squeeze=False)
    for ax, probe in zip(axes[0], PROBES, strict=True):
        xs = np.arange(len(order))
        for off, kind in ((-0.2, "linear"), (0.2, "knn")):
            ax.bar(xs + off, [by[(s, probe)][f"{kind}_mean"] for s in order], 0.4,
                   yerr=[by[(s, probe)][f"{kind}_sd"] for s in order], capsize=2,
                   label=kind)  # fmt: skip
        ax.axhline(by[(FLOOR, probe)]["linear_mean"], color="k", ls="--", lw=1,
                   label="random-init linear")  # fmt: skip
        lo = min(min(by[(s, probe)]["linear_mean"], by[(s, probe)]["knn_mean"]) for s in order)
        ax.set_ylim(max(0.0, lo - 5), 100)
        ax.set_xticks(xs, order, rotation=30, ha="right", fontsize=8)
        ax.set_title(f"{probe} (mean ± sd over seeds)", fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "probes.png", dpi=80)
    plt.close(fig)
    return [
        Figure(
            "sources.png",
            "Each source",
            "sample images, MoCo loss per step (smoothed; dotted line: queue full), online "
            "kNN on held-out Fashion-MNIST per epoch, and the probe means",
        ),  # fmt: skip
        Figure(
            "probes.png",
            "Probes",
            "linear and kNN top-1 on Fashion-MNIST and the digits, mean ± sd over seeds, "
            "against the random-init floor",
        ),  # fmt: skip
    ]


def _palette_png(path: Path) -> None:
    """Store a figure with a 256-colour palette: the sample grids of nine sources make a
    full-colour page of figures several times larger, for no visible difference."""
    from PIL import Image

    with Image.open(path) as im:
        small = im.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def estimate_seconds(preset: VisionPreset, images_per_s: float) -> float:
    """Pre-training time of a whole preset at a measured rate (images per second)."""
    runs = (len(preset.sources) + 1) * preset.seeds
    return runs * preset.n * preset.epochs / max(images_per_s, 1e-9)
