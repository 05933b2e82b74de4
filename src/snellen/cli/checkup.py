"""``snellen checkup``: the vision check-up in one command (draw, render, score, report)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "checkup",
        help="give a language model a vision check-up: draw concepts with code, render, score, report",
        description="Ask a model to draw concepts by writing code (Processing, TikZ, matplotlib, "
        "turtle, SVG), render every program confined, score the images, optionally test "
        "recognition, self-correction and parametric diversity, and write OUT/report.html. "
        "With no arguments it runs offline on the bundled SmolLM2-135M, 3 VAD shapes + 3 objects "
        "and all five languages. Rerunning with the same --out resumes; replies are cached.",
    )
    p.add_argument("--model", default="smollm2",
                   help="model name: smollm2 (bundled, default), openai:MODEL, hf:ID_OR_PATH, "
                   "gguf:PATH, replay:FILE (a recorded transcript)")  # fmt: skip
    p.add_argument("--concepts", default=None,
                   help="comma-separated concept sets: shapes-N, objects-N, scenes-N, a set name, "
                   "or a .txt/.csv/.jsonl file (default: shapes-3,objects-3). With a replay model, "
                   "the concepts the transcript holds")  # fmt: skip
    p.add_argument(
        "--languages",
        default=None,
        help="comma-separated: processing,tikz,matplotlib,turtle,svg (default: all five)",
    )
    p.add_argument(
        "--samples", type=int, default=1, help="programs per concept and language (default 1)"
    )
    p.add_argument(
        "--tasks",
        default=None,
        help="comma-separated tasks: draw,recognize,correct,parametric (default: draw)",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="self-correction rounds for --tasks correct (default 2)",
    )
    p.add_argument(
        "--variants",
        type=int,
        default=4,
        help="parameter settings rendered per concept for --tasks parametric (default 4)",
    )
    p.add_argument("--scorer", default=None, help="image-text scorer (default: the offline scorer)")
    p.add_argument(
        "--reference", default=None, help="folder of reference images for realism (FID/KID)"
    )
    p.add_argument("--out", default="runs/checkup", help="run directory (default runs/checkup)")
    p.add_argument(
        "--seed", type=int, default=0, help="seed for concept samples and sampling (default 0)"
    )
    p.add_argument(
        "--max-tokens",
        type=int,
        default=None,
        help="reply length limit in tokens (default 256 for the bundled model, 2048 otherwise)",
    )
    p.add_argument(
        "--temperature", type=float, default=0.7, help="sampling temperature (default 0.7)"
    )
    p.add_argument(
        "--workers", type=int, default=None, help="render worker processes (default: one per core)"
    )
    p.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="model requests in flight at once (default 1; raise it for remote APIs)",
    )
    p.add_argument(
        "--prompts", default=None, help="JSON file of prompt templates replacing the defaults"
    )
    p.add_argument(
        "--timeout", type=float, default=20.0, help="seconds per program render (default 20)"
    )
    p.add_argument(
        "--constrain",
        default="none",
        help="none (default), grammar (a local model's drawing replies are kept inside a "
        "grammar of the asked language, so each is a program that parses), or none,grammar "
        "(both side by side in one run)",
    )
    p.add_argument(
        "--judge", default=None,
        help="a vision-language model that names what each drawing shows among same-category "
        "distractors: openai:MODEL (judge accuracy; replies cached in the run)",
    )  # fmt: skip
    p.add_argument("--judge-base-url", default=None, help="the judge's OpenAI-compatible URL")
    p.add_argument(
        "--similarity", default="efficientnet-lite0",
        help="image encoder for similarity to the reference renderings: dinov2:ID_OR_PATH, or "
        "efficientnet-lite0 (default, offline, non-standard); none to skip",
    )  # fmt: skip
    p.add_argument("--no-ocr", action="store_true", help="skip the OCR text-gaming check")
    p.add_argument("--no-report", action="store_true", help="do not write report.html")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from snellen.checkup import run_checkup

    result = run_checkup(
        args.out, model=args.model, concepts=args.concepts, languages=args.languages,
        samples=args.samples, scorer=args.scorer, reference=args.reference, rounds=args.rounds,
        tasks=args.tasks, seed=args.seed, max_tokens=args.max_tokens,
        temperature=args.temperature, workers=args.workers, concurrency=args.concurrency,
        variants=args.variants, prompts=args.prompts, timeout=args.timeout,
        report=not args.no_report, progress=True, constrain=args.constrain,
        judge=args.judge, judge_base_url=args.judge_base_url,
        similarity=None if args.similarity == "none" else args.similarity, ocr=not args.no_ocr,
    )  # fmt: skip
    for note in result.notes:
        print(f"note: {note}")
    print(
        f"{result.drawings} drawings, {result.rendered} rendered "
        f"({100 * result.render_rate:.1f}%), {result.recognition} recognition answers; "
        f"{result.llm_calls} model calls, {result.cache_hits} cached replies; "
        f"{result.seconds:.0f} s"
    )
    for line in result.summary_lines():
        print(f"  {line}")
    if result.report is not None:
        print(f"report: {result.report}")
    if result.failed:
        print(f"{result.failed} model request(s) failed; run the same command again to retry them")
        return 1
    return 0
