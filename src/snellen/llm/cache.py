"""The reply cache: every reply is kept in the run store, keyed by the model, the
conversation, the sampling parameters and the sample index, so asking again costs no call.

The cache lives in the run's database (``Run.cache_get`` / ``Run.cache_put``); writes are
``INSERT OR IGNORE``, so worker threads and processes may fill it at once. Failed requests
are not cached: a rerun tries them again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

from snellen.llm.base import ChatModel, ChatReply, ChatRequest
from snellen.store import Run
from snellen.store.run import content_key


def cache_key(model: ChatModel, request: ChatRequest) -> str:
    """The cache key of ``request`` to ``model`` (the request's ``concept`` is a hint, not
    part of what is asked, so it is left out)."""
    return content_key(
        "chat/1",
        model.cache_identity(),
        request.chat_messages(),
        request.params(),
        request.sample_index,
    )


class CachedModel(ChatModel):
    """``model`` with its replies kept in ``run``'s reply cache.

    ``stats.calls`` counts the calls that reached the model and ``stats.cache_hits`` the
    replies served from the cache.
    """

    def __init__(self, model: ChatModel, run: Run) -> None:
        super().__init__()
        self.model = model
        self.run = run
        self._local = threading.local()
        self.name = model.name
        self.default_concurrency = model.default_concurrency

    def describe(self) -> dict[str, Any]:
        return self.model.describe()

    def cache_identity(self) -> dict[str, Any]:
        return self.model.cache_identity()

    def close(self) -> None:
        self.model.close()

    def _db(self) -> Run:
        # A SQLite connection belongs to the thread that opened it: each thread opens its own
        # on the same run (the caller's may have been opened in yet another thread).
        run = getattr(self._local, "run", None)
        if run is None:
            run = self._local.run = Run(self.run.path)
        return run

    def lookup(self, request: ChatRequest) -> ChatReply | None:
        """The cached reply to ``request``, or None."""
        data = self._db().cache_get(cache_key(self.model, request))
        if data is None:
            return None
        reply = ChatReply.from_dict(data["reply"])
        return ChatReply(**{**reply.to_dict(), "cached": True})

    def store(self, request: ChatRequest, reply: ChatReply) -> None:
        if reply.error:
            return
        self._db().cache_put(
            cache_key(self.model, request),
            self.name,
            {
                "model": self.cache_identity(),
                "messages": request.chat_messages(),
                "params": request.params(),
                "sample_index": request.sample_index,
                "concept": request.concept,
                "reply": {**reply.to_dict(), "cached": False},
            },
        )

    def _chat(self, request: ChatRequest) -> ChatReply:
        hit = self.lookup(request)
        if hit is not None:
            return hit
        reply = self.model.chat(request)
        self.store(request, reply)
        return reply

    def chat_iter(
        self,
        requests: Sequence[ChatRequest],
        *,
        concurrency: int | None = None,
        progress: bool | str = False,
        cache: Run | None = None,
        errors: str = "raise",
    ) -> Iterator[tuple[int, ChatReply]]:
        if cache is not None and cache.path != self.run.path:
            raise ValueError("this model already caches into another run")
        misses: list[tuple[int, ChatRequest]] = []
        hits = 0
        for i, request in enumerate(requests):
            hit = self.lookup(request)
            if hit is None:
                misses.append((i, request))
            else:
                hits += 1
                self.stats.add(hit)
                yield i, hit

        def call(request: ChatRequest) -> ChatReply:
            reply = self.model.chat(request)
            self.store(request, reply)
            return reply

        for i, reply in self._run_all(
            misses, call, concurrency, progress, errors, len(requests), hits
        ):
            self.stats.add(reply)
            yield i, reply
