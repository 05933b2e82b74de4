"""``snellen report``: a self-contained HTML report of a check-up run, or the page of a
directory of ``snellen eval`` runs."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "report",
        help="write a self-contained HTML report of a check-up run or of eval runs",
        description="Write RUN/report.html (or --out). A check-up run gets image grids with "
        "status badges and the programs, fidelity/diversity/realism tables, render failures, "
        "recognition accuracy, fidelity by correction round and the run's manifest. A "
        "directory of `snellen eval` JSON files gets one page: each task's headline metric "
        "per dataset and model beside chance and published numbers, the per-group "
        "breakdowns, the spread over perturbation seeds and every metric. One file, no "
        "external resources.",
    )
    p.add_argument("run", help="a snellen checkup run, or a directory of snellen eval runs")
    p.add_argument("--out", default=None, help="HTML file to write (default RUN/report.html)")
    p.add_argument("--grid-limit", type=int, default=200,
                   help="concepts shown as image grids (default 200)")  # fmt: skip
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from snellen.errors import InputError
    from snellen.report import write_eval_report, write_report
    from snellen.store.run import MANIFEST

    if (Path(args.run) / MANIFEST).exists():
        path = write_report(args.run, args.out, grid_limit=args.grid_limit)
    else:
        try:
            path = write_eval_report(args.run, args.out)
        except InputError as e:
            raise InputError(f"{args.run} is not a check-up run (no {MANIFEST}), and {e}") from None
    print(f"report: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0
