"""Local models run out of process, like the renderers: a native crash, an OOM kill or a hang
in the inference engine becomes an :class:`LLMError` for that one request, the worker is
restarted, and the run carries on (and resumes) like after any other failed request.

:class:`IsolatedChat` starts a child process that builds the model with a picklable factory
(``"module:function"`` plus its arguments), then forwards each :class:`ChatRequest` over a
pipe and receives the :class:`ChatReply`. The parent never loads the model itself.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

from snellen.llm.base import ChatModel, ChatReply, ChatRequest, LLMConfigError, LLMError
from snellen.registry import import_target

log = logging.getLogger(__name__)

# Loading a model can take minutes (a first GGUF de-quantisation); a reply gets a base
# allowance plus a generous time per token (a slow CPU engine makes ~10 tokens/s).
START_SECONDS = 900.0
BASE_SECONDS = 120.0
SECONDS_PER_TOKEN = 1.0


def _build(factory: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> ChatModel:
    build = import_target(factory)  # "module:function", as every lazy registry entry
    model = build(*args, **kwargs)  # type: ignore[operator]
    if not isinstance(model, ChatModel):
        raise TypeError(f"{factory} made a {type(model).__name__}, not a ChatModel")
    return model


def _serve(conn: Connection) -> None:
    """The child: build the model, say hello, then answer requests until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    factory, args, kwargs, path = conn.recv()
    sys.path[:] = path + [p for p in sys.path if p not in path]
    try:
        model = _build(factory, args, kwargs)
    except Exception as exc:  # noqa: BLE001 - every failure goes back to the parent
        conn.send(
            ("error", isinstance(exc, LLMConfigError) or not isinstance(exc, LLMError), str(exc))
        )
        return
    conn.send(
        (
            "ready",
            {
                "name": model.name,
                "describe": model.describe(),
                "default_max_tokens": model.default_max_tokens,
                "default_concurrency": model.default_concurrency,
                "supports_grammar": model.supports_grammar,
                "supports_ranking": model.supports_ranking,
                "batch_size": model.batch_size,
            },
        )
    )
    while True:
        try:
            message = conn.recv()
        except EOFError:
            break
        if message[0] == "stop":
            break
        try:
            reply = _answer(model, message)
        except LLMConfigError as exc:
            conn.send(("error", True, str(exc)))
        except Exception as exc:  # noqa: BLE001
            text = str(exc) if isinstance(exc, LLMError) else f"{type(exc).__name__}: {exc}"
            conn.send(("error", False, text))
        else:
            conn.send(("reply", reply))
    model.close()


def _answer(model: ChatModel, message: tuple[Any, ...]) -> Any:
    if message[0] == "batch":
        return model._chat_batch(message[1])
    if message[0] == "rank":
        return model.rank(message[1], message[2])
    return model._chat(message[1])


class IsolatedChat(ChatModel):
    """A chat model that lives in a child process and is restarted when it dies.

    ``factory`` is ``"module:function"``; ``args`` and ``kwargs`` must pickle. ``timeout``
    (seconds per request) defaults to a base allowance plus one second per reply token.
    ``env`` adds variables to the worker's environment (set before any library loads there:
    the OpenMP wait policy, see :mod:`snellen.llm.cpu`).
    """

    def __init__(
        self,
        factory: str,
        *args: Any,
        timeout: float | None = None,
        env: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self._env = dict(env or {})
        self._factory = factory
        self._args = args
        self._kwargs = kwargs
        self.timeout = timeout
        self.restarts = 0
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._info: dict[str, Any] = {}
        self._start()
        self.name = self._info["name"]
        self.default_max_tokens = self._info["default_max_tokens"]
        self.default_concurrency = self._info["default_concurrency"]
        self.supports_grammar = self._info.get("supports_grammar", False)
        self.supports_ranking = self._info.get("supports_ranking", False)
        self.batch_size = self._info.get("batch_size", 1)

    # -- the child process -------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        """The worker's process id (None when none is running)."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def _start(self) -> None:
        # A fresh interpreter (not fork: the parent may hold threads and CUDA state; not
        # multiprocessing's spawn: it re-runs the caller's main script), talking over a
        # socket pair that it inherits as a file descriptor.
        ours, theirs = socket.socketpair()
        proc = subprocess.Popen(  # noqa: S603 - a fixed argument list, no shell; the program text goes in a file or on stdin
            [sys.executable, "-m", "snellen.llm.isolated", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, start_new_session=True,
            env={**os.environ, **self._env},
        )  # fmt: skip
        theirs.close()
        parent = Connection(ours.detach())
        self._proc, self._conn = proc, parent
        parent.send((self._factory, self._args, self._kwargs, list(sys.path)))
        if not parent.poll(START_SECONDS):
            self._kill()
            raise LLMConfigError(
                f"{self._factory}: the model did not load within {START_SECONDS:g} s"
            )
        try:
            message = parent.recv()
        except EOFError:
            code = self._exit_code()
            self._kill()
            raise LLMConfigError(
                f"the local model process died while loading the model ({_how(code)}); "
                "see the log above, or try engine='transformers'"
            ) from None
        if message[0] == "error":
            self._kill()
            raise (LLMConfigError if message[1] else LLMError)(message[2])
        self._info = message[1]

    def _exit_code(self) -> int | None:
        if self._proc is None:
            return None
        try:
            return self._proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return None

    def _kill(self) -> None:
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if conn is not None:
            conn.close()
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)

    def _restart(self, why: str) -> None:
        self._kill()
        self.restarts += 1
        log.warning("%s: %s; restarting the model worker", self.name, why)

    # -- ChatModel -----------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        description = dict(self._info["describe"])
        runtime = dict(description.get("runtime", {}))
        runtime["isolated"] = True
        description["runtime"] = runtime
        return description

    def _chat(self, request: ChatRequest) -> ChatReply:
        reply: ChatReply = self._ask(("chat", request), request.max_tokens)
        return reply

    def _chat_batch(self, requests: Sequence[ChatRequest]) -> list[ChatReply]:
        tokens = sum(r.max_tokens for r in requests)
        replies: list[ChatReply] = self._ask(("batch", list(requests)), tokens)
        return replies

    def rank(self, request: ChatRequest, candidates: Sequence[str]) -> list[float]:
        scores: list[float] = self._ask(("rank", request, list(candidates)), len(candidates))
        return scores

    def _ask(self, message: tuple[Any, ...], tokens: int) -> Any:
        """Send one message to the worker and return its answer (restarting a dead one)."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                if self._proc is not None:
                    self._restart("the model worker had stopped")
                self._start()
            assert self._conn is not None  # noqa: S101 - an invariant that narrows the type, not a check of input
            budget = self.timeout or BASE_SECONDS + SECONDS_PER_TOKEN * tokens
            started = time.monotonic()
            try:
                self._conn.send(message)
                if not self._conn.poll(budget):
                    self._restart(f"no reply within {budget:g} s")
                    raise LLMError(
                        f"{self.name}: no reply within {budget:g} s; the model worker was "
                        "stopped and restarted (rerun to retry this request)"
                    )
                answer = self._conn.recv()
            except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
                code = self._exit_code()
                self._restart(f"the model worker died ({_how(code)})")
                raise LLMError(
                    f"{self.name}: the model worker died ({_how(code)}) after "
                    f"{time.monotonic() - started:.1f} s on this request; it was restarted "
                    "(rerun to retry this request)"
                ) from None
        if answer[0] == "reply":
            return answer[1]
        raise (LLMConfigError if answer[1] else LLMError)(answer[2])

    def close(self) -> None:
        with self._lock:
            conn, proc = self._conn, self._proc
            if conn is not None and proc is not None and proc.poll() is None:
                try:
                    conn.send(("stop",))
                    proc.wait(timeout=10)
                except (BrokenPipeError, OSError, subprocess.TimeoutExpired):
                    pass
            self._kill()

    def __del__(self) -> None:
        # at interpreter exit nothing can be done about a failure to stop the child
        with contextlib.suppress(Exception):
            self._kill()


def _how(code: int | None) -> str:
    if code is None:
        return "no exit status"
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit status {code}"


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1])))
