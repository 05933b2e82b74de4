"""Training and evaluating a ShapesCLIP: the loop (on the schedule of
:mod:`snellen.training.schedule`), and zero-shot retrieval on held-out pairs (R@K and the
fidelity percentile of the true caption)."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from snellen.clip.data import Pairs, load_pairs
from snellen.clip.loss import clip_loss
from snellen.clip.model import ShapesCLIP, ShapesCLIPConfig, save_checkpoint
from snellen.clip.tokenizer import WordTokenizer
from snellen.errors import InputError
from snellen.training.schedule import BudgetFit, StepTimer, fit_steps, set_lr, warmup_cosine


@dataclass(frozen=True)
class TrainConfig:
    source: str = "shapes"
    n_train: int = 40_000
    n_eval: int = 500
    seed: int = 0
    eval_seed: int = 1
    image_size: int = 64
    batch_size: int = 128
    epochs: float = 1.0
    lr: float = 2e-3
    weight_decay: float = 0.05
    warmup_steps: int = 50
    # NegCLIP: this many hard negative captions per image join each step's logit matrix as
    # extra columns (0 = plain CLIP); needs a source that knows its negatives (shapes)
    hard_negatives: int = 0
    # retrieval is measured within galleries of this many held-out pairs (and over all)
    eval_gallery: int = 100
    threads: int | None = None
    # a wall-clock budget for the whole run (data, training, evaluation): the learning rate
    # anneals by whichever of steps or time runs out first
    max_minutes: float | None = None
    # the share of training pairs augmented (scale, position, resolution, JPEG, background;
    # see snellen.clip.augment); evaluation pairs never are
    augment: float = 0.0
    # a ShapesCLIP checkpoint to start from (its tokenizer too) instead of random weights
    init: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Retrieval:
    """Zero-shot retrieval on ``n`` pairs, in galleries of ``gallery`` pairs (each image is
    ranked against the captions of its gallery and each caption against its images):
    image->text and text->image recall at 1 and 5, and the mean fidelity percentile of each
    image's true caption among the gallery's captions (100 = ranked first, 0 = last; ties
    count half). ``hard_negative_accuracy``: share of images whose true caption scores above
    every one of its hard negatives (ARO-style; None when the pairs have none)."""

    n: int
    gallery: int
    image_to_text_r1: float
    image_to_text_r5: float
    text_to_image_r1: float
    text_to_image_r5: float
    fidelity: float
    hard_negative_accuracy: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrainResult:
    path: Path | None
    seconds: float
    steps: int
    heldout: Retrieval
    seen: Retrieval
    history: list[dict[str, float]] = field(default_factory=list)
    heldout_all: Retrieval | None = None


@torch.no_grad()
def embed_pairs(
    model: ShapesCLIP, tokenizer: WordTokenizer, pairs: Pairs, batch: int = 512
) -> tuple[torch.Tensor, torch.Tensor]:
    model.eval()
    imgs = [
        model.encode_image(pairs.pixels(slice(i, i + batch))) for i in range(0, len(pairs), batch)
    ]
    txts = [
        model.encode_text(tokenizer(pairs.captions[i : i + batch]))
        for i in range(0, len(pairs), batch)
    ]
    return torch.cat(imgs), torch.cat(txts)


def retrieval(
    image_emb: torch.Tensor, text_emb: torch.Tensor, gallery: int | None = None
) -> Retrieval:
    """Pair i is (image i, text i); consecutive blocks of ``gallery`` pairs (all pairs when
    None; a short last block is dropped) are ranked separately and the results averaged.
    Duplicate captions are not merged."""
    from snellen.ranking import rank_and_percentile

    n = image_emb.shape[0]
    size = n if gallery is None or gallery >= n else gallery
    i2t_all, t2i_all, pct_all = [], [], []
    for start in range(0, n - size + 1, size):
        sim = image_emb[start : start + size] @ text_emb[start : start + size].t()
        truth = torch.arange(size)
        i2t, pct = rank_and_percentile(sim, truth)
        t2i, _ = rank_and_percentile(sim.t(), truth)
        i2t_all.append(i2t)
        t2i_all.append(t2i)
        pct_all.append(pct)
    i2t, t2i, pct = torch.cat(i2t_all), torch.cat(t2i_all), torch.cat(pct_all)
    return Retrieval(
        n=len(i2t),
        gallery=size,
        image_to_text_r1=float((i2t == 1).double().mean() * 100),
        image_to_text_r5=float((i2t <= 5).double().mean() * 100),
        text_to_image_r1=float((t2i == 1).double().mean() * 100),
        text_to_image_r5=float((t2i <= 5).double().mean() * 100),
        fidelity=float(pct.mean()),
    )


@torch.no_grad()
def hard_negative_accuracy(
    model: ShapesCLIP, tokenizer: WordTokenizer, pairs: Pairs, image_emb: torch.Tensor,
    text_emb: torch.Tensor,
) -> float | None:  # fmt: skip
    """Percent of images (with at least one hard negative) whose true caption beats all."""
    if pairs.negatives is None:
        return None
    flat = [(i, t) for i, negs in enumerate(pairs.negatives) for t in negs]
    if not flat:
        return None
    neg_emb = torch.cat(
        [
            model.encode_text(tokenizer([t for _, t in flat[s : s + 512]]))
            for s in range(0, len(flat), 512)
        ]
    )
    owner = torch.tensor([i for i, _ in flat])
    neg_score = (image_emb[owner] * neg_emb).sum(1)
    true_score = (image_emb * text_emb).sum(1)
    best = torch.full((len(pairs),), -float("inf")).scatter_reduce(0, owner, neg_score, "amax")
    has = torch.isfinite(best)
    return float((true_score[has] > best[has]).double().mean() * 100)


def evaluate(
    model: ShapesCLIP, tokenizer: WordTokenizer, pairs: Pairs, gallery: int | None = None
) -> Retrieval:
    """Zero-shot retrieval (and hard-negative accuracy when known) on ``pairs``."""
    image_emb, text_emb = embed_pairs(model, tokenizer, pairs)
    result = retrieval(image_emb, text_emb, gallery)
    result.hard_negative_accuracy = hard_negative_accuracy(
        model, tokenizer, pairs, image_emb, text_emb
    )
    return result


def _negative_batch(pairs: Pairs, idx: torch.Tensor, k: int, gen: torch.Generator) -> list[str]:
    """Up to ``k`` hard negative captions of each pair in ``idx`` (NegCLIP's extra columns)."""
    if pairs.negatives is None:
        return []
    out: list[str] = []
    for i in idx.tolist():
        negs = pairs.negatives[i]
        if len(negs) > k:
            pick = torch.randperm(len(negs), generator=gen)[:k].tolist()
            negs = [negs[j] for j in pick]
        out += negs
    return out


def _training_data(cfg: TrainConfig, size: int) -> tuple[Any, Any, Any]:
    """The training pairs, the held-out pairs and as many seen training pairs: VAD shapes with
    unseen shape-colour combinations held out for the shapes source, else a seeded 10%."""
    if cfg.source == "shapes":
        train = load_pairs("shapes", cfg.n_train, cfg.seed, size, "train", cfg.augment)
        heldout = load_pairs("shapes", cfg.n_eval, cfg.eval_seed, size, "heldout")
        seen = load_pairs("shapes", cfg.n_eval, cfg.eval_seed, size, "train")
    else:
        if cfg.hard_negatives:
            raise InputError(
                f"{cfg.source}: hard negatives are only known for the shapes source; "
                "train with hard_negatives=0"
            )
        everything = load_pairs(cfg.source, None, cfg.seed, size)
        order = torch.randperm(len(everything), generator=torch.Generator().manual_seed(cfg.seed))
        n_eval = min(cfg.n_eval, max(1, len(everything) // 10))
        ev, tr = order[:n_eval], order[n_eval:][: cfg.n_train]
        train, heldout, seen = (
            everything.subset(tr),
            everything.subset(ev),
            everything.subset(tr[: len(ev)]),
        )
    return train, heldout, seen


def train_clip(
    cfg: TrainConfig,
    out: str | Path | None = None,
    *,
    log: Callable[[str], None] | None = print,
    command: str | None = None,
) -> TrainResult:
    """Train a ShapesCLIP on ``cfg.source`` and evaluate it on held-out pairs; save it to
    ``out`` when given. Held-out pairs are VAD shapes with unseen shape-colour combinations
    (``split="heldout"``) for the shapes source, else a seeded 10% of the source. With
    ``cfg.hard_negatives`` > 0 it trains NegCLIP-style (see :func:`snellen.clip.loss.clip_logits`)."""
    t0 = time.monotonic()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    say = log or (lambda _msg: None)
    size = cfg.image_size
    train, heldout, seen = _training_data(cfg, size)
    data_seconds = time.monotonic() - t0
    say(f"data: {len(train)} training pairs, {len(heldout)} held-out, {data_seconds:.0f} s")

    if cfg.init:
        from snellen.clip.model import load_checkpoint

        model, tokenizer, _ = load_checkpoint(cfg.init)
        if model.config.image_size != size:
            raise InputError(
                f"--init {cfg.init} takes {model.config.image_size} px images; "
                f"train with --image-size {model.config.image_size}"
            )
    else:
        tokenizer = WordTokenizer.build(train.captions)
        model = ShapesCLIP(ShapesCLIPConfig(image_size=size, vocab_size=len(tokenizer)))
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "position" not in n]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2 or "position" in n]
    opt = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": cfg.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=cfg.lr,
    )
    steps_per_epoch = max(1, len(train) // cfg.batch_size)
    total = max(1, int(cfg.epochs * steps_per_epoch))
    gen = torch.Generator().manual_seed(cfg.seed)
    all_ids = tokenizer(train.captions)
    history: list[dict[str, float]] = []
    step = 0
    deadline = None if cfg.max_minutes is None else t0 + 60 * cfg.max_minutes
    # the time budget left for steps after the data is ready, minus a margin for evaluation
    t_train = time.monotonic()
    budget = None if deadline is None else max(1.0, 0.97 * (deadline - t_train) - 30)
    running = 0.0
    warmup = cfg.warmup_steps
    # with a budget, time a few steps and fit the schedule to the steps the budget holds
    timer = StepTimer() if budget is not None else None
    sched: BudgetFit | None = None
    while step < total:
        order = torch.randperm(len(train), generator=gen)
        for b in range(steps_per_epoch):
            elapsed = time.monotonic() - t_train
            time_progress = 0.0 if budget is None else elapsed / budget
            if step >= total or time_progress >= 1.0:
                total = step
                break
            idx = order[b * cfg.batch_size : (b + 1) * cfg.batch_size]
            model.train()
            set_lr(opt, warmup_cosine(step, total, cfg.lr, warmup, time_progress))
            image_emb, text_emb, scale = model(train.pixels(idx), all_ids[idx])
            negatives = None
            if cfg.hard_negatives:
                texts = _negative_batch(train, idx, cfg.hard_negatives, gen)
                if texts:
                    negatives = model.encode_text(tokenizer(texts))
            loss = clip_loss(image_emb, text_emb, scale, negatives)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            model.clamp_()
            running = loss.item() if step == 0 else 0.98 * running + 0.02 * loss.item()
            step += 1
            per_step = timer.step() if timer is not None else None
            if timer is not None and per_step is not None and budget is not None:
                sched = fit_steps(
                    total, cfg.warmup_steps, done_steps=step, seconds_per_step=per_step,
                    seconds_left=budget - (time.monotonic() - t_train), timed_steps=timer.probe,
                    budget_seconds=budget, previous=sched,
                )  # fmt: skip
                if sched.fitted_steps != total:
                    say(f"schedule fitted to the budget: {sched.fitted_steps} steps")
                total, warmup = sched.fitted_steps, sched.warmup_steps
            if step % 100 == 0 or step == total:
                entry = {
                    "step": step,
                    "loss": round(running, 4),
                    "temperature": round(float(1 / scale.detach().exp()), 4),
                    "seconds": round(time.monotonic() - t0, 1),
                }
                history.append(entry)
                say(f"step {step}/{total} loss {running:.3f} ({entry['seconds']:.0f} s)")
    train_seconds = time.monotonic() - t_train
    held = evaluate(model, tokenizer, heldout, cfg.eval_gallery)
    held_all = evaluate(model, tokenizer, heldout)
    seen_r = evaluate(model, tokenizer, seen, cfg.eval_gallery)
    seconds = time.monotonic() - t0
    hn = held.hard_negative_accuracy
    say(
        f"held-out ({held.n} pairs with unseen shape-colour combinations, galleries of "
        f"{held.gallery}): R@1 image->text {held.image_to_text_r1:.1f}% text->image "
        f"{held.text_to_image_r1:.1f}%, fidelity {held.fidelity:.1f}"
        + (f", hard negatives beaten {hn:.1f}%" if hn is not None else "")
        + f"; all {held_all.n} at once: R@1 {held_all.image_to_text_r1:.1f}% / "
        f"{held_all.text_to_image_r1:.1f}%; seen combinations R@1 {seen_r.image_to_text_r1:.1f}%; "
        f"{seconds / 60:.1f} min"
    )
    path = None
    if out is not None:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        info = {
            "train_config": cfg.to_dict(),
            "steps": step,
            "seconds": round(seconds, 1),
            "data_seconds": round(data_seconds, 1),
            "train_seconds": round(train_seconds, 1),
            "heldout": held.to_dict(),
            "heldout_all": held_all.to_dict(),
            "seen": seen_r.to_dict(),
            "history": history,
            "schedule_fit": None if sched is None else sched.to_dict(),
            "torch": str(torch.__version__),
            "machine": f"{platform.machine()} {torch.get_num_threads()} threads",
            "command": command,
        }
        save_checkpoint(str(path), model, tokenizer, info)
    return TrainResult(path, seconds, step, held, seen_r, history, held_all)
