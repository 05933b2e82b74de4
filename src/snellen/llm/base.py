"""The records and the interface every chat model shares.

A :class:`ChatRequest` goes in, a :class:`ChatReply` comes out; both are plain picklable
records. A backend subclasses :class:`ChatModel` and implements only :meth:`ChatModel._chat`
(one request, blocking) and :meth:`ChatModel.describe`; batching, concurrency, progress bars,
error handling and the reply cache are shared here.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from typing import Any

from snellen.errors import SnellenError
from snellen.store import Run
from snellen.store.run import content_key

ROLES = ("system", "user", "assistant")


class LLMError(SnellenError):
    """A model could not answer one request (after retries); other requests may still work."""


class LLMConfigError(LLMError):
    """No request to this model can work as configured (bad key, unknown model or endpoint,
    missing file): stop, and fix the setting the message names."""


@dataclass(frozen=True)
class ChatRequest:
    """One chat completion to ask for.

    Give either ``messages`` (``[{"role": ..., "content": ...}, ...]``) or ``prompt`` (a
    single user message). ``sample_index`` numbers repeated samples of the same request: it
    is part of the cache key, and local models derive a distinct seed from it. ``concept``
    names what the prompt is about; it is not sent to a model, but lets a replayed
    transcript answer a prompt worded differently from the recorded one. ``grammar`` (GBNF
    text) asks a local model to keep its reply inside that grammar (see
    :mod:`snellen.llm.grammar`); only local engines can (``ChatModel.supports_grammar``).
    """

    messages: tuple[dict[str, str], ...] | list[dict[str, str]] | None = None
    prompt: str | None = None
    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 256
    seed: int | None = None
    stop: tuple[str, ...] | list[str] | None = None
    sample_index: int = 0
    concept: str | None = None
    grammar: str | None = None
    #: images (``data:image/png;base64,...`` URLs) attached to the last user message, sent
    #: in the OpenAI chat format's ``image_url`` parts (a VLM judge shows a drawing this way)
    images: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.messages is None) == (self.prompt is None):
            raise ValueError("a ChatRequest needs exactly one of messages= or prompt=")
        for m in self.chat_messages():
            if m.get("role") not in ROLES or not isinstance(m.get("content"), str):
                raise ValueError(
                    f"bad chat message {m!r}: each needs role in {ROLES} and a string content"
                )
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, not {self.max_tokens}")
        if self.sample_index < 0:
            raise ValueError(f"sample_index must be 0 or more, not {self.sample_index}")

    def chat_messages(self) -> list[dict[str, str]]:
        """The conversation as a list of ``{"role", "content"}`` dicts."""
        if self.messages is not None:
            return [{"role": m["role"], "content": m["content"]} for m in self.messages]
        return [{"role": "user", "content": str(self.prompt)}]

    def wire_messages(self) -> list[dict[str, Any]]:
        """The conversation as an OpenAI-compatible server takes it: :meth:`chat_messages`,
        with the :attr:`images` as ``image_url`` parts after the last user message's text."""
        messages: list[dict[str, Any]] = list(self.chat_messages())
        if not self.images:
            return messages
        last = max(i for i, m in enumerate(messages) if m["role"] == "user")
        parts: list[dict[str, Any]] = [{"type": "text", "text": messages[last]["content"]}]
        parts += [{"type": "image_url", "image_url": {"url": url}} for url in self.images]
        messages[last] = {"role": "user", "content": parts}
        return messages

    def last_user_message(self) -> str:
        for m in reversed(self.chat_messages()):
            if m["role"] == "user":
                return m["content"]
        return ""

    def params(self) -> dict[str, Any]:
        """The sampling parameters (part of the cache key; a grammar enters it only when
        one is set, so unconstrained requests keep their keys)."""
        out: dict[str, Any] = {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
            "stop": list(self.stop) if self.stop else None,
        }
        if self.grammar:
            out["grammar"] = "sha256:" + hashlib.sha256(self.grammar.encode()).hexdigest()
        if self.images:  # as the grammar: only requests with images carry it
            out["images"] = [
                "sha256:" + hashlib.sha256(u.encode()).hexdigest() for u in self.images
            ]
        return out

    def effective_seed(self) -> int:
        """A seed for local sampling: fixed by ``seed`` (0 when unset) and ``sample_index``,
        so the K samples of one prompt differ from each other and are each reproducible."""
        base = 0 if self.seed is None else int(self.seed)
        if self.sample_index == 0:
            return base % 2**31
        digest = hashlib.sha256(f"{base}/{self.sample_index}".encode()).digest()
        return int.from_bytes(digest[:4], "little") % 2**31


@dataclass(frozen=True)
class ChatReply:
    """A model's answer to one :class:`ChatRequest`.

    ``tokens_estimated`` is True when the backend reported no token counts and they were
    estimated from the text. ``error`` is set (and ``text`` empty) only for replies that
    ``chat_many(..., errors="reply")`` returns in place of a failed request.
    """

    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    cached: bool = False
    finish_reason: str = "stop"
    tokens_estimated: bool = False
    sample_index: int = 0
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChatReply:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})


def estimate_tokens(text: str) -> int:
    """A rough token count (about four characters per token) for backends that report none."""
    return max(1, math.ceil(len(text) / 4)) if text else 0


@dataclass
class CallStats:
    """What a model did in this process: calls made, cache hits, retries, tokens."""

    calls: int = 0
    cache_hits: int = 0
    retries: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, reply: ChatReply) -> None:
        with self._lock:
            if reply.cached:
                self.cache_hits += 1
                return
            self.calls += 1
            self.prompt_tokens += reply.prompt_tokens
            self.completion_tokens += reply.completion_tokens
            self.seconds += reply.seconds

    def add_failure(self) -> None:
        with self._lock:
            self.calls += 1
            self.failures += 1

    def add_retry(self) -> None:
        with self._lock:
            self.retries += 1

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}

    def __getstate__(self) -> dict[str, Any]:
        return self.to_dict()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]


class ChatModel:
    """A chat model. Subclasses implement :meth:`_chat` and :meth:`describe`.

    ``default_concurrency`` is how many requests :meth:`chat_many` runs at once when the
    caller gives no limit: 1 for local models (one process computes one reply at a time),
    more for remote endpoints. ``default_max_tokens`` is the reply limit the model suggests
    when the caller sets none.
    """

    name: str = "model"
    default_concurrency: int = 1
    # The reply limit a caller should use when it sets none (None: the caller's own default).
    # A small local model states a short one: it rarely stops by itself and every token
    # costs CPU time.
    default_max_tokens: int | None = None
    supports_grammar: bool = False  # honours ChatRequest.grammar
    # Requests one call of :meth:`_chat_batch` answers together when :meth:`chat_many` runs
    # one request at a time (an engine that batches generation sets it above 1).
    batch_size: int = 1
    supports_ranking: bool = False  # implements :meth:`rank`

    def __init__(self) -> None:
        self.stats = CallStats()

    # -- what a backend implements -------------------------------------------------------
    def _chat(self, request: ChatRequest) -> ChatReply:
        raise NotImplementedError

    def _chat_batch(self, requests: Sequence[ChatRequest]) -> list[ChatReply]:
        """Answer several requests in one go; engines that batch generation override it."""
        return [self._chat(r) for r in requests]

    def rank(self, request: ChatRequest, candidates: Sequence[str]) -> list[float]:
        """The log-likelihood of each candidate as the whole reply to ``request`` (the sum
        over its tokens, as lm-evaluation-harness scores multiple choice)."""
        raise LLMConfigError(
            f"{self.name}: this engine cannot score candidate answers; use a local model "
            "(gguf:, smollm2 or hf:) for closed answers"
        )

    def describe(self) -> dict[str, Any]:
        """What identifies this model, for the run manifest and the cache key: backend,
        model id, revision or file fingerprint, and the settings that change replies."""
        raise NotImplementedError

    def cache_identity(self) -> dict[str, Any]:
        """The part of :meth:`describe` that changes replies: all but ``"runtime"`` (where the
        files are, threads, timeouts, retries), so a cache survives a move to another machine."""
        return {k: v for k, v in self.describe().items() if k != "runtime"}

    def close(self) -> None:
        """Release what the model holds (connections, memory)."""

    # -- shared ------------------------------------------------------------------------
    def chat_batch(self, requests: Sequence[ChatRequest]) -> list[ChatReply]:
        """Answer ``requests`` together (:meth:`_chat_batch`); raises :class:`LLMError`."""
        try:
            replies = self._chat_batch(requests)
        except LLMError:
            self.stats.add_failure()
            raise
        for reply in replies:
            self.stats.add(reply)
        return replies

    def chat(self, request: ChatRequest) -> ChatReply:
        """Answer one request; raises :class:`LLMError` when it cannot."""
        try:
            reply = self._chat(request)
        except LLMError:
            self.stats.add_failure()
            raise
        self.stats.add(reply)
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
        """Answer ``requests`` as ``(index, reply)`` pairs in the order they finish.

        At most ``concurrency`` requests are in flight. With ``cache`` (a run), replies
        already in the run's cache are returned first without a call, and new ones are
        stored as they arrive, so a rerun costs no calls. ``errors="raise"`` stops at the
        first failed request; ``errors="reply"`` returns a reply with ``error`` set in its
        place (a :class:`LLMConfigError`, which no request can avoid, is always raised).
        """
        if errors not in ("raise", "reply"):
            raise ValueError(f"errors must be 'raise' or 'reply', not {errors!r}")
        if cache is not None:
            yield from CachedModel(self, cache).chat_iter(
                requests, concurrency=concurrency, progress=progress, errors=errors
            )
            return
        yield from self._run_all(
            list(enumerate(requests)), self.chat, concurrency, progress, errors, len(requests),
            batch_call=self.chat_batch,
        )  # fmt: skip

    def chat_many(
        self,
        requests: Sequence[ChatRequest],
        *,
        concurrency: int | None = None,
        progress: bool | str = False,
        cache: Run | None = None,
        errors: str = "raise",
    ) -> list[ChatReply]:
        """Answer ``requests``; the replies come back in the order of the requests.
        Arguments as for :meth:`chat_iter`."""
        out: list[ChatReply | None] = [None] * len(requests)
        for i, reply in self.chat_iter(
            requests, concurrency=concurrency, progress=progress, cache=cache, errors=errors
        ):
            out[i] = reply
        return [r for r in out if r is not None]

    def _run_all(
        self,
        items: list[tuple[int, ChatRequest]],
        call: Any,
        concurrency: int | None,
        progress: bool | str,
        errors: str,
        total: int,
        done: int = 0,
        batch_call: Any = None,
    ) -> Iterator[tuple[int, ChatReply]]:
        limit = max(1, int(concurrency or self.default_concurrency))
        bar = _progress_bar(progress, total, self.name, done)
        if limit == 1 and batch_call is not None and self.batch_size > 1:
            try:
                yield from self._run_batches(items, call, batch_call, errors, bar)
            finally:
                if bar is not None:
                    bar.close()
            return

        def one(request: ChatRequest) -> ChatReply:
            try:
                return call(request)
            except LLMConfigError:
                raise
            except LLMError as exc:
                if errors == "raise":
                    raise
                return failed_reply(self.name, request, str(exc))

        try:
            if limit == 1:
                for i, request in items:
                    reply = one(request)
                    if bar is not None:
                        bar.update(1)
                    yield i, reply
                return
            yield from _run_threaded(items, one, limit, bar)
        finally:
            if bar is not None:
                bar.close()

    def _run_batches(
        self, items: list[tuple[int, ChatRequest]], call: Any, batch_call: Any, errors: str,
        bar: Any,
    ) -> Iterator[tuple[int, ChatReply]]:  # fmt: skip
        """Requests in batches of :attr:`batch_size`; a failed batch is retried one request
        at a time, so one bad request fails alone."""
        for start in range(0, len(items), self.batch_size):
            chunk = items[start : start + self.batch_size]
            try:
                replies = batch_call([r for _, r in chunk])
            except LLMConfigError:
                raise
            except LLMError:
                replies = []
                for _, request in chunk:
                    try:
                        replies.append(call(request))
                    except LLMConfigError:
                        raise
                    except LLMError as exc:
                        if errors == "raise":
                            raise
                        replies.append(failed_reply(self.name, request, str(exc)))
            for (i, _), reply in zip(chunk, replies, strict=True):
                if bar is not None:
                    bar.update(1)
                yield i, reply

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


def _run_threaded(
    items: list[tuple[int, ChatRequest]], one: Any, limit: int, bar: Any
) -> Iterator[tuple[int, ChatReply]]:
    """Requests on ``limit`` threads, each reply yielded as it comes; at most ``limit`` are in
    flight, and the rest are cancelled when the caller stops early."""
    pending: dict[Future[ChatReply], int] = {}
    queue = iter(items)
    with ThreadPoolExecutor(max_workers=limit, thread_name_prefix="snellen-llm") as pool:
        try:
            for i, request in _take(queue, limit):
                pending[pool.submit(one, request)] = i
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    i = pending.pop(fut)
                    reply = fut.result()
                    for j, request in _take(queue, 1):
                        pending[pool.submit(one, request)] = j
                    if bar is not None:
                        bar.update(1)
                    yield i, reply
        finally:
            for fut in pending:
                fut.cancel()


def failed_reply(model: str, request: ChatRequest, why: str) -> ChatReply:
    return ChatReply(
        text="",
        model=model,
        finish_reason="error",
        sample_index=request.sample_index,
        error=why,
    )


def timed_reply(
    model: str,
    request: ChatRequest,
    text: str,
    started: float,
    *,
    prompt_tokens: int | None,
    completion_tokens: int | None,
    finish_reason: str | None,
) -> ChatReply:
    """A reply with token counts from the backend, or estimated (and flagged) when missing."""
    estimated = prompt_tokens is None or completion_tokens is None
    if prompt_tokens is None:
        prompt_tokens = sum(estimate_tokens(m["content"]) for m in request.chat_messages())
    if completion_tokens is None:
        completion_tokens = estimate_tokens(text)
    return ChatReply(
        text=text,
        model=model,
        prompt_tokens=int(prompt_tokens),
        completion_tokens=int(completion_tokens),
        seconds=time.monotonic() - started,
        finish_reason=finish_reason or "stop",
        tokens_estimated=estimated,
        sample_index=request.sample_index,
    )


def _take(it: Iterator[Any], n: int) -> Iterable[Any]:
    for _ in range(n):
        try:
            yield next(it)
        except StopIteration:
            return


def _progress_bar(progress: bool | str, total: int, name: str, done: int = 0) -> Any:
    if not progress or total == 0:
        return None
    from tqdm import tqdm

    desc = progress if isinstance(progress, str) else name
    return tqdm(total=total, initial=done, desc=desc, unit="reply", leave=False)


# -- the reply cache (kept here: a cached model is a ChatModel, and every model can cache) --
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
        self.batch_size = model.batch_size
        self.supports_ranking = model.supports_ranking

    def describe(self) -> dict[str, Any]:
        return self.model.describe()

    def cache_identity(self) -> dict[str, Any]:
        return self.model.cache_identity()

    def close(self) -> None:
        self.model.close()

    def rank(self, request: ChatRequest, candidates: Sequence[str]) -> list[float]:
        return self.model.rank(request, candidates)

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

        def batch_call(batch: Sequence[ChatRequest]) -> list[ChatReply]:
            replies = self.model.chat_batch(batch)
            for request, reply in zip(batch, replies, strict=True):
                self.store(request, reply)
            return replies

        for i, reply in self._run_all(
            misses, call, concurrency, progress, errors, len(requests), hits, batch_call
        ):
            self.stats.add(reply)
            yield i, reply
