"""``snellen reproduce lens``: LENS's finding on data it has never seen. A frozen LLM that
reads what vision modules write about a picture answers questions about it better than the
same LLM without the picture (blind) and than the majority answer, and better vision
modules make it answer better.

The data is a held-out VQA set in the VQAv2 layout drawn by its own generator
(:mod:`snellen.reproduce.flat_shapes`: flat shapes, not VAD's renders or wording). One run
scores LENS (open, extracted and closed answers), the blind LLM (the same three readings),
the vision model alone and the majority answer, with bootstrap intervals overall and per
question type; a second LENS run swaps the trained vision model for one of the same
architecture with random weights (weak vision). Both runs are ordinary ``snellen lens`` run
directories under the output folder, so a rerun resumes and asks the reasoner nothing it
has answered.

The verdict compares the **closed** reading (the answer vocabulary ranked by the reasoner),
chosen before any run: paired bootstrap intervals of LENS minus each baseline, overall and
per question type, and of strong minus weak vision.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snellen.registry import parse_name
from snellen.reproduce.findings import Figure, Finding, ReproduceOptions, Scalar

CLAIM = (
    "A frozen LLM answering from vision modules' text (LENS) beats the blind LLM and the "
    "majority answer beyond their bootstrap intervals on held-out VQA, per question type, "
    "and stronger vision modules give better answers."
)
PAPER = "Berrios et al. 2023, Towards Language Models That Can See (LENS)"
READING = "closed"
# solved train examples before each question (the same for every question, so the engine
# keeps them evaluated: see LlamaCppChat.prefix_cache)
SHOTS = 4
# weak vision: the random-init scorer names every shape (no outline measurement); colour,
# count and place are measured from pixels in both runs
WEAK_CAPTIONER = "detections-scorer"


@dataclass(frozen=True)
class Preset:
    """``weak``: how many of the questions the weak-vision run answers (paired with the
    strong run's answers to the same questions)."""

    questions: int
    train: int
    model: str
    vision: str
    note: str
    weak: int


PRESETS = {
    "quick": Preset(40, 60, "smollm2", "snellen-shapes", "a smoke run: intervals are wide", 40),
    "cpu": Preset(300, 200, "smollm2", "snellen-shapes", "the 300-question run", 100),
    "gpu": Preset(
        1000,
        400,
        "hf:HuggingFaceTB/SmolLM2-1.7B-Instruct",
        "snellen-shapes",
        "a 1.7B reasoner by hub id (needs network or a local copy)",
        1000,
    ),  # fmt: skip
    "paper": Preset(
        3000,
        1000,
        "hf:Qwen/Qwen2.5-7B-Instruct",
        "snellen-shapes",
        "a 7B reasoner by hub id (needs network or a local copy and a GPU)",
        3000,
    ),  # fmt: skip
}


def weak_vision(out: Path, strong: str) -> str:
    """The weak vision model: ``strong``'s architecture and tokenizer with random weights
    (seed 0), saved as a checkpoint and loaded through the normal scorer path."""
    import torch

    from snellen.clip.model import ShapesCLIP, load_checkpoint, save_checkpoint
    from snellen.score.shapes import shipped_weights

    path = out / "models" / "weak-random-init.pt"
    if not path.is_file():
        source = parse_name(strong)[1] or str(shipped_weights())
        trained, tokenizer, _info = load_checkpoint(source)
        torch.manual_seed(0)
        model = ShapesCLIP(trained.config)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_checkpoint(str(path), model, tokenizer, {"note": "random initialisation, seed 0",
                                                      "architecture of": source})  # fmt: skip
    return f"snellen-shapes:{path}"


def _lens(out: Path, root: Path, vision: str, llm: Any, baselines: tuple[str, ...],
          progress: bool, limit: int | None = None, captioner: str = "detections") -> Any:  # fmt: skip
    from snellen.lens import Vocabulary, run_lens
    from snellen.lens.vocab import shape_names

    # the tag vocabulary is snellen's general shape names (23), not the generator's six
    vocab = out.parent / "shape-vocabulary.json"
    if not vocab.is_file():
        Vocabulary(shape_names(), source={"tags": "snellen shape names"}).save(vocab)
    return run_lens(
        "vqa", "vqav2", root=str(root), out=str(out), vision=vision, captioner=captioner,
        llm=llm, baselines=baselines, answers=READING, threads=1, progress=progress,
        report=True, vocab=str(vocab), shots=SHOTS, limit=limit,
    )  # fmt: skip


def _rows(report: Any, setting: str) -> list[dict[str, Scalar]]:
    rows: list[dict[str, Scalar]] = []
    for method, score in report.methods.items():
        rows.append({"setting": setting, "method": method, "question_type": "all",
                     "accuracy": score.accuracy, "low": score.interval[0],
                     "high": score.interval[1], "n": score.n})  # fmt: skip
        for qtype, acc in score.per_question_type.items():
            lo, hi = score.per_question_type_interval[qtype]
            rows.append({"setting": setting, "method": method, "question_type": qtype,
                         "accuracy": acc, "low": lo, "high": hi, "n": None})  # fmt: skip
    return rows


def _comparison_rows(name: str, overall: tuple[float, float, float],
                     per_type: dict[str, tuple[float, float, float]]) -> list[dict[str, Scalar]]:  # fmt: skip
    rows: list[dict[str, Scalar]] = [{"setting": "difference", "method": name,
                                      "question_type": "all", "accuracy": overall[0],
                                      "low": overall[1], "high": overall[2], "n": None}]  # fmt: skip
    for qtype, (d, lo, hi) in per_type.items():
        rows.append({"setting": "difference", "method": name, "question_type": qtype,
                     "accuracy": d, "low": lo, "high": hi, "n": None})  # fmt: skip
    return rows


def decide(diffs: dict[str, tuple[tuple[float, float, float], dict[str, tuple[float, float, float]]]]) -> tuple[str, str]:  # fmt: skip
    """The verdict from the paired intervals (difference, low, high): ``holds`` when every
    difference is above zero overall and per question type; ``holds in kind`` when the
    overall ones are but some question type or the vision comparison is not; ``does not
    hold`` when LENS is below a baseline overall (interval below zero) or not above it at
    all; else ``undecided at this preset``."""
    main = {k: v for k, v in diffs.items() if not k.startswith("strong")}
    overall_lo = {k: v[0][1] for k, v in main.items()}
    overall_hi = {k: v[0][2] for k, v in main.items()}
    if any(hi < 0 for hi in overall_hi.values()):
        worse = ", ".join(k for k, hi in overall_hi.items() if hi < 0)
        return "does not hold", f"LENS is below the baseline beyond the interval ({worse})"
    if not all(lo > 0 for lo in overall_lo.values()):
        open_ = ", ".join(f"{k} [{v[0][1]:+.3f}, {v[0][2]:+.3f}]" for k, v in main.items()
                          if v[0][1] <= 0)  # fmt: skip
        return "undecided at this preset", f"overall intervals include zero: {open_}"
    weak_types = [
        f"{k} / {q}" for k, v in diffs.items() for q, (_, lo, _) in v[1].items() if lo <= 0
    ]
    weak_overall = [k for k, v in diffs.items() if k.startswith("strong") and v[0][1] <= 0]
    if not weak_types and not weak_overall:
        return "holds", "every paired interval is above zero, overall and per question type"
    missing = ", ".join(weak_overall + weak_types)
    return "holds in kind", (
        "LENS beats the blind LLM and the majority answer overall beyond the intervals; not "
        f"beyond them for: {missing}"
    )


def _figure(out: Path, report: Any, weak: Any) -> list[Figure]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = [m for m in ("lens-closed", "lens-extracted", "lens", "blind-closed",
                           "blind-extracted", "blind", "vision", "majority") if m in report.methods]  # fmt: skip
    types = ["all", *report.methods[methods[0]].per_question_type]
    fig, ax = plt.subplots(figsize=(11, 4.2))
    width = 0.8 / len(methods)
    for k, m in enumerate(methods):
        s = report.methods[m]
        vals = [s.accuracy] + [s.per_question_type[t] for t in types[1:]]
        ivs = [s.interval] + [s.per_question_type_interval[t] for t in types[1:]]
        xs = [i + k * width for i in range(len(types))]
        err = [[v - lo for v, (lo, _) in zip(vals, ivs, strict=True)],
               [hi - v for v, (_, hi) in zip(vals, ivs, strict=True)]]  # fmt: skip
        ax.bar(xs, vals, width, yerr=err, capsize=2, label=m)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(types))], types)
    ax.set_ylabel("VQA accuracy (95% bootstrap interval)")
    ax.set_ylim(0, 1.05)
    ax.legend(ncol=4, fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "methods.png", dpi=110)
    plt.close(fig)
    figures = [Figure("methods.png", "LENS and its baselines per question type",
                      "open = first short answer; extracted = the answer the reply states; "
                      "closed = answer vocabulary ranked by log-likelihood")]  # fmt: skip
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for k, (label, rep) in enumerate(
        (("strong vision (trained)", report), ("weak vision (random init)", weak))
    ):
        s = rep.methods[f"lens-{READING}"]
        vals = [s.accuracy] + [s.per_question_type[t] for t in types[1:]]
        ivs = [s.interval] + [s.per_question_type_interval[t] for t in types[1:]]
        err = [[v - lo for v, (lo, _) in zip(vals, ivs, strict=True)],
               [hi - v for v, (_, hi) in zip(vals, ivs, strict=True)]]  # fmt: skip
        ax.bar(
            [i + k * 0.4 for i in range(len(types))], vals, 0.4, yerr=err, capsize=2, label=label
        )
    ax.set_xticks([i + 0.2 for i in range(len(types))], types)
    ax.set_ylabel(f"LENS ({READING}) accuracy")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "vision.png", dpi=110)
    plt.close(fig)
    figures.append(Figure("vision.png", "Strong vs weak vision modules",
                          "the same LENS run with the trained shapes CLIP and with one of the "
                          "same architecture at random initialisation"))  # fmt: skip
    return figures


def run(options: ReproduceOptions) -> Finding:
    """Run the finding at ``options.preset`` into ``options.out`` (resumable)."""
    from snellen.llm import load_model
    from snellen.reproduce.flat_shapes import build_flat_shapes_vqa

    start = time.perf_counter()
    preset = PRESETS[options.preset]
    questions = options.n or preset.questions
    train = int(options.extra.get("train", preset.train))
    model = options.models[0] if options.models else options.extra.get("model", preset.model)
    vision = options.extra.get("vision", preset.vision)
    out = Path(options.out)
    root = build_flat_shapes_vqa(out / "data", n_val=questions, n_train=train, seed=0)
    llm = load_model(model)
    try:
        strong = _lens(out / "strong", root, vision, llm, ("vision", "blind", "majority"),
                       options.progress)  # fmt: skip
        weak_n = min(questions, int(options.extra.get("weak") or preset.weak))
        weak = _lens(out / "weak", root, weak_vision(out, vision), llm, (), options.progress,
                     limit=weak_n, captioner=WEAK_CAPTIONER)  # fmt: skip
    finally:
        llm.close()
    from snellen.lens.summary import compare

    diffs: dict[str, tuple[tuple[float, float, float], dict[str, tuple[float, float, float]]]] = {}
    for c in strong.comparisons:
        if c.method == f"lens-{READING}" and c.baseline in (f"blind-{READING}", "majority"):
            diffs[f"{c.method} - {c.baseline}"] = ((c.difference, *c.interval), c.per_question_type)
    key = f"lens-{READING}"
    sw = compare(strong.items[:weak_n], strong.answers[key][:weak_n], weak.answers[key])
    diffs["strong - weak vision"] = ((sw.difference, *sw.interval), sw.per_question_type)
    verdict, reason = decide(diffs)
    rows = _rows(strong, "strong vision") + _rows(weak, "weak vision")
    for name, (overall, per) in diffs.items():
        rows += _comparison_rows(name, overall, per)
    notes = [preset.note, *strong.labels,
             f"reasoner {model}; vision {vision} (strong) vs the same architecture at random "
             f"initialisation (weak, on the first {weak_n} questions); captions composed "
             "from detections",
             f"timing (strong run): {strong.timing}"]  # fmt: skip
    return Finding(
        name="lens", claim=CLAIM, paper=PAPER, preset=options.preset, verdict=verdict,
        reason=reason, seconds=time.perf_counter() - start, rows=rows,
        command=f"snellen reproduce lens --preset {options.preset}",
        config={"questions": questions, "train": train, "model": model, "vision": vision,
                "weak_vision_questions": weak_n,
                "reading": READING, "captioner": "detections", "bootstrap": 1000},
        figures=_figure(out, strong, weak), notes=notes,
    )  # fmt: skip
