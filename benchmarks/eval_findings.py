"""The two findings of docs/evaluate.md, measured on VAD sets with exact truth:

1. bag of words: retrieval on VAD with captions shuffled by each ARO perturbation against
   unshuffled captions, and VAD-ARO relation / attribution / order against chance;
2. CLIP vs NegCLIP: every VAD set for ``snellen-shapes``, NegCLIP-tuned models and the
   control fine-tuned the same way without hard negatives (CLIP-FT, as in the ARO paper).

    .venv/bin/python benchmarks/eval_findings.py --model NegCLIP=negclip.pt \
        --model CLIP-FT=clip-ft.pt --out runs/eval-findings

Each set is built for ``--data-seeds`` seeds (different pictures and captions) and the mean
and standard deviation over them are reported; the order sets also average 5 perturbation
draws inside each run. Every run's JSON is written under ``--out``.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

SETS = [
    ("aro", "vad-aro/relation", "macro_accuracy"),
    ("aro", "vad-aro/attribution", "accuracy"),
    ("aro", "vad-aro/order", "accuracy"),
    ("aro", "vad-aro/counting", "accuracy"),
    ("zeroshot", "vad-zeroshot/shape", "acc1"),
    ("zeroshot", "vad-zeroshot/colour", "acc1"),
    ("retrieval", "vad-retrieval", "image_retrieval_recall@1"),
    ("retrieval", "vad-retrieval", "text_retrieval_recall@1"),
]
SHUFFLES = [
    "shuffle_nouns_and_adj", "shuffle_allbut_nouns_and_adj", "shuffle_within_trigrams",
    "shuffle_trigrams",
]  # fmt: skip


def fmt(values: list[float]) -> str:
    mean = 100 * statistics.fmean(values)
    spread = 100 * statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{mean:.1f} ± {spread:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--negclip", "--model", dest="negclip", action="append", default=[],
        metavar="NAME=FILE.pt",
        help="a fine-tuned snellen-shapes checkpoint: NegCLIP, or the CLIP-FT control "
        "(--negatives none --hard-images 0); repeat for several",
    )  # fmt: skip
    ap.add_argument("--no-shuffles", action="store_true", help="skip the bag-of-words runs")
    ap.add_argument("--out", default="runs/eval-findings")
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--data-seeds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument(
        "--skip-base", action="store_true",
        help="evaluate only the NegCLIP model (the base model's runs are already in --out)",
    )  # fmt: skip
    args = ap.parse_args()

    from snellen.evaluate import build_dataset, evaluate, load_results
    from snellen.score import load_scorer

    models = (
        {} if args.skip_base else {"snellen-shapes": load_scorer("snellen-shapes", device="cpu")}
    )
    for spec in args.negclip:
        label, _, path = spec.rpartition("=")
        models[label or "NegCLIP"] = load_scorer(f"snellen-shapes:{path}", device="cpu")
    out = Path(args.out)

    def run(task: str, name: str, seed: int, data: object, label: str) -> None:
        evaluate(task, models[label], name, out=out / label, seed=seed, data=data,
                 workers=args.workers, progress=False)  # fmt: skip

    done = set()
    for seed in range(args.data_seeds):
        for task, name, _ in SETS:
            if (name, seed) in done:
                continue
            done.add((name, seed))
            data = build_dataset(name, n=args.n, seed=seed)
            for label in models:
                run(task, name, seed, data, label)
        for kind in SHUFFLES if "snellen-shapes" in models and not args.no_shuffles else ():
            name = f"vad-retrieval:{kind}"
            data = build_dataset(name, n=args.n, seed=seed)
            run("retrieval", name, seed, data, "snellen-shapes")
        print(f"data seed {seed} done", flush=True)

    results: dict[tuple[str, str, str], list[float]] = {}
    labels = sorted(
        (p.name for p in out.iterdir() if p.is_dir()), key=lambda m: (m != "snellen-shapes", m)
    )
    for label in labels:
        for r in load_results(out / label):
            for metric, value in r.metrics.items():
                if value is not None:
                    results.setdefault((label, r.dataset, metric), []).append(value)

    if ("snellen-shapes", "vad-retrieval:shuffle_trigrams", "image_retrieval_recall@1") in results:
        bag_of_words(results)
    print("\n### CLIP vs NegCLIP on VAD (%, mean ± sd over data seeds)\n")
    print("| dataset | metric | chance | " + " | ".join(labels) + " |")
    print("|---|---|---|" + "---|" * len(labels))
    for _task, name, metric in SETS:
        chance = results.get(("snellen-shapes", name, "chance"))
        cells = [fmt(results[(label, name, metric)]) for label in labels]
        ch = f"{100 * chance[0]:.0f}" if chance else "-"
        print(f"| {name} | {metric} | {ch} | " + " | ".join(cells) + " |")


def bag_of_words(results: dict[tuple[str, str, str], list[float]]) -> None:
    print("\n### Bag of words: snellen-shapes retrieval on VAD, captions shuffled (R@1, %)\n")
    print("| captions | text->image R@1 | image->text R@1 | text->image R@5 |")
    print("|---|---|---|---|")
    for kind in [None, *SHUFFLES]:
        name = "vad-retrieval" if kind is None else f"vad-retrieval:{kind}"
        cells = [
            fmt(results[("snellen-shapes", name, m)])
            for m in (
                "image_retrieval_recall@1",
                "text_retrieval_recall@1",
                "image_retrieval_recall@5",
            )
        ]
        print(f"| {kind or 'as written'} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
