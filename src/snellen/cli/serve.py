"""``snellen serve``: put a model behind an OpenAI-compatible chat completions API."""

from __future__ import annotations

import argparse
import os


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "serve",
        help="serve a model over an OpenAI-compatible chat completions API",
        description="Serve MODEL (default: the embedded SmolLM2) at "
        "http://HOST:PORT/v1/chat/completions, the API of OpenAI, vLLM and the llama.cpp "
        "server, so any OpenAI-style client (and snellen's own openai:NAME models with "
        "--base-url http://HOST:PORT/v1) can use it. No streaming; one reply per request.",
    )
    p.add_argument("model", nargs="?", default="smollm2", help="model name (default: smollm2)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    p.add_argument(
        "--served-name", action="append", default=None,
        help="model name clients ask for (repeatable; default: MODEL)",
    )  # fmt: skip
    p.add_argument(
        "--api-key-env", default=None, metavar="VAR",
        help="require 'Authorization: Bearer KEY' with KEY read from this environment variable",
    )  # fmt: skip
    p.add_argument(
        "--engine", default=None, help="gguf/smollm2 only: auto, llama-cpp, transformers"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from snellen.errors import InputError
    from snellen.llm import load_model
    from snellen.llm.server import serve

    key = None
    if args.api_key_env:
        key = os.environ.get(args.api_key_env)
        if not key:
            raise InputError(f"--api-key-env {args.api_key_env}: that variable is not set")
    model = load_model(args.model, engine=args.engine)

    def ready(server: object) -> None:
        print(f"serving {args.model} at {server.url} (Ctrl-C stops)", flush=True)  # type: ignore[attr-defined]

    serve(
        model, args.host, args.port, served_names=args.served_name or [args.model],
        api_key=key, ready=ready,
    )  # fmt: skip
    return 0
