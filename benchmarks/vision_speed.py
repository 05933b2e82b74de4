"""The vision pipeline's two speed ratios, measured side by side in one run:

1. pre-training: ``snellen pretrain`` (shards decoded once, both MoCo-v2 views drawn per
   batch, checkpoint written) against the same model, loss and optimizer stepping on
   in-memory random tensors (no data, no augmentation, no checkpoint), in images/s;
   alternated ``--repeats`` times, medians compared (the machine is shared);
2. dataset building: ``snellen dataset build`` on a local Ray instance against the local
   process pool, same source, images, shards and workers, wall-clock; every shard's
   sha256 compared.

    PYTHONPATH=src .venv/bin/python benchmarks/vision_speed.py [--n 240] [--steps 20]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pretrain import plain_loop


def pretrain_ratio(data: str, arch: str, width: int, size: int, batch: int, steps: int,
                   threads: int, repeats: int) -> dict:  # fmt: skip
    from snellen.pretrain import pretrain

    torch.set_num_threads(threads)
    plain, real = [], []
    for _ in range(repeats):
        plain.append(plain_loop(arch, size, batch, steps, "cpu", width=width))
        tmp = Path(tempfile.mkdtemp(prefix="snellen-bench-pt-"))
        try:
            r = pretrain(data, tmp / "c.pt", arch=arch, width=width, epochs=1000,
                         batch_size=batch, size=size, stop_after=steps, save_every=steps,
                         threads=threads, progress=False, blur=0.0)  # fmt: skip
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        real.append(r.images_per_s)
    p, q = statistics.median(plain), statistics.median(real)
    return {"arch": f"{arch} w{width}", "size": size, "batch": batch, "steps": steps,
            "plain_img_s": [round(x, 1) for x in plain], "pretrain_img_s": real,
            "ratio": round(q / p, 3)}  # fmt: skip


def build_ratio(source: str, n: int, size: int, shard: int, workers: int) -> dict:
    from snellen.imagesets import build_dataset

    out = Path(tempfile.mkdtemp(prefix="snellen-bench-ray-"))
    try:
        t0 = time.monotonic()
        local = build_dataset(source, n, size, out / "local", shard_size=shard,
                              workers=workers, progress=False)  # fmt: skip
        t1 = time.monotonic()
        ray = build_dataset(source, n, size, out / "ray", shard_size=shard, workers=workers,
                            backend="ray", progress=False)  # fmt: skip
        t2 = time.monotonic()
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {"source": source[:40], "n": n, "shard_size": shard, "workers": workers,
            "local_s": round(t1 - t0, 1), "ray_s": round(t2 - t1, 1),
            "ratio": round((t1 - t0) / (t2 - t1), 3),
            "identical_shards": local.shards == ray.shards}  # fmt: skip


def main() -> int:
    from snellen.data import ROOT
    from snellen.imagesets import build_dataset

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=240, help="images for the build comparison")
    ap.add_argument("--shard-size", type=int, default=30)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", default=None)
    ap.add_argument("--skip-build", action="store_true", help="pre-training ratios only")
    args = ap.parse_args()
    tsvs = ",".join(str(p) for p in sorted((ROOT / "llm-drawings").glob("*.tsv")))
    load0 = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="snellen-bench-vs-"))
    try:
        data = work / "dl"
        build_dataset("dead-leaves:squares", 1024, 32, data, shard_size=256,
                      workers=args.workers, progress=False)  # fmt: skip
        pre = [
            pretrain_ratio(
                str(data), "resnet18-cifar", 8, 32, 128, args.steps, args.threads, args.repeats
            ),  # fmt: skip
            pretrain_ratio(
                str(data),
                "resnet18",
                64,
                64,
                32,
                max(4, args.steps // 4),
                args.threads,
                args.repeats,
            ),  # fmt: skip
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    build = (
        None
        if args.skip_build
        else build_ratio(f"transcripts:{tsvs}", args.n, 64, args.shard_size, args.workers)
    )
    load1 = os.getloadavg()[0]
    print(f"\nload average {load0:.1f} at the start, {load1:.1f} at the end, "
          f"{os.cpu_count()} cores\n")  # fmt: skip
    print("| pre-training | plain loop img/s (runs) | snellen pretrain img/s (runs) | ratio |")
    print("|---|---|---|---|")
    for r in pre:
        print(f"| {r['arch']} at {r['size']} px, batch {r['batch']} | {r['plain_img_s']} | "
              f"{r['pretrain_img_s']} | **{r['ratio']:.0%}** |")  # fmt: skip
    if build is None:
        return 0
    print("\n| dataset build | local pool s | Ray s | Ray / local throughput | same bytes |")
    print("|---|---|---|---|---|")
    print(f"| {build['n']} transcript images, shards of {build['shard_size']}, "
          f"{build['workers']} workers | {build['local_s']} | {build['ray_s']} | "
          f"**{build['ratio']:.0%}** | {build['identical_shards']} |")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"load": [load0, load1], "pretrain": pre, "build": build}, indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
