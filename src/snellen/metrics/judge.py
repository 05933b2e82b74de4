"""A VLM judge: a vision-language model is shown each rendered drawing and a numbered list
of ``N`` descriptions (the drawing's concept and ``N-1`` distractors of the same category,
in a seeded order) and asked which one the drawing shows; judge accuracy is the share it
picks right, per category and language (chance is ``1/N``).

The judge is any chat model of the LLM registry; ``openai:MODEL`` (with ``base_url``) sends
the drawing as a ``data:image/png;base64`` URL in an OpenAI chat ``image_url`` part.
Replies go through the run's reply cache, so a judged drawing is never asked again and an
interrupted judge resumes where it stopped; every answer is one ``judge`` record
(:class:`~snellen.records.scores.JudgeAnswer`). A model that refuses images stops the
judge with an error that says so.
"""

from __future__ import annotations

import base64
import random
import re
from collections.abc import Sequence
from typing import Any

from snellen.metrics.bootstrap import add_interval
from snellen.records.checkup import Drawing
from snellen.records.scores import JudgeAnswer, JudgeSummary, Tables
from snellen.store import Run

__all__ = ["OPTIONS", "PROMPT", "judge_drawings", "judge_summary", "parse_choice"]

OPTIONS = 4
PROMPT = (
    "The image is a drawing made by a program. Which of these descriptions does it show?\n"
    "{options}\n"
    "Answer with the number of the one description that fits best, and nothing else."
)
MAX_TOKENS = 16


def options_for(
    drawing: Drawing, candidates: Sequence[str], n: int, seed: int
) -> tuple[tuple[str, ...], int]:
    """The ``n`` options shown for ``drawing`` (its description and ``n-1`` others of its
    category, drawn and ordered by a generator seeded by ``seed`` and the drawing's key) and
    the index of the true one."""
    rng = random.Random(f"{seed}|{drawing.key}")  # noqa: S311 - a seeded option order, not a secret
    others = sorted({c for c in candidates if c != drawing.description})
    chosen = rng.sample(others, min(n - 1, len(others)))
    options = [drawing.description, *chosen]
    rng.shuffle(options)
    return tuple(options), options.index(drawing.description)


def parse_choice(reply: str, n: int) -> int | None:
    """The 0-based option a reply picks: the first number 1..n in it (None when none)."""
    for match in re.finditer(r"\d+", reply):
        value = int(match.group())
        if 1 <= value <= n:
            return value - 1
    return None


def _data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def judge_drawings(
    run: Run,
    drawings: Sequence[Drawing],
    judge: str,
    *,
    base_url: str | None = None,
    options: int = OPTIONS,
    seed: int = 0,
    concurrency: int = 4,
    progress: bool = False,
) -> list[JudgeAnswer]:
    """Ask ``judge`` (a chat model name, e.g. ``openai:gpt-4o``) about every rendered drawing
    without an answer from it yet; store and return all its answers for ``drawings``."""
    from snellen.llm import load_model
    from snellen.llm.base import ChatRequest

    done = {a.drawing: a for a in run.load_records(JudgeAnswer) if a.judge == judge}
    by_category: dict[str, set[str]] = {}
    for d in drawings:
        by_category.setdefault(d.category, set()).add(d.description)
    todo = [d for d in drawings if d.ok and d.key not in done
            and len(by_category[d.category]) >= 2]  # fmt: skip
    if todo:
        model = load_model(judge, **({"base_url": base_url} if base_url else {}))
        try:
            shown = [options_for(d, sorted(by_category[d.category]), options, seed) for d in todo]
            requests = [
                ChatRequest(
                    prompt=PROMPT.format(
                        options="\n".join(f"{i + 1}. {o}" for i, o in enumerate(opts))
                    ),
                    images=(_data_url(run.artifacts.get(str(d.image))),),
                    temperature=0.0,
                    top_p=1.0,
                    max_tokens=MAX_TOKENS,
                    seed=seed,
                    concept=d.description,
                )  # fmt: skip
                for d, (opts, _) in zip(todo, shown, strict=True)
            ]
            new = []
            for i, reply in model.chat_iter(
                requests, concurrency=concurrency, cache=run,
                progress="judge" if progress else False, errors="reply",
            ):  # fmt: skip
                if getattr(reply, "error", None):
                    continue  # not stored: the next run asks again
                d, (opts, answer) = todo[i], shown[i]
                chosen = parse_choice(reply.text or "", len(opts))
                new.append(
                    JudgeAnswer(
                        drawing=d.key,
                        judge=judge,
                        concept_id=d.concept_id,
                        category=d.category,
                        language=d.language,
                        description=d.description,
                        options=opts,
                        answer_index=answer,
                        reply=reply.text or "",
                        chosen=chosen,
                        correct=chosen == answer,
                        model=d.model,
                    )  # fmt: skip
                )
            run.put_records(new)
            done.update({a.drawing: a for a in new})
        finally:
            model.close()
    return [done[d.key] for d in drawings if d.key in done]


def judge_summary(answers: Sequence[JudgeAnswer], judge: str) -> JudgeSummary | None:
    """Judge accuracy overall and per category, language and both, with intervals."""
    if not answers:
        return None
    tables = Tables()
    for cols in (("category",), ("language",), ("category", "language")):
        groups: dict[tuple[Any, ...], list[JudgeAnswer]] = {}
        for a in answers:
            groups.setdefault(tuple(getattr(a, c) for c in cols), []).append(a)
        rows = []
        for key in sorted(groups):
            recs = groups[key]
            correct = sum(a.correct for a in recs)
            row: dict[str, Any] = {
                **dict(zip(cols, key, strict=True)), "questions": len(recs),
                "correct": correct, "accuracy": correct / len(recs),
                "chance": sum(1 / len(a.options) for a in recs) / len(recs),
                "parsed": sum(a.chosen is not None for a in recs) / len(recs),
            }  # fmt: skip
            add_interval(row, "accuracy", [float(a.correct) for a in recs])
            rows.append(row)
        tables.put(cols, rows)
    overall: dict[str, Any] = {"accuracy": sum(a.correct for a in answers) / len(answers)}
    add_interval(overall, "accuracy", [float(a.correct) for a in answers])
    return JudgeSummary(
        judge=judge,
        options=max(len(a.options) for a in answers),
        questions=len(answers),
        accuracy=overall["accuracy"],
        accuracy_lo=overall["accuracy_lo"],
        accuracy_hi=overall["accuracy_hi"],
        by=tables,
    )
