"""Image datasets drawn by programs: LLM drawings (with parametric variants), VAD shapes,
procedural baselines (dead leaves, fractals, spectrum, wavelet-marginal noise), GLSL shaders
and mixtures, written as WebDataset shards by local processes or Ray tasks.

>>> from snellen.imagesets import build_dataset
>>> build_dataset("dead-leaves:mixed", n=100, size=64, out="dl")  # doctest: +SKIP
"""

from snellen.imagesets.base import Planned, Source, slot_rng
from snellen.imagesets.build import (
    DatasetSummary,
    ShardJob,
    ShardRecord,
    build_dataset,
    run_shard,
)
from snellen.imagesets.shards import index_shard, iter_samples, list_shards
from snellen.imagesets.sources import SOURCES, load_source

__all__ = [
    "SOURCES",
    "DatasetSummary",
    "Planned",
    "ShardJob",
    "ShardRecord",
    "Source",
    "build_dataset",
    "index_shard",
    "iter_samples",
    "list_shards",
    "load_source",
    "run_shard",
    "slot_rng",
]
