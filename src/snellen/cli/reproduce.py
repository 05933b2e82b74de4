"""``snellen reproduce NAME``: a seed paper's finding as one command."""

from __future__ import annotations

import argparse
import shlex
import sys


def _csv(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def register(subparsers: argparse._SubParsersAction) -> None:
    from snellen.reproduce import PRESETS

    p = subparsers.add_parser(
        "reproduce",
        help="reproduce a seed paper's finding (bag-of-words, negclip, lens, vision)",
        description="Run one paper's finding with its baseline in the same run and write "
        "DIR/findings.json (claim, preset, verdict with its reason, rows) and "
        "DIR/findings.html. Start the same command again to resume an interrupted run.",
    )
    p.add_argument("name", nargs="?", help="the finding (see --list)")
    p.add_argument("--list", action="store_true", help="list the findings and exit")
    p.add_argument("--preset", choices=PRESETS, default="quick", help="size of the run")
    p.add_argument("--out", default=None, help="output directory (default runs/reproduce/NAME)")
    p.add_argument("--seeds", type=int, default=None, help="seeds (overrides the preset)")
    p.add_argument("--n", type=int, default=None, help="images or cases (overrides the preset)")
    p.add_argument("--epochs", type=int, default=None, help="epochs (overrides the preset)")
    p.add_argument("--sources", type=_csv, default=None, help="image sources, comma-separated")
    p.add_argument("--models", type=_csv, default=None, help="models, comma-separated")
    p.add_argument("--max-minutes", type=float, default=None, help="training time budget")
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="a finding-specific option (repeatable)",
    )  # fmt: skip
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from snellen.errors import InputError
    from snellen.reproduce import FINDINGS, run_reproduce

    if args.list or not args.name:
        if not args.list:
            print("snellen reproduce NAME [--preset quick|cpu|gpu|paper]; the findings:")
        for name, text in FINDINGS.help().items():
            print(f"  {name:<14} {text}")
        return 0 if args.list else 2
    extra: dict[str, str] = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"--set {item!r}: write KEY=VALUE, e.g. --set width=32")
        extra[key.strip()] = value.strip()
    finding = run_reproduce(
        args.name, out=args.out, preset=args.preset, seeds=args.seeds, n=args.n,
        epochs=args.epochs, sources=args.sources, models=args.models,
        max_minutes=args.max_minutes, progress=not args.no_progress, extra=extra,
        command="snellen " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:]
        and sys.argv[1:][0] == "reproduce" else None,
    )  # fmt: skip
    print(f"{finding.name} ({finding.preset}): {finding.verdict} - {finding.reason}")
    print(f"  claim: {finding.claim}")
    out = args.out or f"runs/reproduce/{finding.name}"
    print(f"  {len(finding.rows)} rows, {finding.seconds:.0f} s; page: {out}/findings.html")
    return 0
