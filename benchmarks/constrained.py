"""Grammar-constrained vs free drawing by a local model: render rate and fidelity.

Runs ``snellen checkup`` once per (language, constraint) with the chosen GGUF engine, in
separate run directories (so the four runs can go at once, one core each), and prints one
row per run. The same concepts (a seeded sample) in every run.

    .venv/bin/python benchmarks/constrained.py --concepts shapes-6 --languages svg \\
        --constrain grammar --engine transformers --out runs/constrained
    .venv/bin/python benchmarks/constrained.py --concepts shapes-6 --summarise runs/constrained/*

``--summarise`` scores every run's rendered drawings against the descriptions of all the
concepts asked for (the check-up's own fidelity ranks among the concepts a run drew, which
differ between runs stopped part-way).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def summarise(runs: list[str], concepts: str, scorer_name: str) -> None:
    """Render rate and fidelity per run, every run scored against the same candidates: the
    descriptions of all the concepts of ``concepts`` (so runs stopped part-way compare)."""
    import io

    import torch
    from PIL import Image

    from snellen.checkup.pipeline import load_concept_specs
    from snellen.metrics.fidelity import rank_and_percentile
    from snellen.score import load_scorer
    from snellen.store import Run

    candidates = [c.description for c in load_concept_specs(concepts.split(","), 0)]
    scorer = load_scorer(scorer_name)
    text = scorer.embed_texts(candidates)
    print(f"{'run':<40} {'drawings':>8} {'rendered':>8} {'blank':>6} {'fidelity':>9}")
    for path in runs:
        run = Run(path)
        recs = list(run.records("drawings"))
        ok = [r for r in recs if r["status"] == "ok"]
        fid = float("nan")
        if ok:
            images = [
                Image.open(io.BytesIO(run.artifacts.path(r["image"]).read_bytes())).convert("RGB")
                for r in ok
            ]
            sim = scorer.embed_images(images) @ text.t()
            truth = torch.tensor([candidates.index(r["description"]) for r in ok])
            fid = float(rank_and_percentile(sim, truth)[1].mean())
        blank = sum(r["status"] == "blank" for r in recs)
        print(
            f"{Path(path).name:<40} {len(recs):>8} {len(ok):>8} {blank:>6} {fid:>9.1f}",
            flush=True,
        )


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
    ap.add_argument(
        "--summarise", nargs="+", metavar="RUN",
        help="only print render rate and fidelity of these runs, scored against --concepts",
    )  # fmt: skip
    ap.add_argument("--scorer", default="snellen-shapes")
    args = ap.parse_args()
    if args.summarise:
        summarise(args.summarise, args.concepts, args.scorer)
        return

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
