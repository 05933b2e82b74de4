"""Chat model clients: one interface over remote endpoints, local models and recordings.

A model is named by one string and loaded with :func:`load_model`:

- ``openai:MODEL``: any OpenAI-compatible chat completions endpoint (``base_url=`` or
  ``OPENAI_BASE_URL``; key from ``api_key=``, ``SNELLEN_API_KEY`` or ``OPENAI_API_KEY``);
- ``hf:ID_OR_PATH``: a Hugging Face transformers causal language model;
- ``gguf:PATH``: a GGUF file (llama-cpp-python, else transformers);
- ``replay:FILE``: replies recorded earlier (snellen JSONL or a transcript TSV);
- ``smollm2`` / ``default``: the embedded SmolLM2-135M-Instruct.

Every model answers :class:`ChatRequest` with :class:`ChatReply`, one at a time
(:meth:`ChatModel.chat`) or many at once (:meth:`ChatModel.chat_many`), optionally through
the reply cache of a run (:class:`CachedModel`).
"""

from __future__ import annotations

from snellen.llm.base import (
    CallStats,
    ChatModel,
    ChatReply,
    ChatRequest,
    LLMConfigError,
    LLMError,
    estimate_tokens,
)
from snellen.llm.cache import CachedModel, cache_key
from snellen.llm.registry import DEFAULT_MODEL, backends, load_model, register_backend

__all__ = [
    "DEFAULT_MODEL",
    "CachedModel",
    "CallStats",
    "ChatModel",
    "ChatReply",
    "ChatRequest",
    "LLMConfigError",
    "LLMError",
    "backends",
    "cache_key",
    "estimate_tokens",
    "load_model",
    "register_backend",
]
