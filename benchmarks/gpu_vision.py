"""The vision pipeline on a GPU, as one prepared script (run it as-is on a CUDA machine):

1. pre-training throughput, images/s: a plain fp32 loop on random tensors against
   ``snellen pretrain`` (shards, batched MoCo-v2 views, checkpoints; AMP fp16 and
   channels-last on CUDA) for ResNet-18 at 64 px and ResNet-50 at 224 px;
2. the DistributedDataParallel path on one GPU: ``torchrun --nproc-per-node 1 -m snellen
   pretrain`` (NCCL, shuffled BN across processes, key gathering), its loss history and rate;
3. ``snellen reproduce vision --preset gpu`` scaled to ``--minutes``: images and epochs
   chosen from the throughput measured in step 1 so that every source and seed fits.

Writes ``OUT/gpu_vision.md`` (the tables for docs/vision.md) and ``OUT/gpu_vision.json``.

    PYTHONPATH=src python benchmarks/gpu_vision.py --out gpu-results --minutes 8

``--tiny`` shrinks every step (a handful of images and steps) so that the script itself can
be checked on a CPU machine; its numbers then say nothing about a GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pretrain import plain_loop


def throughput(data: Path, arch: str, size: int, batch: int, steps: int, device: str) -> dict:
    from snellen.pretrain import pretrain

    plain = plain_loop(arch, size, batch, steps, device)
    ckpt = data.parent / f"{arch}-{size}.pt"
    ckpt.unlink(missing_ok=True)
    r = pretrain(str(data), ckpt, arch=arch, epochs=1000, batch_size=batch, size=size,
                 stop_after=steps, save_every=steps, device=device, progress=False)  # fmt: skip
    ckpt.unlink(missing_ok=True)
    return {"arch": arch, "size": size, "batch": batch, "steps": steps, "device": device,
            "plain_fp32_img_s": round(plain, 1), "snellen_img_s": r.images_per_s,
            "amp_channels_last": device.startswith("cuda")}  # fmt: skip


def ddp_one_gpu(data: Path, out: Path, size: int, batch: int, steps: int) -> dict:
    ckpt = out / "ddp.pt"
    ckpt.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
           "1", "-m", "snellen", "pretrain", "--data", str(data), "--out", str(ckpt),
           "--arch", "resnet18", "--size", str(size), "--batch-size", str(batch),
           "--epochs", "1000", "--stop-after", str(steps), "--save-every", str(steps)]  # fmt: skip
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    seconds = time.monotonic() - t0
    if proc.returncode != 0:
        return {"ok": False, "error": proc.stderr[-1500:]}
    state = torch.load(ckpt, map_location="cpu", weights_only=False)
    losses = [h["loss"] for h in state["history"]]
    return {"ok": True, "steps": state["step"], "seconds": round(seconds, 1),
            "first_loss": round(losses[0], 3), "last_loss": round(losses[-1], 3),
            "stdout": proc.stdout.strip()[-300:]}  # fmt: skip


def main() -> int:
    from snellen.imagesets import build_dataset
    from snellen.reproduce import run_reproduce
    from snellen.reproduce.vision import PRESETS, estimate_seconds

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.environ.get("OUT", "gpu-results"))
    ap.add_argument("--minutes", type=float, default=8.0, help="budget for step 3")
    ap.add_argument("--tiny", action="store_true", help="a CPU check of the script itself")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    gpu = torch.cuda.get_device_name(0) if device == "cuda" else "none (CPU)"
    tiny = args.tiny
    n64, n224 = (64, 16) if tiny else (4096, 1024)
    steps = 3 if tiny else 30
    build_dataset("dead-leaves:squares", n64, 64, out / "dl64", shard_size=512, progress=False)
    build_dataset("dead-leaves:squares", n224, 224, out / "dl224", shard_size=256,
                  progress=False)  # fmt: skip
    report: dict = {"gpu": gpu, "torch": torch.__version__, "load": os.getloadavg()[0]}
    report["throughput"] = [
        throughput(out / "dl64", "resnet18", 64, 8 if tiny else 256, steps, device),
        throughput(out / "dl224", "resnet50", 224, 4 if tiny else 128, steps, device),
    ]
    print(json.dumps(report["throughput"], indent=1), flush=True)
    if device == "cuda" or tiny:
        report["ddp"] = ddp_one_gpu(out / "dl64", out, 64, 8 if tiny else 256, steps)
        print(json.dumps(report["ddp"], indent=1), flush=True)

    # step 3: the gpu preset scaled so that pre-training fits the budget at the measured rate
    preset = PRESETS["gpu"]
    rate = report["throughput"][0]["snellen_img_s"]
    full = estimate_seconds(preset, rate)
    budget = args.minutes * 60 * 0.7  # the rest: building datasets and probing
    scale = min(1.0, budget / full)
    n = max(512, int(preset.n * scale**0.5)) if not tiny else 64
    epochs = max(2, int(preset.epochs * scale / (n / preset.n))) if not tiny else 1
    epochs = min(epochs, preset.epochs)
    report["gpu_preset"] = {"full_hours_at_rate": round(full / 3600, 2), "n": n,
                            "epochs": epochs}  # fmt: skip
    extra = {"fmnist_train": "200", "fmnist_test": "100", "batch_size": "16",
             "monitor_bank": "200", "monitor_queries": "100", "in_domain": "0"} if tiny else {}  # fmt: skip
    t0 = time.monotonic()
    finding = run_reproduce("vision", out=out / "reproduce-gpu", preset="gpu", n=n,
                            epochs=epochs, seeds=2, progress=False,
                            sources=("spectrum",) if tiny else None,
                            extra=extra)  # fmt: skip
    report["gpu_preset"].update(verdict=finding.verdict, reason=finding.reason,
                                seconds=round(time.monotonic() - t0, 1))  # fmt: skip
    (out / "gpu_vision.json").write_text(json.dumps(report, indent=2, default=str))
    lines = [f"GPU: {gpu}; torch {torch.__version__}", "",
             "| model | px | batch | plain fp32 img/s | snellen pretrain img/s (AMP, channels-last) |",
             "|---|---|---|---|---|"]  # fmt: skip
    for t in report["throughput"]:
        lines.append(f"| {t['arch']} | {t['size']} | {t['batch']} | {t['plain_fp32_img_s']} | "
                     f"{t['snellen_img_s']} |")  # fmt: skip
    if "ddp" in report:
        lines += ["", f"DDP, one process: {json.dumps(report['ddp'])[:400]}"]
    g = report["gpu_preset"]
    lines += ["", f"reproduce vision --preset gpu scaled to {args.minutes} min: --n {n} "
              f"--epochs {epochs} (the full preset: {g['full_hours_at_rate']} h at this rate); "
              f"{g['verdict']}: {g['reason']}"]  # fmt: skip
    (out / "gpu_vision.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
