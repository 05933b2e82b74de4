"""Vocabularies for the tag and attribute modules, and text embeddings computed once per
scorer.

A :class:`Vocabulary` is a list of tags and, per class, visual descriptors. Tags come from
class-name files (one name a line), snellen's objects set, the shapes generator's shape
names, or a user file; descriptors from any snellen LLM (LENS's prompt, after Menon and
Vondrick: "What are useful visual features for distinguishing a {class} in a photo?"),
cached and resumable in a run, or, for shapes, from the generator's own colour words.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from snellen.errors import InputError
from snellen.store.digest import file_sha256

if TYPE_CHECKING:
    from snellen.score import Scorer
    from snellen.store import Run

DESCRIPTOR_PROMPT = (
    "Q: What are useful visual features for distinguishing a {name} in a photo?\n"
    "A: There are several useful visual features to tell there is a {name} in a photo:\n-"
)
ATTRIBUTE_TEMPLATE = "a {name}, which has {descriptor}"


@dataclass
class Vocabulary:
    tags: list[str]
    descriptors: dict[str, list[str]] = field(default_factory=dict)
    attribute_template: str = ATTRIBUTE_TEMPLATE
    source: dict[str, Any] = field(default_factory=dict)

    def attribute_texts(self) -> list[str]:
        """Every ``(class, descriptor)`` phrase the attribute module ranks."""
        return [
            self.attribute_template.format(name=name, descriptor=d)
            for name, ds in self.descriptors.items()
            for d in ds
        ]

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(
            {"tags": self.tags, "descriptors": self.descriptors,
             "attribute_template": self.attribute_template, "source": self.source}, indent=1,
        ))  # fmt: skip
        return path

    @classmethod
    def load(cls, path: str | Path) -> Vocabulary:
        try:
            data = json.loads(Path(path).read_text())
            return cls(
                list(data["tags"]), {k: list(v) for k, v in data.get("descriptors", {}).items()},
                data.get("attribute_template", ATTRIBUTE_TEMPLATE), data.get("source", {}),
            )  # fmt: skip
        except (OSError, json.JSONDecodeError, KeyError, TypeError) as e:
            raise InputError(
                f"{path}: not a LENS vocabulary ({e}); build one with `snellen lens vocab`"
            ) from None


def shape_names() -> list[str]:
    from snellen.concepts.shapes import vocab as V

    return list(V.FLAT_SHAPES + V.SOLID_SHAPES)


def tag_source(spec: str) -> list[str]:
    """Tags from ``objects`` (snellen's objects set), ``shapes`` (the shapes generator's
    2-D and 3-D shape names), or a file of names (one a line; ``#`` starts a comment)."""
    if spec == "objects":
        from snellen.concepts.objects import object_names

        return list(object_names())
    if spec == "shapes":
        return shape_names()
    path = Path(spec)
    if not path.is_file():
        raise InputError(f"tag source {spec!r}: use objects, shapes, or a file of names")
    names = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(line)
    if not names:
        raise InputError(f"{path}: no names in it")
    return names


def unique(names: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for n in names:
        key = n.strip().lower()
        if key and key not in seen:
            seen.add(key)
            out.append(n.strip())
    return out


def shapes_descriptors(names: Sequence[str]) -> dict[str, list[str]]:
    """Colour words of the shapes generator as descriptors (phrased "a red circle")."""
    from snellen.concepts.shapes import vocab as V

    return {n: [c for c in V.COLOUR_NAMES if c != "white"] for n in names}


def parse_descriptors(text: str, limit: int = 8) -> list[str]:
    """Bullet points of an LLM's reply as short descriptors."""
    out = []
    for line in ("-" + text).splitlines():
        line = re.sub(r"^\s*(?:[-*\u2022]|\d+[.)])\s*", "", line).strip().rstrip(".")
        if 2 <= len(line) <= 80 and not line.lower().startswith(("q:", "a:", "there are")):
            out.append(line[0].lower() + line[1:])
    return unique(out)[:limit]


def llm_descriptors(
    names: Sequence[str], model: Any, run: Run, *, max_tokens: int = 96, progress: bool = True
) -> dict[str, list[str]]:
    """Descriptors for every class from a chat model, one request each, through the run's
    reply cache (a rerun costs no call) and stored as records (resumable)."""
    from snellen.lens.records import Descriptors
    from snellen.llm import ChatRequest

    model_name = str(model.describe().get("model", model.name))
    done = {d.name: d for d in run.load_records(Descriptors) if d.model == model_name}
    todo = [n for n in names if n not in done]
    requests = [
        ChatRequest(prompt=DESCRIPTOR_PROMPT.format(name=n), temperature=0.0, max_tokens=max_tokens)
        for n in todo
    ]
    for i, reply in model.chat_iter(
        requests, cache=run, progress="descriptors" if progress else False
    ):
        rec = Descriptors(todo[i], model_name, tuple(parse_descriptors(reply.text)), reply.text)
        run.put_record(rec)
        done[rec.name] = rec
    return {n: list(done[n].descriptors) for n in names if done[n].descriptors}


def build_vocab(
    tags: Sequence[str] = ("objects",),
    *,
    descriptors: str | None = None,
    model: str | None = None,
    run: str | Path | None = None,
    limit: int | None = None,
    attribute_template: str = ATTRIBUTE_TEMPLATE,
    out: str | Path | None = None,
    max_tokens: int = 96,
) -> Vocabulary:
    """A vocabulary from tag sources (see :func:`tag_source`); ``descriptors`` is ``shapes``
    (generator colours), ``llm`` (written by ``model``, cached in ``run``), or None."""
    names = unique([n for spec in tags for n in tag_source(spec)])
    if limit is not None:
        names = names[:limit]
    source: dict[str, Any] = {"tags": list(tags), "descriptors": descriptors}
    vocab = Vocabulary(names, {}, attribute_template, source)
    if descriptors == "shapes":
        vocab.descriptors = shapes_descriptors(names)
        if attribute_template == ATTRIBUTE_TEMPLATE:
            vocab.attribute_template = "a {descriptor} {name}"
    elif descriptors == "llm":
        from snellen.llm import load_model
        from snellen.store import Run

        if run is None:
            raise InputError(
                "descriptors from an LLM need a run directory to cache replies (--run)"
            )
        llm = load_model(model or "smollm2")
        source["model"] = llm.describe().get("model", llm.name)
        with Run.open(run, command="lens vocab", config={"tags": list(tags)}) as r:
            vocab.descriptors = llm_descriptors(names, llm, r, max_tokens=max_tokens)
            r.finish()
    elif descriptors is not None:
        raise InputError(f"--descriptors {descriptors!r}: use shapes or llm")
    if out is not None:
        vocab.save(out)
    return vocab


# -- text embeddings, once per scorer ------------------------------------------------------------
def scorer_identity(scorer: Scorer) -> str:
    """A fingerprint of the scorer (see :func:`source_identity`)."""
    return source_identity(scorer.name)


def source_identity(name: str) -> str:
    """A model's name plus, for every local file or folder it names (``snellen-shapes:FILE``,
    ``open-clip:ARCH:FILE``, ``open-clip:CONFIG.json:FILE``, ``hf-clip:DIR``), a fingerprint
    of it, so a retrained checkpoint at the same path never reuses stale embeddings or texts."""
    parts = [name]
    pieces = name.split(":")[1:]
    # a path may itself hold colons: try every tail of the name, then every single piece
    candidates = [":".join(pieces[i:]) for i in range(len(pieces))] + pieces
    for tail in dict.fromkeys(c for c in candidates if c):
        path = Path(tail)
        if path.is_file():
            parts.append(file_sha256(path)[:16])
        elif path.is_dir():
            parts += [
                f"{p.name}:{p.stat().st_size}:{int(p.stat().st_mtime)}"
                for p in sorted(path.iterdir())
            ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def text_embeddings(
    scorer: Scorer, texts: Sequence[str], folder: str | Path | None
) -> torch.Tensor:
    """L2-normalised embeddings of ``texts`` under ``scorer``, stored in ``folder`` keyed by
    the scorer and the texts, so a vocabulary is embedded once per scorer."""
    if folder is None:
        return scorer.embed_texts(list(texts))
    key = hashlib.sha256(("\n".join(texts) + "|" + scorer_identity(scorer)).encode()).hexdigest()[
        :24
    ]
    path = Path(folder) / f"text-{key}.pt"
    if path.is_file():
        return torch.load(path, weights_only=True)
    emb = scorer.embed_texts(list(texts))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(emb, tmp)
    tmp.replace(path)
    return emb
