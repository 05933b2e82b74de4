"""Pre-training throughput: ``snellen pretrain`` (data loading from shards, aug-plus views,
checkpointing included) against a plain loop of the same model and loss on random tensors
(no data, no checkpoints), in images/s. On CUDA the plain loop runs in fp32 and the snellen
run with AMP and channels-last, so the table shows what they buy.

    .venv/bin/python benchmarks/pretrain.py --data DIR [--arch resnet18] [--size 64]
        [--batch-size 32] [--steps 10] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch


def plain_loop(arch: str, size: int, batch: int, steps: int, device: str, width: int = 64) -> float:
    from snellen.pretrain.moco import MoCo, moco_loss

    model = MoCo(arch, width=width).to(device)
    loss_fn = moco_loss(4096).to(device)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.03, momentum=0.9)
    x0 = torch.randn(batch, 3, size, size, device=device)
    x1 = torch.randn(batch, 3, size, size, device=device)
    for i in range(steps + 2):  # two warm-up steps
        if i == 2:
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            t0 = time.monotonic()
        model.update_momentum(0.999)
        loss = loss_fn(model(x0), model.forward_momentum(x1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return batch * steps / (time.monotonic() - t0)


def main() -> int:
    from snellen.pretrain import pretrain

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--arch", default="resnet18")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--workers", type=int, default=1, help="data-loader processes")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    plain = plain_loop(args.arch, args.size, args.batch_size, args.steps, device)
    tmp = Path(tempfile.mkdtemp(prefix="snellen-bench-pt-"))
    try:
        r = pretrain(args.data, tmp / "c.pt", arch=args.arch, epochs=1000, batch_size=args.batch_size,
                     size=args.size, stop_after=args.steps, save_every=args.steps, workers=args.workers,
                     threads=args.threads, progress=False)  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load = os.getloadavg()[0]
    print(f"{args.arch} at {args.size}px, batch {args.batch_size}, {args.steps} steps on {device}, "
          f"{args.threads} thread(s), load average {load:.1f}\n")  # fmt: skip
    print("| loop | images/s |\n|---|---|")
    print(f"| plain (random tensors, fp32, no data/checkpoints) | {plain:.2f} |")
    amp = " (AMP, channels-last)" if device == "cuda" else ""
    print(f"| snellen pretrain{amp}, shards + aug-plus + checkpoint | {r.images_per_s:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
