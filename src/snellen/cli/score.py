"""``snellen score``: fidelity, diversity and realism of a check-up run's drawings."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "score",
        help="score a check-up run: fidelity (image-text scorer), diversity (LPIPS), realism (FID/KID)",
        description="Score the rendered drawings of RUN (a `snellen checkup` output) and write "
        "the metrics into the run and RUN/metrics.json. Scorers: snellen-shapes (default, "
        "shipped, non-standard), hf-clip:ID_OR_PATH, open-clip:ARCH:TAG_OR_FILE. Without "
        "--lpips-weights / --inception-weights, diversity and realism use EfficientNet-Lite0 "
        "features and are labelled non-standard.",
    )
    p.add_argument("run", help="run directory")
    p.add_argument(
        "--scorer", default="snellen-shapes", help="image-text scorer (default snellen-shapes)"
    )
    p.add_argument("--reference", help="folder of reference images for FID/KID (realism)")
    p.add_argument("--lpips-weights", help="torchvision AlexNet/VGG-16 weights file for LPIPS")
    p.add_argument("--lpips-net", choices=("alex", "vgg"), default="alex")
    p.add_argument(
        "--lpips-heads", help="LPIPS v0.1 linear-head file (default: the lpips package's)"
    )
    p.add_argument(
        "--inception-weights", help="FID Inception file pt_inception-2015-12-05-6726825d.pth"
    )
    p.add_argument("--no-diversity", action="store_true", help="skip diversity")
    p.add_argument("--no-ocr", action="store_true", help="skip the OCR text-gaming check")
    p.add_argument(
        "--similarity", default="efficientnet-lite0",
        help="image encoder for similarity to the reference renderings: dinov2:ID_OR_PATH, or "
        "efficientnet-lite0 (default, offline, non-standard); none to skip",
    )  # fmt: skip
    p.add_argument(
        "--judge", default=None,
        help="a vision-language model that names what each drawing shows among same-category "
        "distractors: openai:MODEL (judge accuracy; replies cached in the run)",
    )  # fmt: skip
    p.add_argument(
        "--base-url", "--judge-base-url", dest="judge_base_url", default=None,
        help="the judge's OpenAI-compatible URL",
    )  # fmt: skip
    p.add_argument(
        "--judge-options", type=int, default=4,
        help="descriptions the judge chooses among (default 4: the concept and 3 distractors)",
    )  # fmt: skip
    p.add_argument("--batch-size", type=int, default=64, help="images per batch (default 64)")
    p.add_argument("--device", help="torch device (default: cuda when present)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    from snellen.metrics import score_run

    metrics = score_run(
        args.run, args.scorer, args.reference, lpips_weights=args.lpips_weights,
        lpips_net=args.lpips_net, lpips_heads=args.lpips_heads,
        inception_weights=args.inception_weights, diversity=not args.no_diversity,
        batch_size=args.batch_size, device=args.device, progress=True, log=print,
        ocr=not args.no_ocr, similarity=None if args.similarity == "none" else args.similarity,
        judge=args.judge, judge_base_url=args.judge_base_url, judge_options=args.judge_options,
    )  # fmt: skip
    fid = metrics.fidelity
    if fid is not None:
        overall = fid.overall or {}
        print(f"{fid.metric}: {overall.get('mean')} over {overall.get('count', 0)} drawings")
        for row in fid.by.get("category", "language"):
            shown = f"{row['mean']:.1f}" if fid.meaningful(row["category"]) else "not meaningful"
            print(f"  {row['category']:<10} {row['language']:<12} {shown}  (n={row['count']})")
    from snellen.report.summary import summary_rows

    for line in summary_rows(metrics):
        print(f"  {line}")
    if metrics.diversity is not None:
        d = metrics.diversity
        print(f"{d.metric}: {json.dumps(d.by.get('language'))}")
    if metrics.realism is not None:
        r = metrics.realism.overall
        print({r.fid_name: r.fid, r.kid_name: r.kid})
    for note in metrics.labels:
        print(f"note: {note}")
    print(f"wrote {args.run}/metrics.json")
    return 0
