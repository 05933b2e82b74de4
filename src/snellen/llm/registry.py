"""Model names: ``SCHEME:REST`` resolved through a registry of backend factories.

Built in: ``openai:MODEL``, ``hf:ID_OR_PATH``, ``gguf:PATH``, ``replay:FILE``, and the
embedded model under the bare names ``smollm2`` and ``default``. Add a backend with
:func:`register_backend`; a factory takes the part after the colon and keyword options.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from snellen.errors import InputError
from snellen.llm.base import ChatModel
from snellen.registry import Registry, parse_name

Factory = Callable[..., ChatModel]

DEFAULT_MODEL = "smollm2"

# Factories are named by "module:function" so that loading one backend never imports the
# heavy libraries of another (torch for hf:, llama-cpp for gguf:, httpx for openai:).
BACKENDS: Registry[Factory] = Registry("model backend")
BACKENDS.register(
    "openai", "snellen.llm.openai:load", help="openai:MODEL (any OpenAI-compatible endpoint)"
)
BACKENDS.register("hf", "snellen.llm.hf:load", help="hf:ID_OR_PATH (transformers)")
BACKENDS.register("gguf", "snellen.llm.gguf:load", help="gguf:PATH (llama.cpp)")
BACKENDS.register("replay", "snellen.llm.replay:load", help="replay:FILE (a recorded transcript)")
# Bare names of the embedded model.
BACKENDS.register(
    "smollm2", "snellen.llm.embedded:load", help="the bundled SmolLM2-135M-Instruct",
    aliases=("default", "embedded"),
)  # fmt: skip


def register_backend(scheme: str, factory: Factory | str, *, replace: bool = False) -> None:
    """Make ``SCHEME:REST`` names load through ``factory(rest, **options)``.

    ``factory`` may be a callable or a ``"module:function"`` string imported on first use.
    """
    if not scheme.isidentifier():
        raise ValueError(f"a backend scheme must be a plain word, not {scheme!r}")
    if scheme in BACKENDS and not replace:
        raise ValueError(f"backend {scheme!r} is already registered (pass replace=True)")
    BACKENDS.register(scheme, factory, replace=True)


def backends() -> list[str]:
    """The registered schemes."""
    return sorted(BACKENDS)


def split_name(name: str) -> tuple[str, str]:
    """``"openai:gpt-4o"`` -> ``("openai", "gpt-4o")``; bare names of the embedded model
    (``smollm2``, ``default``) resolved first."""
    full = name.strip()
    scheme, rest = parse_name(full)
    if scheme in BACKENDS and (rest is not None or BACKENDS.canonical(scheme) == DEFAULT_MODEL):
        return BACKENDS.canonical(scheme), rest or ""
    known = ", ".join(f"{s}:..." for s in backends() if s != DEFAULT_MODEL)
    raise InputError(
        f"unknown model {name!r}: name a model as one of {known}, or 'smollm2' "
        f"(the embedded default){_path_hint(full)}"
    )


def _path_hint(name: str) -> str:
    """A suggestion when a bare name is a local file or directory."""
    path = Path(name).expanduser()
    if path.is_dir():
        return f"; for this directory write hf:{name}"
    if path.suffix.lower() == ".gguf":
        return f"; for this file write gguf:{name}"
    if path.suffix.lower() in (".jsonl", ".tsv"):
        return f"; to replay this file write replay:{name}"
    return ""


def load_model(name: str = DEFAULT_MODEL, **options: Any) -> ChatModel:
    """The chat model named ``name`` (see the module docstring); ``options`` go to the
    backend (for example ``base_url=``, ``api_key=``, ``concurrency=`` for ``openai:``)."""
    scheme, rest = split_name(name)
    factory = BACKENDS.get(scheme)
    # Unset options (None) fall back to the backend's defaults, so a command line can pass
    # every flag through; a set option the backend has no use for is an error, not ignored.
    given = {k: v for k, v in options.items() if v is not None}
    params = inspect.signature(factory).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        unknown = sorted(k for k in given if k not in params)
        if unknown:
            usable = ", ".join(p for p in list(params)[1:]) or "none"
            raise InputError(
                f"{', '.join(unknown)} do{'es' if len(unknown) == 1 else ''} not apply to "
                f"{scheme}: models ({name}); its options: {usable}"
            )
    return factory(rest, **given)
