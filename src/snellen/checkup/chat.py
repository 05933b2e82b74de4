"""The one place where check-up tasks talk to a model: prompts in, :class:`Reply` out, through
:mod:`snellen.llm` with the run's reply cache, so a rerun makes no repeated call."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from snellen.checkup.jobs import Reply

if TYPE_CHECKING:
    from snellen.checkup.engine import Stage
    from snellen.store import Run


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
    """``(index, Reply)`` for every prompt, as the replies finish."""
    from snellen.llm import ChatRequest

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


def _reply(reply: Any) -> Reply:
    return Reply(
        text=reply.text or "",
        prompt_tokens=int(reply.prompt_tokens or 0),
        completion_tokens=int(reply.completion_tokens or 0),
        seconds=float(getattr(reply, "seconds", 0.0) or 0.0),
        cached=bool(getattr(reply, "cached", False)),
        error=str(getattr(reply, "error", "") or ""),
    )
