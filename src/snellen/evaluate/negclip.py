"""NegCLIP fine-tuning (Yuksekgonul et al., ICLR 2023) of an existing image-text model.

The recipe of the ARO repository: every batch gains (1) one hard negative caption per image,
made by swapping two words of the same part of speech in its caption (nouns, adjectives,
adverbs or verbs), which join the image-to-text logits as extra columns; and (2) hard
negative images: for each image, one of its K nearest neighbours (by the starting model's
image embeddings; K = 3 as in the released data) joins the batch with its own caption, so
the model must tell near-duplicates apart. Everything else is CLIP's loss
(:func:`snellen.clip.loss.clip_loss`), a linear warm-up and a cosine schedule
(:mod:`snellen.training.schedule`), fitted to ``max_minutes`` when that is given; the
training state is saved and resumed by :class:`snellen.training.state.TrainingState`.

The defaults are the recipe measured to work on ``snellen-shapes`` (docs/evaluate.md:
16,000 VAD training pairs, 6 epochs of batch 128, lr 3e-4, 50 warm-up steps: 750 steps).

Models: ``snellen-shapes[:PATH]`` (snellen's own; on the CPU in minutes),
``open-clip:ARCH:WEIGHTS`` and ``hf-clip:DIR`` (the GPU is used when present), loaded by
:func:`snellen.score.load_scorer` and trained through the scorer's trainable view
(:meth:`snellen.score.base.Scorer.trainable`), which also saves the result in the format
that scorer family loads. Caption
sources: ``shapes`` (VAD training pairs; held-out shape-colour combinations are never
trained on), a pairs ``.jsonl``, a WebDataset ``.tar``, a check-up run directory, or a
NegCLIP ``.tsv`` (``title``, ``filepath``, ``neg_caption``, ``neg_image`` columns, as the
shipped ``coco_val_negclip.tsv``; images under ``root``), whose own negatives are used.
"""

from __future__ import annotations

import ast
import csv
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from PIL import Image

from snellen.clip.data import Pairs, collect, load_pairs
from snellen.clip.loss import MAX_LOGIT_SCALE, clip_loss
from snellen.errors import InputError
from snellen.score.base import TRAINABLE, TrainableModel
from snellen.training.schedule import BudgetFit, StepTimer, fit_steps, set_lr, warmup_cosine
from snellen.training.state import TrainingState

SWAP_TAGS = {
    "noun": ("NN", "NNS", "NNP", "NNPS"),
    "adjective": ("JJ", "JJR", "JJS"),
    "adverb": ("RB", "RBR", "RBS"),
    "verb": ("VB", "VBD", "VBG", "VBN", "VBP", "VBZ"),
}


@dataclass(frozen=True)
class NegClipConfig:
    init: str = "snellen-shapes"
    source: str = "shapes"
    root: str | None = None  # image folder of a .tsv source
    # auto (the source's own if it has them, else pos) | pos | none (no hard negative captions:
    # with hard_images=0, the CLIP-FT control of the ARO paper)
    negatives: str = "auto"
    # what a POS-swap negative may exchange (all of SWAP_KINDS by default)
    swaps: tuple[str, ...] = ("noun", "adjective", "adverb", "verb", "noun phrase")
    n_train: int = 16_000
    seed: int = 0
    batch_size: int = 128
    epochs: float = 6.0
    lr: float = 3e-4
    weight_decay: float = 0.05
    warmup_steps: int = 50
    hard_images: int = 3
    # train the text tower only, on image embeddings computed once (a locked image tower, as
    # in LiT): the hard negative captions still shape the text side, at a fraction of the cost
    lock_image: bool = False
    threads: int | None = None
    max_minutes: float | None = None
    device: str | None = None
    # with an output file, the whole training state is saved every this many steps beside it
    # (OUT.resume.pt), and a run started again with the same settings continues from there
    save_every: int = 100

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------- hard negative captions


# the tags a noun phrase is made of here: determiners, numbers, adjectives, participles and
# nouns, ending in a noun ("a big light pink oval", "three 7-pointed stars", "the man's hat")
NP_TAGS = frozenset(
    ("DT", "PDT", "PRP$", "CD", "JJ", "JJR", "JJS", "VBN", "HYPH", "POS", *SWAP_TAGS["noun"])
)
_NP_STARTS = ("DT", "PDT", "PRP$")


def noun_phrases(tags: Sequence[tuple[str, str]]) -> list[tuple[int, int]]:
    """Token spans ``[start, end)`` of the noun phrases of a tagged caption: maximal runs of
    :data:`NP_TAGS` that end in a noun, a determiner starting a new phrase (a chunker over
    the tagger's Penn tags; the tagger runs without a parser)."""
    spans: list[tuple[int, int]] = []
    i, n = 0, len(tags)
    while i < n:
        if tags[i][1] not in NP_TAGS:
            i += 1
            continue
        j = i + 1
        while j < n and tags[j][1] in NP_TAGS and tags[j][1] not in _NP_STARTS:
            j += 1
        nouns = [m for m in range(i, j) if tags[m][1] in SWAP_TAGS["noun"]]
        if nouns:
            spans.append((i, nouns[-1] + 1))
            i = nouns[-1] + 1
        else:
            i = j
    return spans


def _swaps(kind: str, tags: Sequence[tuple[str, str]]) -> list[tuple[tuple[int, int], ...]]:
    """Every swap of one kind a caption allows, as pairs of token spans."""
    words = [w.lower() for w, _ in tags]
    if kind == "noun phrase":
        spans = noun_phrases(tags)
        return [
            (a, b)
            for x, a in enumerate(spans)
            for b in spans[x + 1 :]
            if words[a[0] : a[1]] != words[b[0] : b[1]]
            and max(a[1] - a[0], b[1] - b[0]) > 1  # one word each: a noun swap
        ]
    idx = [i for i, (_, t) in enumerate(tags) if t in SWAP_TAGS[kind]]
    return [((a, a + 1), (b, b + 1)) for a in idx for b in idx if a < b and words[a] != words[b]]


SWAP_KINDS = (*SWAP_TAGS, "noun phrase")


def swap_negatives(
    caption: str,
    tags: Sequence[tuple[str, str]],
    rng: random.Random,
    k: int = 3,
    kinds: Sequence[str] = SWAP_KINDS,
) -> list[str]:
    """Up to ``k`` distinct captions made from ``caption`` by swapping two different noun
    phrases, or two different words of the same part of speech (``tags``: (token, Penn tag)
    pairs of the caption), as NegCLIP's released negatives do."""
    words = [w for w, _ in tags]
    out: list[str] = []
    kinds = list(kinds)
    rng.shuffle(kinds)
    options = {kind: _swaps(kind, tags) for kind in kinds}
    for _attempt in range(4 * k):
        for kind in kinds:
            if not options[kind]:
                continue
            (a0, a1), (b0, b1) = rng.choice(options[kind])
            swapped = words[:a0] + words[b0:b1] + words[a1:b0] + words[a0:a1] + words[b1:]
            text = _detokenize(swapped)
            if text != _detokenize(words) and text not in out:
                out.append(text)
            if len(out) >= k:
                return out
    return out


def _detokenize(tokens: Sequence[str]) -> str:
    text = " ".join(tokens)
    for p in (" ,", " .", " !", " ?", " ;", " :", " 's", " n't"):
        text = text.replace(p, p[1:])
    return text


def pos_negatives(
    captions: Sequence[str], seed: int, k: int = 3, kinds: Sequence[str] = SWAP_KINDS
) -> list[list[str]]:
    """POS-swap hard negatives for every caption (tagged in one batch by the same spaCy
    tagger as the order perturbations)."""
    from snellen.clip.pos import pos_tags

    rng = random.Random(seed)  # noqa: S311 - seeded sampling for reproducible data, not security
    unknown = sorted(set(kinds) - set(SWAP_KINDS))
    if unknown or not kinds:
        raise InputError(
            f"swap kinds {', '.join(unknown) or '(none)'}: use some of {', '.join(SWAP_KINDS)}"
        )
    tagged = pos_tags(captions)
    return [swap_negatives(c, t, rng, k, kinds) for c, t in zip(captions, tagged, strict=True)]


# ---------------------------------------------------------------- models


def load_model(name: str, device: torch.device) -> TrainableModel:
    """The model ``name`` (a scorer name, or the path of a model snellen wrote) loaded by
    :func:`snellen.score.load_scorer` on ``device`` and opened for training."""
    from snellen.score import load_scorer

    try:
        return load_scorer(name, device=device).trainable()
    except InputError as e:
        message = str(e)
        if not message.startswith("cannot fine-tune"):
            message = f"cannot fine-tune {name!r} ({message}); fine-tune {TRAINABLE}"
        raise InputError(message) from None


# ---------------------------------------------------------------- data


def tsv_pairs(
    path: str | Path, root: str | Path | None, size: int, n: int | None
) -> tuple[Pairs, list[list[int]]]:
    """A NegCLIP TSV (``title``, ``filepath``, ``neg_caption``, ``neg_image``): the pairs with
    the file's negative captions, and each row's hard negative images (row numbers)."""
    path = Path(path)
    if not path.exists():
        raise InputError(
            f"{path} not found: a NegCLIP .tsv with title, filepath, neg_caption, neg_image"
        )
    base = Path(root) if root else path.parent
    items, negatives, neighbours = [], [], []
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t")
        need = {"title", "filepath", "neg_caption", "neg_image"}
        if not reader.fieldnames or not need <= set(reader.fieldnames):
            raise InputError(f"{path}: needs the columns {', '.join(sorted(need))} (tab-separated)")
        for line, row in enumerate(reader, 2):
            image = base / row["filepath"]
            if not image.exists():
                raise InputError(
                    f"{path}:{line}: image {image} not found; pass the image folder as --root"
                )
            try:
                negs = [str(x) for x in ast.literal_eval(row["neg_caption"])]
                nbrs = [int(x) for x in ast.literal_eval(row["neg_image"])]
            except (ValueError, SyntaxError) as e:
                raise InputError(
                    f"{path}:{line}: neg_caption / neg_image must be Python lists ({e})"
                ) from None
            items.append((str(line - 2), Image.open(image), row["title"]))
            negatives.append(negs)
            neighbours.append(nbrs)
            if n is not None and len(items) >= n:
                break
    pairs = collect(items, size)
    pairs.negatives = negatives
    count = len(pairs)
    return pairs, [[j for j in nb if j < count] for nb in neighbours]


@torch.no_grad()
def nearest_images(
    model: TrainableModel, pairs: Pairs, k: int, batch: int = 256
) -> list[list[int]]:
    """Each image's ``k`` nearest other images by the starting model's embeddings."""
    model.module.eval()
    emb = torch.cat(
        [
            F.normalize(
                model.encode_image(model.pixels(pairs.images[s : s + batch])).float(), dim=-1
            ).cpu()
            for s in range(0, len(pairs), batch)
        ]
    )
    sim = emb @ emb.t()
    sim.fill_diagonal_(-float("inf"))
    k = min(k, max(0, len(pairs) - 1))
    return sim.topk(k, dim=1).indices.tolist() if k else [[] for _ in range(len(pairs))]


# ---------------------------------------------------------------- training

# settings that may change between the sessions of one resumed run
_SESSION_FIELDS = ("threads", "max_minutes", "device", "save_every")


@dataclass
class _Loop:
    """Where the training loop stands: all that a resumed run needs besides the weights, the
    optimiser and the two random generators."""

    step: int = 0
    total: int = 0
    order: torch.Tensor | None = None  # this epoch's permutation
    batch: int = 0  # the next batch of this epoch
    running: float = 0.0
    trained_seconds: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)
    # the warm-up and how the schedule was fitted to max_minutes (None: not yet / no budget)
    warmup: int | None = None
    fit: dict[str, Any] | None = None


def resume_path(out: str | Path) -> Path:
    """Where a fine-tune writing ``out`` keeps its training state until it finishes."""
    out = Path(out)
    return out.with_name(out.name + ".resume.pt")


def _run_settings(cfg: NegClipConfig) -> dict[str, Any]:
    return {k: v for k, v in cfg.to_dict().items() if k not in _SESSION_FIELDS}


def _training_state(model: TrainableModel, opt: torch.optim.Optimizer, gen: torch.Generator,
                    rng: random.Random) -> TrainingState:  # fmt: skip
    """What a resumed run gets back: the weights, the optimiser, the batch order's generator
    and the negative draws' ``random.Random`` (the loop's place is kept beside them)."""
    return TrainingState(model.module, opt, generators={"batches": gen}, randoms={"draws": rng})


def _upgrade_state(state: dict[str, Any]) -> dict[str, Any]:
    """A training state written before the shared layout (settings, generator, random and
    torch_random at the top level), in the layout :class:`TrainingState` reads."""
    if "config" in state or "settings" not in state:
        return state
    return {
        **state,
        "config": state["settings"],
        "generators": {"batches": state["generator"]},
        "randoms": {"draws": state["random"]},
        "rng": {"torch": state["torch_random"]},
    }


def _save_state(path: Path, cfg: NegClipConfig, state: TrainingState, loop: _Loop,
                steps_per_epoch: int) -> None:  # fmt: skip
    state.save(path, settings=_run_settings(cfg), step=loop.step,
               epoch=loop.step // steps_per_epoch, loop=asdict(loop))  # fmt: skip


def _load_state(path: Path, cfg: NegClipConfig, state: TrainingState,
                device: torch.device) -> _Loop:  # fmt: skip
    saved = state.resume(
        path, settings=_run_settings(cfg), map_location=device, upgrade=_upgrade_state,
        mismatch="{path} belongs to a fine-tune with other settings ({diff}); "
        "run the same command to resume it, or delete the file to start over",
        hint="delete it to start over",
    )  # fmt: skip
    return _Loop(**saved["loop"])


@dataclass
class NegClipResult:
    path: Path | None
    scorer: str | None
    steps: int
    seconds: float
    history: list[dict[str, float]]
    # how the schedule was fitted to max_minutes (BudgetFit.to_dict()), None without one
    fit: dict[str, Any] | None = None


def _say(message: str) -> None:
    print(message, flush=True)


def finetune(
    cfg: NegClipConfig,
    out: str | Path | None = None,
    *,
    log: Callable[[str], None] | None = print,
    command: str | None = None,
) -> NegClipResult:
    """Fine-tune ``cfg.init`` the NegCLIP way (see the module doc) and save it to ``out``."""
    t0 = time.monotonic()
    say = _say if log is print else (log or (lambda _m: None))
    device = _start(cfg)
    model = load_model(cfg.init, device)
    pairs, neighbours = _training_pairs(cfg, model.image_size)
    negatives = _caption_negatives(cfg, pairs)
    if neighbours is None or not any(neighbours):
        neighbours = nearest_images(model, pairs, cfg.hard_images) if cfg.hard_images else None
    have_neg = sum(1 for n in negatives if n)
    say(
        f"data: {len(pairs)} pairs, {have_neg} with hard negative captions, "
        f"{cfg.hard_images if neighbours else 0} hard negative images each "
        f"({time.monotonic() - t0:.0f} s)"
    )
    locked = _lock_images(model, pairs) if cfg.lock_image else None
    params = [p for p in model.module.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    opt = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": cfg.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=cfg.lr,
    )
    steps_per_epoch = max(1, len(pairs) // cfg.batch_size)
    total = max(1, int(cfg.epochs * steps_per_epoch))
    gen = torch.Generator().manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)  # noqa: S311 - seeded sampling for reproducible data, not security
    t_train = time.monotonic()
    budget = None if cfg.max_minutes is None else max(1.0, 60 * cfg.max_minutes - (t_train - t0))
    loop = _Loop()
    state = _training_state(model, opt, gen, rng)
    state_path = resume_path(out) if out is not None else None
    if state_path is not None and state_path.exists():
        # the data, the hard negatives and the locked embeddings above come from the starting
        # model and the seed, so they are the same; the weights and the draws continue
        loop = _load_state(state_path, cfg, state, device)
        say(f"resumed from {state_path} at step {loop.step}/{loop.total}")
        total = loop.total
    if loop.warmup is None:
        loop.warmup = cfg.warmup_steps
    # with a budget, time a few steps and fit the schedule to the steps the budget holds
    timer = StepTimer() if budget is not None else None

    def save_state() -> None:
        if state_path is None:
            return
        loop.total = total
        _save_state(state_path, cfg, state, loop, steps_per_epoch)

    while loop.step < total:
        if loop.order is None:
            loop.order = torch.randperm(len(pairs), generator=gen)
        while loop.batch < steps_per_epoch:
            elapsed = loop.trained_seconds + time.monotonic() - t_train
            time_progress = 0.0 if budget is None else elapsed / budget
            if loop.step >= total or time_progress >= 1.0:
                total = loop.step
                break
            batch, captions, negs = _draw_batch(loop, cfg.batch_size, pairs, neighbours,
                                                negatives, rng)  # fmt: skip
            model.module.train()
            set_lr(opt, warmup_cosine(loop.step, total, cfg.lr, loop.warmup, time_progress))
            image_emb = _image_embeddings(model, pairs, batch, locked)
            text_emb = F.normalize(model.encode_text(captions), dim=-1)
            neg_emb = F.normalize(model.encode_text(negs), dim=-1) if negs else None
            loss = clip_loss(image_emb, text_emb, model.logit_scale(), neg_emb)
            opt.zero_grad(set_to_none=True)
            torch.autograd.backward(loss)  # loss.backward(), which torch leaves untyped
            opt.step()
            with torch.no_grad():
                model.logit_scale().clamp_(0, MAX_LOGIT_SCALE)
            loop.running = (
                loss.item() if loop.step == 0 else 0.95 * loop.running + 0.05 * loss.item()
            )
            loop.step += 1
            loop.batch += 1
            per_step = timer.step() if timer is not None else None
            if timer is not None and per_step is not None and budget is not None:
                used = loop.trained_seconds + time.monotonic() - t_train
                total = _refit(loop, cfg, total, per_step, budget, used, timer.probe, say)
            _record(loop, total, loop.trained_seconds + time.monotonic() - t_train, say)
            if cfg.save_every and loop.step % cfg.save_every == 0 and loop.step < total:
                loop.trained_seconds += time.monotonic() - t_train
                t_train = time.monotonic()
                save_state()
        else:
            loop.order, loop.batch = None, 0
            continue
        break
    step, history = loop.step, loop.history
    model.module.eval()
    seconds = time.monotonic() - t0
    path, scorer = None, None
    if out is not None:
        path = Path(out)
        info = {"negclip_config": cfg.to_dict(), "steps": step, "seconds": round(seconds, 1),
                "history": history, "schedule_fit": loop.fit, "torch": str(torch.__version__), "command": command,
                "examples": [[pairs.captions[i], negatives[i][:1]] for i in range(min(3, len(pairs)))]}  # fmt: skip
        scorer = _write_model(model, path, info, state_path, say)
    return NegClipResult(path, scorer, step, seconds, history, loop.fit)


def _start(cfg: NegClipConfig) -> torch.device:
    """Check the options that no later step reads, seed torch, and pick the device."""
    if cfg.negatives not in ("auto", "pos", "none"):
        raise InputError(f"--negatives {cfg.negatives!r}: use auto, pos or none")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    return torch.device(cfg.device or ("cuda" if torch.cuda.is_available() else "cpu"))


def _training_pairs(cfg: NegClipConfig, size: int) -> tuple[Any, list[list[int]] | None]:
    """The training pairs, and the TSV's hard negative images when the source has them."""
    if cfg.source.endswith(".tsv"):
        return tsv_pairs(cfg.source, cfg.root, size, cfg.n_train)
    return load_pairs(cfg.source, cfg.n_train, cfg.seed, size, "train"), None


def _caption_negatives(cfg: NegClipConfig, pairs: Any) -> list[list[str]]:
    """The hard negative captions of every pair: none for the CLIP-FT control, else POS (and
    noun-phrase) swaps, or a source's own negatives."""
    if cfg.negatives == "none":  # the control: the same fine-tune as plain CLIP (CLIP-FT)
        return [[] for _ in range(len(pairs))]
    if cfg.negatives == "pos" or pairs.negatives is None or cfg.source == "shapes":
        # the NegCLIP recipe: POS swaps, never the generator's exact negatives
        return pos_negatives(pairs.captions, cfg.seed, kinds=cfg.swaps)
    return list(pairs.negatives)


def _lock_images(model: TrainableModel, pairs: Pairs) -> torch.Tensor:
    """Embed every image once with the starting model and freeze the image tower."""
    with torch.no_grad():
        model.module.eval()
        locked = torch.cat(
            [
                F.normalize(model.encode_image(model.pixels(pairs.images[s : s + 256])), dim=-1)
                for s in range(0, len(pairs), 256)
            ]
        )
    for p in model.image_parameters():
        p.requires_grad_(False)
    return locked


def _draw_batch(
    loop: _Loop, batch_size: int, pairs: Any, neighbours: list[list[int]] | None,
    negatives: list[list[str]], rng: random.Random,
) -> tuple[list[int], list[str], list[str]]:  # fmt: skip
    """The step's pairs (with a hard negative image of each, drawn from its neighbours), their
    captions, and one hard negative caption of each."""
    assert loop.order is not None  # noqa: S101 - an invariant that narrows the type, not a check of input
    idx = loop.order[loop.batch * batch_size : (loop.batch + 1) * batch_size]
    batch = idx.tolist()
    if neighbours is not None:
        extra = [rng.choice(neighbours[i]) for i in batch if neighbours[i]]
        batch = list(dict.fromkeys(batch + extra))
    captions = [pairs.captions[i] for i in batch]
    negs = [rng.choice(negatives[i]) for i in batch if negatives[i]]
    # two captions that read the same would be false negatives of each other
    negs = [t for t in dict.fromkeys(negs) if t not in set(captions)]
    return batch, captions, negs


def _image_embeddings(
    model: TrainableModel, pairs: Pairs, batch: list[int], locked: torch.Tensor | None
) -> torch.Tensor:
    if locked is not None:
        return locked[batch]
    pixels = model.pixels(pairs.images[batch])
    return F.normalize(model.encode_image(pixels), dim=-1)


def _refit(
    loop: _Loop, cfg: NegClipConfig, total: int, per_step: float, budget: float, used: float,
    probe: int, say: Callable[[str], None],
) -> int:  # fmt: skip
    """Fit the schedule to the steps the rest of the budget holds; returns the new total."""
    fit = fit_steps(
        total, cfg.warmup_steps, done_steps=loop.step, seconds_per_step=per_step,
        seconds_left=budget - used, timed_steps=probe,
        budget_seconds=budget, previous=BudgetFit(**loop.fit) if loop.fit else None,
    )  # fmt: skip
    if not loop.fit or fit.fitted_steps != total:
        say(
            f"schedule fitted to the budget: {per_step:.2f} s a step, "
            f"{fit.fitted_steps} of {fit.planned_steps} steps, warm-up "
            f"{fit.warmup_steps}"
        )
    loop.warmup, loop.fit = fit.warmup_steps, fit.to_dict()
    return int(fit.fitted_steps)


def _record(loop: _Loop, total: int, seconds: float, say: Callable[[str], None]) -> None:
    """The running loss every 25 steps and at the last one, in the history and the log."""
    if loop.step % 25 == 0 or loop.step == total:
        entry = {"step": loop.step, "loss": round(loop.running, 4), "seconds": round(seconds, 1)}
        loop.history.append(entry)
        say(f"step {loop.step}/{total} loss {loop.running:.3f} ({entry['seconds']:.0f} s)")


def _write_model(
    model: TrainableModel, path: Path, info: dict[str, Any], state_path: Path | None,
    say: Callable[[str], None],
) -> str:  # fmt: skip
    """Save the fine-tuned model and drop the training state it no longer needs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scorer = model.save(path, info)
    say(f"wrote {path} (load it as {scorer})")
    if state_path is not None and state_path.exists():
        state_path.unlink()
    return scorer
