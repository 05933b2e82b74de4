"""A chat backend for fault-injection tests of the isolated model worker: it answers with a
fixed SVG program, and dies the way a broken native engine does when asked to."""

from __future__ import annotations

import ctypes
import os
import time
from pathlib import Path
from typing import Any

from snellen.llm.base import ChatModel, ChatReply, ChatRequest, timed_reply

SVG = (
    '```svg\n<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
    '<circle cx="32" cy="32" r="20" fill="red"/></svg>\n```'
)


class FaultyChat(ChatModel):
    """``crash_once``: a file; the first request that finds it missing creates it and
    segfaults the process. A prompt containing ``HANG`` sleeps; ``ABORT`` aborts."""

    name = "faulty"
    default_max_tokens = 64

    def __init__(self, crash_once: str | None = None) -> None:
        super().__init__()
        self.crash_once = Path(crash_once) if crash_once else None

    def describe(self) -> dict[str, Any]:
        return {"backend": "faulty", "model": "faulty", "revision": "1"}

    def _chat(self, request: ChatRequest) -> ChatReply:
        started = time.monotonic()
        text = request.chat_messages()[-1]["content"]
        if self.crash_once is not None and not self.crash_once.exists():
            self.crash_once.write_text(str(os.getpid()))
            ctypes.string_at(0)  # a real segmentation fault, as in a broken native build
        if "HANG" in text:
            time.sleep(3600)
        if "ABORT" in text:
            os.abort()
        return timed_reply(
            self.name,
            request,
            SVG,
            started,
            prompt_tokens=5,
            completion_tokens=20,
            finish_reason="stop",
        )


def load(rest: str = "", *, isolate: bool = True, timeout: float | None = None) -> ChatModel:
    if isolate:
        from snellen.llm.isolated import IsolatedChat

        return IsolatedChat("isolated_models:load", rest, timeout=timeout, isolate=False)
    return FaultyChat(rest or None)
