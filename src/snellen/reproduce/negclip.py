"""``snellen reproduce negclip``: NegCLIP's hard negatives teach composition (Yuksekgonul et
al., ICLR 2023), measured against the control the paper also ran.

Three models in one run, in the layout of the paper's Table 6: the starting model (CLIP),
the same fine-tuning without hard negatives (CLIP-FT: ``negatives="none"``,
``hard_images=0``), and NegCLIP (POS- and noun-phrase-swap negative captions, nearest-
neighbour hard negative images). All three are evaluated on VAD-ARO relation, attribution
and order (and, at the longer presets, counting, zero-shot and retrieval, which NegCLIP
should keep) for several data seeds; the verdict rests on NegCLIP minus CLIP-FT, paired by
seed, with 95% intervals.

Resumable: each fine-tune writes ``OUT/models/LABEL.pt`` and keeps its training state
beside it (:func:`snellen.evaluate.negclip.finetune` continues a killed run from it); a
model already written with the same settings is not trained again; the evaluations go
through :func:`snellen.evaluate.run_eval` with ``out=OUT/eval/LABEL``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from snellen.errors import InputError
from snellen.registry import parse_name
from snellen.reproduce.findings import (
    Figure,
    Finding,
    ReproduceOptions,
    Scalar,
    checked_counts,
    checked_settings,
    interval,
)

__all__ = ["CLAIM", "PAPER", "PRESETS", "NegClipPreset", "run"]

PAPER = (
    "Yuksekgonul, Bianchi, Kalluri, Jurafsky, Zou: When and why vision-language models behave "
    "like bags-of-words, and what to do about it? (ICLR 2023), NegCLIP"
)
CLAIM = (
    "Fine-tuning CLIP with hard negatives (captions with swapped words or phrases, and "
    "nearest-neighbour images in the batch) lifts relation, attribution and order above the "
    "same fine-tuning without them (CLIP-FT), while keeping retrieval and zero-shot accuracy."
)

# (dataset, task, metric, label, role): composition decides the verdict; kept should not fall
COMPOSITION = (
    ("vad-aro/relation", "aro", "macro_accuracy", "macro accuracy", "composition"),
    ("vad-aro/attribution", "aro", "accuracy", "accuracy", "composition"),
    ("vad-aro/order", "aro", "accuracy", "accuracy", "composition"),
)
KEPT = (
    ("vad-aro/counting", "aro", "accuracy", "accuracy", "other"),
    ("vad-zeroshot/shape", "zeroshot", "acc1", "acc1", "kept"),
    ("vad-zeroshot/colour", "zeroshot", "acc1", "acc1", "kept"),
    ("vad-retrieval", "retrieval", "image_retrieval_recall@1", "text->image R@1", "kept"),
    ("vad-retrieval", "retrieval", "text_retrieval_recall@1", "image->text R@1", "kept"),
)
OFFICIAL = (
    ("aro/vg-relation", "aro", "macro_accuracy", "macro accuracy", "composition"),
    ("aro/vg-attribution", "aro", "macro_accuracy", "macro accuracy", "composition"),
    ("aro/coco-order", "aro", "accuracy", "precision@1", "composition"),
    ("aro/flickr-order", "aro", "accuracy", "precision@1", "composition"),
)
LABELS = ("CLIP", "CLIP-FT", "NegCLIP")
# points NegCLIP may lose to its control on a kept set and still "keep" it
KEEP_MARGIN = 2.0


@dataclass(frozen=True)
class NegClipPreset:
    """The fine-tunes (both from ``init``, with the same settings but the negatives) and the
    evaluation: ``eval_n`` cases per set and data seed, ``seeds`` data seeds."""

    init: str = "snellen-shapes"
    source: str = "shapes"
    n_train: int = 16_000
    epochs: float = 6.0
    batch_size: int = 128
    lr: float = 3e-4
    warmup_steps: int = 50
    hard_images: int = 3
    max_minutes: float | None = None
    threads: int | None = None
    eval_n: int = 300
    seeds: int = 3
    kept: bool = True
    official: bool = False
    note: str = ""


PRESETS: dict[str, NegClipPreset] = {
    # a few steps: checks the whole path in a couple of minutes; too short to decide
    "quick": NegClipPreset(
        n_train=512, epochs=1, batch_size=64, warmup_steps=2, eval_n=60, seeds=2, kept=False
    ),
    # `snellen train-clip --negclip --init snellen-shapes --max-minutes 15` with its defaults,
    # and its control with the same budget; docs/evaluate.md's evaluation (300 cases, 3 seeds)
    "cpu": NegClipPreset(max_minutes=15),
    # the longer schedule of docs/evaluate.md (1,750 steps) with no time limit, more cases
    "gpu": NegClipPreset(epochs=14, eval_n=1000, seeds=5),
    # the paper's recipe: ViT-B/32 from OpenAI's weights on the shipped COCO NegCLIP TSV
    "paper": NegClipPreset(
        init="open-clip:ViT-B-32:openai",
        source="coco_val_negclip.tsv",
        n_train=1_000_000,
        epochs=5,
        batch_size=256,
        lr=1e-6,
        warmup_steps=50,
        eval_n=1000,
        seeds=1,
        kept=False,
        official=True,
        note="needs the COCO images (--set root=DIR, the folder the TSV's filepath column "
        "is relative to), the ARO data (--set aro_root=DIR) and the ViT-B-32 weights; the "
        "paper trains on COCO's training split, the shipped TSV holds the validation split",
    ),  # fmt: skip
}

#: what ``--set KEY=VALUE`` may set: the fine-tune's numbers, its data, the data folders
SETTINGS: dict[str, type] = {
    "n_train": int, "batch_size": int, "lr": float, "warmup_steps": int, "hard_images": int,
    "threads": int, "source": str, "root": str, "aro_root": str,
}  # fmt: skip


def _resolve(options: ReproduceOptions) -> NegClipPreset:
    preset = PRESETS[options.preset]
    changes: dict[str, Any] = {}
    counts = checked_counts(options, min_n=10, n_unit="cases per set")
    if "seeds" in counts:
        changes["seeds"] = counts["seeds"]
    if "n" in counts:
        changes["eval_n"] = counts["n"]
    if "epochs" in counts:
        changes["epochs"] = float(counts["epochs"])
    if options.max_minutes is not None:
        changes["max_minutes"] = options.max_minutes
    if options.models:
        if len(options.models) != 1:
            raise InputError(
                f"--models {','.join(options.models)}: NegCLIP fine-tunes one starting model "
                "(e.g. --models snellen-shapes or open-clip:ViT-B-32:openai)"
            )
        changes["init"] = options.models[0]
    settings = checked_settings("negclip", options.extra, SETTINGS)
    changes.update({k: v for k, v in settings.items() if k not in ("root", "aro_root")})
    return replace(preset, **changes)


def _configs(preset: NegClipPreset, root: str | None) -> dict[str, Any]:
    from snellen.evaluate.negclip import NegClipConfig

    source = preset.source
    if source == "coco_val_negclip.tsv":
        from snellen.data import path as data_path

        source = str(data_path("captions/coco_val_negclip.tsv"))
    negclip = NegClipConfig(
        init=preset.init, source=source, root=root, n_train=preset.n_train,
        batch_size=preset.batch_size, epochs=preset.epochs, lr=preset.lr,
        warmup_steps=preset.warmup_steps, hard_images=preset.hard_images,
        max_minutes=preset.max_minutes, threads=preset.threads,
    )  # fmt: skip
    control = replace(negclip, negatives="none", hard_images=0)
    return {"NegCLIP": negclip, "CLIP-FT": control}


def matched_control(control: Any, negclip_steps: int, negclip_warmup: int) -> Any:
    """The control of a time-limited NegCLIP run: the same fine-tune for exactly the steps
    NegCLIP took, with its warm-up, and no clock (a CLIP-FT step costs about half a NegCLIP
    step, so an equal time budget would give the control twice the training)."""
    per_epoch = max(1, control.n_train // control.batch_size)
    return replace(
        control, max_minutes=None, epochs=(negclip_steps + 0.5) / per_epoch,
        warmup_steps=max(1, negclip_warmup),
    )  # fmt: skip


def _model_path(out: Path, label: str, init: str) -> Path:
    stem = label.lower()
    if init.startswith("hf-clip"):
        return out / "models" / stem  # save_pretrained writes a directory
    return out / "models" / f"{stem}.pt"


def _scorer_name(init: str, path: Path) -> str:
    prefix, arg = parse_name(init)
    if prefix == "open-clip":
        from snellen.score.openclip import parse_spec, resolve_arch

        return f"open-clip:{resolve_arch(parse_spec(arg or '')[0])}:{path}"
    if prefix == "hf-clip":
        return f"hf-clip:{path}"
    return f"snellen-shapes:{path}"


def _trained(path: Path, cfg: Any) -> dict[str, Any] | None:
    """The saved info of a model already written with ``cfg``'s settings, or None if there is
    none; a model written with other settings is refused."""
    if not path.exists():
        return None
    if path.suffix != ".pt" or not cfg.init.startswith("snellen-shapes"):
        return {}  # open_clip state dicts and HF folders carry no settings: trust the path
    from snellen.clip.model import load_checkpoint
    from snellen.evaluate.negclip import _SESSION_FIELDS

    info = load_checkpoint(str(path))[2]
    saved = {
        k: v for k, v in (info.get("negclip_config") or {}).items() if k not in _SESSION_FIELDS
    }
    want = {k: v for k, v in cfg.to_dict().items() if k not in _SESSION_FIELDS}
    saved["swaps"] = tuple(saved.get("swaps", ()))
    if saved != want:
        diff = sorted(k for k in want if saved.get(k) != want[k])
        raise InputError(
            f"{path} was trained with other settings ({', '.join(diff)}); delete it or give "
            "another --out"
        )
    return info


def _label(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


def _train_models(
    init: str, configs: dict[str, Any], out: Path, log: Any
) -> tuple[
    dict[str, str], dict[str, int], dict[str, list[dict[str, float]]], dict[str, Any], list[str]
]:
    """Fine-tune each configuration (NegCLIP first, then its control with NegCLIP's steps),
    or reuse a model an earlier run trained; returns the scorer names, steps, loss histories,
    schedule fits and what was reused."""
    from snellen.evaluate.negclip import finetune

    scorers: dict[str, str] = {"CLIP": init}
    steps: dict[str, int] = {}
    histories: dict[str, list[dict[str, float]]] = {}
    fits: dict[str, Any] = {}
    reused: list[str] = []  # models an earlier session (or command) trained
    for label, cfg in configs.items():
        if label == "CLIP-FT" and cfg.max_minutes is not None:
            fit = fits.get("NegCLIP") or {}
            cfg = matched_control(cfg, steps["NegCLIP"], fit.get("warmup_steps", cfg.warmup_steps))
        path = _model_path(out, label, cfg.init)
        info = _trained(path, cfg)
        if info is None:
            if log:
                log(f"fine-tuning {label} from {cfg.init} into {path}")
            tuned = finetune(cfg, path, log=log, command=f"snellen reproduce negclip ({label})")
            steps[label], histories[label], fits[label] = tuned.steps, tuned.history, tuned.fit
        else:
            if info.get("command"):
                reused.append(f"{label}: {path}, already trained by `{info['command']}`")
            steps[label] = int(info.get("steps", 0))
            histories[label] = list(info.get("history", []))
            fits[label] = info.get("schedule_fit")
        scorers[label] = _scorer_name(cfg.init, path)
    return scorers, steps, histories, fits, reused


def run(options: ReproduceOptions) -> Finding:
    """Fine-tune CLIP-FT and NegCLIP at ``options.preset`` and evaluate them beside CLIP."""
    from tqdm import tqdm

    from snellen.datasets import EVAL_KINDS, build_dataset
    from snellen.evaluate import run_eval
    from snellen.score import load_scorer

    preset = _resolve(options)
    root, aro_root = options.extra.get("root"), options.extra.get("aro_root")
    if preset.official and not (root and aro_root):
        raise InputError(
            "reproduce negclip --preset paper needs --set root=DIR (the COCO images of the "
            "NegCLIP TSV) and --set aro_root=DIR (the ARO data); --preset cpu runs on VAD"
        )
    out = Path(options.out)
    configs = _configs(preset, root)
    log = print if options.progress else None
    scorers, steps, histories, fits, reused = _train_models(preset.init, configs, out, log)

    sets = list(COMPOSITION) + (list(KEPT) if preset.kept else [])
    if preset.official:
        sets = list(OFFICIAL)
    seeds = list(range(preset.seeds))
    values: dict[tuple[str, str, str], dict[int, float]] = {}
    chance: dict[str, float] = {}
    loaded = {label: load_scorer(name) for label, name in scorers.items()}
    jobs = [(seed, name, task) for seed in seeds for name, task in dict.fromkeys((s[0], s[1]) for s in sets)]  # fmt: skip
    bar = tqdm(total=len(jobs) * len(loaded), desc="negclip eval", unit="run",
               disable=not options.progress)  # fmt: skip
    resumed = 0  # evaluations found complete in OUT/eval (a resumed run)
    for seed, name, task in jobs:
        is_official = name.startswith("aro/")
        data = build_dataset(
            name, aro_root if is_official else None, kind=EVAL_KINDS, n=preset.eval_n, seed=seed
        )
        for label, scorer in loaded.items():
            bar.set_postfix_str(f"{label} {name} seed {seed}")
            result = run_eval(
                task, scorer, name, aro_root if is_official else None,
                out=out / "eval" / _label(label), seed=seed, n=preset.eval_n, data=data,
                workers=1, progress=False,
            )  # fmt: skip
            resumed += int(result.resumed.get("complete", 0))
            for metric, value in result.metrics.items():
                if value is None:
                    continue
                if metric == "chance":
                    chance[name] = 100 * value
                else:
                    values.setdefault((label, name, metric), {})[seed] = 100 * value
            bar.update(1)
    bar.close()

    rows = _rows(sets, values, chance, scorers, steps)
    verdict, reason = _verdict(preset, rows)
    figures = _figures(rows, histories, out)
    notes = [
        "CLIP-FT is the paper's control: the same fine-tuning (data, steps, schedule) with no "
        "hard negative captions and no hard negative images; with a time budget NegCLIP is "
        "trained first and CLIP-FT then takes exactly NegCLIP's steps and warm-up. vs_control is NegCLIP minus "
        "CLIP-FT, vs_clip the model minus CLIP, each paired by data seed (the same pictures), "
        "with two-sided 95% Student-t intervals.",
        "VAD sets use the held-out split: shape-colour combinations the shipped model never "
        "trained on.",
    ]
    for label, fit in fits.items():
        if fit:
            notes.append(
                f"{label}: schedule fitted to {preset.max_minutes} min: "
                f"{fit['seconds_per_step']:.2f} s a step measured, {fit['fitted_steps']} of "
                f"{fit['planned_steps']} planned steps (first estimate "
                f"{fit.get('first_fitted_steps') or fit['fitted_steps']}, "
                f"{fit.get('refits', 0)} re-estimates), warm-up {fit['warmup_steps']}; "
                f"{steps[label]} steps run"
            )
    notes += [f"Reused {text}." for text in reused]
    if preset.note:
        notes.append(preset.note)
    config: dict[str, Scalar] = {
        k: (str(v) if isinstance(v, tuple) else v)
        for k, v in {**preset.__dict__}.items()
        if k not in ("note",)
    }
    config |= {f"steps_{k}": v for k, v in steps.items()}
    config["resumed_runs"] = resumed
    return Finding(
        name="negclip", claim=CLAIM, paper=PAPER, preset=options.preset, verdict=verdict,
        reason=reason, seconds=0.0, rows=rows,
        command=f"snellen reproduce negclip --preset {options.preset}", config=config,
        figures=figures, notes=notes,
    )  # fmt: skip


def _paired(
    a: dict[int, float], b: dict[int, float]
) -> tuple[float | None, float | None, float | None]:
    diffs = [a[s] - b[s] for s in sorted(a) if s in b]
    if not diffs:
        return None, None, None
    iv = interval(diffs)
    return iv.mean, iv.low, iv.high


def _rows(
    sets: list[tuple[str, str, str, str, str]],
    values: dict[tuple[str, str, str], dict[int, float]],
    chance: dict[str, float],
    scorers: dict[str, str],
    steps: dict[str, int],
) -> list[dict[str, Scalar]]:
    rows: list[dict[str, Scalar]] = []
    for name, _task, metric, label, role in sets:
        for model in LABELS:
            got = values.get((model, name, metric), {})
            if not got:
                continue
            iv = interval([got[s] for s in sorted(got)])
            row: dict[str, Scalar] = {
                "model": model, "dataset": name, "metric": label, "role": role,
                "mean": iv.mean, "sd": iv.sd, "ci_low": iv.low, "ci_high": iv.high,
                "seeds": iv.n, "chance": chance.get(name) if "R@" not in label else None,
                "steps": steps.get(model, 0), "scorer": scorers[model],
            }  # fmt: skip
            if model != "CLIP":
                d, lo, hi = _paired(got, values.get(("CLIP", name, metric), {}))
                row |= {"vs_clip": d, "vs_clip_ci_low": lo, "vs_clip_ci_high": hi}
            if model == "NegCLIP":
                d, lo, hi = _paired(got, values.get(("CLIP-FT", name, metric), {}))
                row |= {"vs_control": d, "vs_control_ci_low": lo, "vs_control_ci_high": hi}
            rows.append(row)
    # percent to four decimals: float noise (a change of 2.98e-06) is not a finding
    return [{k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()} for r in rows]


def _verdict(preset: NegClipPreset, rows: list[dict[str, Scalar]]) -> tuple[str, str]:
    neg = [r for r in rows if r["model"] == "NegCLIP" and r["vs_control"] is not None]
    comp = [r for r in neg if r["role"] == "composition"]
    kept = [r for r in neg if r["role"] == "kept"]
    parts = [
        f"{r['dataset']} {float(r['vs_control'] or 0):+.1f} "
        f"[{float(r['vs_control_ci_low'] or 0):+.1f}, {float(r['vs_control_ci_high'] or 0):+.1f}]"
        for r in comp
    ]
    detail = "NegCLIP minus CLIP-FT (points, 95% CI): " + "; ".join(parts)
    lost = [r for r in kept if float(r["vs_control_ci_high"] or 0) < -KEEP_MARGIN]
    if kept:
        worst = min(kept, key=lambda r: float(r["vs_control"] or 0))
        detail += (
            f". Kept sets: the largest change is {worst['dataset']} {worst['metric']} "
            f"{float(worst['vs_control'] or 0):+.1f}"
        )
    if preset.seeds < 2 or not comp:
        return "undecided at this preset", detail + "; one data seed gives no interval"
    if any(float(r["vs_control_ci_high"] or 0) < 0 for r in comp):
        return "does not hold", detail
    if all(float(r["vs_control_ci_low"] or 0) > 0 for r in comp):
        if lost:
            return "holds in kind", detail + f" (surely more than {KEEP_MARGIN:g} points lost)"
        return "holds", detail
    if all(float(r["vs_control"] or 0) > 0 for r in comp):
        return "holds in kind", detail + "; every mean gains, not every interval excludes 0"
    return (
        "undecided at this preset",
        detail + "; the intervals include 0 (a longer fine-tune or more seeds decide)",
    )


def _figures(
    rows: list[dict[str, Scalar]], histories: dict[str, list[dict[str, float]]], out: Path
) -> list[Figure]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = []
    keys = list(dict.fromkeys((str(r["dataset"]), str(r["metric"])) for r in rows))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(keys)), 3.6), dpi=100)
    width = 0.27
    colours = {"CLIP": "#9e9e9e", "CLIP-FT": "#7a9cc6", "NegCLIP": "#d9822b"}
    for j, model in enumerate(LABELS):
        got = {(str(r["dataset"]), str(r["metric"])): r for r in rows if r["model"] == model}
        xs, means, lo, hi = [], [], [], []
        for i, key in enumerate(keys):
            if key in got:
                r = got[key]
                xs.append(i + (j - 1) * width)
                means.append(float(r["mean"] or 0))
                lo.append(float(r["mean"] or 0) - float(r["ci_low"] or 0))
                hi.append(float(r["ci_high"] or 0) - float(r["mean"] or 0))
        ax.bar(xs, means, width, yerr=[lo, hi], capsize=2, label=model, color=colours[model])
    for i, key in enumerate(keys):
        ch = next((r["chance"] for r in rows if (r["dataset"], r["metric"]) == key), None)
        if ch is not None:
            ax.hlines(float(ch), i - 0.45, i + 0.45, colors="k", linestyles="--", linewidth=1)
    names = [f"{d.split('/')[-1]}\n{m}" for d, m in keys]
    ax.set_xticks(range(len(keys)), names, fontsize=7)
    ax.set_ylim(0, 100)
    ax.set_ylabel("%")
    ax.set_title("CLIP, CLIP-FT, NegCLIP: mean and 95% interval; chance dashed", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "models.png")
    plt.close(fig)
    figures.append(Figure("models.png", "The three models on every set", ""))
    if any(histories.values()):
        fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
        for label, history in histories.items():
            if history:
                ax.plot([h["step"] for h in history], [h["loss"] for h in history], label=label)
        ax.set_xlabel("step")
        ax.set_ylabel("training loss (smoothed)")
        ax.set_title("Fine-tuning loss (NegCLIP's includes its hard negatives)", fontsize=9)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / "training_loss.png")
        plt.close(fig)
        figures.append(Figure("training_loss.png", "Training loss", ""))
    return figures
