"""The VAD-twin findings of docs/evaluate.md: Winoground's text, image and group scores on
``vad-winoground`` (and per tag), and What's Up's individual, pair and set accuracy on
``vad-whatsup`` and ``vad-whatsup:touching``, for ``snellen-shapes`` and fine-tunes of it,
beside chance, over several data seeds.

    .venv/bin/python benchmarks/composition_findings.py --model NegCLIP=negclip.pt \
        --data-seeds 0,1,2 --n 300 --out runs/composition-findings

Each (model, set, seed) is one run of ``snellen eval`` written under ``--out`` by the sweep
(:func:`snellen.evaluate.sweep.sweep`), so the script resumes where a killed one stopped.
The table gives the mean and the sample standard deviation over the data seeds, in percent;
each run's JSON also holds a bootstrap interval over its cases.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Any

WINOGROUND = ("text_score", "image_score", "group_score")
WHATSUP = ("accuracy", "pair_accuracy", "set_accuracy")


def fmt(values: list[float]) -> str:
    if not values:
        return "–"
    mean = 100 * statistics.fmean(values)
    spread = 100 * statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{mean:.1f} ± {spread:.1f}"


def main() -> None:
    from snellen.evaluate.sweep import sweep

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", default=[], metavar="NAME=FILE.pt",
                    help="a fine-tuned snellen-shapes checkpoint; repeat for several")  # fmt: skip
    ap.add_argument("--data-seeds", default="0,1,2")
    ap.add_argument("--n", type=int, default=300, help="cases per set and seed")
    ap.add_argument("--out", default="runs/composition-findings")
    ap.add_argument("--workers", type=int, default=0)
    args = ap.parse_args()
    labels = {"snellen-shapes": "snellen-shapes"}
    for item in args.model:
        name, _, path = item.partition("=")
        labels[f"snellen-shapes:{path}"] = name
    seeds = [int(s) for s in args.data_seeds.split(",")]
    runs: dict[tuple[str, str, str], list[Any]] = {}
    for seed in seeds:
        for task, sets in (("winoground", ["vad-winoground"]),
                           ("whatsup", ["vad-whatsup", "vad-whatsup:touching"])):  # fmt: skip
            result = sweep(task, list(labels), sets, Path(args.out), n=args.n, seed=seed,
                           workers=args.workers)  # fmt: skip
            if result.failed:
                raise SystemExit(f"failed: {result.failed}")
            for r in result.results:
                runs.setdefault((r.dataset, r.model, task), []).append(r)
    models = list(labels)
    print(f"{args.n} cases per set and data seed, data seeds {seeds}; mean ± sd over seeds, %\n")
    print("| set | metric | chance | " + " | ".join(labels[m] for m in models) + " |")
    print("|---|---|---|" + "---|" * len(models))
    for dataset, task, metrics in (
        ("vad-winoground", "winoground", WINOGROUND),
        ("vad-whatsup", "whatsup", WHATSUP),
        ("vad-whatsup:touching", "whatsup", WHATSUP),
    ):
        for metric in metrics:
            first = runs[(dataset, models[0], task)][0].metrics
            chance = first.get(f"{metric}_chance", first.get("chance"))
            cells = [fmt([r.metrics[metric] for r in runs[(dataset, m, task)]]) for m in models]
            print(f"| {dataset} | {metric} | {100 * chance:.1f} | " + " | ".join(cells) + " |")
    print("\nvad-winoground group score by tag (mean over seeds, %):\n")
    tags = sorted(runs[("vad-winoground", models[0], "winoground")][0].breakdown[
        "group_score_by_tag"])  # fmt: skip
    print("| tag | " + " | ".join(f"{labels[m]} text / image / group" for m in models) + " |")
    print("|---|" + "---|" * len(models))
    for tag in tags:
        cells = []
        for m in models:
            rs = runs[("vad-winoground", m, "winoground")]
            cells.append(" / ".join(
                fmt([r.breakdown[f"{s}_by_tag"].get(tag, 0.0) for r in rs]) for s in WINOGROUND
            ))  # fmt: skip
        print(f"| {tag} | " + " | ".join(cells) + " |")
    print("\nWhy below chance, and what the model tells apart (mean ± sd over seeds, %):\n")
    print(
        "| model | vad-winoground: both images prefer one caption | both captions prefer one "
        "image | vad-whatsup: placement on the right axis | right placement, given the axis |"
    )
    print("|---|---|---|---|---|")
    axis = {"left": "h", "right": "h", "above": "v", "below": "v"}
    for m in models:
        wino = runs[("vad-winoground", m, "winoground")]
        spatial = runs[("vad-whatsup", m, "whatsup")]
        on_axis, right_given_axis = [], []
        for r in spatial:
            conf = r.breakdown["predicted_by_gold"]
            golds = {k.split("->")[0] for k in conf}
            same = [sum(v for k, v in conf.items() if k.startswith(f"{g}->")
                        and axis.get(k.split("->")[1]) == axis[g]) for g in golds]  # fmt: skip
            right = [conf.get(f"{g}->{g}", 0.0) for g in golds]
            on_axis.append(statistics.fmean(same))
            right_given_axis.append(statistics.fmean(right) / max(1e-9, statistics.fmean(same)))
        print(f"| {labels[m]} | "
              + fmt([r.breakdown["preference"]["both_images_prefer_one_caption"] for r in wino])
              + " | "
              + fmt([r.breakdown["preference"]["both_captions_prefer_one_image"] for r in wino])
              + f" | {fmt(on_axis)} | {fmt(right_given_axis)} |")  # fmt: skip


if __name__ == "__main__":
    main()
