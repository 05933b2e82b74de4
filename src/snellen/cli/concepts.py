"""``snellen concepts``: list, show and export concept sets."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "concepts",
        help="list, show and export concept sets (shapes, objects, scenes, your own files)",
        description="The Visual Aptitude Dataset and other concept sets. A set is a name "
        "(shapes, objects, scenes), NAME-N for a seeded sample (objects-100), or a .txt/.csv/.jsonl file.",
    )
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("list", help="list the concept sets").set_defaults(func=run_list)
    show = sub.add_parser("show", help="describe a concept set and print a few examples")
    show.add_argument("name", help="shapes, objects, scenes, NAME-N or a file")
    show.add_argument("--seed", type=int, default=0)
    show.add_argument(
        "--examples", type=int, default=5, help="how many examples to print (default 5)"
    )
    show.add_argument(
        "--source",
        help="captions file for scenes (COCO captions JSON or TSV with a 'title' column)",
    )
    show.set_defaults(func=run_show)
    export = sub.add_parser("export", help="write concepts as JSON Lines")
    export.add_argument("name", help="shapes, objects, scenes, NAME-N or a file")
    export.add_argument(
        "--n", type=int, default=None, help="how many concepts (required for shapes)"
    )
    export.add_argument("--seed", type=int, default=0)
    export.add_argument("--out", required=True, help="output .jsonl file")
    export.add_argument(
        "--source",
        help="captions file for scenes (COCO captions JSON or TSV with a 'title' column)",
    )
    export.add_argument(
        "--split",
        choices=("all", "train", "heldout"),
        default=None,
        help="shapes only: held-out shape-colour combinations",
    )
    export.set_defaults(func=run_export)


def _options(args: argparse.Namespace) -> dict:
    options = {}
    if getattr(args, "source", None):
        options["source"] = args.source
    if getattr(args, "split", None):
        options["split"] = args.split
    return options


def run_list(args: argparse.Namespace) -> int:
    from snellen.concepts import list_concept_sets

    print(f"{'name':<9} {'size':>8}  description")
    for info in list_concept_sets():
        size = (
            "stream"
            if info.size is None and info.name == "shapes"
            else ("-" if info.size is None else str(info.size))
        )
        print(f"{info.name:<9} {size:>8}  {info.description}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from snellen.concepts import iter_concepts, list_concept_sets, resolve

    name, _ = resolve(args.name)
    info = {i.name: i for i in list_concept_sets()}.get(name)
    if info:
        print(f"{info.name}: {info.description}")
        print(
            f"size: {'unbounded stream' if info.size is None and name == 'shapes' else info.size or 'depends on --source'}"
        )
        print(f"source: {info.source}")
        if name == "shapes":
            from snellen.concepts.shapes import ATTRIBUTE_KINDS

            print(f"attribute kinds ({len(ATTRIBUTE_KINDS)}): {', '.join(ATTRIBUTE_KINDS)}")
    else:
        print(f"user file: {name}")
    # a user file is shown from its start; a registered set as a seeded sample
    n = args.examples if info else None
    print("examples:")
    for i, concept in enumerate(iter_concepts(name, n, args.seed, **_options(args))):
        if i >= args.examples:
            break
        print(f"  {concept.id}: {concept.description}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    import time

    from snellen.concepts import export_concepts

    start = time.perf_counter()
    out = export_concepts(args.name, args.n, args.seed, args.out, progress=True, **_options(args))
    print(f"wrote {out} in {time.perf_counter() - start:.1f} s")
    return 0
