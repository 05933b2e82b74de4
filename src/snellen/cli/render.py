"""``snellen render``: turn drawing programs into images, confined."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "render",
        help="render drawing programs (Processing, TikZ, matplotlib, turtle, SVG) to PNG, sandboxed",
        description="Render every program in INPUT with warm, confined workers. INPUT is a "
        "directory of program files (.pde, .tex, .py, .svg), a JSONL file of {id, language, code} "
        "records, or a transcript TSV of model replies (--format transcripts). Writes "
        "OUT/images/ and OUT/results.parquet; rerunning with the same OUT resumes.",
    )
    p.add_argument("input", help="directory, .jsonl file or transcript .tsv")
    p.add_argument("--out", required=True, help="run directory to write (created, or resumed)")
    p.add_argument(
        "--lang", help="language of every program (processing, tikz, matplotlib, turtle, svg)"
    )
    p.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: one per core)"
    )
    p.add_argument("--timeout", type=float, default=20.0, help="seconds per program (default 20)")
    p.add_argument(
        "--size", type=int, default=None, help="also write a square copy of this many pixels"
    )
    p.add_argument(
        "--format", choices=("dir", "jsonl", "transcripts"), default=None,
        help="input format (default: from the path)",
    )  # fmt: skip
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from snellen.render import render_programs

    frame = render_programs(
        args.input, args.out, lang=args.lang, workers=args.workers, timeout=args.timeout,
        size=args.size, format=args.format, progress=True,
    )  # fmt: skip
    counts = frame["status"].value_counts() if len(frame) else {}
    print(f"{len(frame)} programs -> {args.out}/results.parquet")
    for status, n in counts.items():
        print(f"  {status:<14} {n}")
    return 0
