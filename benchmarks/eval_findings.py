"""The two ARO findings of docs/evaluate.md, as `snellen reproduce` runs them: bag of words
(retrieval with shuffled captions, VAD-ARO against chance) and NegCLIP against its CLIP-FT
control. A thin caller of :func:`snellen.run_reproduce` that prints each finding's rows as
Markdown tables (mean ± sd over data seeds, in percent):

    .venv/bin/python benchmarks/eval_findings.py --preset cpu --out runs/eval-findings

Each finding is resumable in ``OUT/NAME`` (start the same command again after a kill).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def table(rows: list[dict[str, object]], keys: tuple[str, ...]) -> str:
    head = [*keys, "mean ± sd", "seeds"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if "mean" not in r:
            continue
        cells = [str(r.get(k, "")) for k in keys]
        cells += [f"{float(r['mean']):.1f} ± {float(r['sd']):.1f}", str(r.get("seeds", ""))]  # type: ignore[arg-type]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="cpu", choices=("quick", "cpu", "gpu", "paper"))
    ap.add_argument("--out", default="runs/eval-findings")
    ap.add_argument("--only", choices=("bag-of-words", "negclip"), help="one of the two")
    args = ap.parse_args()

    import snellen

    keys = {"bag-of-words": ("model", "dataset", "captions", "metric"),
            "negclip": ("model", "dataset", "metric")}  # fmt: skip
    for name in [args.only] if args.only else ["bag-of-words", "negclip"]:
        finding = snellen.run_reproduce(name, out=Path(args.out) / name, preset=args.preset)
        print(f"\n### {name} ({finding.preset}): {finding.verdict}\n\n{finding.reason}\n")
        print(table(finding.rows, keys[name]))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
