"""Dataset-building throughput: images/s per source (shard writing included), the local
process pool against Ray on the same machine (Ray's overhead), and shards/s written.

For every source: ``snellen dataset build`` of N images at PX into a fresh directory with
W local workers, in a child process; wall-clock images/s, and images per CPU-second of the
whole process tree (= images/s per fully used core, which stays meaningful on a shared,
loaded machine), with the core-hours 1.3M images would take at that rate. Start-up (pool
processes, warm renderers) is included, so small N understates the steady rate. Then the transcripts source once more on a local Ray instance
started by the build. Prints a Markdown table and writes --json.

    .venv/bin/python benchmarks/dataset.py [--n 200] [--size 64] [--workers 2]
        [--transcripts FILE[,FILE]] [--sources fractals,wmm] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from snellen.data import ROOT as DATA_ROOT

REPO = Path(__file__).resolve().parents[1]
SHARED = DATA_ROOT / "llm-drawings"  # the recordings that ship with snellen
PAPER_IMAGES = 1_300_000


def default_sources(transcripts: str | None) -> list[str]:
    out = []
    if transcripts:
        out.append(f"transcripts:{transcripts}")
    out += [
        "vad-shapes", "dead-leaves:squares", "dead-leaves:oriented", "dead-leaves:mixed",
        "dead-leaves:textured", "fractals", "spectrum", "wmm",
        f"shaders:{REPO / 'benchmarks' / 'shaders'}",
    ]  # fmt: skip
    return out


def measure(source: str, n: int, size: int, workers: int, backend: str, shard: int) -> dict:
    """One build in a child process: wall time, and CPU time of the whole process tree (the
    build, its pool processes and their confined render workers), which stays meaningful
    on a machine that others load too."""
    out = Path(tempfile.mkdtemp(prefix="snellen-bench-ds-"))
    shutil.rmtree(out)
    cmd = [sys.executable, "-m", "snellen", "dataset", "build", source, "--n", str(n),
           "--size", str(size), "--out", str(out), "--shard-size", str(shard),
           "--workers", str(workers), "--backend", backend]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{source}: build failed\n{proc.stderr[-2000:]}")
    manifest = json.loads((out / "dataset.json").read_text())
    shutil.rmtree(out, ignore_errors=True)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    images = manifest["images"]
    per_cpu_s = images / cpu if cpu > 0 else float("nan")
    return {
        "source": source if len(source) < 50 else source[:47] + "...",
        "backend": backend,
        "workers": workers,
        "images": images,
        "failed": sum(manifest["failures"].values()),
        "wall_s": round(seconds, 2),
        "images_per_s": round(images / seconds, 2),
        "cpu_s": round(cpu, 2),
        "images_per_cpu_s": round(per_cpu_s, 2),
        "shards_per_s": round(len(manifest["shards"]) / seconds, 3),
        "core_hours_for_1.3M": round(PAPER_IMAGES / per_cpu_s / 3600, 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--shard-size", type=int, default=50)
    ap.add_argument(
        "--transcripts", default=None, help="transcript TSVs (default: the shipped recordings)"
    )
    ap.add_argument("--sources", default=None, help="comma list instead of every source")
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    transcripts = args.transcripts
    if transcripts is None and SHARED.is_dir():
        transcripts = ",".join(str(p) for p in sorted(SHARED.glob("*.tsv")))
    sources = args.sources.split(";") if args.sources else default_sources(transcripts)
    rows = []
    load = os.getloadavg()[0]
    for source in sources:
        rows.append(measure(source, args.n, args.size, args.workers, "local", args.shard_size))
        print(json.dumps(rows[-1]), file=sys.stderr)
    if not args.no_ray:
        ray_source = f"transcripts:{transcripts}" if transcripts else "fractals"
        rows.append(measure(ray_source, args.n, args.size, args.workers, "ray", args.shard_size))
        print(json.dumps(rows[-1]), file=sys.stderr)
    cols = ["source", "backend", "workers", "images", "failed", "wall_s", "images_per_s",
            "cpu_s", "images_per_cpu_s", "shards_per_s", "core_hours_for_1.3M"]  # fmt: skip
    print(f"\n{args.n} images per source at {args.size}px, shards of {args.shard_size}; "
          f"load average at start {load:.1f} on {os.cpu_count()} cores\n")  # fmt: skip
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(str(r[c]) for c in cols) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps({"load": load, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
