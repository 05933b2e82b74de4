"""The check-up end to end on this machine: wall-clock time, render rate, fidelity and
recognition of the default offline check-up (the bundled SmolLM2-135M), and what the
recorded GPT-4 and GPT-3.5 drawings of src/snellen/data/llm-drawings score when replayed.

Each row is one ``snellen checkup`` command run from scratch in a temporary directory, so
the time includes starting Python, loading the model and the scorer, and writing the report.

    .venv/bin/python benchmarks/checkup.py [--quick] [--scorer NAME] [--keep DIR]

``--quick`` runs the GPT-4 replay and the default check-up only.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from snellen.data import ROOT as DATA_ROOT
from snellen.store import Run

ROOT = Path(__file__).resolve().parents[1]
DRAWINGS = DATA_ROOT / "llm-drawings"


def rows(quick: bool) -> list[tuple[str, list[str]]]:
    out = [
        ("default (smollm2)", []),
        (
            "replay gpt-4",
            ["--model", f"replay:{DRAWINGS / 'gpt4_default_without_0cot.tsv'}",
             "--concepts", "objects-100"],
        ),
    ]  # fmt: skip
    if not quick:
        out.append(
            (
                "replay gpt-3.5",
                ["--model", f"replay:{DRAWINGS / 'gpt3.5_default_without_0cot.tsv'}",
                 "--concepts", "objects-100"],
            )
        )  # fmt: skip
    return out


def measure(name: str, args: list[str], out: Path, scorer: str | None) -> dict[str, object]:
    cmd = [sys.executable, "-m", "snellen", "checkup", "--out", str(out), *args]
    if scorer:
        cmd += ["--scorer", scorer]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    seconds = time.monotonic() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{name}: {' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    run = Run(out)
    drawings = list(run.records("drawings"))
    ok = sum(r["status"] == "ok" for r in drawings)
    metrics = (
        json.loads((out / "metrics.json").read_text()) if (out / "metrics.json").exists() else {}
    )
    overall = (metrics.get("fidelity") or {}).get("overall") or {}
    recognition = list(run.records("recognition"))

    def accuracy(mode: str) -> str:
        answers = [r for r in recognition if r["mode"] == mode]
        if not answers:
            return "-"
        return f"{100 * sum(bool(r['correct']) for r in answers) / len(answers):.1f}% of {len(answers)}"

    return {
        "check-up": name,
        "seconds": f"{seconds:.0f}",
        "drawings": len(drawings),
        "render rate": f"{100 * ok / len(drawings):.1f}%" if drawings else "-",
        "fidelity": f"{overall['mean']:.1f}" if overall.get("mean") is not None else "-",
        "recognize choice": accuracy("choice"),
        "recognize free": accuracy("free"),
        "scorer": (metrics.get("scorer") or {}).get("name", "-"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--scorer", default=None, help="scorer name (default: the offline one)")
    parser.add_argument("--keep", default=None, help="write the runs here instead of a temp dir")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="snellen-bench-") as tmp:
        base = Path(args.keep) if args.keep else Path(tmp)
        results = []
        for i, (name, extra) in enumerate(rows(args.quick)):
            results.append(measure(name, extra, base / f"run{i}", args.scorer))
            print(f"done: {name} ({results[-1]['seconds']} s)", file=sys.stderr)
    header = list(results[0])
    widths = [max(len(h), *(len(str(r[h])) for r in results)) for h in header]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for r in results:
        print("  ".join(str(r[h]).ljust(w) for h, w in zip(header, widths, strict=True)))


if __name__ == "__main__":
    main()
