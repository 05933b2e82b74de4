"""Images of one or more dataset directories (WebDataset shards), read by random access, and
the MoCo-v2 two-view augmentation made a pure function of (seed, epoch, image).

Seeding each image's augmentation by its own number, not by a loader worker's stream, is
what makes a resumed run draw exactly the crops the uninterrupted run would have drawn,
whatever the number of loader workers.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from snellen.errors import InputError
from snellen.imagesets.shards import Member, index_shard, list_shards, read_bytes


def index_images(dirs: Sequence[str | os.PathLike[str]]) -> list[Member]:
    """Every image of the datasets in ``dirs``, in a fixed order."""
    members: list[Member] = []
    for d in dirs:
        shards = list_shards(d)
        if not shards:
            raise InputError(f"{d}: no shard-*.tar files; build one with `snellen dataset build`")
        for shard in shards:
            members += index_shard(shard)
    return members


def sample_seed(seed: int, epoch: int, index: int) -> int:
    h = hashlib.blake2b(f"{seed}/{epoch}/{index}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "little") & 0x7FFF_FFFF_FFFF_FFFF


class ShardImages(Dataset):
    """Images of shard directories, each returned as ``transform(image)`` with the
    transform's randomness seeded by ``(seed, epoch, index)``."""

    def __init__(
        self,
        dirs: Sequence[str | os.PathLike[str]],
        transform: Callable[[Image.Image], Any],
        seed: int = 0,
    ) -> None:
        self.members = index_images(dirs)
        self.transform = transform
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.members)

    def image(self, index: int) -> Image.Image:
        return Image.open(io.BytesIO(read_bytes(self.members[index]))).convert("RGB")

    def __getitem__(self, index: int) -> Any:
        img = self.image(index)
        s = sample_seed(self.seed, self.epoch, index)
        np_state, py_state = np.random.get_state(), random.getstate()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(s)
            np.random.seed(s % (2**32))
            random.seed(s)
            try:
                return self.transform(img)
            finally:
                np.random.set_state(np_state)
                random.setstate(py_state)


def moco_v2_transform(size: int) -> Callable[[Image.Image], Any]:
    """The MoCo-v2 "aug-plus" views (lightly's ``MoCoV2Transform``: random resized crop
    from 20%, colour jitter 0.4/0.4/0.4/0.1 with p 0.8, grayscale p 0.2, Gaussian blur
    p 0.5, horizontal flip, ImageNet normalisation), two per image."""
    from lightly.transforms import MoCoV2Transform

    return MoCoV2Transform(input_size=size)


def data_dirs(data: str | Sequence[str]) -> list[str]:
    dirs = [d for d in (data.split(",") if isinstance(data, str) else data) if d]
    for d in dirs:
        if not Path(d).exists():
            raise InputError(f"--data {d}: no such directory")
    return dirs
