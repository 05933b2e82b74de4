"""``snellen demo``: the offline tour that ``make demo`` runs."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo",
        help="run the offline tour: the check-up (the bundled model live beside recorded "
        "GPT-4 / GPT-3.5 drawings), two findings reproduced now, two shipped; one index page",
        description="Run the demo check-ups into OUT/<row> (OUT/report.html sets them side "
        "by side), `reproduce bag-of-words` and `reproduce lens` at --preset quick into "
        "OUT/reproduce/NAME, copy the shipped NegCLIP and vision findings to OUT/shipped/NAME, "
        "and write OUT/index.html linking every part. Each part is resumable.",
    )
    p.add_argument("--out", default="runs/demo", help="directory (default runs/demo)")
    p.add_argument("--seed", type=int, default=0, help="seed for concept samples (default 0)")
    p.add_argument("--workers", type=int, default=None, help="render workers (default: cores)")
    p.add_argument(
        "--checkup-only", action="store_true", help="only the check-up rows (no findings)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from snellen.reproduce.demo import run_tour

    if args.checkup_only:
        result = run_tour(args.out, seed=args.seed, workers=args.workers, live=(), shipped=())
    else:
        result = run_tour(args.out, seed=args.seed, workers=args.workers)
    for part in result.parts:
        print(f"{part.kind:9s} {part.title}  ({part.page or part.note})")
    print(f"index: {result.index} ({result.seconds:.0f} s)")
    return 0
