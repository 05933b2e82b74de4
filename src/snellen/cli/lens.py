"""``snellen lens``: LENS evaluations (classify, vqa, binary), vocabularies, shapes sets."""

from __future__ import annotations

import argparse


def _task_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--dataset",
        required=True,
        help="vqav2, okvqa, shapes-vqa, folder, shapes-classify, hateful-memes",
    )
    p.add_argument(
        "--root", help="folder holding the dataset's files (built there for shapes sets)"
    )
    p.add_argument("--out", default="lens-run", help="run directory (resumable; default lens-run)")
    p.add_argument("--vision", help="contrastive scorer for tags/attributes and the vision baseline "
                   "(default snellen-shapes; hf-clip:ID_OR_PATH, open-clip:ARCH:TAG)")  # fmt: skip
    p.add_argument("--captioner", help="hf:ID_OR_PATH (e.g. BLIP), detections[:SCORER] (default; "
                   "captions composed from detections, labelled as such) or "
                   "shapes-retrieval[:SCORER] (caption retrieval, labelled as such)")  # fmt: skip
    p.add_argument("--caption-min-similarity", type=float,
                   help="shapes-retrieval: give a caption only when its best match reaches this "
                   "similarity (default 0.75)")  # fmt: skip
    p.add_argument("--model", help="reasoning LLM (default smollm2; openai:, hf:, gguf:, replay:)")
    p.add_argument(
        "--engine",
        dest="llm_engine",
        choices=("auto", "llama-cpp", "transformers"),
        help="engine for smollm2 / gguf: models (default auto)",
    )
    p.add_argument("--split", help="evaluation split (default: the dataset's val/test/dev)")
    p.add_argument("--limit", type=int, help="first N items only")
    p.add_argument("--shots", type=int, default=0, help="K solved train examples before each query")
    p.add_argument(
        "--mode", choices=("vqa", "vision", "hm", "all"), help="prompt mode (default: per task)"
    )
    p.add_argument("--template", help="prompt template (a file or a string) over {tags} {attributes} "
                   "{captions} {caption} {ocr} {question}")  # fmt: skip
    p.add_argument(
        "--instruction", help="system message for the LLM (default: answer briefly; '' for none)"
    )
    p.add_argument("--vocab", help="vocabulary JSON from `snellen lens vocab`")
    p.add_argument("--tags-k", type=int, default=5, help="top-k tags (default 5)")
    p.add_argument("--attributes-k", type=int, default=5, help="top-k attributes (default 5)")
    p.add_argument("--threshold", type=float, default=0.2,
                   help="minimum cosine similarity for tags/attributes (LENS: 0.2, for CLIP; "
                   "snellen-shapes scores higher, about 0.5 is its equivalent)")  # fmt: skip
    p.add_argument(
        "--captions", type=int, default=10, dest="captions_n", help="sampled captions (default 10)"
    )
    p.add_argument(
        "--caption-tokens", type=int, default=30, help="caption length limit (default 30)"
    )
    p.add_argument("--max-tokens", type=int, default=10, help="answer length limit (default 10)")
    p.add_argument("--answers", choices=("open", "closed"), default="open",
                   help="closed: also rank the answer vocabulary by the LLM's log-likelihood "
                   "(vqa; open and extracted answers are always reported)")  # fmt: skip
    p.add_argument("--answer-vocab", help="candidate answers, one a line (default: the answers "
                   "in the dataset's annotations)")  # fmt: skip
    p.add_argument("--concurrency", type=int, help="LLM requests in flight (default: the model's)")
    p.add_argument(
        "--batch-size", type=int, default=64, help="images per vision batch (default 64)"
    )
    p.add_argument(
        "--baselines", default="vision,blind,majority", help="comma list (default all three)"
    )
    p.add_argument("--device", help="torch device for the vision models")
    p.add_argument(
        "--threads", type=int, help="torch threads (default: torch's; 1 on a busy machine)"
    )
    p.add_argument("--seed", type=int, default=0)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "lens", help="LENS: a frozen LLM answers questions about images from vision modules' text",
        description="Vision modules (tags, attributes, captions, OCR) describe each image in "
        "text; a frozen LLM answers from that text. Each task writes OUT/metrics.json with LENS "
        "and three baselines (vision model alone, LLM blind, majority answer) and OUT/report.html.",
    )  # fmt: skip
    sub = p.add_subparsers(dest="lens_command", metavar="TASK", required=True)
    for task, text in (("classify", "zero-shot classification (accuracy, per class)"),
                       ("vqa", "open-ended VQA (official VQA accuracy)"),
                       ("binary", "memes-style binary classification (AUC, accuracy)")):  # fmt: skip
        t = sub.add_parser(task, help=text, description=text)
        _task_args(t)
        t.set_defaults(func=run_task, task=task)
    v = sub.add_parser("vocab", help="build a tag/descriptor vocabulary",
                       description="Tags from class-name files, snellen's objects set or the "
                       "shapes names; descriptors from an LLM (cached and resumable in --run) "
                       "or the shapes generator's colours.")  # fmt: skip
    v.add_argument(
        "--tags", action="append", help="objects, shapes, or a file of names (repeatable)"
    )
    v.add_argument("--descriptors", choices=("llm", "shapes"), help="where descriptors come from")
    v.add_argument("--model", help="LLM for --descriptors llm (default smollm2)")
    v.add_argument("--run", help="run directory caching the LLM's replies (resumable)")
    v.add_argument("--limit", type=int, help="first N tags only")
    v.add_argument("--out", required=True, help="vocabulary JSON to write")
    v.set_defaults(func=run_vocab)
    d = sub.add_parser("shapes-data", help="write the shapes VQA / classification sets",
                       description="Write the seeded shapes VQA set (VQAv2 format) or the shapes "
                       "classification folder set.")  # fmt: skip
    d.add_argument("kind", choices=("vqa", "classify"))
    d.add_argument("--out", required=True)
    d.add_argument("--n", type=int, default=200, help="evaluation items (default 200)")
    d.add_argument("--n-train", type=int, default=200, help="train items (default 200)")
    d.add_argument("--seed", type=int, default=0)
    d.set_defaults(func=run_shapes_data)


def run_task(args: argparse.Namespace) -> int:
    from snellen.lens import run_lens

    m = run_lens(
        args.task, args.dataset, root=args.root, out=args.out, vision=args.vision,
        captioner=args.captioner, model=args.model, limit=args.limit, shots=args.shots,
        split=args.split, mode=args.mode, template=args.template, vocab=args.vocab,
        tags_k=args.tags_k, attributes_k=args.attributes_k, threshold=args.threshold,
        captions_n=args.captions_n, max_tokens=args.max_tokens, concurrency=args.concurrency,
        batch_size=args.batch_size, device=args.device, seed=args.seed, llm_engine=args.llm_engine,
        instruction=args.instruction, caption_tokens=args.caption_tokens, threads=args.threads,
        baselines=tuple(b for b in args.baselines.split(",") if b), answers=args.answers,
        answer_vocab=args.answer_vocab, caption_min_similarity=args.caption_min_similarity,
    )  # fmt: skip
    print(f"{m.task} on {m.dataset} ({m.n} items, {args.shots} shots):")
    for method, r in m.methods.items():
        auc = r.details.get("auc")
        extra = f"  AUC {100 * auc:.1f}" if auc is not None else ""
        lo, hi = r.interval
        print(
            f"  {method:<15} accuracy {100 * r.accuracy:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]{extra}"
        )
    for note in m.labels:
        print(f"note: {note}")
    print(f"wrote {args.out}/metrics.json and {args.out}/report.html")
    return 0


def run_vocab(args: argparse.Namespace) -> int:
    from snellen.lens import build_vocab

    vocab = build_vocab(
        args.tags or ["objects"], descriptors=args.descriptors, model=args.model, run=args.run,
        limit=args.limit, out=args.out,
    )  # fmt: skip
    n_desc = sum(len(v) for v in vocab.descriptors.values())
    print(f"wrote {args.out}: {len(vocab.tags)} tags, {n_desc} descriptors")
    return 0


def run_shapes_data(args: argparse.Namespace) -> int:
    from snellen.datasets import build_shapes_classify, build_shapes_vqa

    if args.kind == "vqa":
        build_shapes_vqa(args.out, args.n, args.n_train, args.seed)
    else:
        build_shapes_classify(args.out, args.n, args.n_train, args.seed)
    print(f"wrote {args.out}")
    return 0
