"""The reasoner's side of LENS: prompts built from the vision text, asked through the run's
reply cache (open answers, and the answers extracted from the same replies), and the closed
reading: the dataset's answer vocabulary ranked by the reasoner's log-likelihood, stored as
records so an interrupted ranking resumes where it stopped, and the calibrated reading: the
same candidates ranked by how much the vision text raises their log-likelihood over the
blind prompt's (pointwise mutual information, no further reasoner calls)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from snellen.lens.answers import (
    ANSWER_PARSER,
    ClassMapper,
    binary_answer,
    clean_reply,
    extract_answer,
)
from snellen.lens.baselines import item_score
from snellen.lens.prompts import Prompter
from snellen.lens.records import LensAnswer, LensItem
from snellen.store import Run
from snellen.store.run import content_key

Texts = Mapping[str, Sequence[str]]
# closed answers store every candidate's log-likelihood in their reply (a setting without
# this tag stored only the best one)
SCORES = "scores-v1"


@dataclass
class Timing:
    """Where a run's time went (seconds) and how many reasoner calls it made."""

    vision_s: float = 0.0
    vision_images: int = 0
    reasoner_s: float = 0.0
    reasoner_calls: int = 0
    closed_s: float = 0.0
    closed_items: int = 0
    extra: dict[str, float] = field(default_factory=dict)


@dataclass
class Reasoner:
    """Everything asking the reasoner needs: the run (reply cache and records), the model,
    the task, the solved examples, and how to find an item's question, answer and texts."""

    run: Run
    llm: Any
    task: str
    instruction: str
    max_tokens: int
    concurrency: int | None
    progress: bool
    shots: Sequence[LensItem]
    question_of: Callable[[LensItem], str]
    answer_of: Callable[[LensItem], str]
    texts_of: Callable[[LensItem], Texts]
    fingerprints: Sequence[str]
    timing: Timing
    mapper: ClassMapper | None = None
    vocabulary: Sequence[str] = ()

    def prompts(self, p: Prompter, items: Sequence[LensItem], with_texts: bool) -> list[str]:
        shots = [(self.texts_of(s) if with_texts else {}, self.question_of(s), self.answer_of(s))
                 for s in self.shots]  # fmt: skip
        return [
            p.with_shots(
                p.fill(self.texts_of(it) if with_texts else {}, self.question_of(it)), shots
            )  # fmt: skip
            for it in items
        ]

    def requests(self, prompts: Sequence[str]) -> list[Any]:
        from snellen.llm import ChatRequest

        system = [{"role": "system", "content": self.instruction}] if self.instruction else []
        return [
            ChatRequest(
                messages=[*system, {"role": "user", "content": t}],
                temperature=0.0,
                max_tokens=self.max_tokens,
            )  # fmt: skip
            for t in prompts
        ]

    def setting(self, method: str, p: Prompter, with_texts: bool, *extra: Any) -> str:
        return content_key(
            method, self.llm.cache_identity(), p.template, [s.id for s in self.shots],
            self.max_tokens, sorted(self.fingerprints) if with_texts else [], self.instruction,
            ANSWER_PARSER, *extra,
        )[:16]  # fmt: skip

    def _prediction(self, reply: str, item: LensItem, extracted: bool) -> tuple[str, float]:
        pred = (
            extract_answer(reply, self.question_of(item), self.vocabulary)
            if extracted
            else clean_reply(reply)
        )
        if self.task == "classify":
            assert self.mapper is not None  # noqa: S101 - an invariant that narrows the type, not a check of input
            return self.mapper.map(pred)[0], 0.0
        if self.task == "binary":
            pred = binary_answer(pred)
            return pred, float(pred)
        return pred, 0.0

    def ask(
        self, method: str, p: Prompter, items: Sequence[LensItem], with_texts: bool
    ) -> dict[str, list[LensAnswer]]:
        """Open answers (``method``) and, for VQA, the extracted ones
        (``method-extracted``) from the same replies."""
        prompts = self.prompts(p, items, with_texts)
        requests = self.requests(prompts)
        start = time.perf_counter()
        # identical prompts (a blind classification asks one question of every image) are
        # asked once
        first = {t: i for i, t in reversed(list(enumerate(prompts)))}
        unique = sorted(set(first.values()))
        got = self.llm.chat_many(
            [requests[i] for i in unique], cache=self.run, concurrency=self.concurrency,
            progress=f"reasoner: {method}" if self.progress else False, errors="reply",
        )  # fmt: skip
        by_index = dict(zip(unique, got, strict=True))
        replies = [by_index[first[t]] for t in prompts]
        self.timing.reasoner_s += time.perf_counter() - start
        self.timing.reasoner_calls += sum(1 for r in got if not r.cached)
        readings = {method: False}
        if self.task == "vqa":
            readings[f"{method}-extracted"] = True
        out: dict[str, list[LensAnswer]] = {}
        for name, extracted in readings.items():
            setting = self.setting(method, p, with_texts)
            recs = []
            for it, prompt, reply in zip(items, prompts, replies, strict=True):
                pred, conf = self._prediction(reply.text, it, extracted)
                recs.append(LensAnswer(it.id, name, setting, pred, item_score(self.task, it, pred),
                                       conf, prompt, reply.text or reply.error, reply.seconds))  # fmt: skip
            self.run.put_records(recs)
            out[name] = recs
        return out

    def closed(
        self, method: str, p: Prompter, items: Sequence[LensItem], with_texts: bool,
        candidates: Mapping[str, Sequence[str]],
    ) -> list[LensAnswer]:  # fmt: skip
        """``method-closed``: each item's answer is the candidate with the highest
        log-likelihood as the reply to the same prompt. ``candidates`` maps a question type
        to its answers (the ``""`` entry serves types it does not know). Stored per item as
        it goes; a rerun ranks only the items not stored yet."""
        name = f"{method}-closed"
        setting = self.setting(
            name, p, with_texts, sorted((k, list(v)) for k, v in candidates.items()), SCORES
        )
        done = {a.item: a for a in self.run.load_records(LensAnswer)
                if a.setting == setting and a.method == name}  # fmt: skip
        prompts = self.prompts(p, items, with_texts)
        requests = self.requests(prompts)
        todo = [i for i, it in enumerate(items) if it.id not in done]
        bar = None
        if self.progress and todo:
            from tqdm import tqdm

            bar = tqdm(total=len(todo), desc=f"reasoner: {name}", unit="q", leave=False)
        start = time.perf_counter()
        batch: list[LensAnswer] = []
        for i in todo:
            it = items[i]
            t0 = time.perf_counter()
            options = list(candidates.get(it.question_type) or candidates[""])
            scores = self.llm.rank(requests[i], options)
            best = max(range(len(options)), key=lambda k: scores[k])
            pred = options[best]
            # the reply of a ranking: every candidate's log-likelihood (JSON)
            ranked = json.dumps(dict(zip(options, map(float, scores), strict=True)))
            batch.append(LensAnswer(it.id, name, setting, pred, item_score(self.task, it, pred),
                                    float(scores[best]), prompts[i], ranked, time.perf_counter() - t0))  # fmt: skip
            if len(batch) >= 25:
                self.run.put_records(batch)
                done.update((a.item, a) for a in batch)
                batch = []
            if bar is not None:
                bar.update(1)
        if batch:
            self.run.put_records(batch)
            done.update((a.item, a) for a in batch)
        if bar is not None:
            bar.close()
        self.timing.closed_s += time.perf_counter() - start
        self.timing.closed_items += len(todo)
        return [done[it.id] for it in items]


def calibrated(
    task: str, items: Sequence[LensItem], closed: Sequence[LensAnswer],
    blind: Sequence[LensAnswer], method: str = "lens-calibrated",
) -> list[LensAnswer]:  # fmt: skip
    """Each item's candidate with the largest log-likelihood gain from the vision text:
    ``log p(a | texts, question) - log p(a | question)``, read from the closed readings with
    and without the texts (the domain-conditional PMI of Holtzman et al. 2021, with the blind
    prompt as the premise). It asks the reasoner nothing: both rankings are stored."""
    blind_by = {a.item: a for a in blind}
    out = []
    for it, lens in zip(items, closed, strict=True):
        with_text = json.loads(lens.reply) if lens.reply else {}
        base = blind_by.get(it.id)
        without = json.loads(base.reply) if base is not None and base.reply else {}
        if not with_text or set(with_text) != set(without):
            raise ValueError(f"item {it.id}: closed rankings without comparable candidate scores")
        gain = {a: with_text[a] - without[a] for a in with_text}
        # ties (and equal gains) go to the candidate the text-conditioned ranking prefers
        pred = max(gain, key=lambda a: (round(gain[a], 9), with_text[a]))
        conf = gain[pred] if math.isfinite(gain[pred]) else 0.0
        out.append(LensAnswer(it.id, method, lens.setting + "-pmi", pred,
                              item_score(task, it, pred), conf, lens.prompt, lens.reply, 0.0))  # fmt: skip
    return out
