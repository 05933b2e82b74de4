"""``snellen probe``: linear and kNN probes of a pre-trained backbone."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "probe",
        help="linear and kNN probes of a pretrain checkpoint (beside a random-init floor)",
        description="Extract frozen features of CKPT's backbone and of a random-init backbone "
        "of the same architecture on a labelled set, then report linear (L-BFGS logistic "
        "regression, or the MoCo SGD recipe) and weighted-kNN top-1 accuracy. Datasets: "
        "fashion-mnist, digits, mnist (5k subset), vad-shapes, imagefolder (--root DIR).",
    )
    p.add_argument("checkpoint", help="a snellen pretrain checkpoint")
    p.add_argument(
        "--dataset", default="fashion-mnist", help="probe dataset (default fashion-mnist)"
    )
    p.add_argument("--root", default=None, help="dataset directory (imagefolder, or other files)")
    p.add_argument("--k", type=int, default=5, help="neighbours for kNN (default 5)")
    p.add_argument("--linear", choices=("lbfgs", "sgd"), default="lbfgs")
    p.add_argument("--size", type=int, default=None, help="input size (default: as pre-trained)")
    p.add_argument("--train-limit", type=int, default=None, help="stratified train subset")
    p.add_argument("--test-limit", type=int, default=None, help="stratified test subset")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache-dir", default=None, help="keep extracted features here")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--out", default=None, help="write the results as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from snellen.probe import probe

    r = probe(
        args.checkpoint, args.dataset, root=args.root, k=args.k, linear=args.linear,
        size=args.size, train_limit=args.train_limit, test_limit=args.test_limit, seed=args.seed,
        cache_dir=args.cache_dir, threads=args.threads, out=args.out,
    )  # fmt: skip
    print(f"{r.dataset}: {r.train_size} train / {r.test_size} test, {r.classes} classes, "
          f"{r.arch} at {r.size}px, k={r.k}, linear={r.linear}")  # fmt: skip
    print(f"  {'model':<12} {'linear':>8} {'kNN':>8}")
    for s in r.results:
        print(f"  {s.model:<12} {s.linear_top1:>8.4f} {s.knn_top1:>8.4f}")
    return 0
