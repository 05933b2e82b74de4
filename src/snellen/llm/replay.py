"""``replay:FILE``: answer from replies recorded earlier, so a study can be re-scored without
calling a model.

Two formats are read:

- **snellen JSONL** (``.jsonl``): one JSON object per line::

      {"model": "gpt-4-0314", "messages": [{"role": "user", "content": "..."}],
       "params": {"temperature": 0.7, ...}, "sample_index": 0, "text": "...",
       "concept": "guitar", "prompt_tokens": 12, "completion_tokens": 80,
       "finish_reason": "stop"}

  ``prompt`` (a string) may stand for ``messages``; ``model`` and ``text`` are required,
  the rest optional. :func:`write_jsonl` and :func:`export_cache` write it.
- **transcript TSV** (``.tsv``): no header, one row per query, nine tab-separated columns;
  the prompt, the whole reply with literal ``\\n`` escapes, then flags and metadata, the
  fourth column naming the model.

A request is matched by its exact conversation, else by its last user message, else by its
``concept`` against the concept each recorded prompt is about (for a transcript, the object
named in the prompt: "... and a guitar in the middle ..." is about "guitar"). The
``sample_index``-th recording of a prompt answers sample ``sample_index``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from snellen.data import RECORDINGS, recording
from snellen.errors import InputError
from snellen.llm.base import (
    ChatModel,
    ChatReply,
    ChatRequest,
    LLMConfigError,
    LLMError,
    estimate_tokens,
)
from snellen.transcripts import TSV_COLUMNS as TSV_COLUMNS  # re-exported
from snellen.transcripts import read_transcript
from snellen.transcripts import unescape as unescape  # re-exported

# How recorded prompts name their concept, tried in order.
CONCEPT_PATTERNS = (
    re.compile(r"\band an? (.+?) in the middle\b", re.IGNORECASE),
    re.compile(r"\bthat draws an? (.+?)\s*[.?!]?\s*$", re.IGNORECASE),
    re.compile(r"\bdraws? an? (.+?)\s*[.?!]?\s*$", re.IGNORECASE),
)


@dataclass(frozen=True)
class Recording:
    """One recorded reply: the prompt (the last user message), the reply text, the model
    that wrote it, the concept the prompt is about (when known), and where it was read."""

    prompt: str
    text: str
    model: str
    concept: str | None = None
    sample_index: int = 0
    line: int = 0
    messages: tuple[dict[str, str], ...] = ()
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str = "stop"
    params: dict[str, Any] = field(default_factory=dict)


def concept_of(prompt: str) -> str | None:
    """The concept a drawing prompt names, or None."""
    for pattern in CONCEPT_PATTERNS:
        m = pattern.search(prompt)
        if m:
            return m.group(1).strip().strip("`'\"").strip()
    return None


def normalise_concept(concept: str) -> str:
    """``"objects/teddy_bear"``, ``"Teddy bear"`` and ``"teddy bear"`` compare equal."""
    name = concept.strip().rsplit("/", 1)[-1]
    return re.sub(r"[\s_]+", " ", name).strip().lower()


def read_tsv(path: Path) -> list[Recording]:
    try:
        rows = read_transcript(path)
    except InputError as e:
        raise LLMConfigError(str(e)) from None
    out: list[Recording] = []
    seen: Counter[str] = Counter()
    for row in rows:
        out.append(
            Recording(
                prompt=row.prompt,
                text=row.reply,
                model=row.model,
                concept=concept_of(row.prompt),
                sample_index=seen[row.prompt],
                line=row.line,
                messages=({"role": "user", "content": row.prompt},),
            )
        )
        seen[row.prompt] += 1
    return out


def read_jsonl(path: Path) -> list[Recording]:
    out: list[Recording] = []
    seen: Counter[str] = Counter()
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                if "messages" in obj:
                    messages = tuple(
                        {"role": m["role"], "content": m["content"]} for m in obj["messages"]
                    )
                else:
                    messages = ({"role": "user", "content": str(obj["prompt"])},)
                prompt = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
                key = _messages_key(messages)
                out.append(
                    Recording(
                        prompt=prompt,
                        text=str(obj["text"]),
                        model=str(obj["model"]),
                        concept=obj.get("concept") or concept_of(prompt),
                        sample_index=int(obj.get("sample_index", seen[key])),
                        line=lineno,
                        messages=messages,
                        prompt_tokens=obj.get("prompt_tokens"),
                        completion_tokens=obj.get("completion_tokens"),
                        finish_reason=obj.get("finish_reason") or "stop",
                        params=dict(obj.get("params") or {}),
                    )
                )
                seen[key] += 1
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise LLMConfigError(
                    f"{path}, line {lineno}: not a snellen reply record ({exc}); each line is a "
                    'JSON object with "model", "text" and "messages" or "prompt"'
                ) from exc
    return out


def _messages_key(messages: Iterable[dict[str, str]]) -> str:
    return json.dumps([[m["role"], m["content"]] for m in messages], ensure_ascii=False)


class ReplayModel(ChatModel):
    """Answers requests from a recorded file; never calls a model."""

    default_concurrency = 1

    def __init__(self, path: str | os.PathLike[str], *, format: str | None = None) -> None:
        super().__init__()
        p = Path(path).expanduser()
        if not p.is_file():
            raise LLMConfigError(
                f"replay:{path}: no such file; give a snellen .jsonl reply file, a transcript "
                f".tsv, or a shipped recording by name ({', '.join(RECORDINGS)})"
            )
        fmt = format or ("tsv" if p.suffix.lower() in (".tsv", ".txt") else "jsonl")
        if fmt not in ("tsv", "jsonl"):
            raise LLMConfigError(f"replay format must be 'tsv' or 'jsonl', not {fmt!r}")
        self.path = p
        self.format = fmt
        self.name = f"replay:{path}"
        self._recordings = read_tsv(p) if fmt == "tsv" else read_jsonl(p)
        if not self._recordings:
            raise LLMConfigError(f"{p} holds no recorded replies")
        self._by_messages: dict[str, list[Recording]] = {}
        self._by_prompt: dict[str, list[Recording]] = {}
        self._by_concept: dict[str, list[Recording]] = {}
        for r in self._recordings:
            self._by_messages.setdefault(_messages_key(r.messages), []).append(r)
            self._by_prompt.setdefault(r.prompt, []).append(r)
            if r.concept:
                self._by_concept.setdefault(normalise_concept(r.concept), []).append(r)
        self._digest = hashlib.sha256(p.read_bytes()).hexdigest()[:32]

    # -- what was recorded -----------------------------------------------------------------
    def recorded(self) -> list[Recording]:
        """Every recording, in file order."""
        return list(self._recordings)

    def models(self) -> list[str]:
        """The names of the models that wrote the recorded replies."""
        return sorted({r.model for r in self._recordings})

    def concepts(self) -> dict[str, str]:
        """Each recorded concept (as written in the prompt) -> its first recorded prompt."""
        out: dict[str, str] = {}
        for r in self._recordings:
            if r.concept and r.concept not in out:
                out[r.concept] = r.prompt
        return out

    def lookup(
        self,
        prompt: str | None = None,
        concept: str | None = None,
        sample_index: int = 0,
        messages: Iterable[dict[str, str]] | None = None,
    ) -> Recording:
        """The recording answering ``messages``, else ``prompt``, else ``concept``; raises
        :class:`LLMError` naming the prompt and the file when there is none."""
        tried: list[str] = []
        candidates: list[tuple[str, list[Recording] | None]] = []
        if messages is not None:
            candidates.append(("conversation", self._by_messages.get(_messages_key(messages))))
        if prompt is not None:
            candidates.append(("prompt", self._by_prompt.get(prompt)))
        if not concept and prompt is not None:
            # The paper's prompt names its concept ("... that draws a guitar"): a transcript
            # asked in other words can still answer it.
            concept = concept_of(prompt)
        if concept:
            candidates.append(("concept", self._by_concept.get(normalise_concept(concept))))
        for how, found in candidates:
            if not found:
                tried.append(how)
                continue
            chosen = _sample(found, sample_index)
            if chosen is None:
                raise LLMError(
                    f"{self.path} holds {len(found)} recorded repl{'y' if len(found) == 1 else 'ies'} "
                    f"for this {how} ({_short(concept if how == 'concept' else prompt)!r}), not sample "
                    f"{sample_index}; ask for fewer samples (--samples {len(found)})"
                )
            return chosen
        what = f"prompt {_short(prompt)!r}" if prompt is not None else "request"
        if concept:
            what += f" (concept {concept!r})"
        raise LLMError(
            f"{self.path} holds no recorded reply for the {what}; matched by "
            f"{', '.join(tried) or 'nothing'}. It records {len(self._by_prompt)} prompts about "
            f"{len(self._by_concept)} concepts: ask only for those (see ReplayModel.concepts())"
        )

    # -- ChatModel -------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        return {
            "backend": "replay",
            "model": ", ".join(self.models()),
            "format": self.format,
            "revision": "sha256:" + self._digest,
            "runtime": {"path": str(self.path.resolve()), "records": len(self._recordings)},
        }

    def _chat(self, request: ChatRequest) -> ChatReply:
        r = self.lookup(
            prompt=request.last_user_message(),
            concept=request.concept,
            sample_index=request.sample_index,
            messages=request.chat_messages(),
        )
        estimated = r.prompt_tokens is None or r.completion_tokens is None
        return ChatReply(
            text=r.text,
            model=r.model,
            prompt_tokens=int(
                r.prompt_tokens
                if r.prompt_tokens is not None
                else sum(estimate_tokens(m["content"]) for m in r.messages)
            ),
            completion_tokens=int(
                r.completion_tokens if r.completion_tokens is not None else estimate_tokens(r.text)
            ),
            seconds=0.0,
            finish_reason=r.finish_reason,
            tokens_estimated=estimated,
            sample_index=request.sample_index,
        )


def _sample(found: list[Recording], sample_index: int) -> Recording | None:
    exact = [r for r in found if r.sample_index == sample_index]
    if exact:
        return exact[0]
    return found[sample_index] if sample_index < len(found) else None


def _short(text: str | None, n: int = 80) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= n else text[: n - 3] + "..."


def record_line(request: ChatRequest, reply: ChatReply) -> dict[str, Any]:
    """The JSONL record of one answered request."""
    return {
        "model": reply.model,
        "messages": request.chat_messages(),
        "params": request.params(),
        "sample_index": request.sample_index,
        "concept": request.concept,
        "text": reply.text,
        "prompt_tokens": None if reply.tokens_estimated else reply.prompt_tokens,
        "completion_tokens": None if reply.tokens_estimated else reply.completion_tokens,
        "finish_reason": reply.finish_reason,
    }


def write_jsonl(
    path: str | os.PathLike[str], pairs: Iterable[tuple[ChatRequest, ChatReply]]
) -> int:
    """Append answered requests to a snellen JSONL reply file; returns how many."""
    n = 0
    with Path(path).open("a", encoding="utf-8") as f:
        for request, reply in pairs:
            if reply.error:
                continue
            f.write(json.dumps(record_line(request, reply), ensure_ascii=False) + "\n")
            n += 1
    return n


def export_cache(run: Any, path: str | os.PathLike[str]) -> int:
    """Write every reply in ``run``'s reply cache to a snellen JSONL file (replace it);
    returns how many. ``replay:`` that file to re-score the run without its model."""
    target = Path(path)
    n = 0
    with target.open("w", encoding="utf-8") as f:
        for obj in run.cache_entries():
            reply = obj.get("reply") or {}
            if "messages" not in obj or "text" not in reply:
                continue
            estimated = bool(reply.get("tokens_estimated"))
            line = {
                "model": reply.get("model", ""),
                "messages": obj["messages"],
                "params": obj.get("params") or {},
                "sample_index": obj.get("sample_index", 0),
                "concept": obj.get("concept"),
                "text": reply["text"],
                "prompt_tokens": None if estimated else reply.get("prompt_tokens"),
                "completion_tokens": None if estimated else reply.get("completion_tokens"),
                "finish_reason": reply.get("finish_reason", "stop"),
            }
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
            n += 1
    return n


def load(path: str, *, format: str | None = None) -> ReplayModel:
    """Load ``replay:FILE`` (``format`` "tsv" or "jsonl"; default from the file name), or a
    shipped recording by its short name (``replay:gpt4``, ``gpt4-cot``, ``gpt3.5``,
    ``gpt3.5-cot``; see :mod:`snellen.data`)."""
    if not path:
        raise LLMConfigError("name a file after 'replay:', e.g. replay:replies.jsonl")
    if path.strip().lower() in RECORDINGS and not Path(path).expanduser().exists():
        model = ReplayModel(recording(path), format=format)
        model.name = f"replay:{path.strip().lower()}"
        return model
    return ReplayModel(path, format=format)
