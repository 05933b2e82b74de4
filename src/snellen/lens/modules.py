"""LENS's vision modules. Each turns a batch of images into text records
(:class:`~snellen.lens.records.VisionText`) and is registered by name in
:data:`VISION_MODULES`:

* ``tags``: a contrastive scorer ranks a tag vocabulary (prompt ``A photo of {tag}``); the
  top-k tags whose cosine similarity reaches a threshold (LENS: 5 and 0.2);
* ``attributes``: the same over descriptor phrases ("a {class}, which has {descriptor}");
* ``captions``: one beam caption and N top-k sampled captions from a captioner;
* ``ocr``: the words Tesseract reads, with confidences.

A module is built from a :class:`BuildContext` by its class's :meth:`VisionModule.build`
(None: it cannot run here, with the reason in ``context.notes``), so registering a class in
:data:`VISION_MODULES` is all a new module needs.

Thresholds are absolute cosines, so they depend on the scorer: 0.2 suits OpenAI/LAION CLIP,
whose matching pairs score about 0.2-0.35; snellen's ``snellen-shapes`` scores every pair
higher (matching shape captions about 0.8, unrelated words 0.2-0.7), so its useful threshold
is about 0.5 and top-k does most of the work there.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from snellen.lens.records import VisionText
from snellen.registry import Registry
from snellen.store.run import content_key


class ImageBatch:
    """Images with their keys; image embeddings are computed once per scorer and shared by
    every module that uses that scorer."""

    def __init__(self, keys: Sequence[str], images: Sequence[Image.Image]) -> None:
        self.keys = list(keys)
        self.images = list(images)
        self._embeddings: dict[int, torch.Tensor] = {}

    def embeddings(self, scorer: Any) -> torch.Tensor:
        if id(scorer) not in self._embeddings:
            self._embeddings[id(scorer)] = scorer.embed_images(self.images)
        return self._embeddings[id(scorer)]

    def __len__(self) -> int:
        return len(self.keys)


@dataclass
class BuildContext:
    """What building a module may draw on: the run's settings (a
    :class:`~snellen.lens.pipeline.LensConfig`), the dataset, the loaded contrastive scorer
    (None when no module needs one), the vocabulary, where text embeddings are kept, and
    the run's notes (a module that is skipped or stands in for another says so there)."""

    config: Any
    dataset: Any
    scorer: Any
    vocab: Any
    embeddings_dir: Path
    notes: list[str] = field(default_factory=list)


class VisionModule(ABC):
    """One module: its settings fingerprint the texts it writes, so changing the vision
    model, vocabulary, k or threshold recomputes them, and nothing else does."""

    name: str = ""

    @classmethod
    def build(cls, context: BuildContext) -> VisionModule | None:
        """This module as the run's settings ask for it (None: skipped, said in notes)."""
        return cls()

    @abstractmethod
    def settings(self) -> dict[str, Any]:
        """Everything that changes this module's output."""

    @abstractmethod
    def _run(self, batch: ImageBatch) -> list[tuple[list[str], list[float]]]:
        """Texts and scores for each image of the batch."""

    def fingerprint(self) -> str:
        return f"{self.name}-{content_key(self.name, self.settings())[:16]}"

    def run(self, batch: ImageBatch) -> list[VisionText]:
        start = time.perf_counter()
        results = self._run(batch)
        per_image = (time.perf_counter() - start) / max(1, len(batch))
        fp = self.fingerprint()
        return [
            VisionText(
                key,
                self.name,
                fp,
                tuple(t),
                tuple(round(float(s), 5) for s in sc),
                round(per_image, 5),
                self.note(),
            )  # fmt: skip
            for key, (t, sc) in zip(batch.keys, results, strict=True)
        ]

    def note(self) -> str:
        return ""


class _Ranked(VisionModule):
    """Rank a text vocabulary against the image with a contrastive scorer."""

    def __init__(
        self, scorer: Any, texts: Sequence[str], *, top_k: int = 5, threshold: float = 0.2,
        embeddings_dir: str | Path | None = None, labels: Sequence[str] | None = None,
    ) -> None:  # fmt: skip
        from snellen.lens.vocab import scorer_identity, text_embeddings

        if not texts:
            from snellen.errors import InputError

            raise InputError(f"the {self.name} module got an empty vocabulary")
        self.scorer = scorer
        self.texts = list(texts)
        self.labels = list(labels) if labels is not None else self.texts
        self.top_k = top_k
        self.threshold = threshold
        self.text_emb = text_embeddings(scorer, self.texts, embeddings_dir)
        self._scorer_id = scorer_identity(scorer)

    def settings(self) -> dict[str, Any]:
        return {
            "scorer": self._scorer_id, "texts": content_key(self.texts, self.labels),
            "top_k": self.top_k, "threshold": self.threshold,
        }  # fmt: skip

    def _run(self, batch: ImageBatch) -> list[tuple[list[str], list[float]]]:
        sims = batch.embeddings(self.scorer) @ self.text_emb.t()
        vals, idx = sims.topk(min(self.top_k, sims.shape[1]), dim=1)
        out = []
        for v, i in zip(vals.tolist(), idx.tolist(), strict=True):
            keep = [(self.labels[j], s) for s, j in zip(v, i, strict=True) if s >= self.threshold]
            out.append(([t for t, _ in keep], [s for _, s in keep]))
        return out


class TagModule(_Ranked):
    name = "tags"

    @classmethod
    def build(cls, context: BuildContext) -> VisionModule | None:
        cfg, ds = context.config, context.dataset
        template = ds.class_template if ds.name.startswith("shapes") else "A photo of {}"
        return cls(context.scorer, context.vocab.tags, template=template, top_k=cfg.tags_k,
                   threshold=cfg.threshold, embeddings_dir=context.embeddings_dir)  # fmt: skip

    def __init__(
        self, scorer: Any, tags: Sequence[str], *, template: str = "A photo of {}", **kw: Any
    ) -> None:
        self.template = template
        super().__init__(scorer, [template.format(t) for t in tags], labels=list(tags), **kw)


class AttributeModule(_Ranked):
    name = "attributes"

    @classmethod
    def build(cls, context: BuildContext) -> VisionModule | None:
        texts = context.vocab.attribute_texts()
        if not texts:
            context.notes.append(
                "attributes skipped: the vocabulary has no descriptors (build one with "
                "`snellen lens vocab --descriptors llm` and pass --vocab)"
            )
            return None
        cfg = context.config
        return cls(context.scorer, texts, top_k=cfg.attributes_k, threshold=cfg.threshold,
                   embeddings_dir=context.embeddings_dir)  # fmt: skip


class CaptionModule(VisionModule):
    """Texts: the beam caption first, then the sampled ones."""

    name = "captions"

    def __init__(self, captioner: Any, *, n: int = 10, top_k: int = 50, seed: int = 0) -> None:
        self.captioner = captioner
        self.n = n
        self.top_k = top_k
        self.seed = seed

    @classmethod
    def build(cls, context: BuildContext) -> VisionModule | None:
        from snellen.lens.captioners import load_captioner

        cfg = context.config
        cap = load_captioner(
            cfg.captioner, device=cfg.device, cache=context.embeddings_dir,
            max_new_tokens=cfg.caption_tokens, scorer=context.scorer,
            vocab=context.vocab, min_similarity=cfg.caption_min_similarity,
        )  # fmt: skip
        if cap.kind == "retrieval":
            context.notes.append(
                f"captions come from RETRIEVAL ({cap.name}), not a generative captioner; "
                f"a caption is given only when its similarity reaches {cap.min_similarity:g}"  # type: ignore[attr-defined]
            )
        elif cap.kind == "composed":
            context.notes.append(
                f"captions are COMPOSED from detections ({cap.name}: regions found by colour, "
                "shapes named by their measured outline or the vision model), not written by "
                "a generative captioner"
            )
        return cls(cap, n=cfg.captions_n, top_k=cfg.captions_top_k, seed=cfg.seed)

    def settings(self) -> dict[str, Any]:
        return {
            "captioner": self.captioner.identity(),
            "n": self.n,
            "top_k": self.top_k,
            "seed": self.seed,
        }

    def note(self) -> str:
        return {"retrieval": "retrieval", "composed": "composed"}.get(
            self.captioner.kind, "generation"
        )

    def _run(self, batch: ImageBatch) -> list[tuple[list[str], list[float]]]:
        caps = self.captioner.caption(batch.images, n=self.n, top_k=self.top_k, seed=self.seed)
        out: list[tuple[list[str], list[float]]] = []
        for c in caps:
            texts = [c.beam, *c.sampled] if c.beam else []
            out.append((texts, [c.score] + [0.0] * len(c.sampled) if texts else []))
        return out


class OCRModule(VisionModule):
    name = "ocr"

    @classmethod
    def build(cls, context: BuildContext) -> VisionModule | None:
        return cls()

    def __init__(self, *, lang: str = "eng", min_conf: float = 30.0, workers: int = 2) -> None:
        self.lang = lang
        self.min_conf = min_conf
        self.workers = workers

    def settings(self) -> dict[str, Any]:
        return {"engine": "tesseract", "lang": self.lang, "min_conf": self.min_conf}

    def _run(self, batch: ImageBatch) -> list[tuple[list[str], list[float]]]:
        from concurrent.futures import ThreadPoolExecutor

        from snellen.lens.ocr import read_text

        with ThreadPoolExecutor(self.workers) as pool:
            return list(
                pool.map(
                    lambda im: read_text(im, lang=self.lang, min_conf=self.min_conf), batch.images
                )
            )


VISION_MODULES: Registry[type[VisionModule]] = Registry("vision module")
VISION_MODULES.register("tags", TagModule, help="top-k tags over a vocabulary (contrastive scorer)")
VISION_MODULES.register(
    "attributes", AttributeModule, help="top-k descriptor phrases (contrastive scorer)"
)
VISION_MODULES.register("captions", CaptionModule, help="beam + top-k sampled captions (captioner)")
VISION_MODULES.register("ocr", OCRModule, help="words read by Tesseract, with confidences")
