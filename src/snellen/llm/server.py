"""An OpenAI-compatible chat completions server for any snellen model.

``snellen serve MODEL`` puts a local model (the embedded one, ``gguf:``, ``hf:``, even a
``replay:`` file) behind the same HTTP API as vLLM or the llama.cpp server, so any
OpenAI-style client can use it. Endpoints:

- ``POST /v1/chat/completions`` (no streaming; ``n`` must be 1)
- ``GET /v1/models``
- ``GET /health``

Requests are answered by a thread each; the model answers one at a time. A request's
``seed`` is the seed the model samples with (so a client sending
:meth:`ChatRequest.effective_seed` gets the reply the model gives in process); a request
without one gets a random seed. With ``api_key`` set, requests need
``Authorization: Bearer KEY``.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from snellen.llm.base import ChatModel, ChatRequest, LLMConfigError, LLMError

log = logging.getLogger(__name__)


class ChatServer(ThreadingHTTPServer):
    """The HTTP server; ``served_names`` are the model names requests may ask for."""

    daemon_threads = True

    def __init__(
        self,
        model: ChatModel,
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        served_names: list[str] | None = None,
        api_key: str | None = None,
    ) -> None:
        self.model = model
        self.served_names = served_names or [model.name]
        self.api_key = api_key
        self.requests_served = 0
        self._count_lock = threading.Lock()
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def count(self) -> None:
        with self._count_lock:
            self.requests_served += 1


def _error(status: int, message: str, kind: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"message": message, "type": kind, "code": status}}


class _Handler(BaseHTTPRequestHandler):
    server: ChatServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _authorised(self) -> bool:
        key = self.server.api_key
        if not key:
            return True
        return self.headers.get("Authorization", "") == f"Bearer {key}"

    def do_GET(self) -> None:
        path = self.path.split("?")[0].rstrip("/")
        if path == "/health":
            self._send(200, {"status": "ok"})
        elif path == "/v1/models":
            if not self._authorised():
                self._send(*_error(401, "invalid API key", "authentication_error"))
                return
            now = int(time.time())
            data = [
                {"id": n, "object": "model", "created": now, "owned_by": "snellen"}
                for n in self.server.served_names
            ]
            self._send(200, {"object": "list", "data": data})
        else:
            self._send(*_error(404, f"no route {self.path}", "not_found_error"))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path.split("?")[0].rstrip("/") != "/v1/chat/completions":
            self._send(*_error(404, f"no route {self.path}", "not_found_error"))
            return
        if not self._authorised():
            self._send(*_error(401, "invalid API key", "authentication_error"))
            return
        self.server.count()
        self._send(*self._complete(raw))

    def _complete(self, raw: bytes) -> tuple[int, dict[str, Any]]:
        try:
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("the body is not a JSON object")
        except ValueError as exc:
            return _error(400, f"malformed JSON body: {exc}", "invalid_request_error")
        name = body.get("model")
        if name not in self.server.served_names:
            return _error(
                404,
                f"The model `{name}` does not exist; this server serves "
                f"{', '.join(self.server.served_names)}",
                "not_found_error",
            )
        if body.get("stream"):
            return _error(
                400, "streaming is not supported; send stream=false", "invalid_request_error"
            )
        if int(body.get("n") or 1) != 1:
            return _error(
                400, "only n=1 is supported; send one request per sample", "invalid_request_error"
            )
        stop = body.get("stop")
        try:
            request = ChatRequest(
                messages=list(body.get("messages") or []),
                temperature=float(body.get("temperature", 1.0)),
                top_p=float(body.get("top_p", 1.0)),
                max_tokens=int(body.get("max_tokens") or body.get("max_completion_tokens") or 256),
                # Without a seed, each request samples anew (as OpenAI's API does); a local
                # model would otherwise give every unseeded request the same reply.
                seed=(random.randrange(2**31) if body.get("seed") is None else int(body["seed"])),  # noqa: S311 - seeded sampling for reproducible data, not security
                stop=[stop] if isinstance(stop, str) else stop,
            )
            if not request.chat_messages():
                raise ValueError("messages is empty")
        except (TypeError, ValueError, KeyError) as exc:
            return _error(400, f"bad request: {exc}", "invalid_request_error")
        try:
            reply = self.server.model.chat(request)
        except LLMConfigError as exc:
            return _error(500, str(exc), "server_error")
        except LLMError as exc:
            return _error(400, str(exc), "invalid_request_error")
        return 200, {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": name,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.text},
                    "finish_reason": reply.finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": reply.prompt_tokens,
                "completion_tokens": reply.completion_tokens,
                "total_tokens": reply.prompt_tokens + reply.completion_tokens,
            },
        }


def serve(
    model: ChatModel | str,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    served_names: list[str] | None = None,
    api_key: str | None = None,
    ready: Any = None,
) -> None:
    """Serve ``model`` (a model or a model name) until interrupted. ``ready``, if given, is
    called with the server once it listens."""
    if isinstance(model, str):
        from snellen.llm.registry import load_model

        names = served_names or [model]
        model = load_model(model)
    else:
        names = served_names or [model.name]
    server = ChatServer(model, host, port, served_names=names, api_key=api_key)
    if ready is not None:
        ready(server)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        model.close()
