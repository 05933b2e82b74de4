"""``snellen llm``: ask a model from the command line, list backends, export a run's replies."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "llm",
        help="ask a chat model, list model backends, export recorded replies",
        description="Chat models are named openai:MODEL, hf:ID_OR_PATH, gguf:PATH, "
        "replay:FILE, or smollm2 (the embedded default).",
    )
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    ask = sub.add_parser("ask", help="send a prompt to a model and print the replies")
    ask.add_argument("model", help="model name, e.g. smollm2 or openai:gpt-4o-mini")
    ask.add_argument("prompt", help="the user message")
    ask.add_argument("--system", help="a system message to send first")
    ask.add_argument("--samples", type=int, default=1, help="how many samples (default 1)")
    ask.add_argument("--temperature", type=float, default=0.7)
    ask.add_argument("--top-p", type=float, default=0.95)
    ask.add_argument("--max-tokens", type=int, default=256)
    ask.add_argument("--seed", type=int, default=None)
    ask.add_argument("--base-url", help="openai: models: the endpoint (or OPENAI_BASE_URL)")
    ask.add_argument("--timeout", type=float, default=None, help="openai: seconds per request")
    ask.add_argument("--concurrency", type=int, default=None, help="requests at once")
    ask.add_argument(
        "--engine", default=None, help="gguf:/smollm2 only: auto, llama-cpp or transformers"
    )
    ask.add_argument("--record", metavar="FILE", help="append the replies to a JSONL reply file")
    ask.add_argument("--json", action="store_true", help="print one JSON reply per line")
    ask.set_defaults(func=run_ask)

    sub.add_parser("backends", help="list the model name schemes").set_defaults(func=run_backends)

    export = sub.add_parser(
        "export", help="write a run's cached replies as JSONL (use it later as replay:FILE)"
    )
    export.add_argument("run", help="run directory")
    export.add_argument("out", help="output .jsonl file")
    export.set_defaults(func=run_export)


def run_ask(args: argparse.Namespace) -> int:
    from snellen.errors import InputError
    from snellen.llm import ChatRequest, load_model
    from snellen.llm.replay import write_jsonl

    if args.samples < 1:
        raise InputError(f"--samples must be at least 1, not {args.samples}")
    messages = [{"role": "system", "content": args.system}] if args.system else []
    messages.append({"role": "user", "content": args.prompt})
    try:
        requests = [
            ChatRequest(
                messages=messages,
                temperature=args.temperature,
                top_p=args.top_p,
                max_tokens=args.max_tokens,
                seed=args.seed,
                sample_index=i,
            )  # fmt: skip
            for i in range(args.samples)
        ]
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    options = {"base_url": args.base_url, "timeout": args.timeout, "engine": args.engine}
    model = load_model(args.model, **options)
    replies = model.chat_many(requests, concurrency=args.concurrency, progress=args.samples > 1)
    for reply in replies:
        if args.json:
            print(json.dumps(reply.to_dict(), ensure_ascii=False))
            continue
        rate = reply.completion_tokens / reply.seconds if reply.seconds else 0.0
        est = " (estimated)" if reply.tokens_estimated else ""
        print(
            f"--- sample {reply.sample_index}: {reply.model}, {reply.prompt_tokens}+"
            f"{reply.completion_tokens} tokens{est}, {reply.seconds:.2f} s, {rate:.1f} tok/s, "
            f"{reply.finish_reason}"
        )
        print(reply.text)
    if args.record:
        n = write_jsonl(args.record, zip(requests, replies, strict=True))
        print(f"recorded {n} replies in {args.record}")
    model.close()
    return 0


def run_backends(args: argparse.Namespace) -> int:
    from snellen.llm import backends

    for scheme in backends():
        print(f"{scheme}:" if scheme != "smollm2" else "smollm2 (also: default)")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from snellen.llm.replay import export_cache
    from snellen.store import Run

    n = export_cache(Run(args.run), args.out)
    print(f"{n} replies -> {args.out}")
    return 0
