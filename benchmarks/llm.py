"""Chat model throughput on this machine: generated tokens per second per backend.

Rows: the embedded SmolLM2-135M-Instruct through llama-cpp-python (1 thread and all
threads, when it is installed), the same GGUF file de-quantised into transformers (load
time from the GGUF file and from the kept conversion), the embedded model behind
``snellen serve`` asked through the OpenAI-compatible client (the cost of HTTP), a rerun of
the same requests answered from a run's reply cache, and replaying a recorded transcript.
Every row asks the same drawing prompts with the same seeds; the time includes reading the
prompt.

    .venv/bin/python benchmarks/llm.py [--quick] [--skip llama-cpp,transformers,served,...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from snellen.data import ROOT as DATA_ROOT
from snellen.llm import ChatModel, ChatRequest, load_model
from snellen.llm.gguf import llama_cpp_usable
from snellen.llm.replay import ReplayModel
from snellen.store import Run

ROOT = Path(__file__).resolve().parents[1]
TRANSCRIPT = DATA_ROOT / "llm-drawings" / "gpt4_default_without_0cot.tsv"
CONCEPTS = ["a red circle", "a house", "a cat", "a bicycle", "a tree", "a car"]
ROWS = ("llama-cpp", "transformers", "served", "cache", "replay")


def prompts(n: int, max_tokens: int) -> list[ChatRequest]:
    return [
        ChatRequest(
            prompt=f"write code in the programming language python matplotlib that draws {c}",
            max_tokens=max_tokens,
            seed=0,
        )
        for c in CONCEPTS[:n]
    ]


def measure(model: ChatModel, requests: list[ChatRequest], **kw: object) -> tuple[int, float]:
    t0 = time.monotonic()
    replies = model.chat_many(requests, **kw)  # type: ignore[arg-type]
    wall = time.monotonic() - t0
    return sum(r.completion_tokens for r in replies), wall


def serve_embedded(engine: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "snellen", "serve", "smollm2", "--port", "0", "--engine", engine],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if " at " not in line:
        proc.kill()
        raise SystemExit(f"snellen serve did not start: {line!r}")
    return proc, line.split(" at ")[1].split()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter replies")
    parser.add_argument("--skip", default="", help=f"comma-separated rows to skip: {ROWS}")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    n, max_tokens = (2, 32) if args.quick else (4, 96)
    requests = prompts(n, max_tokens)
    cores = os.cpu_count() or 1
    engine = "llama-cpp" if llama_cpp_usable() else "transformers"
    rows: list[tuple[str, str, int, float, float, str]] = []

    def row(group: str, label: str, what: str, make: Callable[[], ChatModel]) -> None:
        if group in skip:
            return
        t0 = time.monotonic()
        model = make()
        load = time.monotonic() - t0
        model.chat(ChatRequest(prompt="hi", max_tokens=2))  # warm up
        tokens, wall = measure(model, requests)
        rows.append((label, what, tokens, wall, load, ""))
        model.close()
        print(f"  {label}: {tokens / wall:.1f} tok/s, loaded in {load:.1f} s", file=sys.stderr)

    if llama_cpp_usable():
        row("llama-cpp", "llama-cpp x1", "llama-cpp-python, 1 thread",
            lambda: load_model("smollm2", engine="llama-cpp", n_threads=1))  # fmt: skip
        if cores > 1:
            row("llama-cpp", f"llama-cpp x{cores}", f"llama-cpp-python, {cores} threads",
                lambda: load_model("smollm2", engine="llama-cpp", n_threads=cores))  # fmt: skip
    else:
        print("  llama-cpp-python is not installed: no llama-cpp rows", file=sys.stderr)

    with tempfile.TemporaryDirectory() as tmp:
        # A private conversion cache: the first load reads the GGUF file, the second the kept
        # conversion, whatever the user's own cache holds.
        os.environ["SNELLEN_CACHE_DIR"] = tmp
        row("transformers", "transformers (from GGUF)", "GGUF de-quantised to fp32, first load",
            lambda: load_model("smollm2", engine="transformers"))  # fmt: skip
        row("transformers", "transformers (kept)", "the same, from the kept conversion",
            lambda: load_model("smollm2", engine="transformers"))  # fmt: skip
        del os.environ["SNELLEN_CACHE_DIR"]

    if "served" not in skip:
        proc, url = serve_embedded(engine)
        try:
            row("served", "served", f"snellen serve ({engine}) + openai: client",
                lambda: load_model("openai:smollm2", base_url=url))  # fmt: skip
        finally:
            proc.terminate()
            proc.wait()

    if "cache" not in skip:
        model = load_model("smollm2")
        with tempfile.TemporaryDirectory() as tmp:
            run = Run.open(Path(tmp) / "run", command="benchmark")
            tokens, first = measure(model, requests, cache=run)
            calls_before = model.stats.calls
            _, again = measure(model, requests, cache=run)
            calls = model.stats.calls - calls_before
            rows.append((f"{engine}, first run", "misses: every request calls the model",
                         tokens, first, 0.0, f"{len(requests)} calls"))  # fmt: skip
            rows.append((f"{engine}, rerun", "the same requests from the run's reply cache",
                         tokens, again, 0.0, f"{calls} calls"))  # fmt: skip
            run.close()
        model.close()

    if "replay" not in skip and TRANSCRIPT.exists():
        t0 = time.monotonic()
        replay = load_model(f"replay:{TRANSCRIPT}")
        assert isinstance(replay, ReplayModel)
        load = time.monotonic() - t0
        asks = [ChatRequest(prompt=r.prompt) for r in replay.recorded()]
        tokens, wall = measure(replay, asks)
        rows.append(("replay", "transcript TSV, 100 replies (estimated tokens)", tokens, wall,
                     load, f"{len(asks)} replies"))  # fmt: skip

    print(f"\n{len(requests)} prompts x {max_tokens} max tokens, SmolLM2-135M-Instruct Q4_1, "
          f"{cores} cores\n")  # fmt: skip
    print("| backend | what | tokens | seconds | tok/s | load s | note |")
    print("|---|---|---:|---:|---:|---:|---|")
    for label, what, tokens, wall, load, note in rows:
        rate = tokens / wall if wall else 0.0
        print(f"| {label} | {what} | {tokens} | {wall:.3f} | {rate:,.1f} | {load:.1f} | {note} |")


if __name__ == "__main__":
    main()
