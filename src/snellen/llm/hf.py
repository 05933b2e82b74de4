"""``hf:ID_OR_PATH``: a Hugging Face transformers causal language model, prompted through
its own chat template.

A hub id loads from the hub (or its local cache) for online users; a directory loads offline.
Generation is seeded per request (:meth:`ChatRequest.effective_seed`), so a reply is
reproducible and the K samples of one prompt differ.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from snellen.llm.base import ChatModel, ChatReply, ChatRequest, LLMConfigError, timed_reply
from snellen.llm.files import dir_fingerprint


class TransformersChat(ChatModel):
    """A loaded transformers model and tokenizer answering chat requests (one at a time:
    a model in one process computes one reply at a time, so concurrency is serialised).

    Greedy requests without a grammar or stop strings are generated ``batch_size`` at a
    time, left-padded (a decoder continues from the right end of every row), which is how
    a CPU or GPU engine gets more replies per second out of one forward pass.
    """

    supports_grammar = True
    supports_ranking = True

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        name: str,
        description: dict[str, Any],
        top_k: int = 0,
        min_p: float = 0.0,
        batch_size: int = 8,
    ) -> None:
        super().__init__()
        self.batch_size = max(1, batch_size)
        self.top_k = top_k
        self.min_p = min_p
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self._description = description
        self._lock = threading.Lock()
        self.has_chat_template = bool(getattr(tokenizer, "chat_template", None))
        eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
        eos = tokenizer.eos_token_id if eos is None else eos
        self._eos_ids = set(eos if isinstance(eos, list) else [] if eos is None else [eos])
        self._grammars: Any = None  # GrammarProcessors, made on the first constrained request

    def describe(self) -> dict[str, Any]:
        out = dict(self._description, chat_template=self.has_chat_template)
        out["parameters"] = {
            **self._description.get("parameters", {}),
            "top_k": self.top_k,
            "min_p": self.min_p,
        }
        return out

    def render_prompt(self, request: ChatRequest) -> str:
        """The conversation as the model's own chat template writes it, ending with the
        assistant's turn; a plain ``role: content`` layout when the model has no template."""
        messages = request.chat_messages()
        if self.has_chat_template:
            return str(
                self.tokenizer.apply_chat_template(
                    messages, tokenize=False, add_generation_prompt=True
                )
            )
        lines = [f"{m['role']}: {m['content']}" for m in messages]
        return "\n".join(lines) + "\nassistant:"

    def _chat(self, request: ChatRequest) -> ChatReply:
        import torch

        started = time.monotonic()
        prompt = self.render_prompt(request)
        tok = self.tokenizer
        # The template already holds the special tokens (BOS, role markers): add none twice.
        inputs = tok(prompt, return_tensors="pt", add_special_tokens=False)
        device = next(self.model.parameters()).device
        inputs = {k: v.to(device) for k, v in inputs.items()}
        n_prompt = int(inputs["input_ids"].shape[1])
        sample = request.temperature > 0
        kwargs: dict[str, Any] = {
            "max_new_tokens": request.max_tokens,
            "do_sample": sample,
            "pad_token_id": tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id,
        }
        if sample:
            # Explicit top_k/min_p (0 turns each off), so the model's own generation
            # config cannot add a filter that describe() does not record.
            kwargs.update(
                temperature=request.temperature,
                top_p=request.top_p,
                top_k=self.top_k,
                min_p=self.min_p or None,
            )
        if request.stop:
            kwargs.update(stop_strings=list(request.stop), tokenizer=tok)
        if request.grammar:
            if self._grammars is None:
                from snellen.llm.grammar import GrammarProcessors

                vocab = int(getattr(self.model.config, "vocab_size", 0) or len(tok))
                self._grammars = GrammarProcessors(tok, vocab, sorted(self._eos_ids))
            kwargs["logits_processor"] = [self._grammars.processor(request.grammar)]
        with self._lock, torch.inference_mode():
            torch.manual_seed(request.effective_seed())
            out = self.model.generate(**inputs, **kwargs)
        new = out[0, n_prompt:]
        text = tok.decode(new, skip_special_tokens=True)
        ended = len(new) > 0 and int(new[-1]) in self._eos_ids
        finish = "length" if len(new) >= request.max_tokens and not ended else "stop"
        for s in request.stop or ():
            cut = text.find(s)
            if cut >= 0:
                text, finish = text[:cut], "stop"
        if request.grammar:  # a reply cut off by the token limit is completed
            from snellen.llm.grammar import finish_reply

            text = finish_reply(request.grammar, text)
        return timed_reply(
            self.name, request, text, started,
            prompt_tokens=n_prompt, completion_tokens=int(len(new)), finish_reason=finish,
        )  # fmt: skip

    @staticmethod
    def _batchable(request: ChatRequest) -> bool:
        return request.temperature == 0 and not request.grammar and not request.stop

    def _chat_batch(self, requests: Sequence[ChatRequest]) -> list[ChatReply]:
        """Greedy requests generated together (left padding); the others one by one."""
        import torch

        if len(requests) < 2 or not all(self._batchable(r) for r in requests):
            return [self._chat(r) for r in requests]
        started = time.monotonic()
        tok = self.tokenizer
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        side = tok.padding_side
        tok.padding_side = "left"
        if tok.pad_token_id is None:
            tok.pad_token = tok.eos_token
        try:
            prompts = [self.render_prompt(r) for r in requests]
            inputs = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        finally:
            tok.padding_side = side
        device = next(self.model.parameters()).device
        inputs = {k: v.to(device) for k, v in inputs.items()}
        width = int(inputs["input_ids"].shape[1])
        longest = max(r.max_tokens for r in requests)
        with self._lock, torch.inference_mode():
            out = self.model.generate(
                **inputs, max_new_tokens=longest, do_sample=False, pad_token_id=pad
            )
        seconds = (time.monotonic() - started) / len(requests)
        replies = []
        for row, request, mask in zip(out, requests, inputs["attention_mask"], strict=True):
            new = row[width : width + request.max_tokens].tolist()
            cut = next((i for i, t in enumerate(new) if t in self._eos_ids), None)
            finish = "stop" if cut is not None else "length"
            new = new[: cut + 1] if cut is not None else new
            text = tok.decode(new, skip_special_tokens=True)
            replies.append(
                ChatReply(
                    text=text,
                    model=self.name,
                    prompt_tokens=int(mask.sum()),
                    completion_tokens=len(new),
                    seconds=seconds,
                    finish_reason=finish,
                    sample_index=request.sample_index,
                )  # fmt: skip
            )
        return replies

    def rank(self, request: ChatRequest, candidates: Sequence[str]) -> list[float]:
        """Sum of token log-probabilities of each candidate as the reply, all candidates in
        one right-padded forward pass over prompt + candidate."""
        import torch

        if not candidates:
            return []
        tok = self.tokenizer
        prompt = self.render_prompt(request)
        ctx = tok(prompt, add_special_tokens=False)["input_ids"]
        rows, starts = [], []
        for cand in candidates:
            full = tok(prompt + cand, add_special_tokens=False)["input_ids"]
            common = 0
            for a, b in zip(ctx, full, strict=False):
                if a != b:
                    break
                common += 1
            if common == len(full):  # an empty candidate: score the end of the turn
                full = [*full, tok.eos_token_id]
            rows.append(full)
            starts.append(common)
        width = max(len(r) for r in rows)
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        ids = torch.full((len(rows), width), int(pad), dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.tensor(r)
            mask[i, : len(r)] = 1
        device = next(self.model.parameters()).device
        with self._lock, torch.inference_mode():
            logits = self.model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
        logp = torch.log_softmax(logits.float(), dim=-1).cpu()
        scores = []
        for i, r in enumerate(rows):
            positions = range(max(starts[i], 1), len(r))
            scores.append(float(sum(logp[i, p - 1, r[p]] for p in positions)))
        return scores

    def close(self) -> None:
        self.model = None


def _device(device: str | None) -> str:
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load(
    id_or_path: str,
    *,
    revision: str | None = None,
    device: str | None = None,
    dtype: str | None = None,
    trust_remote_code: bool = False,
    top_k: int = 0,
    min_p: float = 0.0,
    batch_size: int = 8,
) -> TransformersChat:
    """Load ``hf:ID_OR_PATH``: a local directory (offline), else a hub id.

    Sampling is the request's temperature and top-p, plus ``top_k`` and ``min_p`` when set
    (0, the default, turns each off)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not id_or_path:
        raise LLMConfigError(
            "name a model after 'hf:', e.g. hf:HuggingFaceTB/SmolLM2-135M-Instruct or hf:/path/to/model"
        )
    dev = _device(device)
    local = Path(id_or_path).expanduser()
    is_local = local.is_dir()
    if not is_local and (id_or_path.startswith((".", "/", "~")) or local.suffix):
        raise LLMConfigError(
            f"hf:{id_or_path}: no such model directory; give a directory written by "
            "save_pretrained, or a hub id such as HuggingFaceTB/SmolLM2-135M-Instruct"
        )
    source = str(local) if is_local else id_or_path
    # Full precision on a CPU (half precision is slow there); the checkpoint's own on a GPU.
    torch_dtype: Any = "auto" if dev != "cpu" else torch.float32
    if dtype:
        torch_dtype = getattr(torch, dtype, None)
        if not isinstance(torch_dtype, torch.dtype):
            raise LLMConfigError(
                f"hf:{id_or_path}: unknown dtype {dtype!r}; use float32, bfloat16 or float16"
            )
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            source, revision=revision, trust_remote_code=trust_remote_code
        )
        model = AutoModelForCausalLM.from_pretrained(
            source, revision=revision, dtype=torch_dtype, trust_remote_code=trust_remote_code
        )
    except OSError as exc:
        where = "directory" if is_local else "hub id (needs network access or a local cache)"
        raise LLMConfigError(f"hf:{id_or_path}: cannot load this {where}: {exc}") from exc
    model.to(dev).eval()  # type: ignore[arg-type]
    rev = (
        dir_fingerprint(local)
        if is_local
        else (getattr(model.config, "_commit_hash", None) or revision or "main")
    )
    description = {
        "backend": "hf",
        "model": local.name if is_local else source,
        "revision": rev,
        "runtime": {"path": str(local.resolve())} if is_local else {},
        "parameters": {
            "dtype": str(next(model.parameters()).dtype).replace("torch.", ""),
            "device": dev,
        },
    }
    return TransformersChat(
        model, tokenizer, name=f"hf:{id_or_path}", description=description, top_k=top_k,
        min_p=min_p, batch_size=batch_size,
    )  # fmt: skip
