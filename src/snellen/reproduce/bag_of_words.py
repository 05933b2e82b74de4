"""``snellen reproduce bag-of-words``: contrastive image-text models behave like bags of words
(Yuksekgonul et al., ICLR 2023).

The experiment, with its baseline in the same run: image-text retrieval on VAD pictures with
their descriptions as written (the baseline) and with the words shuffled by each of ARO's
four perturbations (``vad-retrieval:KIND``); and VAD-ARO relation, attribution and order,
against chance. Every set is built for several data seeds (other pictures, other captions),
and the verdict rests on 95% intervals over them: the change of each shuffle is paired with
the written captions of the same seed (the same pictures).

Every evaluation goes through :func:`snellen.evaluate.run_eval` with ``out=OUT/eval/MODEL``,
so a killed run started again embeds only what is missing and skips what is complete.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from snellen.errors import InputError
from snellen.reproduce.findings import (
    Figure,
    Finding,
    ReproduceOptions,
    Scalar,
    checked_counts,
    checked_settings,
    interval,
)

__all__ = ["CLAIM", "PAPER", "PRESETS", "BagOfWordsPreset", "run"]

PAPER = (
    "Yuksekgonul, Bianchi, Kalluri, Jurafsky, Zou: When and why vision-language models behave "
    "like bags-of-words, and what to do about it? (ICLR 2023)"
)
CLAIM = (
    "Contrastive image-text models retrieve about as well from captions whose words are "
    "shuffled as from the captions as written, and they are near chance when the words stay "
    "and only their arrangement changes (relation, attribution, order): retrieval does not "
    "need word order, so the contrastive objective does not teach it."
)

SHUFFLES = (
    "shuffle_nouns_and_adj",
    "shuffle_allbut_nouns_and_adj",
    "shuffle_within_trigrams",
    "shuffle_trigrams",
)
RETRIEVAL_METRICS = (
    ("image_retrieval_recall@1", "text->image R@1"),
    ("text_retrieval_recall@1", "image->text R@1"),
    ("image_retrieval_recall@5", "text->image R@5"),
)
# (dataset, metric, label): the composition sets against chance
COMPOSITION = (
    ("vad-aro/relation", "macro_accuracy", "macro accuracy"),
    ("vad-aro/attribution", "accuracy", "accuracy"),
    ("vad-aro/order", "accuracy", "accuracy"),
)
# the paper's own sets, read from the user's copy (--set root=DIR)
OFFICIAL = (
    ("aro/vg-relation", "macro_accuracy", "macro accuracy"),
    ("aro/vg-attribution", "macro_accuracy", "macro accuracy"),
    ("aro/coco-order", "accuracy", "precision@1"),
    ("aro/flickr-order", "accuracy", "precision@1"),
)


@dataclass(frozen=True)
class BagOfWordsPreset:
    """What a preset runs. ``margin``: points of R@1 a shuffle may cost, and points above
    chance a composition set may reach, for the claim to hold."""

    models: tuple[str, ...]
    n_retrieval: int
    n_aro: int
    seeds: int
    official: bool = False
    margin: float = 5.0
    device: str | None = "cpu"
    note: str = ""


PRESETS: dict[str, BagOfWordsPreset] = {
    # fits the demo's budget (under two minutes on two loaded CPU cores); three seeds, so
    # that the intervals can decide
    "quick": BagOfWordsPreset(("snellen-shapes",), n_retrieval=200, n_aro=100, seeds=3),
    # the configuration of docs/evaluate.md's table
    "cpu": BagOfWordsPreset(("snellen-shapes",), n_retrieval=400, n_aro=300, seeds=3),
    "gpu": BagOfWordsPreset(
        ("snellen-shapes", "open-clip:ViT-B-32:openai"),
        n_retrieval=1000,
        n_aro=1000,
        seeds=5,
        device=None,
        note="open-clip:ViT-B-32:openai needs its weights (downloaded once)",
    ),  # fmt: skip
    # the paper's model on VAD and, from the user's copy of the ARO data, on its four sets
    "paper": BagOfWordsPreset(
        ("open-clip:ViT-B-32:openai",),
        n_retrieval=1000,
        n_aro=1000,
        seeds=5,
        official=True,
        device=None,
        note="the ARO sets are read from --set root=DIR (visual_genome_relation.json, "
        "visual_genome_attribution.json, coco_karpathy_test.json, flickr30k_test.json and "
        "their images, as the ARO repository lays them out)",
    ),  # fmt: skip
}

#: what ``--set KEY=VALUE`` may set: the verdict's margin (points), the device, the ARO data
SETTINGS: dict[str, type] = {"margin": float, "device": str, "root": str}


def _resolve(options: ReproduceOptions) -> BagOfWordsPreset:
    preset = PRESETS[options.preset]
    if options.models:
        preset = replace(preset, models=tuple(options.models))
    counts = checked_counts(options, min_n=10, n_unit="cases per set")
    if "seeds" in counts:
        preset = replace(preset, seeds=counts["seeds"])
    if "n" in counts:
        preset = replace(preset, n_retrieval=counts["n"], n_aro=counts["n"])
    settings = checked_settings("bag-of-words", options.extra, SETTINGS)
    if "margin" in settings:
        preset = replace(preset, margin=settings["margin"])
    if "device" in settings:
        preset = replace(preset, device=settings["device"] or None)
    return preset


def _label(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", model)


def run(options: ReproduceOptions) -> Finding:
    """Run the bag-of-words experiment at ``options.preset`` (see :data:`PRESETS`)."""
    from tqdm import tqdm

    from snellen.datasets import EVAL_KINDS, build_dataset
    from snellen.evaluate import run_eval
    from snellen.score import load_scorer

    preset = _resolve(options)
    root = options.extra.get("root")
    if preset.official and not root:
        raise InputError(
            "reproduce bag-of-words --preset paper reads the ARO data: add --set root=DIR "
            "(the folder with visual_genome_relation.json, coco_karpathy_test.json, ... and "
            "their images), or use --preset cpu for the VAD sets"
        )
    out = Path(options.out)
    seeds = list(range(preset.seeds))
    retrieval_sets = ["vad-retrieval", *(f"vad-retrieval:{k}" for k in SHUFFLES)]
    jobs: list[tuple[str, str, int, int]] = []  # (task, dataset, n, seed)
    for seed in seeds:
        jobs += [("retrieval", name, preset.n_retrieval, seed) for name in retrieval_sets]
        jobs += [("aro", name, preset.n_aro, seed) for name, _, _ in COMPOSITION]
    official = [("aro", name, preset.n_aro, 0) for name, _, _ in OFFICIAL] if root else []

    # values[(model, dataset, metric)][seed] (in percent)
    values: dict[tuple[str, str, str], dict[int, float]] = {}
    chance: dict[str, float] = {}
    published: dict[tuple[str, str], float] = {}
    bar = tqdm(
        total=len(preset.models) * (len(jobs) + len(official)), desc="bag-of-words",
        unit="run", disable=not options.progress,
    )  # fmt: skip
    resumed = 0  # evaluations found complete in OUT/eval (a resumed run)
    for model in preset.models:
        scorer = load_scorer(model, **({"device": preset.device} if preset.device else {}))
        target = out / "eval" / _label(model)
        built: dict[tuple[str, int], Any] = {}
        for task, name, n, seed in [*jobs, *official]:
            bar.set_postfix_str(f"{_label(model)} {name} seed {seed}")
            is_official = name.startswith("aro/")
            if (name, seed) not in built:
                built[(name, seed)] = build_dataset(
                    name,
                    root if is_official else None,
                    "heldout",
                    kind=EVAL_KINDS,
                    n=n,
                    seed=seed,
                )
            result = run_eval(
                task, scorer, name, root if is_official else None, out=target, seed=seed,
                n=n, data=built[(name, seed)], workers=1, progress=False,
            )  # fmt: skip
            resumed += int(result.resumed.get("complete", 0))
            for metric, value in result.metrics.items():
                if value is None:
                    continue
                if metric == "chance":
                    chance[name] = 100 * value
                else:
                    values.setdefault((model, name, metric), {})[seed] = 100 * value
            for anchor in result.published:
                published[(name, anchor.metric)] = 100 * float(anchor.value)
            bar.update(1)
    bar.close()

    rows = _rows(preset, values, chance, published, seeds, bool(root))
    verdict, reason = _verdict(preset, rows)
    figures = _figures(preset, rows, out)
    notes = [
        "Retrieval: VAD held-out pictures (shape-colour combinations the shipped model never "
        "trained on), one description each; a shuffle's change is paired with the captions "
        "as written on the same pictures (same data seed). Composition sets: the true "
        "description against the same words rearranged, chance as given.",
        f"Intervals are two-sided 95% Student-t intervals over {preset.seeds} data seeds.",
    ]
    if preset.note:
        notes.append(preset.note)
    if official:
        notes.append(
            "The ARO sets are the paper's own, read once (the order sets average 5 "
            "perturbation draws); their rows carry the paper's number where snellen knows it."
        )
    config: dict[str, Scalar] = {
        "models": ",".join(preset.models),
        "n_retrieval": preset.n_retrieval,
        "n_aro": preset.n_aro,
        "seeds": preset.seeds,
        "margin_points": preset.margin,
        "official_root": root,
        "device": preset.device or "auto",
        "resumed_runs": resumed,
    }
    command = f"snellen reproduce bag-of-words --preset {options.preset}"
    return Finding(
        name="bag-of-words", claim=CLAIM, paper=PAPER, preset=options.preset, verdict=verdict,
        reason=reason, seconds=0.0, rows=rows, command=command, config=config,
        figures=figures, notes=notes,
    )  # fmt: skip


def _rows(
    preset: BagOfWordsPreset,
    values: dict[tuple[str, str, str], dict[int, float]],
    chance: dict[str, float],
    published: dict[tuple[str, str], float],
    seeds: list[int],
    official: bool,
) -> list[dict[str, Scalar]]:
    rows: list[dict[str, Scalar]] = []
    for model in preset.models:
        for kind in ("as written", *SHUFFLES):
            name = "vad-retrieval" if kind == "as written" else f"vad-retrieval:{kind}"
            for metric, label in RETRIEVAL_METRICS:
                got = values.get((model, name, metric), {})
                if not got:
                    continue
                iv = interval([got[s] for s in sorted(got)])
                row: dict[str, Scalar] = {
                    "model": model, "dataset": "vad-retrieval", "captions": kind,
                    "metric": label, "mean": iv.mean, "sd": iv.sd, "ci_low": iv.low,
                    "ci_high": iv.high, "seeds": iv.n,
                }  # fmt: skip
                base = values.get((model, "vad-retrieval", metric), {})
                if kind != "as written":
                    paired = [got[s] - base[s] for s in seeds if s in got and s in base]
                    if paired:
                        d = interval(paired)
                        row |= {"change": d.mean, "change_ci_low": d.low, "change_ci_high": d.high}
                rows.append(row)
        for name, metric, label in COMPOSITION + (OFFICIAL if official else ()):
            got = values.get((model, name, metric), {})
            if not got:
                continue
            iv = interval([got[s] for s in sorted(got)])
            rows.append({
                "model": model, "dataset": name, "captions": "as written",
                "metric": label, "mean": iv.mean, "sd": iv.sd, "ci_low": iv.low,
                "ci_high": iv.high, "seeds": iv.n, "chance": chance.get(name),
                "published": published.get((name, metric)),
            })  # fmt: skip
    # percent to four decimals: float noise (a change of 2.98e-06) is not a finding
    return [{k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()} for r in rows]


def _verdict(preset: BagOfWordsPreset, rows: list[dict[str, Scalar]]) -> tuple[str, str]:
    """Decide on the first model: each shuffle must cost less than ``margin`` points of
    text->image R@1, and each VAD composition set must stay below chance + ``margin``."""
    model = preset.models[0]
    m = preset.margin
    shuffles = [
        r for r in rows
        if r["model"] == model and r["captions"] != "as written" and r["metric"] == "text->image R@1"
    ]  # fmt: skip
    comp = [r for r in rows if r["model"] == model and str(r["dataset"]).startswith("vad-aro/")]
    if preset.seeds < 2:
        return (
            "undecided at this preset",
            f"one data seed gives no interval; run with --seeds 2 or more (margin {m:g} points)",
        )
    worst = min(shuffles, key=lambda r: float(r["change"] or 0.0))
    high = max(comp, key=lambda r: float(r["mean"] or 0.0) - float(r["chance"] or 0.0))
    drop_sure = all(float(r["change_ci_low"] or 0.0) > -m for r in shuffles)
    drop_kind = all(float(r["change"] or 0.0) > -m for r in shuffles)
    near_sure = all(float(r["ci_high"] or 0.0) < float(r["chance"] or 0.0) + m for r in comp)
    near_kind = all(float(r["mean"] or 0.0) < float(r["chance"] or 0.0) + m for r in comp)
    detail = (
        f"{model}: the worst shuffle ({worst['captions']}) changes text->image R@1 by "
        f"{float(worst['change'] or 0):+.1f} points (95% CI {float(worst['change_ci_low'] or 0):+.1f} "
        f"to {float(worst['change_ci_high'] or 0):+.1f}); the composition set furthest above "
        f"chance is {high['dataset']} at {float(high['mean'] or 0):.1f} "
        f"(CI {float(high['ci_low'] or 0):.1f}-{float(high['ci_high'] or 0):.1f}, chance "
        f"{float(high['chance'] or 0):.0f}); margin {m:g} points, {preset.seeds} data seeds"
    )
    # contradicted: a shuffle surely costs more than the margin, or a set is surely above it
    costly = any(float(r["change_ci_high"] or 0.0) < -m for r in shuffles)
    above = any(float(r["ci_low"] or 0.0) > float(r["chance"] or 0.0) + m for r in comp)
    if costly or above:
        return "does not hold", detail
    if drop_sure and near_sure:
        return "holds", detail
    if drop_kind and near_kind:
        return "holds in kind", detail + "; the means are inside the margin, the intervals not all"
    return (
        "undecided at this preset",
        detail + "; a mean is outside the margin but its interval reaches inside it: more "
        "seeds (--seeds) or cases (--n) decide",
    )


def _figures(preset: BagOfWordsPreset, rows: list[dict[str, Scalar]], out: Path) -> list[Figure]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures: list[Figure] = []
    model = preset.models[0]
    kinds = ("as written", *SHUFFLES)
    fig, ax = plt.subplots(figsize=(7.5, 3.6), dpi=100)
    width = 0.8 / len(RETRIEVAL_METRICS)
    for j, (_, label) in enumerate(RETRIEVAL_METRICS):
        got = {
            r["captions"]: r
            for r in rows
            if r["model"] == model and r["dataset"] == "vad-retrieval" and r["metric"] == label
        }
        xs = [i + (j - 1) * width for i in range(len(kinds))]
        means = [float(got[k]["mean"] or 0) if k in got else 0.0 for k in kinds]
        sds = [float(got[k]["sd"] or 0) if k in got else 0.0 for k in kinds]
        ax.bar(xs, means, width, yerr=sds, capsize=2, label=label)
    ax.set_xticks(range(len(kinds)), [k.replace("_", " ") for k in kinds], rotation=15, fontsize=7)
    ax.set_ylabel("recall (%)")
    ax.set_ylim(0, 100)
    ax.set_title(f"{model}: VAD retrieval, captions as written and shuffled", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(out / "retrieval_shuffled.png")
    plt.close(fig)
    figures.append(
        Figure(
            "retrieval_shuffled.png",
            "Retrieval with shuffled captions",
            f"mean and sd over {preset.seeds} data seeds",
        )
    )

    comp = [r for r in rows if str(r["dataset"]).startswith(("vad-aro/", "aro/"))]
    fig, ax = plt.subplots(figsize=(7.5, 3.4), dpi=100)
    labels = [f"{r['dataset']}\n{str(r['model']).split(':')[-1]}" for r in comp]
    means = [float(r["mean"] or 0) for r in comp]
    err = [
        [float(r["mean"] or 0) - float(r["ci_low"] or 0) for r in comp],
        [float(r["ci_high"] or 0) - float(r["mean"] or 0) for r in comp],
    ]
    ax.bar(range(len(comp)), means, 0.6, yerr=err, capsize=3, color="#7a9cc6", label="measured")
    for i, r in enumerate(comp):
        if r["chance"] is not None:
            ax.hlines(float(r["chance"]), i - 0.35, i + 0.35, colors="k", linestyles="--")
        if r.get("published") is not None:
            ax.plot(i, float(r["published"] or 0), "r*", markersize=8)
    ax.set_xticks(range(len(comp)), labels, fontsize=7)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_title("Composition sets: 95% intervals, chance dashed (published: red star)", fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "composition.png")
    plt.close(fig)
    figures.append(Figure("composition.png", "Composition against chance", ""))
    return figures
