"""Running drawing jobs: chat requests out, programs extracted, rendered confined, stored.

Replies stream into the render pool as they arrive, so the model and the renderers work at
the same time. Every finished job is one ``drawings`` record written in one transaction,
and every reply is in the run's reply cache first: a run killed at any point and started
again repeats no model call and loses or duplicates no record.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from snellen.checkup.jobs import (
    DRAWINGS,
    Drawing,
    DrawJob,
    GenerationSettings,
    Reply,
    drawing_record,
    no_code_result,
    render_job,
)
from snellen.errors import InputError
from snellen.languages import language, part
from snellen.llm.base import ChatModel, ChatReply, ChatRequest
from snellen.render.base import RenderJob, RenderResult
from snellen.render.extract import ExtractedCode, extract_code
from snellen.store import Run

if TYPE_CHECKING:
    from snellen.render.pool import Backend

log = logging.getLogger(__name__)


class Stage:
    """What a check-up needs from its surroundings: the run, the model, a render backend,
    and the settings shared by every task."""

    def __init__(
        self,
        run: Run,
        model: ChatModel,
        model_name: str,
        backend: Backend,
        gen: GenerationSettings,
        *,
        concurrency: int = 1,
        timeout: float = 20.0,
        progress: bool = True,
        seed: int = 0,
    ) -> None:
        self.run = run
        self.model = model
        self.model_name = model_name
        self.backend = backend
        self.gen = gen
        self.concurrency = concurrency
        self.timeout = timeout
        self.progress = progress
        self.seed = seed
        self.calls = 0  # model calls made in this process (cache misses)
        self.cache_hits = 0
        # Requests that failed for good (after the client's retries): no record is written
        # for them, so running the same command again retries them.
        self.failed: list[tuple[str, str]] = []
        self._failed_lock = threading.Lock()

    def note_failure(self, key: str, error: str) -> None:
        with self._failed_lock:
            self.failed.append((key, error))

    # -- the model ---------------------------------------------------------------------
    def ask(
        self,
        prompts: Sequence[str],
        samples: Sequence[int],
        *,
        concept_ids: Sequence[str | None] | None = None,
        max_tokens: int | None = None,
        desc: str = "ask",
        cache: Run | None = None,
        grammars: Sequence[str | None] | None = None,
    ) -> Iterator[tuple[int, Reply]]:
        """Replies to ``prompts`` as ``(index, reply)``, in the order they finish.
        ``cache`` is the run to cache replies in when called from another thread (a
        database connection belongs to the thread that opened it); ``grammars`` holds a
        GBNF grammar per prompt that constrains its reply (None: free text)."""
        yield from chat_stream(
            self,
            cache or self.run,
            prompts,
            samples,
            concept_ids=concept_ids,
            max_tokens=max_tokens or self.gen.max_tokens,
            desc=desc,
            grammars=grammars,
        )

    # -- drawing -------------------------------------------------------------------------
    def draw(self, jobs: Iterable[DrawJob], *, desc: str = "draw") -> list[Drawing]:
        """Run the drawing jobs that have no record yet; returns the new records (a job
        whose model call failed gets none, see :attr:`failed`)."""
        done = self.run.keys(DRAWINGS)
        todo = [j for j in jobs if j.key not in done]
        if not todo:
            return []
        by_key = {j.key: j for j in todo}
        replies: dict[str, tuple[Reply, ExtractedCode]] = {}
        no_code: list[RenderResult] = []
        lock = threading.Lock()

        asked = [j for j in todo if j.reply is None]

        def take(job: DrawJob, reply: Reply) -> RenderJob | None:
            return self._take(job, reply, replies, no_code, lock)

        def render_jobs() -> Iterator[RenderJob]:
            # Runs in the pool's feeder thread: it may only hand over data, not write the run.
            for job in todo:
                if job.reply is not None and (rj := take(job, job.reply)) is not None:
                    yield rj
            if not asked:
                return
            # the feeder thread's own connection to the run (sqlite's are per thread), closed
            # when the stream ends or the pool stops reading it
            with Run(self.run.path) as cache:
                stream = self.ask(
                    [j.prompt for j in asked],
                    [j.sample for j in asked],
                    concept_ids=[j.concept.description for j in asked],
                    desc=f"{desc}: model",
                    cache=cache,
                    grammars=[_grammar(j) for j in asked],
                )
                for i, reply in stream:
                    if (rj := take(asked[i], reply)) is not None:
                        yield rj

        bar = _bar(self.progress, len(todo), f"{desc}: render")
        failed_before = len(self.failed)
        out: list[Drawing] = []

        def flush() -> None:
            with lock:
                pending, no_code[:] = list(no_code), []
            for result in pending:
                out.append(self._store(by_key[result.id], replies, result))
                if bar is not None:
                    bar.update(1)

        for result in self.backend.map(render_jobs()):
            flush()
            out.append(self._store(by_key[result.id], replies, result))
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(result.status.value)
        flush()
        if bar is not None:
            bar.update(len(self.failed) - failed_before)
            bar.close()
        return out

    def _take(
        self, job: DrawJob, reply: Reply, replies: dict[str, tuple[Reply, ExtractedCode]],
        no_code: list[RenderResult], lock: threading.Lock,
    ) -> RenderJob | None:  # fmt: skip
        """The render job for a reply's program; None for a failed request (noted) or a
        reply without a program (its result queued in ``no_code``)."""
        if job.code is not None:
            found = ExtractedCode(job.code, job.language, "given", 0)
        else:
            found = extract_code(reply.text, job.language)
        if reply.error:
            self.note_failure(job.key, reply.error)
            return None
        with lock:
            replies[job.key] = (reply, found)
        if found.code and found.code.strip():
            return render_job(job, found.code, self.timeout, fallbacks=found.alternatives)
        with lock:
            no_code.append(no_code_result(job, f"no program in the reply ({found.method})"))
        return None

    def _store(
        self,
        job: DrawJob,
        replies: dict[str, tuple[Reply, ExtractedCode]],
        result: RenderResult,
    ) -> Drawing:
        reply, found = replies[job.key]
        arts = self.run.artifacts
        reply_ref = arts.put(reply.text.encode(), ".txt")
        code = found.code_of(result.assembly)  # the program that was rendered
        program_ref = arts.put(code.encode(), language(job.language).suffix) if code else None
        image = result.square_png or result.png
        image_ref = arts.put(image, ".png") if image is not None else None
        record = drawing_record(
            job, reply, found, result, image_ref=image_ref, program_ref=program_ref,
            reply_ref=reply_ref,
        )  # fmt: skip
        self.run.put_record(record)
        return record


def _grammar(job: DrawJob) -> str | None:
    if job.constraint == "none":
        return None
    make = part(job.language, "grammar")  # the language's record says where its grammar is
    if make is None:
        raise InputError(
            f"language {job.language!r} has no drawing grammar; use --constrain none for it"
        )
    text: str = make()
    return text


def _bar(progress: bool, total: int, desc: str) -> Any:
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="job", mininterval=0.5, leave=True)


# -- talking to the model -------------------------------------------------------------
def chat_stream(
    stage: Stage,
    cache: Run,
    prompts: Sequence[str],
    samples: Sequence[int],
    *,
    concept_ids: Sequence[str | None] | None,
    max_tokens: int,
    desc: str,
    grammars: Sequence[str | None] | None = None,
) -> Iterator[tuple[int, Reply]]:
    """``(index, Reply)`` for every prompt, as the replies finish; ``grammars`` holds a GBNF
    grammar per prompt that constrains its reply (None: free text)."""
    requests = [
        ChatRequest(
            prompt=p,
            max_tokens=max_tokens,
            temperature=stage.gen.temperature,
            top_p=stage.gen.top_p,
            seed=stage.seed,
            sample_index=s,
            concept=(concept_ids[i] if concept_ids else None),
            grammar=(grammars[i] if grammars else None),
        )
        for i, (p, s) in enumerate(zip(prompts, samples, strict=True))
    ]
    for i, reply in stage.model.chat_iter(
        requests,
        concurrency=stage.concurrency,
        cache=cache,
        progress=desc if stage.progress else False,
        errors="reply",
    ):
        out = _reply(reply)
        if out.cached:
            stage.cache_hits += 1
        else:
            stage.calls += 1
        yield i, out


def _reply(reply: ChatReply) -> Reply:
    return Reply(
        text=reply.text or "",
        prompt_tokens=int(reply.prompt_tokens or 0),
        completion_tokens=int(reply.completion_tokens or 0),
        seconds=float(getattr(reply, "seconds", 0.0) or 0.0),
        cached=bool(getattr(reply, "cached", False)),
        error=str(getattr(reply, "error", "") or ""),
    )
