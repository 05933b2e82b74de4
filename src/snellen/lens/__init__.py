"""LENS: a frozen language model answers questions about images from the text that vision
modules write about them (tags, attributes, captions, OCR).

>>> from snellen.lens import run_lens
>>> report = run_lens("vqa", "shapes-vqa", out="runs/lens-vqa", limit=20)  # doctest: +SKIP
>>> report.accuracy("lens"), report.methods["blind"].interval  # doctest: +SKIP
"""

from snellen.lens.captioners import CAPTIONERS, Captioner, Captions, load_captioner
from snellen.lens.modules import (
    VISION_MODULES,
    AttributeModule,
    CaptionModule,
    ImageBatch,
    OCRModule,
    TagModule,
    VisionModule,
)
from snellen.lens.pipeline import LensConfig, evaluate, run_lens
from snellen.lens.prompts import TASK_MODES, TEMPLATES, Prompter
from snellen.lens.records import Descriptors, LensAnswer, LensItem, VisionText
from snellen.lens.summary import Comparison, LensReport, MethodScore
from snellen.lens.vocab import Vocabulary, build_vocab

__all__ = [
    "CAPTIONERS",
    "TASK_MODES",
    "TEMPLATES",
    "VISION_MODULES",
    "AttributeModule",
    "CaptionModule",
    "Captioner",
    "Comparison",
    "Captions",
    "Descriptors",
    "ImageBatch",
    "LensAnswer",
    "LensConfig",
    "LensItem",
    "LensReport",
    "MethodScore",
    "OCRModule",
    "Prompter",
    "TagModule",
    "VisionModule",
    "VisionText",
    "Vocabulary",
    "build_vocab",
    "evaluate",
    "load_captioner",
    "run_lens",
]
