"""Captioners: one beam-search caption plus N captions by top-k sampling per image.

=============================  ==========================================================
``hf:ID_OR_PATH``              any transformers image-to-text model (BLIP, BLIP-2, GIT,
                               vision-encoder-decoder) by hub id or local folder
``shapes-retrieval[:SCORER]``  **retrieval, not generation**: captions of the VAD shapes
                               generator ranked by a contrastive scorer (default
                               ``snellen-shapes``); the "beam" caption is the best match,
                               the sampled ones are drawn from the top-k by similarity;
                               no caption when the best match is below ``min_similarity``
``detections[:SCORER]``        **composed, not generation**: captions written from the
                               strongest detections (regions, their colour, count and
                               place; shapes named by their outline, else by the scorer),
                               :mod:`snellen.lens.detect`; ``detections-scorer`` names
                               every shape with the scorer
=============================  ==========================================================
"""

from __future__ import annotations

import json
import random
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import torch
from PIL import Image

from snellen.errors import InputError
from snellen.registry import Registry


@dataclass(frozen=True)
class Captions:
    """A beam caption and sampled ones; ``score`` is how sure the captioner is of the beam
    (1 for a generative captioner, the similarity for retrieval, the mean shape probability
    for composed captions). An empty beam means no caption."""

    beam: str
    sampled: tuple[str, ...]
    score: float = 1.0


class Captioner(ABC):
    name: str = ""
    kind: str = "generation"  # or "retrieval"

    @abstractmethod
    def caption(
        self, images: Sequence[Image.Image], n: int = 10, top_k: int = 50, seed: int = 0
    ) -> list[Captions]:
        """A beam caption and ``n`` top-k sampled captions for each image (one batch)."""

    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind}


class HFCaptioner(Captioner):
    """A transformers image-to-text model (``AutoModelForImageTextToText``), e.g. BLIP."""

    def __init__(
        self, path: str, *, device: str | None = None, num_beams: int = 5, max_new_tokens: int = 30
    ) -> None:
        from transformers import AutoModelForImageTextToText, AutoProcessor

        try:
            self.processor = AutoProcessor.from_pretrained(path)
            self.model = AutoModelForImageTextToText.from_pretrained(path)
        except (OSError, ValueError) as e:
            raise InputError(
                f"captioner hf:{path}: cannot load an image-to-text model there ({e}); give a "
                "hub id such as Salesforce/blip-image-captioning-large or a local folder"
            ) from None
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        cast(Any, self.model).to(self.device).eval()
        self.name = f"hf:{path}"
        self.num_beams = num_beams
        self.max_new_tokens = max_new_tokens
        self._path = path

    def identity(self) -> dict[str, Any]:
        from snellen.lens.vocab import source_identity

        return {
            **super().identity(),
            "files": source_identity(self.name),
            "beams": self.num_beams,
            "max_new_tokens": self.max_new_tokens,
        }

    @torch.no_grad()
    def caption(
        self, images: Sequence[Image.Image], n: int = 10, top_k: int = 50, seed: int = 0
    ) -> list[Captions]:
        rgb = [im.convert("RGB") for im in images]
        inputs = self.processor(images=rgb, return_tensors="pt").to(self.device)
        beam = self.model.generate(
            **inputs, num_beams=self.num_beams, do_sample=False, max_new_tokens=self.max_new_tokens
        )
        beam_text = self.processor.batch_decode(beam, skip_special_tokens=True)
        sampled_text: list[str] = []
        if n > 0:
            torch.manual_seed(seed)
            out = self.model.generate(
                **inputs, do_sample=True, top_k=top_k, num_return_sequences=n,
                max_new_tokens=self.max_new_tokens,
            )  # fmt: skip
            sampled_text = self.processor.batch_decode(out, skip_special_tokens=True)
        return [
            Captions(
                beam_text[i].strip(), tuple(s.strip() for s in sampled_text[i * n : (i + 1) * n])
            )
            for i in range(len(rgb))
        ]


def caption_bank(n: int = 20000, seed: int = 0) -> list[str]:
    """Descriptions of ``n`` VAD shapes, deduplicated. The bank is text only and spans every
    combination the generator makes (held-out ones too): what is tested is whether the
    scorer, trained without the held-out combinations, picks the right description."""
    from snellen.concepts.shapes.describe import describe
    from snellen.concepts.shapes.spec import sample_spec

    out: list[str] = []
    seen: set[str] = set()
    i = 0
    while len(out) < n and i < n * 5:
        spec = sample_spec(random.Random(f"bank/{seed}/{i}"))  # noqa: S311 - seeded sampling for reproducible data, not security
        i += 1
        text = describe(spec)
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


class RetrievalCaptioner(Captioner):
    """Caption **retrieval** from a bank of shapes-generator descriptions with a contrastive
    scorer. The best match stands in for the beam caption; the "sampled" captions are drawn
    without replacement from the top-k matches with probability softmax(similarity / 0.01).
    An image whose best match is below ``min_similarity`` gets no caption at all: a bank of
    descriptions of other pictures passes on guesses otherwise (for ``snellen-shapes``, a
    matching VAD caption scores about 0.8 and unrelated text 0.2-0.7)."""

    kind = "retrieval"

    def __init__(
        self, scorer: str = "snellen-shapes", *, bank_size: int = 20000, device: str | None = None,
        cache: str | Path | None = None, min_similarity: float = 0.75,
    ) -> None:  # fmt: skip
        self.min_similarity = min_similarity
        from snellen.lens.vocab import text_embeddings
        from snellen.score import load_scorer

        self.scorer = load_scorer(scorer, device=device)
        bank_file = Path(cache) / f"caption-bank-{bank_size}.json" if cache else None
        if bank_file is not None and bank_file.is_file():
            self.bank = json.loads(bank_file.read_text())
        else:
            self.bank = caption_bank(bank_size)
            if bank_file is not None:
                bank_file.parent.mkdir(parents=True, exist_ok=True)
                bank_file.write_text(json.dumps(self.bank))
        self.bank_emb = text_embeddings(self.scorer, self.bank, cache)
        self.name = f"shapes-retrieval:{scorer}"
        self.bank_size = bank_size

    def identity(self) -> dict[str, Any]:
        from snellen.lens.vocab import scorer_identity

        return {
            **super().identity(),
            "scorer": scorer_identity(self.scorer),
            "bank": self.bank_size,
            "min_similarity": self.min_similarity,
        }

    def caption(
        self, images: Sequence[Image.Image], n: int = 10, top_k: int = 50, seed: int = 0
    ) -> list[Captions]:
        sims = self.scorer.embed_images(list(images)) @ self.bank_emb.t()
        out = []
        for row in sims:
            vals, idx = row.topk(min(max(top_k, 1), len(self.bank)))
            if float(vals[0]) < self.min_similarity:
                out.append(Captions("", (), float(vals[0])))
                continue
            gen = torch.Generator().manual_seed(seed)
            k = min(n, len(idx))
            pick: Any = (
                torch.multinomial(torch.softmax(vals / 0.01, 0), k, generator=gen) if k else []
            )
            out.append(
                Captions(
                    self.bank[int(idx[0])],
                    tuple(self.bank[int(idx[int(j)])] for j in pick),
                    float(vals[0]),
                )
            )
        return out


def _hf(arg: str | None, **kw: Any) -> Captioner:
    if not arg:
        raise InputError(
            "hf captioner needs a model: hf:Salesforce/blip-image-captioning-large or hf:/path"
        )
    return HFCaptioner(arg, device=kw.get("device"), max_new_tokens=kw.get("max_new_tokens") or 30)


def _retrieval(arg: str | None, **kw: Any) -> Captioner:
    threshold = kw.get("min_similarity")
    return RetrievalCaptioner(
        arg or "snellen-shapes", device=kw.get("device"), cache=kw.get("cache"),
        min_similarity=0.75 if threshold is None else float(threshold),
    )  # fmt: skip


CAPTIONERS: Registry[Any] = Registry("captioner")
CAPTIONERS.register("hf", _hf, help="transformers image-to-text model: hf:ID_OR_PATH")
CAPTIONERS.register(
    "shapes-retrieval", _retrieval,
    help="caption RETRIEVAL from a VAD shapes caption bank: shapes-retrieval[:SCORER]",
)  # fmt: skip
CAPTIONERS.register(
    "detections", "snellen.lens.detect:detection_captioner",
    help="captions COMPOSED from detections (regions, colour, outline shape, count, place): "
    "detections[:SCORER]",
)  # fmt: skip
CAPTIONERS.register(
    "detections-scorer", "snellen.lens.detect:scorer_detection_captioner",
    help="as detections, with every shape named by the scorer: detections-scorer[:SCORER]",
)  # fmt: skip


def load_captioner(name: str, **options: Any) -> Captioner:
    """The captioner named ``name`` (see the module doc)."""
    if name.strip().lower() in CAPTIONERS:
        factory, arg = CAPTIONERS.get(name), None
    else:
        factory, arg = CAPTIONERS.resolve(name)
    return factory(arg, **options)
