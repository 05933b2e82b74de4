"""NegCLIP fine-tuning (Yuksekgonul et al., ICLR 2023) of an existing image-text model.

The recipe of the ARO repository: every batch gains (1) one hard negative caption per image,
made by swapping two words of the same part of speech in its caption (nouns, adjectives,
adverbs or verbs), which join the image-to-text logits as extra columns; and (2) hard
negative images: for each image, one of its K nearest neighbours (by the starting model's
image embeddings; K = 3 as in the released data) joins the batch with its own caption, so
the model must tell near-duplicates apart. Everything else is CLIP's loss
(:func:`snellen.clip.loss.clip_loss`), a linear warm-up and a cosine schedule
(:mod:`snellen.clip.schedule`), fitted to ``max_minutes`` when that is given.

The defaults are the recipe measured to work on ``snellen-shapes`` (docs/evaluate.md:
16,000 VAD training pairs, 6 epochs of batch 128, lr 3e-4, 50 warm-up steps: 750 steps).

Models: ``snellen-shapes[:PATH]`` (snellen's own; on the CPU in minutes),
``open-clip:ARCH:WEIGHTS`` and ``hf-clip:DIR`` (the GPU is used when present). Caption
sources: ``shapes`` (VAD training pairs; held-out shape-colour combinations are never
trained on), a pairs ``.jsonl``, a WebDataset ``.tar``, a check-up run directory, or a
NegCLIP ``.tsv`` (``title``, ``filepath``, ``neg_caption``, ``neg_image`` columns, as the
shipped ``coco_val_negclip.tsv``; images under ``root``), whose own negatives are used.
"""

from __future__ import annotations

import ast
import csv
import os
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
from snellen.clip.schedule import BudgetFit, StepTimer, fit_steps, warmup_cosine
from snellen.errors import InputError
from snellen.registry import Registry

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


class Backend:
    """One model family: pixels from uint8 images, text and image embeddings with gradients,
    the learnable temperature, and how to save the tuned model so the scorer loads it."""

    model: Any
    image_size: int
    device: torch.device

    def pixels(self, images: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def encode_images(self, pixels: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def encode_texts(self, texts: list[str]) -> torch.Tensor:
        raise NotImplementedError

    def logit_scale(self) -> torch.Tensor:
        raise NotImplementedError

    def save(self, out: Path, info: dict[str, Any]) -> str:
        """Write the model; returns the scorer name that loads it."""
        raise NotImplementedError


class ShapesBackend(Backend):
    def __init__(self, path: str | None, device: torch.device) -> None:
        from snellen.clip.model import load_checkpoint
        from snellen.score.shapes import shipped_weights

        self.path = path or str(shipped_weights())
        self.model, self.tokenizer, self.info = load_checkpoint(self.path)
        self.device = device
        self.model.to(device)
        self.image_size = self.model.config.image_size

    def pixels(self, images: torch.Tensor) -> torch.Tensor:
        return images.float().div_(127.5).sub_(1.0)

    def encode_images(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model.visual(pixels.to(self.device))

    def encode_texts(self, texts: list[str]) -> torch.Tensor:
        return self.model.text(self.tokenizer(texts).to(self.device))

    def logit_scale(self) -> torch.Tensor:
        return self.model.logit_scale

    def save(self, out: Path, info: dict[str, Any]) -> str:
        from snellen.clip.model import save_checkpoint

        self.model.cpu()
        save_checkpoint(str(out), self.model, self.tokenizer, {**info, "init_info": self.info})
        return f"snellen-shapes:{out}"


def _pil(images: torch.Tensor) -> list[Image.Image]:
    arr = images.permute(0, 2, 3, 1).cpu().numpy()
    return [Image.fromarray(a) for a in arr]


class OpenClipBackend(Backend):
    def __init__(self, spec: str, device: torch.device) -> None:
        import open_clip

        from snellen.score.openclip import parse_spec, resolve_arch

        arch, pretrained = parse_spec(spec)
        arch = resolve_arch(arch)
        self.arch = arch
        model, _, preprocess = open_clip.create_model_and_transforms(
            arch, pretrained=pretrained, device=device
        )
        self.model, self.preprocess = model, preprocess
        self.tokenizer = open_clip.get_tokenizer(arch)
        self.device = device
        size = model.visual.image_size
        self.image_size = int(size[0] if isinstance(size, tuple | list) else size)

    def pixels(self, images: torch.Tensor) -> torch.Tensor:
        return torch.stack([self.preprocess(im) for im in _pil(images)])

    def encode_images(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model.encode_image(pixels.to(self.device))

    def encode_texts(self, texts: list[str]) -> torch.Tensor:
        return self.model.encode_text(self.tokenizer(texts).to(self.device))

    def logit_scale(self) -> torch.Tensor:
        return self.model.logit_scale

    def save(self, out: Path, info: dict[str, Any]) -> str:
        torch.save(self.model.state_dict(), out)
        return f"open-clip:{self.arch}:{out}"


class HFBackend(Backend):
    def __init__(self, model_id: str, device: torch.device) -> None:
        from transformers import AutoModel, AutoProcessor

        local = Path(model_id).exists()
        self.model = AutoModel.from_pretrained(model_id, local_files_only=local).to(device)
        self.processor = AutoProcessor.from_pretrained(model_id, local_files_only=local)
        self.device = device
        self.image_size = int(self.model.config.vision_config.image_size)

    def pixels(self, images: torch.Tensor) -> torch.Tensor:
        return self.processor(images=_pil(images), return_tensors="pt")["pixel_values"]

    @staticmethod
    def _features(out: Any) -> torch.Tensor:
        return out if isinstance(out, torch.Tensor) else out.pooler_output

    def encode_images(self, pixels: torch.Tensor) -> torch.Tensor:
        return self._features(self.model.get_image_features(pixel_values=pixels.to(self.device)))

    def encode_texts(self, texts: list[str]) -> torch.Tensor:
        inputs = self.processor(text=texts, padding=True, truncation=True, return_tensors="pt")
        inputs = {k: v.to(self.device) for k, v in inputs.items() if k != "pixel_values"}
        return self._features(self.model.get_text_features(**inputs))

    def logit_scale(self) -> torch.Tensor:
        return self.model.logit_scale

    def save(self, out: Path, info: dict[str, Any]) -> str:
        self.model.save_pretrained(out)
        self.processor.save_pretrained(out)
        return f"hf-clip:{out}"


#: the model families NegCLIP fine-tunes, by scorer prefix (the names ``snellen eval`` takes)
BACKENDS: Registry[Callable[..., Backend]] = Registry("model family")
BACKENDS.register("snellen-shapes", ShapesBackend, help="snellen-shapes[:FILE.pt]")
BACKENDS.register("open-clip", OpenClipBackend, help="open-clip:ARCH:WEIGHTS")
BACKENDS.register("hf-clip", HFBackend, help="hf-clip:DIR or hf-clip:HUB_ID")


def load_backend(name: str, device: torch.device) -> Backend:
    from snellen.score import scorer_name_for

    if name.partition(":")[0] not in BACKENDS and Path(name).exists():
        name = scorer_name_for(name)  # a path snellen wrote: named as snellen eval names it
    if name.partition(":")[0] not in BACKENDS:
        raise InputError(
            f"cannot fine-tune {name!r}: use snellen-shapes[:FILE.pt], open-clip:ARCH:WEIGHTS or "
            "hf-clip:DIR"
        )
    make, arg = BACKENDS.resolve(name)
    family = BACKENDS.canonical(name.partition(":")[0])
    if not arg and family != "snellen-shapes":
        raise InputError(f"--init {family} needs a model: {BACKENDS.help()[family]}")
    return make(arg, device)


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
def nearest_images(backend: Backend, pairs: Pairs, k: int, batch: int = 256) -> list[list[int]]:
    """Each image's ``k`` nearest other images by the starting model's embeddings."""
    backend.model.eval()
    emb = torch.cat(
        [
            F.normalize(
                backend.encode_images(backend.pixels(pairs.images[s : s + batch])).float(), dim=-1
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


@dataclass(frozen=True)
class _Parts:
    """What a training state is saved from and restored into."""

    backend: Backend
    opt: torch.optim.Optimizer
    gen: torch.Generator
    rng: random.Random


def _save_state(path: Path, cfg: NegClipConfig, parts: _Parts, loop: _Loop) -> None:
    backend, opt, gen, rng = parts.backend, parts.opt, parts.gen, parts.rng
    state = {
        "settings": _run_settings(cfg),
        "model": backend.model.state_dict(),
        "optimizer": opt.state_dict(),
        "generator": gen.get_state(),
        "random": rng.getstate(),
        "torch_random": torch.get_rng_state(),
        "loop": asdict(loop),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def _load_state(path: Path, cfg: NegClipConfig, parts: _Parts) -> _Loop:
    backend, opt, gen, rng = parts.backend, parts.opt, parts.gen, parts.rng
    try:
        state = torch.load(path, map_location=backend.device, weights_only=False)
    except Exception as e:  # noqa: BLE001 - a torn or foreign file
        raise InputError(
            f"{path}: cannot read this training state ({e}); delete it to start over"
        ) from None
    settings = _run_settings(cfg)
    if state.get("settings") != settings:
        old = state.get("settings") or {}
        diff = sorted(k for k in settings if old.get(k) != settings[k])
        raise InputError(
            f"{path} belongs to a fine-tune with other settings ({', '.join(diff)}); "
            "run the same command to resume it, or delete the file to start over"
        )
    backend.model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    gen.set_state(state["generator"])
    rng.setstate(state["random"])
    torch.set_rng_state(state["torch_random"])
    return _Loop(**state["loop"])


@dataclass
class NegClipResult:
    path: Path | None
    scorer: str | None
    steps: int
    seconds: float
    history: list[dict[str, float]]
    # how the schedule was fitted to max_minutes (BudgetFit.to_dict()), None without one
    fit: dict[str, Any] | None = None


def _image_params(backend: Backend) -> list[torch.nn.Parameter]:
    model = backend.model
    tower = getattr(model, "visual", None)
    if tower is None:
        tower = getattr(model, "vision_model", None)
    if tower is None:
        raise InputError(f"cannot find the image tower of {type(model).__name__} to lock")
    params = list(tower.parameters())
    projection = getattr(model, "visual_projection", None)
    if projection is not None:
        params += list(projection.parameters())
    return params


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
    backend = load_backend(cfg.init, device)
    pairs, neighbours = _training_pairs(cfg, backend.image_size)
    negatives = _caption_negatives(cfg, pairs)
    if neighbours is None or not any(neighbours):
        neighbours = nearest_images(backend, pairs, cfg.hard_images) if cfg.hard_images else None
    have_neg = sum(1 for n in negatives if n)
    say(
        f"data: {len(pairs)} pairs, {have_neg} with hard negative captions, "
        f"{cfg.hard_images if neighbours else 0} hard negative images each "
        f"({time.monotonic() - t0:.0f} s)"
    )
    locked = _lock_images(backend, pairs) if cfg.lock_image else None
    params = [p for p in backend.model.parameters() if p.requires_grad]
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
    parts = _Parts(backend, opt, gen, rng)
    state_path = resume_path(out) if out is not None else None
    if state_path is not None and state_path.exists():
        # the data, the hard negatives and the locked embeddings above come from the starting
        # model and the seed, so they are the same; the weights and the draws continue
        loop = _load_state(state_path, cfg, parts)
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
        _save_state(state_path, cfg, parts, loop)

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
            backend.model.train()
            for group in opt.param_groups:
                group["lr"] = warmup_cosine(loop.step, total, cfg.lr, loop.warmup, time_progress)
            image_emb = _image_embeddings(backend, pairs, batch, locked)
            text_emb = F.normalize(backend.encode_texts(captions), dim=-1)
            neg_emb = F.normalize(backend.encode_texts(negs), dim=-1) if negs else None
            loss = clip_loss(image_emb, text_emb, backend.logit_scale(), neg_emb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            with torch.no_grad():
                backend.logit_scale().clamp_(0, MAX_LOGIT_SCALE)
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
    backend.model.eval()
    seconds = time.monotonic() - t0
    path, scorer = None, None
    if out is not None:
        path = Path(out)
        info = {"negclip_config": cfg.to_dict(), "steps": step, "seconds": round(seconds, 1),
                "history": history, "schedule_fit": loop.fit, "torch": str(torch.__version__), "command": command,
                "examples": [[pairs.captions[i], negatives[i][:1]] for i in range(min(3, len(pairs)))]}  # fmt: skip
        scorer = _write_model(backend, path, info, state_path, say)
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


def _lock_images(backend: Any, pairs: Any) -> torch.Tensor:
    """Embed every image once with the starting model and freeze the image tower."""
    with torch.no_grad():
        backend.model.eval()
        locked = torch.cat(
            [
                F.normalize(
                    backend.encode_images(backend.pixels(pairs.images[s : s + 256])), dim=-1
                )
                for s in range(0, len(pairs), 256)
            ]
        )
    for p in _image_params(backend):
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
    backend: Any, pairs: Any, batch: list[int], locked: torch.Tensor | None
) -> torch.Tensor:
    if locked is not None:
        return locked[batch]
    pixels = backend.pixels(pairs.images[batch])
    return F.normalize(backend.encode_images(pixels), dim=-1)


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
    backend: Any, path: Path, info: dict[str, Any], state_path: Path | None,
    say: Callable[[str], None],
) -> str:  # fmt: skip
    """Save the fine-tuned model and drop the training state it no longer needs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scorer: str = backend.save(path, info)
    say(f"wrote {path} (load it as {scorer})")
    if state_path is not None and state_path.exists():
        state_path.unlink()
    return scorer
