"""``snellen eval``: evaluate an image-text model on zero-shot classification, retrieval and
image-caption selection (ARO, SugarCrepe, VAD-ARO); ``snellen eval table DIR`` gathers runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "eval",
        help="evaluate a CLIP: zero-shot, retrieval, ARO / SugarCrepe / VAD-ARO caption selection",
        description="Evaluate MODEL (any scorer `snellen score` takes: snellen-shapes, "
        "snellen-shapes:FILE.pt, hf-clip:ID_OR_DIR, open-clip:ARCH:TAG_OR_FILE) on TASK "
        "(zeroshot, retrieval, aro, winoground, whatsup, sugarcrepe++) over DATASET and write "
        "one JSON per run; comma-separated models and datasets sweep their product, "
        "resumably. "
        "`snellen eval --list` lists tasks and datasets; `snellen eval table DIR` turns a "
        "directory of runs into one table (Markdown, CSV, Parquet or an HTML page).",
    )
    p.add_argument(
        "task", nargs="?",
        help="zeroshot | retrieval | aro | winoground | whatsup | sugarcrepe++ | table",
    )  # fmt: skip
    p.add_argument("directory", nargs="?", help="(table) directory of run JSON files")
    p.add_argument("--list", action="store_true", help="list tasks and datasets, then exit")
    p.add_argument(
        "--model", default="snellen-shapes",
        help="scorer (default snellen-shapes); A,B sweeps several (with --out DIR)",
    )  # fmt: skip
    p.add_argument(
        "--dataset", help="dataset name (see --list); X,Y sweeps several (with --out DIR)"
    )
    p.add_argument("--root", help="directory of an official-format dataset")
    p.add_argument(
        "--out", help="run: FILE.json or a directory; table: FILE.md|.csv|.parquet|.html"
    )
    p.add_argument("--batch-size", type=int, help="images / texts per batch (default: model's)")
    p.add_argument("--limit", type=int, help="evaluate only the first N cases")
    p.add_argument("--seed", type=int, default=0, help="data and perturbation seed (default 0)")
    p.add_argument(
        "--seeds", type=int, default=5, dest="n_seeds",
        help="draws of random candidates averaged for the order sets (default 5)",
    )  # fmt: skip
    p.add_argument("--n", type=int, default=500, help="cases of a generated VAD set (default 500)")
    p.add_argument(
        "--split", default="heldout", choices=("heldout", "train", "all"),
        help="VAD sets: held-out shape-colour combinations (default) or seen ones",
    )  # fmt: skip
    p.add_argument("--classnames", help="imagefolder: a file of class names, one per line")
    p.add_argument("--workers", type=int, help="image-loading worker processes")
    p.add_argument("--device", help="torch device (default: cuda when present)")
    p.add_argument(
        "--force", action="store_true",
        help="with --out DIR: run again a run that DIR holds complete, dropping its stored work",
    )  # fmt: skip
    p.add_argument(
        "--precision", choices=("fp32", "amp", "bf16"),
        help="fp32 (default, exact); amp: torch.autocast, bfloat16 on the CPU (as "
        "clip_benchmark --amp); bf16: the model in bfloat16 (fastest on CPUs with bfloat16 "
        "units); amp and bf16 are not exact",
    )  # fmt: skip
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from snellen.errors import InputError

    if args.list:
        from snellen.evaluate import list_eval

        listing = list_eval()
        for kind in ("tasks", "datasets"):
            print(f"{kind}:")
            for name, help in listing[kind].items():
                print(f"  {name:<24} {help}")
        return 0
    if args.task == "table":
        return _table(args)
    if not args.task or not args.dataset:
        raise InputError("say what to run: snellen eval TASK --dataset DATASET (see --list)")
    from snellen.evaluate.sweep import split_names

    if len(split_names(args.model)) > 1 or len(split_names(args.dataset)) > 1:
        return _sweep(args)
    from snellen.evaluate import run_eval
    from snellen.evaluate.run import result_path

    result = run_eval(
        args.task, args.model, args.dataset, args.root, args.out,
        batch_size=args.batch_size, limit=args.limit, seed=args.seed, n_seeds=args.n_seeds,
        n=args.n, split=args.split, classnames=args.classnames, workers=args.workers,
        device=args.device, force=args.force, precision=args.precision,
    )  # fmt: skip
    if result.resumed.get("complete"):
        print(f"{result.task} on {result.dataset} with {result.model}: already complete in "
              f"{result_path(result, args.out)} (same model, data and options; --force runs "
              "it again)")  # fmt: skip
        return 0
    print(f"{result.task} on {result.dataset} with {result.model} ({result.seconds:.1f} s):")
    for name, value in result.metrics.items():
        print(f"  {name:<28} {'-' if value is None else f'{value:.4f}'}")
    for a in result.published:
        print(f"  published ({a.model}, {a.source}): {a.metric} {a.value:.2f}")
    if not result.comparable_with_published:
        print("  not comparable with published numbers:")
        for why in result.not_comparable_because or ["(a record written before reasons)"]:
            print(f"    - {why}")
    if result.resumed.get("images") or result.resumed.get("texts"):
        print(f"  resumed: {result.resumed.get('images', 0)} images and "
              f"{result.resumed.get('texts', 0)} texts were already embedded in "
              f"{Path(args.out) / 'progress'}")  # fmt: skip
    skipped = result.counts.get("skipped", 0)
    if skipped:
        print(f"  skipped {skipped} images that did not load (listed in the JSON)")
    if args.out:
        print(f"wrote {result_path(result, args.out)}")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from snellen.errors import InputError
    from snellen.evaluate.sweep import sweep

    if not args.out:
        raise InputError("a sweep (several --model or --dataset) writes one file per run: "
                         "give --out DIR")  # fmt: skip
    result = sweep(
        args.task, args.model, args.dataset, args.out, args.root,
        batch_size=args.batch_size, limit=args.limit, seed=args.seed, n_seeds=args.n_seeds,
        n=args.n, split=args.split, classnames=args.classnames, workers=args.workers,
        device=args.device, force=args.force, precision=args.precision,
    )  # fmt: skip
    for run in result.runs:
        done = {"ran": "wrote", "complete": "already complete in"}.get(run.status)
        where = f"{done} {run.path}" if done else f"FAILED: {run.error}"
        print(f"{args.task} on {run.dataset} with {run.model}: {where}")
    ran = sum(r.status == "ran" for r in result.runs)
    kept = sum(r.status == "complete" for r in result.runs)
    print(f"{ran} run, {kept} already complete, {len(result.failed)} failed "
          f"(`snellen eval table {args.out}` gathers them)")  # fmt: skip
    return 1 if result.failed else 0


def _table(args: argparse.Namespace) -> int:
    from snellen.errors import InputError
    from snellen.evaluate import results_table, write_table
    from snellen.evaluate.table import to_markdown

    if not args.directory:
        raise InputError("snellen eval table DIR: give the directory of run JSON files")
    df = results_table(args.directory)
    if args.out:
        print(f"wrote {write_table(df, args.out)}")
    else:
        sys.stdout.write(to_markdown(df))
    return 0
