"""``snellen train-clip``: train the small image-text model (ShapesCLIP) on image-caption pairs."""

from __future__ import annotations

import argparse
import shlex
import sys

# Shown in --help; the values themselves live in snellen.clip.train.TrainConfig (importing it
# here would load torch for every `snellen --help`). A test keeps the two in step.
DEFAULTS = {
    "n_train": 40_000,
    "n_eval": 500,
    "batch_size": 128,
    "epochs": 1.0,
    "lr": 2e-3,
    "hard_negatives": 0,
    "eval_gallery": 100,
    "image_size": 64,
    "seed": 0,
    "eval_seed": 1,
}
# the same for --negclip (snellen.evaluate.negclip.NegClipConfig): the recipe measured to lift
# VAD-ARO relation, attribution and order (docs/evaluate.md)
NEGCLIP_DEFAULTS = {
    "n_train": 16_000,
    "batch_size": 128,
    "epochs": 6.0,
    "lr": 3e-4,
    "warmup_steps": 50,
    "hard_images": 3,
    "save_every": 100,
}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train-clip",
        help="train a small CLIP (ShapesCLIP) on image-caption pairs, on the CPU in minutes",
        description="Train a contrastive image-text model and evaluate zero-shot retrieval on "
        "held-out pairs. SOURCE 'shapes' (default) renders VAD shapes from their reference "
        "programs and holds out unseen shape-colour combinations; or give a run directory "
        "(its rendered drawings and their descriptions), a .jsonl of {image, caption}, or a "
        "WebDataset .tar shard (image + .txt). The checkpoint works as the scorer "
        "'snellen-shapes:PATH'.",
    )
    d, g = DEFAULTS, NEGCLIP_DEFAULTS
    p.add_argument("--source", default="shapes", help="shapes | RUN_DIR | pairs.jsonl | shard.tar")
    p.add_argument("--out", required=True, help="checkpoint file to write (.pt)")
    p.add_argument(
        "--n-train",
        type=int,
        help=f"training pairs (default {d['n_train']}; --negclip {g['n_train']})",
    )
    p.add_argument("--n-eval", type=int, help=f"held-out pairs (default {d['n_eval']})")
    p.add_argument("--seed", type=int, help=f"data and initialisation seed (default {d['seed']})")
    p.add_argument("--eval-seed", type=int, help=f"held-out data seed (default {d['eval_seed']})")
    p.add_argument("--image-size", type=int, help=f"pixels (default {d['image_size']})")
    p.add_argument("--batch-size", type=int, help=f"pairs per step (default {d['batch_size']})")
    p.add_argument(
        "--epochs",
        type=float,
        help=f"passes over the data (default {d['epochs']}; --negclip {g['epochs']})",
    )
    p.add_argument(
        "--lr", type=float, help=f"peak learning rate (default {d['lr']}; --negclip {g['lr']})"
    )
    p.add_argument(
        "--hard-negatives", type=int, metavar="K",
        help="NegCLIP: add up to K hard negative captions per image to each step's logit "
        f"matrix (shapes source only; default {d['hard_negatives']} = plain CLIP)",
    )  # fmt: skip
    p.add_argument(
        "--eval-gallery", type=int,
        help="held-out retrieval is ranked within galleries of this many pairs "
        f"(default {d['eval_gallery']})",
    )  # fmt: skip
    p.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    p.add_argument(
        "--augment", type=float,
        help="share of training pairs augmented: scale, position, resolution, JPEG, "
        "background (default 0)",
    )  # fmt: skip
    n = p.add_argument_group(
        "NegCLIP fine-tuning",
        "--negclip fine-tunes --init MODEL (snellen-shapes[:FILE], open-clip:ARCH:WEIGHTS, "
        "hf-clip:DIR) with POS-swap hard negative captions and nearest-neighbour hard negative "
        "images (see snellen.evaluate.negclip); SOURCE may also be a NegCLIP .tsv "
        "(title, filepath, neg_caption, neg_image) with its images under --root",
    )
    n.add_argument("--negclip", action="store_true", help="fine-tune the NegCLIP way")
    n.add_argument("--init", help="model to start from (default snellen-shapes)")
    n.add_argument("--root", help="image folder of a .tsv source")
    n.add_argument(
        "--negatives",
        choices=("auto", "pos", "none"),
        help="auto: a .tsv's own negatives, else POS swaps (default); pos: always POS swaps; "
        "none: no hard negative captions (with --hard-images 0: plain fine-tuning, the "
        "CLIP-FT control)",
    )
    n.add_argument(
        "--swaps", type=lambda v: tuple(x.strip() for x in v.split(",") if x.strip()),
        help="what POS-swap negatives exchange, comma-separated: noun, adjective, adverb, "
        "verb, noun phrase (default: all)",
    )  # fmt: skip
    n.add_argument(
        "--hard-images", type=int, help=f"nearest-neighbour images per image ({g['hard_images']})"
    )
    n.add_argument("--warmup-steps", type=int, help=f"linear warm-up steps ({g['warmup_steps']})")
    n.add_argument(
        "--lock-image",
        action="store_true",
        default=None,
        help="train the text tower only on image embeddings computed once (much cheaper)",
    )
    n.add_argument("--device", help="torch device (default: cuda when present)")
    n.add_argument(
        "--save-every", type=int, metavar="STEPS",
        help="save the training state beside --out every STEPS steps (100; 0: never); the "
        "same command started again resumes from it",
    )  # fmt: skip
    p.add_argument(
        "--max-minutes", type=float,
        help="wall-clock budget for the whole run: a few steps are timed and the warm-up and "
        "cosine schedule are fitted to the steps the budget holds (recorded in the checkpoint)",
    )  # fmt: skip
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.negclip or (args.init and not args.augment):
        return _negclip(args)
    from snellen.clip import TrainConfig, train_clip

    fields = (
        "source", "n_train", "n_eval", "seed", "eval_seed", "image_size", "batch_size",
        "epochs", "lr", "hard_negatives", "eval_gallery", "threads", "max_minutes", "augment",
        "warmup_steps",
    )  # fmt: skip
    given = {f: getattr(args, f) for f in fields if getattr(args, f) is not None}
    if args.init and args.augment:
        # plain fine-tuning from a checkpoint on augmented pairs (not NegCLIP)
        from snellen.score.shapes import shipped_weights

        given["init"] = str(shipped_weights()) if args.init == "snellen-shapes" else args.init
    cfg = TrainConfig(**given)
    command = "snellen " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    result = train_clip(cfg, args.out, command=command)
    print(f"wrote {result.path} ({result.steps} steps, {result.seconds / 60:.1f} min); "
          f"evaluate it as snellen-shapes:{result.path}")  # fmt: skip
    return 0


def _negclip(args: argparse.Namespace) -> int:
    from snellen.evaluate.negclip import NegClipConfig, finetune

    fields = (
        "init", "source", "root", "negatives", "n_train", "seed", "batch_size", "epochs", "lr",
        "hard_images", "warmup_steps", "lock_image", "threads", "max_minutes", "device",
        "save_every", "swaps",
    )  # fmt: skip
    given = {f: getattr(args, f) for f in fields if getattr(args, f, None) is not None}
    cfg = NegClipConfig(**given)
    command = "snellen " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    result = finetune(cfg, args.out, command=command)
    print(f"wrote {result.path} ({result.steps} steps, {result.seconds / 60:.1f} min); "
          f"evaluate it as {result.scorer}")  # fmt: skip
    return 0
