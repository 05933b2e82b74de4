"""A contrastive image-text model that snellen trains itself (ShapesCLIP): model, tokenizer,
loss, pair sources and the training loop. The loss takes hard negative captions, so NegCLIP
is a change of data, not of code.

>>> from snellen.clip import TrainConfig, train_clip
>>> result = train_clip(TrainConfig(n_train=2000, epochs=1), "tiny.pt")  # doctest: +SKIP
"""

from snellen.clip.data import Pairs, load_pairs, shapes_pairs
from snellen.clip.loss import clip_logits, clip_loss
from snellen.clip.model import (
    ShapesCLIP,
    ShapesCLIPConfig,
    load_checkpoint,
    preprocess,
    save_checkpoint,
)
from snellen.clip.tokenizer import WordTokenizer
from snellen.clip.train import Retrieval, TrainConfig, TrainResult, evaluate, retrieval, train_clip

__all__ = [
    "Pairs",
    "Retrieval",
    "ShapesCLIP",
    "ShapesCLIPConfig",
    "TrainConfig",
    "TrainResult",
    "WordTokenizer",
    "clip_logits",
    "clip_loss",
    "evaluate",
    "load_checkpoint",
    "load_pairs",
    "preprocess",
    "retrieval",
    "save_checkpoint",
    "shapes_pairs",
    "train_clip",
]
