"""``snellen pretrain``: MoCo-v2 pre-training on program-drawn image datasets."""

from __future__ import annotations

import argparse
import os


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "pretrain",
        help="pre-train a ResNet with MoCo-v2 on dataset shards (resumable)",
        description="MoCo-v2 (queue, momentum encoder, MLP head, T 0.2, aug-plus, cosine "
        "schedule) on the images of one or more `snellen dataset build` directories. The "
        "checkpoint OUT is written every --save-every steps; running the same command again "
        "resumes exactly. Under torchrun it trains with DistributedDataParallel; on CUDA with "
        "AMP and channels-last.",
    )
    p.add_argument("--data", required=True, help="dataset directories, comma-separated")
    p.add_argument("--arch", choices=("resnet18", "resnet50", "resnet18-cifar", "convnet"),
                   default="resnet18")  # fmt: skip
    p.add_argument("--width", type=int, default=64,
                   help="first-stage channels of resnet18-cifar and convnet (default 64)")  # fmt: skip
    p.add_argument("--out", required=True, help="checkpoint file (created, or resumed)")
    p.add_argument("--epochs", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=256, help="per process (default 256)")
    p.add_argument("--size", type=int, default=64, help="crop size in pixels (default 64)")
    p.add_argument("--lr", type=float, default=0.03, help="learning rate per 256 images")
    p.add_argument("--momentum", type=float, default=0.999, help="key-encoder momentum")
    p.add_argument("--queue", type=int, default=65536, help="queue length (capped at the data)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save-every", type=int, default=100, help="steps between checkpoints")
    p.add_argument("--workers", type=int, default=None, help="data-loader processes")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--stop-after", type=int, default=None,
                   help="end this session after this many steps in all (resume later)")  # fmt: skip
    p.add_argument("--no-amp", action="store_true", help="no mixed precision on CUDA")
    p.add_argument("--loader", choices=("memory", "stream"), default="memory",
                   help="memory: decode once, batched views (default); stream: PIL per image")  # fmt: skip
    p.add_argument("--warmup", type=float, default=0.0, help="fraction of steps of lr warm-up")
    p.add_argument("--crop-min", type=float, default=0.2, help="smallest crop (area fraction)")
    p.add_argument("--jitter", type=float, default=1.0, help="colour-jitter strength")
    p.add_argument("--blur", type=float, default=0.5, help="probability of a Gaussian blur")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from snellen.pretrain import pretrain

    r = pretrain(
        args.data, args.out, arch=args.arch, epochs=args.epochs, batch_size=args.batch_size,
        size=args.size, save_every=args.save_every, workers=args.workers, lr=args.lr,
        momentum=args.momentum, queue=args.queue, seed=args.seed, amp=not args.no_amp,
        threads=args.threads, stop_after=args.stop_after, width=args.width, loader=args.loader,
        warmup=args.warmup, crop_min=args.crop_min, jitter=args.jitter, blur=args.blur,
    )  # fmt: skip
    if os.environ.get("RANK", "0") != "0":  # under torchrun, one process reports
        return 0
    print(
        f"{r.steps} steps ({r.epochs} epochs) on {r.device}: final loss {r.final_loss:.4f}, "
        f"{r.images_per_s} images/s -> {r.out}"
        + (f" (resumed from step {r.resumed_from_step})" if r.resumed_from_step else "")
    )
    return 0
