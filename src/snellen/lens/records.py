"""The typed records LENS stores in a run: dataset items (:class:`LensItem`, defined with the
dataset layer that reads them), what a vision module said about an image, and one method's
answer to one item."""

from __future__ import annotations

from dataclasses import dataclass

from snellen.records import Record
from snellen.records.questions import LensItem

__all__ = ["Descriptors", "LensAnswer", "LensItem", "VisionText"]


@dataclass(frozen=True)
class VisionText(Record):
    """What one vision module produced for one image: texts with their scores (cosine
    similarity for tags and attributes, sequence rank for captions, confidence 0..1 for
    OCR). ``config`` is the fingerprint of the module's settings, so another vision model
    or vocabulary never reuses these texts."""

    kind = "lens_vision"
    image: str
    module: str
    config: str
    texts: tuple[str, ...]
    scores: tuple[float, ...]
    seconds: float = 0.0
    note: str = ""

    def record_key(self) -> str:
        return f"{self.config}/{self.image}"


@dataclass(frozen=True)
class LensAnswer(Record):
    """One method's answer to one item. ``method``: ``lens``, ``vision`` (the vision model
    alone), ``blind`` (the LLM without the image) or ``majority``. ``setting`` fingerprints
    everything that produced it (models, prompt, shots), so one run can hold several.
    ``score`` is the item's metric (VQA accuracy, or 1/0 correct); ``confidence`` is the
    predicted probability of the positive class (binary tasks; else the answer's score)."""

    kind = "lens_answer"
    item: str
    method: str
    setting: str
    prediction: str
    score: float
    confidence: float = 0.0
    prompt: str = ""
    reply: str = ""
    seconds: float = 0.0

    def record_key(self) -> str:
        return f"{self.setting}/{self.method}/{self.item}"


@dataclass(frozen=True)
class Descriptors(Record):
    """Visual descriptors an LLM wrote for one class (the attribute vocabulary)."""

    kind = "lens_descriptors"
    name: str
    model: str
    descriptors: tuple[str, ...]
    reply: str = ""

    def record_key(self) -> str:
        return f"{self.model}/{self.name}"
