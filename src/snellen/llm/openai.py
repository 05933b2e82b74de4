"""``openai:MODEL``: any OpenAI-compatible chat completions endpoint (OpenAI, vLLM, Ollama,
the llama.cpp server, ``snellen serve``).

The endpoint is ``base_url=`` or ``SNELLEN_BASE_URL`` / ``OPENAI_BASE_URL`` (default:
OpenAI's own); the key is ``api_key=`` or ``SNELLEN_API_KEY`` / ``OPENAI_API_KEY`` (a local
server usually needs none).

What a remote model does wrong is handled here: at most ``concurrency`` requests are in
flight; ``timeout`` bounds each whole request; a request that times out, loses its
connection, gets a 429 or 5xx status, or gets a body that is not a chat completion is
retried with exponential backoff and full jitter (a ``Retry-After`` header is obeyed); 400,
401, 403 and 404 are not retried, and their message says what to fix. An endpoint where no
connection can be made, and which has never answered, is a configuration error once the
retries are spent.
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from snellen.llm.base import (
    ChatModel,
    ChatReply,
    ChatRequest,
    LLMConfigError,
    LLMError,
    timed_reply,
)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
UNREACHABLE_RETRIES = 2  # for an endpoint that never answered and refuses connections
MAX_RETRY_AFTER = 300.0  # seconds; a server asking for longer is treated as down


@dataclass(frozen=True)
class RetryEvent:
    """One failed attempt that was retried: why, and how long the client waited."""

    attempt: int
    reason: str
    delay: float


class _Retry(Exception):
    def __init__(
        self, reason: str, retry_after: float | None = None, *, unreachable: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        # No connection could be made at all (refused, unknown host): the endpoint is wrong
        # or down, not busy.
        self.unreachable = unreachable


def _env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def parse_retry_after(headers: httpx.Headers) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class OpenAIChat(ChatModel):
    """A client of one model behind an OpenAI-compatible ``/chat/completions`` endpoint."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 6,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        concurrency: int = 8,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        if not model:
            raise LLMConfigError("name a model after 'openai:', e.g. openai:gpt-4o-mini")
        self.model = model
        self.name = f"openai:{model}"
        url = base_url or _env("SNELLEN_BASE_URL", "OPENAI_BASE_URL") or DEFAULT_BASE_URL
        self.base_url = url.rstrip("/")
        self.api_key = api_key or _env("SNELLEN_API_KEY", "OPENAI_API_KEY")
        if self.base_url == DEFAULT_BASE_URL and not self.api_key:
            raise LLMConfigError(
                f"{self.name}: no API key; set OPENAI_API_KEY (or SNELLEN_API_KEY), or point "
                "--base-url / OPENAI_BASE_URL at your own OpenAI-compatible server"
            )
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self.concurrency = max(1, int(concurrency))
        self.default_concurrency = self.concurrency
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._events: list[RetryEvent] = []
        self._events_lock = threading.Lock()
        self._rng = random.Random()  # noqa: S311 - seeded sampling for reproducible data, not security
        self._answered = False  # has this endpoint ever sent an HTTP response?
        auth = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        self._client = httpx.Client(
            timeout=httpx.Timeout(self.timeout, connect=min(10.0, self.timeout)),
            headers={**auth, **(headers or {})},
            limits=httpx.Limits(
                max_connections=self.concurrency, max_keepalive_connections=self.concurrency
            ),
        )

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}/chat/completions"

    @property
    def retry_events(self) -> list[RetryEvent]:
        """Every retried attempt so far (for logs and tests)."""
        with self._events_lock:
            return list(self._events)

    def describe(self) -> dict[str, Any]:
        return {
            "backend": "openai",
            "model": self.model,
            "base_url": self.base_url,
            "runtime": {
                "timeout": self.timeout,
                "max_retries": self.max_retries,
                "concurrency": self.concurrency,
            },
        }

    def close(self) -> None:
        self._client.close()

    # -- one request -------------------------------------------------------------------
    def body(self, request: ChatRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": request.wire_messages(),
            "temperature": request.temperature,
            "top_p": request.top_p,
            "max_tokens": request.max_tokens,
        }
        if request.seed is not None:
            body["seed"] = request.effective_seed()
        if request.stop:
            body["stop"] = list(request.stop)
        return body

    def _chat(self, request: ChatRequest) -> ChatReply:
        if not request.images:
            return self._chat_text(request)
        try:
            return self._chat_text(request)
        except LLMConfigError:
            raise
        except LLMError as exc:
            # A text-only model or server refuses image parts (HTTP 400/415/422/500 with a
            # message about images or content types): every other request would fail alike.
            raise LLMConfigError(
                f"{self.name} at {self.endpoint} refused a request with an image ({exc}). "
                "The judge needs a vision model behind an OpenAI-compatible endpoint that "
                "accepts image_url message parts (e.g. openai:gpt-4o, or a server started "
                "with a vision model and its projector)"
            ) from None

    def _chat_text(self, request: ChatRequest) -> ChatReply:
        body = self.body(request)
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                with self._slots:
                    data = self._post(body)
                return self._reply(request, data, started)
            except _Retry as exc:
                # An endpoint that has never answered and refuses connections is most likely
                # a wrong URL or a server not started: say so in seconds, not minutes.
                fresh = exc.unreachable and not self._answered
                if attempt >= (
                    min(self.max_retries, UNREACHABLE_RETRIES) if fresh else self.max_retries
                ):
                    raise self._give_up(attempt + 1, exc) from None
                delay = self._delay(attempt, exc.retry_after)
                with self._events_lock:
                    self._events.append(RetryEvent(attempt + 1, exc.reason, delay))
                self.stats.add_retry()
                time.sleep(delay)
                attempt += 1

    def _give_up(self, attempts: int, exc: _Retry) -> LLMError:
        where = f"{self.name} at {self.endpoint}: gave up after {attempts} attempts; last: "
        if exc.unreachable and not self._answered:
            # Nothing here has ever answered: every other request would fail the same way,
            # so stop the batch (a configuration error) instead of failing each in turn.
            return LLMConfigError(
                f"{where}{exc.reason}. Nothing answers at {self.base_url}: start the server, "
                "or point --base-url (or OPENAI_BASE_URL / SNELLEN_BASE_URL) at a running "
                "OpenAI-compatible endpoint"
            )
        return LLMError(f"{where}{exc.reason}. Try again later, or lower --concurrency")

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            if retry_after > MAX_RETRY_AFTER:
                raise LLMError(
                    f"{self.name} at {self.endpoint}: the server asks to wait {retry_after:.0f} s "
                    "before retrying; try again later"
                )
            return retry_after
        # Full jitter: many clients that failed together do not retry together.
        return self._rng.uniform(0, min(self.max_backoff, self.backoff * 2**attempt))

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        try:
            # Streamed, so the timeout bounds the whole request: httpx's own timeouts bound
            # each read, and a server trickling bytes would never trip them.
            with self._client.stream("POST", self.endpoint, json=body) as response:
                content = _read_until(response, deadline)
        except httpx.TimeoutException as exc:
            raise _Retry(f"timed out after {self.timeout:g} s ({type(exc).__name__})") from exc
        except httpx.ConnectError as exc:
            raise _Retry(f"cannot connect ({exc})", unreachable=True) from exc
        except httpx.TransportError as exc:
            raise _Retry(f"connection failed ({type(exc).__name__}: {exc})") from exc
        except _Deadline:
            raise _Retry(
                f"timed out after {self.timeout:g} s (the reply was still arriving)"
            ) from None
        self._answered = True
        status = response.status_code
        if status in RETRY_STATUS or status >= 500:
            raise _Retry(
                f"HTTP {status}: {_server_message(response, content)}",
                parse_retry_after(response.headers),
            )
        if status >= 400:
            raise self._fatal(status, _server_message(response, content))
        try:
            data = json.loads(content)
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
            raise _Retry(f"the reply is not JSON ({exc}): {_head(content)!r}") from exc
        if not isinstance(data, dict) or not _has_message(data):
            raise _Retry(f"the reply is not a chat completion: {_head(content)!r}")
        return data

    def _fatal(self, status: int, detail: str) -> LLMError:
        where = f"{self.name} at {self.endpoint}"
        if status in (401, 403):
            return LLMConfigError(
                f"{where}: HTTP {status} (not authorised: {detail}); set a valid key in "
                "OPENAI_API_KEY or SNELLEN_API_KEY (or pass api_key=)"
            )
        if status == 404:
            return LLMConfigError(
                f"{where}: HTTP 404 ({detail}); check the model name (the server's "
                f"{self.base_url}/models lists them) and that the base URL ends in /v1"
            )
        return LLMError(
            f"{where}: HTTP {status}, the server refused this request: {detail}. "
            "Check the prompt length and the sampling parameters"
        )

    def _reply(self, request: ChatRequest, data: dict[str, Any], started: float) -> ChatReply:
        choice = data["choices"][0]
        usage = data.get("usage") or {}
        return timed_reply(
            str(data.get("model") or self.model), request,
            choice["message"].get("content") or "", started,
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            finish_reason=choice.get("finish_reason"),
        )  # fmt: skip


def _has_message(data: dict[str, Any]) -> bool:
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return False
    message = choices[0].get("message")
    return isinstance(message, dict) and isinstance(message.get("content", ""), str | None)


class _Deadline(Exception):
    """The whole request took longer than the client's timeout."""


def _read_until(response: httpx.Response, deadline: float) -> bytes:
    chunks: list[bytes] = []
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise _Deadline
    return b"".join(chunks)


def _head(content: bytes, n: int = 120) -> str:
    return content[:n].decode("utf-8", "replace")


def _server_message(response: httpx.Response, content: bytes) -> str:
    try:
        data = json.loads(content)
    except ValueError:
        return _head(content, 200).strip() or response.reason_phrase
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])[:300]
        if isinstance(err, str):
            return err[:300]
    return str(data)[:200]


def load(
    model: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    timeout: float = 120.0,
    max_retries: int = 6,
    backoff: float = 1.0,
    max_backoff: float = 60.0,
    concurrency: int = 8,
    headers: dict[str, str] | None = None,
) -> OpenAIChat:
    """Load ``openai:MODEL``; options as for :class:`OpenAIChat`."""
    return OpenAIChat(
        model, base_url=base_url, api_key=api_key, timeout=timeout, max_retries=max_retries,
        backoff=backoff, max_backoff=max_backoff, concurrency=concurrency, headers=headers,
    )  # fmt: skip
