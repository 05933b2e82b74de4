"""Chat model throughput on this machine: generated tokens per second per backend.

Rows: the embedded SmolLM2-135M-Instruct through llama-cpp-python (1 thread and all
threads, when it is installed), the same GGUF file de-quantised into transformers (load
time from the GGUF file and from the kept conversion), the embedded model behind
``snellen serve`` asked through the OpenAI-compatible client (the cost of HTTP), a rerun of
the same requests answered from a run's reply cache, and replaying a recorded transcript.
Every row asks the same drawing prompts with the same seeds; the time includes reading the
prompt.

The ``load`` table answers LENS-style questions (a shared few-shot prefix, then one
image's captions and a question, about 260 prompt tokens, 5 reply tokens) with the engine
as it was (``before``: OpenMP's default busy wait, every prompt evaluated from its first
token) and as it is (``after``: passive wait, the shared prefix kept), at 1 and 2 threads,
on the machine as it is, beside one and beside two competing CPU-bound jobs that the
benchmark starts and stops itself (each a 2-thread PyTorch matrix-multiply loop). It
prints prompt tokens/s, replies/s and each reply's time against its fair share (the
no-job time x (jobs' threads + ours) / cores).

    .venv/bin/python benchmarks/llm.py [--quick] [--skip load,llama-cpp,transformers,...]
    .venv/bin/python benchmarks/llm.py --only load
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
ROWS = ("load", "llama-cpp", "transformers", "served", "cache", "replay")
BUSY_JOB = (
    "import torch; torch.set_num_threads(2); a = torch.randn(384, 384)\n"
    "while True:\n    a = torch.tanh(a @ a)"
)
SHOTS = [
    (
        "a red circle at the top left on white, a blue square below it",
        "What colour is the circle?",
        "red",
    ),
    ("two green triangles on a light grey background", "How many triangles are there?", "2"),
    (
        "a yellow star in the middle, a purple square at the bottom right",
        "What shape is yellow?",
        "star",
    ),
    ("a small orange square at the top right on black", "Is there a circle?", "no"),
]
QUESTIONS = [
    ("a blue square at the bottom left on white", "What colour is the square?"),
    ("three red circles in a row on light yellow", "How many circles are there?"),
    ("a green triangle above a pink circle", "What shape is green?"),
    ("a purple star in the middle on white", "Is there a star?"),
    ("a black circle at the top right on light blue", "What colour is the circle?"),
    ("two orange squares on white", "How many squares are there?"),
]


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


def lens_requests(n: int) -> list[ChatRequest]:
    """Greedy LENS-style requests sharing a system prompt and four solved examples."""
    prefix = "\n\n".join(
        f"Captions: {c}, {c.replace('on ', 'drawn on ')}\nQuestion: {q}\nShort Answer: {a}"
        for c, q, a in SHOTS
    )
    system = {"role": "system", "content": "Answer the question with a single word or number."}
    return [
        ChatRequest(
            messages=[
                system,
                {
                    "role": "user",
                    "content": f"{prefix}\n\nCaptions: {c}, "
                    f"{c.replace('on ', 'drawn on ')}\nQuestion: {q}\nShort Answer:",
                },
            ],
            temperature=0.0,
            max_tokens=5,
        )  # fmt: skip
        for c, q in (QUESTIONS * 4)[:n]
    ]


def start_jobs(n: int) -> list[subprocess.Popen[bytes]]:
    jobs = [
        subprocess.Popen(
            [sys.executable, "-c", BUSY_JOB], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )  # fmt: skip
        for _ in range(n)
    ]
    time.sleep(3.0 if n else 0.0)  # let them reach their loop
    return jobs


def stop_jobs(jobs: list[subprocess.Popen[bytes]]) -> None:
    for job in jobs:
        job.terminate()
    for job in jobs:
        job.wait()


def load_table(n: int, engine: str) -> list[dict[str, object]]:
    """Every (jobs, threads, before/after) cell; each model is loaded fresh in its own worker
    process (the wait policy is read when the engine loads)."""
    requests = lens_requests(n)
    cores = len(os.sched_getaffinity(0))
    out: list[dict[str, object]] = []
    for jobs_n in (0, 1, 2):
        jobs = start_jobs(jobs_n)
        try:
            for threads in (1, 2):
                for label, policy, prefix in (
                    ("before", "active", False),
                    ("after", "passive", True),
                ):
                    model = load_model("smollm2", engine=engine, n_threads=threads,
                                       wait_policy=policy, prefix_cache=prefix)  # fmt: skip
                    model.chat(requests[-1])  # warm up (and, after, hold the prefix)
                    load = os.getloadavg()[0]
                    t0 = time.monotonic()
                    replies = model.chat_many(requests)
                    wall = time.monotonic() - t0
                    model.close()
                    prompt_tokens = sum(r.prompt_tokens for r in replies)
                    out.append({"jobs": jobs_n, "threads": threads, "engine": label,
                                "seconds": wall, "replies": len(replies),
                                "prompt_tokens": prompt_tokens, "load": load, "cores": cores})  # fmt: skip
                    print(f"  jobs {jobs_n} threads {threads} {label}: {wall / len(replies):.2f} s/reply "
                          f"(load {load:.2f})", file=sys.stderr)  # fmt: skip
        finally:
            stop_jobs(jobs)
    return out


def print_load_table(rows: list[dict[str, object]]) -> None:
    base = {(r["threads"], r["engine"]): float(r["seconds"]) / int(r["replies"])  # type: ignore[arg-type]
            for r in rows if r["jobs"] == 0}  # fmt: skip
    print(
        "\n| competing jobs | threads | engine | s/reply | replies/s | prompt tok/s "
        "| x fair share | load avg |"
    )
    print("|---:|---:|---|---:|---:|---:|---:|---:|")
    for r in rows:
        per = float(r["seconds"]) / int(r["replies"])  # type: ignore[arg-type]
        cores = int(r["cores"])  # type: ignore[call-overload]
        jobs, threads = int(r["jobs"]), int(r["threads"])  # type: ignore[call-overload]
        # the no-job time stretched by the runnable threads per core (never below 1)
        fair = base[(threads, r["engine"])] * max(1.0, (2 * jobs + threads) / cores)
        print(
            f"| {jobs} | {threads} | {r['engine']} | {per:.2f} | {1 / per:.2f} | "
            f"{int(r['prompt_tokens']) / float(r['seconds']):,.0f} | {per / fair:.2f} | "  # type: ignore[call-overload,arg-type]
            f"{float(r['load']):.2f} |"
        )  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter replies")
    parser.add_argument("--skip", default="", help=f"comma-separated rows to skip: {ROWS}")
    parser.add_argument("--only", default="", help="comma-separated rows to run (default all)")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    if args.only:
        skip |= set(ROWS) - set(args.only.split(","))
    n, max_tokens = (2, 32) if args.quick else (4, 96)
    requests = prompts(n, max_tokens)
    cores = os.cpu_count() or 1
    engine = "llama-cpp" if llama_cpp_usable() else "transformers"
    rows: list[tuple[str, str, int, float, float, str]] = []
    if "load" not in skip:
        print_load_table(load_table(3 if args.quick else 12, engine))
        if skip >= set(ROWS) - {"load"}:
            return

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
