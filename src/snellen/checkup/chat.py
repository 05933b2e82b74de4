"""The one place where check-up tasks talk to a model: prompts in, :class:`Reply` out, through
:mod:`snellen.llm` with the run's reply cache, so a rerun makes no repeated call. The code
lives in :mod:`snellen.checkup.engine` (the stage that owns the model)."""

from __future__ import annotations

from snellen.checkup.engine import chat_stream

__all__ = ["chat_stream"]
