"""``snellen report``: a self-contained HTML report of a run."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "report",
        help="write a self-contained HTML report of a check-up run",
        description="Write RUN/report.html (or --out): image grids with status badges and the "
        "programs, fidelity/diversity/realism tables, render failures, recognition accuracy, "
        "fidelity by correction round and the run's manifest, all in one file.",
    )
    p.add_argument("run", help="run directory written by snellen checkup")
    p.add_argument("--out", default=None, help="HTML file to write (default RUN/report.html)")
    p.add_argument("--grid-limit", type=int, default=200,
                   help="concepts shown as image grids (default 200)")  # fmt: skip
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from snellen.report import write_report

    path = write_report(args.run, args.out, grid_limit=args.grid_limit)
    print(f"report: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0
