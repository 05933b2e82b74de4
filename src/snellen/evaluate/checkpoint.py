"""Resumable evaluation runs: an eval written to ``--out DIR`` keeps its finished work in
``DIR/progress/`` (a :class:`~snellen.store.Run`), so a run that is killed and started
again with the same command embeds only what is missing and writes the same JSON.

What is kept, each as one typed record (:class:`EmbeddingChunk`) pointing at a ``.npy``
file written atomically before the record (the record is the commit point):

* image embeddings, one chunk per data-loader batch, keyed by the content of what decides
  them: the model (a hash of its weights, its name and device), the image sources (paths
  with size and modification time, SVG programs, pixels) and the batch size. A resumed run
  embeds the remaining images in the same batches as an uninterrupted one, so every number
  is identical bit for bit; runs that share images (a set and its shuffled variants) share
  the chunks;
* text embeddings (prompts, captions, candidates of every seed of the order sets), in
  chunks of whole batches, keyed by the run;
* the finished run (:class:`CompletedRun`, the JSON's record), keyed by the model, the
  data, the task and its options: a sweep that meets it again skips it (``--force`` drops
  the run's stored work and computes it afresh).

Everything downstream of the embeddings (scores, metrics) is cheap and recomputed.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from snellen.datasets.kinds import EvalDataset, ImageSource
from snellen.evaluate.embed import ImageEmbeddings, embed_images, embed_texts
from snellen.records import Record, to_plain
from snellen.records.evaluation import EvalResult
from snellen.score.base import Scorer
from snellen.store import Run
from snellen.store.run import content_key

__all__ = [
    "PROGRESS",
    "Checkpoint",
    "CompletedRun",
    "EmbeddingChunk",
    "dataset_fingerprint",
    "model_fingerprint",
]

PROGRESS = "progress"  # the folder of an --out directory that holds the run's progress
_TEXT_CHUNK = 2048  # texts per stored chunk (rounded to whole batches)


@dataclass(frozen=True)
class EmbeddingChunk(Record):
    """Embeddings ``[rows, D]`` in ``file`` (relative to the progress run). Images:
    ``indices`` are the dataset indices of the rows and ``skipped`` the images of the batch
    that did not load (index -> why). Texts: ``texts`` are the texts of the rows."""

    kind = "eval_embeddings"

    key: str
    file: str
    rows: int
    indices: list[int] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)

    def record_key(self) -> str:
        return self.key


@dataclass(frozen=True)
class CompletedRun(Record):
    """A finished run: its record, and where its JSON was written."""

    kind = "eval_completed"

    key: str
    path: str
    result: EvalResult

    def record_key(self) -> str:
        return self.key


def model_fingerprint(scorer: Scorer) -> str:
    """A hash of the scorer's name, device, input size, precision and the bytes of every
    weight of its torch modules (the ones it runs, not a float32 copy kept aside): another
    checkpoint at the same path gets another fingerprint."""
    from snellen import __version__

    h = hashlib.blake2b(digest_size=16)
    precision = getattr(scorer, "precision", "fp32")
    h.update(
        f"{scorer.name}|{scorer.device.type}|{getattr(scorer, 'image_size', '')}|{precision}".encode()
    )
    h.update(__version__.encode())
    for name, value in sorted(vars(scorer).items()):
        if name.startswith("_") or not isinstance(value, torch.nn.Module):
            continue
        for key, tensor in value.state_dict().items():
            t = tensor.detach().contiguous().cpu().reshape(-1)
            h.update(f"{name}.{key}:{t.dtype}:{tuple(t.shape)}".encode())
            h.update(memoryview(t.view(torch.uint8).numpy() if t.numel() else b""))
    return h.hexdigest()


def _source_part(src: ImageSource) -> list[Any]:
    if src.svg is not None:
        return ["svg", hashlib.sha256(src.svg.encode()).hexdigest()]
    if src.raw is not None:
        mode, w, h, data = src.raw
        return ["raw", mode, w, h, hashlib.sha256(data).hexdigest()]
    try:
        st = os.stat(src.path or "")
        stamp: list[Any] = [st.st_size, st.st_mtime_ns]
    except OSError:
        stamp = [None]
    return ["file", src.path, list(src.bbox) if src.bbox else None, *stamp]


def sources_fingerprint(sources: Sequence[ImageSource]) -> str:
    """What decides the pixels: each file's path, crop box, size and modification time;
    each SVG program; each raw image's bytes."""
    return content_key([_source_part(s) for s in sources])


def dataset_fingerprint(data: EvalDataset) -> str:
    """The images and every text and label of a test set (random candidate draws are
    decided by the candidates and the seeds)."""
    rest = {f.name: to_plain(getattr(data, f.name)) for f in fields(data)
            if f.name not in ("images", "draw", "info")}  # fmt: skip
    return content_key(
        sources_fingerprint(data.images), rest, getattr(data, "draw", None) is not None
    )


def _write_npy(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npy")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(buf.getvalue())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Checkpoint:
    """The stored progress of one run in ``DIR/progress``. Without a directory
    (``Checkpoint()``) it stores nothing and embeds as :mod:`snellen.evaluate.embed` does.

    ``model``: :func:`model_fingerprint` of the scorer; ``key``: the run's key (model,
    data, task, options). It travels to other processes by path (the :class:`Run` does)."""

    def __init__(
        self, directory: str | Path | None = None, *, model: str = "", key: str = ""
    ) -> None:
        self.run = (
            None
            if directory is None
            else Run.open(Path(directory) / PROGRESS, command="eval", config={"format": 1})
        )
        self.model = model
        self.key = key
        self.reused = {"images": 0, "texts": 0}
        self._texts: dict[str, torch.Tensor] | None = None

    def __getstate__(self) -> dict[str, Any]:
        # travels by path: the texts it holds in memory are read again from the store
        return {**self.__dict__, "_texts": None}

    # -- a whole run --------------------------------------------------------------------
    def completed(self) -> CompletedRun | None:
        if self.run is None:
            return None
        return self.run.get_record(CompletedRun, self.key)

    def complete(self, result: EvalResult, path: Path) -> None:
        if self.run is not None:
            self.run.put_record(CompletedRun(self.key, str(path), result))

    def forget(self, image_groups: Sequence[str] = ()) -> int:
        """Drop the run's stored work (``--force``): its completion, its text chunks and the
        image chunks of ``image_groups``; returns how many records went."""
        if self.run is None:
            return 0
        prefixes = (f"{self.key}/", *(f"{g}/" for g in image_groups))
        keys = [k for k in self.run.keys(EmbeddingChunk.kind) if k.startswith(prefixes)]
        for k in keys:
            record = self.run.get_record(EmbeddingChunk, k)
            if record is not None and record.file:
                (self.run.path / record.file).unlink(missing_ok=True)
        n = self.run.delete(EmbeddingChunk.kind, keys)
        n += self.run.delete(CompletedRun.kind, [self.key])
        self._texts = None
        return n

    def close(self, status: str = "finished") -> None:
        if self.run is not None:
            self.run.finish(status)
            self.run.close()

    # -- chunks -------------------------------------------------------------------------
    def _chunks(self, prefix: str) -> list[EmbeddingChunk]:
        assert self.run is not None  # noqa: S101 - an invariant that narrows the type, not a check of input
        keys = sorted(k for k in self.run.keys(EmbeddingChunk.kind) if k.startswith(prefix))
        out = [self.run.get_record(EmbeddingChunk, k) for k in keys]
        return [c for c in out if c is not None]

    def _load(self, chunk: EmbeddingChunk) -> torch.Tensor:
        assert self.run is not None  # noqa: S101 - an invariant that narrows the type, not a check of input
        return torch.from_numpy(np.load(self.run.path / chunk.file, allow_pickle=False))

    def _put(self, key: str, emb: torch.Tensor | None, **fields_: Any) -> EmbeddingChunk:
        assert self.run is not None  # noqa: S101 - an invariant that narrows the type, not a check of input
        file = ""
        if emb is not None and len(emb):
            digest = hashlib.sha256(key.encode()).hexdigest()
            file = f"embeddings/{digest[:2]}/{digest}.npy"
            _write_npy(self.run.path / file, emb.numpy())
        chunk = EmbeddingChunk(key, file, 0 if emb is None else len(emb), **fields_)
        self.run.put_record(chunk)
        return chunk

    def image_group(self, scorer: Scorer, sources: Sequence[ImageSource], batch_size: int) -> str:
        return "img-" + content_key(self.model, sources_fingerprint(sources), batch_size)[:32]

    def images(
        self, scorer: Scorer, sources: Sequence[ImageSource], batch_size: int = 64,
        workers: int | None = None, progress: bool = True,
    ) -> ImageEmbeddings:  # fmt: skip
        """:func:`~snellen.evaluate.embed.embed_images`, keeping each batch and embedding
        only the images no stored batch holds."""
        if self.run is None:
            return embed_images(scorer, sources, batch_size, workers, progress)
        group = self.image_group(scorer, sources, batch_size)
        parts: list[tuple[int, list[int], torch.Tensor | None, dict[int, str]]] = []
        done: set[int] = set()
        for c in self._chunks(f"{group}/"):
            skipped = {int(i): why for i, why in c.skipped.items()}
            parts.append((min(c.indices + list(skipped)), c.indices,
                          self._load(c) if c.rows else None, skipped))  # fmt: skip
            done.update(c.indices, skipped)
        self.reused["images"] += sum(len(p[1]) for p in parts)
        todo = [i for i in range(len(sources)) if i not in done]

        def keep(idx: list[int], emb: torch.Tensor | None, bad: dict[int, str]) -> None:
            real = [todo[j] for j in idx]
            skipped = {todo[j]: why for j, why in bad.items()}
            first = min(real + list(skipped))
            self._put(f"{group}/{first:09d}", emb, indices=real,
                      skipped={str(i): why for i, why in skipped.items()})  # fmt: skip
            parts.append((first, real, emb, skipped))

        if todo:
            embed_images(scorer, [sources[i] for i in todo], batch_size, workers, progress,
                         on_batch=keep)  # fmt: skip
        parts.sort(key=lambda p: p[0])
        embs = [p[2] for p in parts if p[2] is not None]
        kept = [i for p in parts for i in p[1]]
        skipped = {i: why for p in parts for i, why in p[3].items()}
        dim = embs[0].shape[1] if embs else 0
        return ImageEmbeddings(torch.cat(embs) if embs else torch.zeros(0, dim), kept, skipped)

    def texts(self, scorer: Scorer, texts: Sequence[str]) -> torch.Tensor:
        """:func:`~snellen.evaluate.embed.embed_texts`, keeping what it embeds in chunks of
        whole batches, so the texts still missing are embedded in the same batches as in an
        uninterrupted run."""
        if self.run is None:
            return embed_texts(scorer, texts)
        if self._texts is None:
            self._texts = {}
            for c in self._chunks(f"{self.key}/texts/"):
                self._texts.update(zip(c.texts, self._load(c), strict=True))
                self.reused["texts"] += c.rows
        missing = list(dict.fromkeys(t for t in texts if t not in self._texts))
        step = max(1, _TEXT_CHUNK // scorer.batch_size) * scorer.batch_size
        for start in range(0, len(missing), step):
            part = missing[start : start + step]
            emb = embed_texts(scorer, part)
            self._put(f"{self.key}/texts/{content_key(part)[:32]}", emb, texts=part)
            self._texts.update(zip(part, emb, strict=True))
        if not texts:
            return torch.zeros(0, 0)
        return torch.stack([self._texts[t] for t in texts])


def checkpoint_for(
    out: str | Path | None, scorer: Scorer, data: EvalDataset, task: str, options: dict[str, Any]
) -> Checkpoint:
    """The checkpoint of a run written to ``out``: a directory keeps progress, a ``.json``
    file or nothing does not."""
    if out is None or Path(out).suffix == ".json":
        return Checkpoint()
    model = model_fingerprint(scorer)
    key = "run-" + content_key(model, dataset_fingerprint(data), task, options)[:32]
    return Checkpoint(out, model=model, key=key)
