"""Grammar-constrained vs free drawing by a local model: render rate and fidelity.

Runs ``snellen checkup`` once per (language, constraint) with the chosen GGUF engine, in
separate run directories (so the four runs can go at once, one core each), and prints one
row per run. The same concepts (a seeded sample) in every run.

    .venv/bin/python benchmarks/constrained.py --concepts shapes-6 --languages svg \\
        --constrain grammar --engine transformers --out runs/constrained
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--concepts", default="shapes-10")
    ap.add_argument("--languages", default="svg,processing")
    ap.add_argument("--constrain", default="none,grammar")
    ap.add_argument("--engine", default="auto", choices=("auto", "llama-cpp", "transformers"))
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--max-tokens", type=int, default=None)
    ap.add_argument("--out", default="runs/constrained")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    if args.engine != "auto":
        import snellen.llm.gguf as gguf

        gguf.llama_cpp_available = lambda: args.engine == "llama-cpp"  # type: ignore[assignment]
    from snellen.checkup import run_checkup

    tag = f"{args.languages.replace(',', '+')}-{args.constrain.replace(',', '+')}-{args.engine}"
    out = Path(args.out) / tag
    result = run_checkup(
        out, model=args.model, concepts=args.concepts, languages=args.languages,
        constrain=args.constrain, max_tokens=args.max_tokens, report=False, progress=False,
    )  # fmt: skip
    summary = {
        "run": str(out),
        "engine": args.engine,
        "seconds": round(result.seconds),
        "drawings": result.drawings,
        "rendered": result.rendered,
        "lines": result.summary_lines(),
    }
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
