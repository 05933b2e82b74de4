"""Rendering throughput: cold baseline vs warm confined pool vs unconfined in-process.

For each language and a simple and a complex program (and for Processing, real model-written
sketches: the first replies in src/snellen/data/llm-drawings that render), in one run:

* cold: a fresh process per image, as a reference pipeline does (a new Python interpreter,
  a new pdflatex without a format, a new rsvg-convert, a new JVM compiling the sketch),
  with as many running at once as the pool has workers;
* unconfined: the same renderers called in this process, no sandbox (one core);
* confined x1: the warm confined pool with one worker (compare with unconfined: the cost
  of the sandbox);
* confined xN: the warm confined pool with one worker per core (compare with cold).

Then, when the Processing renderer is available, the render rate on the real model replies
in src/snellen/data/llm-drawings (percentage non-blank per file and model, and the reasons
for failures).

    .venv/bin/python benchmarks/render.py [--quick] [--languages svg,tikz] [--no-drawings]
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from snellen.data import ROOT as DATA_ROOT
from snellen.render.base import RenderJob, Status
from snellen.render.pool import InProcess, LocalPool, default_workers

ROOT = Path(__file__).resolve().parents[1]
DRAWINGS = DATA_ROOT / "llm-drawings"

# "complex" is the size of a detailed model-written drawing: tens to a few hundred primitives.
PROGRAMS: dict[str, dict[str, str]] = {
    "matplotlib": {
        "simple": "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(4, 4))\n"
        "ax.add_patch(plt.Circle((0.5, 0.5), 0.3, color='red'))\nax.axis('off')\n",
        "complex": "import numpy as np\nimport matplotlib.pyplot as plt\nrng = np.random.default_rng(0)\n"
        "fig, ax = plt.subplots(figsize=(5, 5))\nfor i in range(60):\n"
        "    x, y, r = rng.random(3)\n    ax.add_patch(plt.Circle((x, y), r / 10, color=rng.random(3), alpha=0.6))\n"
        "ax.plot(np.linspace(0, 1, 500), np.sin(np.linspace(0, 20, 500)) / 2 + 0.5, 'k')\n"
        "ax.set_title('complex')\n",
    },
    "turtle": {
        "simple": "import turtle\nt = turtle.Turtle()\nt.color('red', 'yellow')\nt.begin_fill()\n"
        "for _ in range(4):\n    t.forward(100)\n    t.left(90)\nt.end_fill()\nturtle.done()\n",
        "complex": "import turtle\nt = turtle.Turtle()\nt.speed(0)\nfor i in range(200):\n"
        "    t.pencolor((i % 255 / 255, 0.3, 1 - i % 255 / 255))\n    t.forward(i * 0.5)\n    t.left(59)\nturtle.done()\n",
    },
    "tikz": {
        "simple": "\\documentclass[tikz]{standalone}\n\\begin{document}\n\\begin{tikzpicture}\n"
        "\\fill[red] (0,0) circle (1);\n\\draw (-1,-1) rectangle (1,1);\n\\end{tikzpicture}\n\\end{document}\n",
        "complex": "\\documentclass[tikz]{standalone}\n\\usetikzlibrary{arrows.meta,shapes}\n\\begin{document}\n"
        "\\begin{tikzpicture}\n\\foreach \\i in {1,...,60} {\n"
        "  \\fill[blue!\\i!red, opacity=0.5] ({cos(\\i*7)*\\i/30}, {sin(\\i*7)*\\i/30}) circle (0.2);\n}\n"
        "\\foreach \\i in {1,...,40} \\draw[-Stealth] (0,0) -- ({cos(\\i*9)*3}, {sin(\\i*9)*3});\n"
        "\\node[draw, ellipse, fill=yellow] at (0,0) {complex};\n\\end{tikzpicture}\n\\end{document}\n",
    },
    "svg": {
        "simple": '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400">'
        '<rect width="400" height="400" fill="white"/><circle cx="200" cy="200" r="100" fill="red"/></svg>',
        "complex": '<svg xmlns="http://www.w3.org/2000/svg" width="500" height="500">'
        + "".join(
            f'<circle cx="{(i * 37) % 500}" cy="{(i * 53) % 500}" r="{i % 30 + 3}" '
            f'fill="hsl({i % 360},70%,50%)" fill-opacity="0.6"/>'
            for i in range(200)
        )
        + '<text x="20" y="40" font-family="sans-serif" font-size="30">complex</text></svg>',
    },
    "processing": {
        "simple": "void setup() {\n  size(400, 400);\n  noLoop();\n}\nvoid draw() {\n  background(255);\n"
        "  fill(255, 0, 0);\n  ellipse(200, 200, 200, 200);\n}\n",
        "complex": "void setup() {\n  size(500, 500);\n  noLoop();\n}\nvoid draw() {\n  background(255);\n"
        "  randomSeed(1);\n  for (int i = 0; i < 150; i++) {\n    fill(random(255), random(255), random(255), 150);\n"
        "    ellipse(random(width), random(height), random(5, 40), random(5, 40));\n  }\n"
        "  for (int i = 0; i < 200; i++) {\n    stroke(0);\n    line(i * 2.5, 0, 500 - i * 2.5, 500);\n  }\n"
        '  textSize(30);\n  fill(0);\n  text("complex", 20, 40);\n}\n',
    },
}

REAL_SKETCHES = 30


def real_sketches(n: int = REAL_SKETCHES) -> list[str]:
    """The code of the first ``n`` GPT-4 replies in the shared drawings that render to a
    non-blank image (the workload the pool is built for: tens of primitives, a few loops)."""
    from snellen.render.programs import read_transcripts

    tsv = DRAWINGS / "gpt4_default_with_0cot.tsv"
    if not tsv.exists():
        return []
    candidates = [p.code for p in read_transcripts(tsv, "processing") if p.code.strip()]
    jobs = [
        RenderJob(f"r{i}", "processing", c, timeout=30) for i, c in enumerate(candidates[: 2 * n])
    ]
    with InProcess() as local:
        ok = [job.code for job, r in zip(jobs, local.map(jobs), strict=True) if r.ok]
    return ok[:n]


TURTLE_HARNESS = (
    "import turtle\nfrom svg_turtle import SvgTurtle\npen = SvgTurtle(800, 600)\n"
    "turtle.Turtle = lambda *a, **k: pen\nturtle.Screen = pen.getscreen\nturtle.done = lambda: None\n"
)


# -- cold baselines ----------------------------------------------------------------------
def cold_command(language: str, code: str, d: Path) -> list[list[str]] | None:
    """The commands a fresh-process pipeline runs for one image (None: not available)."""
    py = sys.executable
    if language == "matplotlib":
        (d / "p.py").write_text(
            code + "\nimport matplotlib.pyplot as plt\nplt.savefig('out.png')\n"
        )
        return [[py, "p.py"]]
    if language == "turtle":
        (d / "p.py").write_text(
            TURTLE_HARNESS + code + "\nimport resvg_py\n"
            "open('out.png', 'wb').write(bytes(resvg_py.svg_to_bytes(svg_string=pen.to_svg())))\n"
        )
        return [[py, "p.py"]]
    if language == "tikz":
        (d / "p.tex").write_text(code)
        (d / "r.py").write_text(
            "import pymupdf as fitz\nd = fitz.open('p.pdf')\nd[0].get_pixmap(matrix=fitz.Matrix(101.6 / 72, 101.6 / 72)).save('out.png')\n"
        )
        return [["pdflatex", "-interaction=batchmode", "-no-shell-escape", "p.tex"], [py, "r.py"]]
    if language == "svg":
        (d / "p.svg").write_text(code)
        return [["rsvg-convert", "-o", "out.png", "p.svg"]]
    if language == "processing":
        try:
            from snellen.render.processing import cold_commands  # type: ignore[attr-defined]
        except ImportError:
            return None
        return cold_commands(code, d)
    return None


def run_cold(language: str, codes: list[str], n: int, parallel: int) -> float | None:
    """Images per second with a fresh process per image, ``parallel`` at a time (the
    programs taken in turn from ``codes``)."""
    root = Path(tempfile.mkdtemp(prefix="snellen-cold-"))
    env = {**os.environ, "MPLBACKEND": "Agg"}

    def one(i: int) -> bool:
        d = root / str(i)
        d.mkdir()
        cmds = cold_command(language, codes[i % len(codes)], d)
        if cmds is None:
            return False
        for cmd in cmds:
            subprocess.run(cmd, cwd=d, env=env, capture_output=True, timeout=120)
        return any(p.suffix == ".png" for p in d.rglob("*.png"))

    try:
        if cold_command(language, codes[0], root) is None:
            return None
        t0 = time.perf_counter()
        with ThreadPoolExecutor(parallel) as ex:
            ok = list(ex.map(one, range(n)))
        elapsed = time.perf_counter() - t0
        if not all(ok):
            raise RuntimeError(f"cold {language} baseline produced no image")
        return n / elapsed
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run_backend(backend, language: str, codes: list[str], n: int, warmup: int) -> float:
    jobs = [RenderJob(f"w{i}", language, codes[i % len(codes)], timeout=120) for i in range(warmup)]
    for r in backend.map(jobs):
        if r.status is not Status.OK:
            raise RuntimeError(f"{language}: {r.status.value}: {r.reason[:500]}")
    jobs = [RenderJob(f"b{i}", language, codes[i % len(codes)], timeout=120) for i in range(n)]
    t0 = time.perf_counter()
    results = list(backend.map(jobs))
    elapsed = time.perf_counter() - t0
    bad = [r for r in results if r.status is not Status.OK]
    if bad:
        raise RuntimeError(f"{language}: {bad[0].status.value}: {bad[0].reason[:500]}")
    return n / elapsed


def throughput(languages: list[str], quick: bool, workers: int) -> list[dict]:
    n_warm = 12 if quick else 60
    n_cold = 4 if quick else 12
    rows = []
    for language in languages:
        kinds = {kind: [code] for kind, code in PROGRAMS[language].items()}
        if language == "processing" and (real := real_sketches()):
            kinds["real"] = real
        for kind, codes in kinds.items():
            n = n_warm if kind != "complex" else max(4, n_warm // 3)
            row = {"language": language, "program": kind}
            row["cold"] = run_cold(language, codes, n_cold, workers)
            with InProcess() as local:
                row["unconfined"] = run_backend(local, language, codes, n, warmup=2)
            with LocalPool(1, warm=[language]) as pool:
                row["confined_x1"] = run_backend(pool, language, codes, n, warmup=2)
            with LocalPool(workers, warm=[language]) as pool:
                row["confined_xN"] = run_backend(pool, language, codes, n, warmup=2 * workers)
            rows.append(row)
            print(_fmt_row(row, workers), flush=True)
    return rows


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1f}"


HEADER = "{:<11} {:<8} {:>9} {:>11} {:>12} {:>12} {:>9} {:>13}"


def _fmt_row(row: dict, workers: int) -> str:
    speedup = row["confined_xN"] / row["cold"] if row["cold"] else None
    ratio = row["confined_x1"] / row["unconfined"]
    return HEADER.format(
        row["language"], row["program"], _fmt(row["cold"]), _fmt(row["unconfined"]),
        _fmt(row["confined_x1"]), _fmt(row["confined_xN"]),
        "n/a" if speedup is None else f"{speedup:.1f}x", f"{ratio:.2f}",
    )  # fmt: skip


# -- SVG: resvg in process vs rsvg-convert per program class ------------------------------
def svg_classes() -> dict[str, str]:
    """SVG programs of growing cost: the benchmark's own two, text, many paths, a long
    path, a blur filter, and the SVG grammar's random sentences (what a constrained model
    writes)."""
    import random

    from snellen.llm.grammar import drawing_grammar
    from snellen.render.extract import extract_code

    head = '<svg xmlns="http://www.w3.org/2000/svg" width="500" height="500">'
    rng = random.Random(0)
    g = drawing_grammar("svg")
    grammar = [extract_code(g.sample(rng, budget=2000), "svg").code or "" for _ in range(8)]
    longest = max(grammar, key=len)
    return {
        "simple": PROGRAMS["svg"]["simple"],
        "text": head + "".join(
            f'<text x="10" y="{20 + 24 * i}" font-size="20">line {i} of text</text>' for i in range(20)
        ) + "</svg>",
        "complex": PROGRAMS["svg"]["complex"],
        "paths-500": head + "".join(
            f'<path d="M{(i * 7) % 500} {(i * 11) % 500} l20 5 l-5 20 z" fill="#{i % 256:02x}40a0" '
            f'stroke="black"/>' for i in range(500)
        ) + "</svg>",
        "long-path": head + '<path fill="none" stroke="navy" d="M0 250 '
        + " ".join(f"L{i / 10:.1f} {250 + 200 * ((i * 37) % 100 - 50) / 50:.1f}" for i in range(5000))
        + '"/></svg>',
        "blur": head + '<defs><filter id="b"><feGaussianBlur stdDeviation="8"/></filter></defs>'
        + "".join(f'<circle cx="{50 + 40 * i}" cy="250" r="30" fill="red" filter="url(#b)"/>'
                  for i in range(10)) + "</svg>",
        "grammar": longest,
    }  # fmt: skip


def _cpu_children() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def svg_engines(n: int) -> list[dict]:
    """Milliseconds per image, CPU and wall, of resvg in this (warm) process and of a cold
    rsvg-convert process, per SVG class. CPU time is what decides on a busy machine."""
    from snellen.render.svg import choose_engine, rsvg_convert_png, sanitize, svg_to_png

    rows = []
    d = Path(tempfile.mkdtemp(prefix="snellen-svg-"))
    for name, svg in svg_classes().items():
        clean = sanitize(svg)
        svg_to_png(clean, background="white")
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(n):
            svg_to_png(clean, background="white")
        resvg = ((time.perf_counter() - w0) / n * 1e3, (time.process_time() - c0) / n * 1e3)
        rsvg_convert_png(clean, d)
        w0, c0 = time.perf_counter(), _cpu_children()
        for _ in range(n):
            rsvg_convert_png(clean, d)
        rsvg = ((time.perf_counter() - w0) / n * 1e3, (_cpu_children() - c0) / n * 1e3)
        auto = choose_engine(clean, "auto")
        row = {"class": name, "bytes": len(clean), "resvg": resvg, "rsvg-convert": rsvg}
        rows.append({**row, "auto": auto})
        print(
            f"{name:<10} {len(clean):>8} {resvg[1]:>10.1f} {rsvg[1]:>10.1f} {resvg[0]:>10.1f} "
            f"{rsvg[0]:>10.1f} {resvg[1] / rsvg[1]:>8.2f}  {auto}",
            flush=True,
        )
    shutil.rmtree(d, ignore_errors=True)
    return rows


# -- render rate on real replies ---------------------------------------------------------
def _reason_class(status: str, reason: str) -> str:
    if status == "ok":
        return "ok"
    first = next((ln for ln in reason.splitlines() if ln.strip()), "")
    first = re.sub(r"\d+", "N", first)
    first = re.sub(r"'[^']*'|\"[^\"]*\"|`[^`]*`", "'…'", first)
    return f"{status}: {first[:90]}"


def drawings(workers: int) -> None:
    import pandas as pd

    from snellen.render.programs import render_programs

    out_root = Path(tempfile.mkdtemp(prefix="snellen-drawings-"))
    frames = []
    try:
        t0 = time.perf_counter()
        for tsv in sorted(DRAWINGS.glob("*.tsv")):
            frame = render_programs(
                tsv, out_root / tsv.stem, lang="processing", workers=workers, format="transcripts"
            )
            frame["file"] = tsv.stem
            frame["model"] = "gpt-4" if tsv.stem.startswith("gpt4") else "gpt-3.5"
            frames.append(frame)
        elapsed = time.perf_counter() - t0
    finally:
        shutil.rmtree(out_root, ignore_errors=True)
    df = pd.concat(frames, ignore_index=True)
    print(
        f"\nRender rate on {len(df)} real Processing replies ({elapsed:.0f} s, {len(df) / elapsed:.1f} programs/s)"
    )
    print(f"{'file':<32} {'n':>4} {'non-blank %':>12}")
    for key, g in df.groupby("file"):
        print(f"{key:<32} {len(g):>4} {100 * (g.status == 'ok').mean():>11.1f}%")
    for key, g in df.groupby("model"):
        print(f"{'model ' + key:<32} {len(g):>4} {100 * (g.status == 'ok').mean():>11.1f}%")
    print("\nFailures by reason")
    counts = collections.Counter(
        _reason_class(s, r) for s, r in zip(df.status, df.reason, strict=True)
    )
    for reason, n in counts.most_common():
        if reason != "ok":
            print(f"{n:>4}  {reason}")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="fewer images per measurement")
    ap.add_argument("--languages", default="processing,matplotlib,turtle,tikz,svg")
    ap.add_argument("--workers", type=int, default=default_workers())
    ap.add_argument("--no-drawings", action="store_true", help="skip the real-reply render rate")
    ap.add_argument(
        "--svg-engines", action="store_true",
        help="only compare resvg in process with a cold rsvg-convert per SVG class",
    )  # fmt: skip
    args = ap.parse_args()
    if args.svg_engines:
        print("ms per image: resvg in process (warm) vs a cold rsvg-convert process")
        print(
            f"{'class':<10} {'bytes':>8} {'resvg cpu':>10} {'rsvg cpu':>10} {'resvg wall':>10} "
            f"{'rsvg wall':>10} {'cpu ratio':>8}  auto"
        )
        svg_engines(4 if args.quick else 12)
        return
    languages = [x for x in args.languages.split(",") if x]
    try:
        import snellen.render.processing  # noqa: F401
    except ImportError:
        if "processing" in languages:
            print("(no Processing renderer installed: skipping processing)")
            languages.remove("processing")
    w = args.workers
    print(
        f"images/second; cold and confined xN use {w} processes at once; unconfined and confined x1 one"
    )
    print(
        HEADER.format(
            "language",
            "program",
            "cold",
            "unconfined",
            "confined x1",
            f"confined x{w}",
            "speed-up",
            "x1/unconf",
        )
    )
    throughput(languages, args.quick, w)
    print(
        "speed-up = confined xN / cold; x1/unconf = confined x1 / unconfined (1.00 = no sandbox cost)"
    )
    if not args.no_drawings and "processing" not in args.languages.split(",") or args.no_drawings:
        return
    if DRAWINGS.exists() and "processing" in languages:
        drawings(w)


if __name__ == "__main__":
    main()
