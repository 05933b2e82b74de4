"""``gguf:PATH``: a local GGUF model file.

Two engines read GGUF: llama-cpp-python (fast on a CPU, about an order of magnitude faster
than the other for a small model) and transformers, which de-quantises the file into a
PyTorch model (no compiler needed). ``engine="auto"`` takes llama-cpp-python when it
imports and its build passed a smoke test on this CPU (:mod:`snellen.llm.enginecheck`).
Inference runs in a child process by default (``isolate``), so a native crash fails one
request, not the run. Both apply the chat template stored in the file, and both are deterministic for a
given request (seed and sample index).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from snellen.llm.base import (
    ChatModel,
    ChatReply,
    ChatRequest,
    LLMConfigError,
    LLMError,
    timed_reply,
)
from snellen.llm.files import file_fingerprint
from snellen.llm.grammar import finish_reply, llama_grammar

log = logging.getLogger(__name__)

ENGINES = ("auto", "llama-cpp", "transformers")


def llama_cpp_available() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


def llama_cpp_usable() -> bool:
    """llama-cpp-python is installed and its build passed the smoke test on this CPU (see
    :mod:`snellen.llm.enginecheck`); ``engine="auto"`` falls back to transformers otherwise."""
    if not llama_cpp_available():
        return False
    from snellen.llm.enginecheck import llama_cpp_check

    verdict = llama_cpp_check()
    if not verdict.ok:
        log.warning("llama.cpp engine %s; using the transformers engine instead", verdict.reason)
    return verdict.ok


class LlamaCppChat(ChatModel):
    """A GGUF model run by llama-cpp-python, one request at a time.

    ``prefix_cache``: a greedy request (temperature 0) keeps the evaluated prompt tokens it
    shares with the previous request (the system prompt, few-shot examples, a template's
    head) in the engine's KV cache and evaluates only the rest. A sampled request starts
    clean, so its seed alone fixes its reply. ``wait_policy`` is the OpenMP wait policy (see
    :mod:`snellen.llm.cpu`); it takes effect only if the engine is not imported yet.
    """

    supports_grammar = True
    supports_ranking = True

    def __init__(
        self,
        path: Path,
        *,
        name: str,
        description: dict[str, Any],
        n_ctx: int = 4096,
        n_threads: int | None = None,
        top_k: int = 40,
        min_p: float = 0.05,
        n_gpu_layers: int = 0,
        wait_policy: str = "passive",
        prefix_cache: bool = True,
    ) -> None:
        super().__init__()
        from snellen.llm.cpu import apply_wait_policy, auto_threads

        applied = apply_wait_policy(wait_policy)
        from llama_cpp import Llama

        self.name = name
        self.path = path
        self.top_k = top_k
        self.min_p = min_p
        self.prefix_cache = prefix_cache
        self._lock = threading.Lock()
        threads = auto_threads(n_threads)
        self.llama = Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=threads,
            n_gpu_layers=n_gpu_layers,
            seed=0,
            verbose=False,
        )
        self._description = {
            **description,
            "engine": "llama-cpp",
            "parameters": {"n_ctx": n_ctx, "top_k": top_k, "min_p": min_p},
            "runtime": {
                **description.get("runtime", {}),
                "n_threads": threads,
                "n_gpu_layers": n_gpu_layers,
                "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default")
                + ("" if applied else " (engine loaded before)"),
                "prefix_cache": prefix_cache,
            },
        }
        self._formatter: Any = None

    def describe(self) -> dict[str, Any]:
        return dict(self._description)

    def _chat(self, request: ChatRequest) -> ChatReply:
        started = time.monotonic()
        with self._lock:
            # Reusing the previous prompt's evaluated prefix changes the logits in the last
            # bits, and with them a sampled reply: a sampled request starts clean so its
            # seed fixes the reply; a greedy one keeps the shared prefix.
            if not (self.prefix_cache and request.temperature == 0):
                self.llama.reset()
            try:
                out = self.llama.create_chat_completion(
                    messages=request.chat_messages(),  # type: ignore[arg-type]
                    temperature=request.temperature,
                    top_p=request.top_p,
                    top_k=self.top_k,
                    min_p=self.min_p,
                    max_tokens=request.max_tokens,
                    stop=list(request.stop) if request.stop else None,
                    seed=request.effective_seed(),
                    grammar=llama_grammar(request.grammar) if request.grammar else None,  # type: ignore[arg-type]
                )
            except ValueError as exc:  # llama.cpp reports a prompt too long for n_ctx so
                raise LLMError(f"{self.name}: {exc}") from exc
        choice = out["choices"][0]  # type: ignore[index]
        usage = out.get("usage") or {}  # type: ignore[union-attr]
        text = choice["message"]["content"] or ""
        if request.grammar:  # a reply cut off by the token limit is completed
            text = finish_reply(request.grammar, text)
        return timed_reply(
            self.name, request, text, started,
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            finish_reason=choice.get("finish_reason"),
        )  # fmt: skip

    def _prompt_tokens(self, request: ChatRequest) -> list[int]:
        """The request's conversation in the file's chat template, tokenised as
        ``create_chat_completion`` does, ending with the assistant's turn."""
        if self._formatter is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            template = self.llama.metadata.get("tokenizer.chat_template")
            if not template:
                raise LLMConfigError(f"{self.name}: the file has no chat template to rank with")
            vocab = self.llama._model
            self._formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=vocab.token_get_text(self.llama.token_eos()),
                bos_token=vocab.token_get_text(self.llama.token_bos()),
            )
        result = self._formatter(messages=request.chat_messages())
        self._prompt_text = result.prompt
        tokens: list[int] = self.llama.tokenize(
            result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True
        )
        return tokens

    def _last_logprobs(self) -> Any:
        import numpy as np

        logits = np.ctypeslib.as_array(
            self.llama._ctx.get_logits(), shape=(self.llama.n_vocab(),)
        ).astype(np.float64)
        top = logits.max()
        return logits - top - np.log(np.exp(logits - top).sum())

    def rank(self, request: ChatRequest, candidates: Sequence[str]) -> list[float]:
        """Sum of token log-probabilities of each candidate as the reply: the prompt is
        evaluated once (its shared prefix with the previous prompt is kept), then each
        candidate's tokens after it."""
        with self._lock:
            prompt = self._prompt_tokens(request)
            keep = 0
            if self.prefix_cache:
                for a, b in zip(self.llama._input_ids, prompt[:-1], strict=False):
                    if a != b:
                        break
                    keep += 1
            # The prompt's last token is always evaluated on its own: a one-token batch takes
            # other kernels than a long one, so its logits would otherwise depend on how
            # much of the prompt the previous request left evaluated.
            self.llama.n_tokens = keep
            if keep < len(prompt) - 1:
                self.llama.eval(prompt[keep:-1])
            self.llama.eval(prompt[-1:])
            first = self._last_logprobs()
            base = len(prompt)
            scores = []
            for cand in candidates:
                full = self.llama.tokenize(
                    (self._prompt_text + cand).encode("utf-8"), add_bos=False, special=True
                )
                ctx = self.llama.tokenize(
                    self._prompt_text.encode("utf-8"), add_bos=False, special=True
                )
                common = 0
                for a, b in zip(ctx, full, strict=False):
                    if a != b:
                        break
                    common += 1
                tokens = full[common:] or [self.llama.token_eos()]
                total = float(first[tokens[0]])
                self.llama.n_tokens = base
                for i in range(1, len(tokens)):
                    self.llama.eval([tokens[i - 1]])
                    total += float(self._last_logprobs()[tokens[i]])
                scores.append(total)
            # leave the context holding the prompt alone, so the next prefix match is exact
            self.llama.n_tokens = base
            self.llama.input_ids[base:] = 0
        return scores

    def close(self) -> None:
        llama: Any = getattr(self, "llama", None)
        self.llama = None  # type: ignore[assignment]
        if llama is not None:
            llama.close()


def conversion_cache_root() -> Path | None:
    """Where de-quantised GGUF models are kept: ``SNELLEN_CACHE_DIR`` (``none`` turns the
    cache off), else ``$XDG_CACHE_HOME/snellen``, else ``~/.cache/snellen``."""
    configured = os.environ.get("SNELLEN_CACHE_DIR")
    if configured is not None:
        return None if configured.strip().lower() in ("", "none", "off") else Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "snellen"


def _converted_dir(path: Path, fingerprint: str) -> Path | None:
    import transformers

    root = conversion_cache_root()
    if root is None:
        return None
    tag = fingerprint.removeprefix("sha256:")
    return root / "gguf-transformers" / f"{path.stem}-{tag}-tf{transformers.__version__}"


def _save_converted(model: Any, tokenizer: Any, target: Path) -> None:
    """Keep the de-quantised model as safetensors, written to a temporary folder and renamed
    into place, so a crash or a second process never leaves half a model behind."""
    import tempfile

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    try:
        # The weights are plain float32 tensors by now; only the GGUF quantizer's marks
        # stop transformers from saving them.
        model.hf_quantizer = None
        model.is_quantized = False
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        os.replace(tmp, target)
    except (OSError, ValueError, AttributeError) as exc:
        log.warning("could not keep the de-quantised model in %s: %s", target, exc)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def load_transformers_gguf(
    path: Path,
    *,
    name: str,
    description: dict[str, Any],
    device: str | None = None,
    top_k: int = 40,
    min_p: float = 0.05,
    batch_size: int = 8,
) -> ChatModel:
    """The GGUF file de-quantised into a transformers model (tokenizer and chat template
    come from the file too).

    Reading a GGUF file into transformers takes tens of seconds (most of it parsing the
    vocabulary); the float32 result is kept under :func:`conversion_cache_root`, keyed by
    the file's fingerprint and the transformers version, and later loads take under a
    second. The kept copy holds exactly the de-quantised weights, so replies do not change.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from snellen.llm.hf import TransformersChat, _device

    dev = _device(device)
    fingerprint = str(description.get("revision") or file_fingerprint(path))
    if not fingerprint.startswith("sha256:"):
        fingerprint = file_fingerprint(path)
    converted = _converted_dir(path, fingerprint)
    model = tokenizer = None
    if converted is not None and converted.is_dir():
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(converted))
            model = AutoModelForCausalLM.from_pretrained(str(converted), dtype=torch.float32)
        except (OSError, ValueError) as exc:
            log.warning("ignoring the unreadable converted model in %s: %s", converted, exc)
            shutil.rmtree(converted, ignore_errors=True)
            model = tokenizer = None
    if model is None or tokenizer is None:
        tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(
            str(path.parent), gguf_file=path.name, dtype=torch.float32
        )
        if converted is not None:
            _save_converted(model, tokenizer, converted)
    model.to(dev).eval()  # type: ignore[arg-type]
    desc = {
        **description,
        "engine": "transformers",
        "parameters": {"device": dev},
        "runtime": {
            **description.get("runtime", {}),
            "converted": str(converted) if converted is not None and converted.is_dir() else None,
        },
    }
    return TransformersChat(
        model, tokenizer, name=name, description=desc, top_k=top_k, min_p=min_p,
        batch_size=batch_size,
    )  # fmt: skip


def open_gguf(
    path: str | os.PathLike[str],
    *,
    name: str | None = None,
    backend: str = "gguf",
    revision: str | None = None,
    engine: str = "auto",
    n_ctx: int = 4096,
    n_threads: int | None = None,
    top_k: int = 40,
    min_p: float = 0.05,
    device: str | None = None,
    wait_policy: str = "passive",
    prefix_cache: bool = True,
    batch_size: int = 8,
) -> ChatModel:
    """A chat model over the GGUF file ``path`` with the chosen engine. ``wait_policy`` and
    ``prefix_cache`` apply to llama.cpp, ``batch_size`` (greedy requests generated
    together, left-padded) to transformers."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise LLMConfigError(f"gguf:{path}: no such file; give the path of a .gguf model file")
    if engine not in ENGINES:
        raise LLMConfigError(f"unknown GGUF engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if engine == "auto":
        engine = "llama-cpp" if llama_cpp_usable() else "transformers"
    description = {
        "backend": backend,
        "model": p.name,
        "revision": revision or file_fingerprint(p),
        "runtime": {"path": str(p.resolve())},
    }
    label = name or f"gguf:{p}"
    if engine == "llama-cpp":
        if not llama_cpp_available():
            raise LLMConfigError(
                "engine='llama-cpp' needs llama-cpp-python (pip install llama-cpp-python); "
                "or use engine='transformers'"
            )
        gpu_layers = -1 if device and device.startswith("cuda") else 0
        return LlamaCppChat(
            p, name=label, description=description, n_ctx=n_ctx, n_threads=n_threads,
            top_k=top_k, min_p=min_p, n_gpu_layers=gpu_layers, wait_policy=wait_policy,
            prefix_cache=prefix_cache,
        )  # fmt: skip
    return load_transformers_gguf(
        p, name=label, description=description, device=device, top_k=top_k, min_p=min_p,
        batch_size=batch_size,
    )  # fmt: skip


def load(
    path: str,
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
    """Load ``gguf:PATH``; options as for :func:`open_gguf`. With ``isolate`` (the default)
    the model runs in a child process (:mod:`snellen.llm.isolated`): a crash, an OOM kill or
    a hang (``timeout`` seconds per request) fails that request, not the run."""
    if not path:
        raise LLMConfigError("name a file after 'gguf:', e.g. gguf:models/model.Q4_K_M.gguf")
    options: dict[str, Any] = dict(
        engine=engine, n_ctx=n_ctx, n_threads=n_threads, top_k=top_k, min_p=min_p,
        device=device, wait_policy=wait_policy, prefix_cache=prefix_cache, batch_size=batch_size,
    )  # fmt: skip
    if isolate:
        from snellen.llm.cpu import omp_environment
        from snellen.llm.isolated import IsolatedChat

        return IsolatedChat(
            "snellen.llm.gguf:load", path, timeout=timeout, isolate=False,
            env=omp_environment(wait_policy), **options,
        )  # fmt: skip
    return open_gguf(path, **options)
