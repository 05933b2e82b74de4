"""``snellen demo``: the offline demo that ``make demo`` runs."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo",
        help="run the offline demo: the bundled model live (free and grammar-constrained) "
        "beside recorded GPT-4 / GPT-3.5 drawings, one side-by-side report",
        description="Run the demo check-ups into OUT/<row> (each resumable) and write "
        "OUT/report.html, which sets them side by side with their drawings.",
    )
    p.add_argument("--out", default="runs/demo", help="directory (default runs/demo)")
    p.add_argument("--seed", type=int, default=0, help="seed for concept samples (default 0)")
    p.add_argument("--workers", type=int, default=None, help="render workers (default: cores)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from snellen.checkup.demo import run_demo

    result = run_demo(args.out, seed=args.seed, workers=args.workers)
    for name, res in result.runs.items():
        print(f"{name:18s} {res.rendered}/{res.drawings} rendered  ({res.run})")
    print(f"report: {result.report}")
    return 0
