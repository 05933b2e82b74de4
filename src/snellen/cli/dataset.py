"""``snellen dataset build``: image datasets drawn by programs, as WebDataset shards."""

from __future__ import annotations

import argparse
import json

from snellen.registry import RegistryNames


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "dataset",
        help="build image datasets from programs (LLM drawings, shapes, procedural, shaders)",
        description="Image datasets drawn by programs, written as WebDataset tar shards.",
    )
    sub = p.add_subparsers(dest="dataset_command", metavar="ACTION", required=True)
    b = sub.add_parser(
        "build",
        help="render N images of a source into shards (resumable)",
        description="Write N images of SOURCE at PX x PX into OUT/shards/*.tar (PNG + JSON "
        "metadata: source, program id, concept, parameters) and OUT/dataset.json. Rerunning "
        "the same command resumes with the first missing shard. Sources: transcripts:FILE[,FILE]"
        ", jsonl:FILE, run:DIR, vad-shapes, dead-leaves[:squares|oriented|mixed|textured], "
        "fractals, spectrum, wmm, shaders:DIR, mix:NAME=W,NAME=W.",
    )
    b.add_argument("source", help="image source (see above; --list names them)")
    b.add_argument("--n", type=int, required=True, help="number of images")
    b.add_argument("--size", type=int, default=64, help="image side in pixels (default 64)")
    b.add_argument("--out", required=True, help="output directory (created, or resumed)")
    b.add_argument("--seed", type=int, default=0, help="seed (same seed, same bytes)")
    b.add_argument("--shard-size", type=int, default=500, help="images per shard (default 500)")
    backend = b.add_argument(
        "--backend", default="local", help="local processes (default) or Ray tasks"
    )
    # its choices are the registered backends, read when a value is checked or help is shown
    # (set after adding: argparse reads choices as it adds an option, and building the command
    # line must not import the image-set code)
    backend.choices = RegistryNames("snellen.imagesets.build:BACKENDS")
    b.add_argument("--address", default=None, help="Ray cluster address (default: start one)")
    b.add_argument(
        "--workers", type=int, default=None, help="processes / Ray CPUs (default: cores)"
    )
    b.set_defaults(func=run_build)
    ls = sub.add_parser("sources", help="list the image sources")
    ls.set_defaults(func=run_sources)


def run_build(args: argparse.Namespace) -> int:
    from snellen.imagesets import build_dataset

    summary = build_dataset(
        args.source, args.n, args.size, args.out, seed=args.seed, shard_size=args.shard_size,
        backend=args.backend, address=args.address, workers=args.workers,
    )  # fmt: skip
    failed = sum(summary.failures.values())
    print(
        f"{summary.images} images in {len(summary.shards)} shards -> {args.out} "
        f"({summary.images_per_s} img/s this session; {failed} failed renders"
        + (f": {json.dumps(summary.failures)}" if failed else "")
        + ")"
    )
    return 0


def run_sources(args: argparse.Namespace) -> int:
    from snellen.imagesets import SOURCES

    for name, text in SOURCES.help().items():
        print(f"{name:<14} {text}")
    return 0
