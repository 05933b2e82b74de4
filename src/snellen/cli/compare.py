"""``snellen compare``: check-up runs side by side, every mean with its interval."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "compare",
        help="put scored check-up runs side by side with 95%% bootstrap intervals",
        description="One row per run (model, languages, constraint): render rate, fidelity "
        "per scorer (raw and over drawings that do not write their concept), judge accuracy, "
        "recognition accuracy, correction gain, diversity, FID and program metrics, each "
        "mean with its 95%% bootstrap interval (2,000 resamples, seed 0); the pairwise "
        "differences on the concepts two runs share, with paired bootstrap intervals; a plot "
        "per headline metric. --out FILE.html (self-contained page), FILE.csv (one row per "
        "run, _lo/_hi interval columns) or FILE.md.",
    )
    p.add_argument("runs", nargs="+", metavar="RUN", help="scored check-up run directories")
    p.add_argument("--out", required=True, help="FILE.html, FILE.csv or FILE.md")
    p.add_argument(
        "--label", action="append", default=None,
        help="a name per run, in order (repeat the option; default: the directory names)",
    )  # fmt: skip
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from snellen.metrics import compare_runs
    from snellen.report import write_compare
    from snellen.report.compare import render_compare_markdown

    comparison = compare_runs(args.runs, args.label)
    path = write_compare(comparison, args.out)
    print(render_compare_markdown(comparison), end="")
    print(f"wrote {path}")
    return 0
