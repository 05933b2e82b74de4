"""Shard jobs as Ray tasks on a local Ray instance (loopback) give the same bytes as the
local process pool, with rendering still confined on the Ray workers."""

from __future__ import annotations

from pathlib import Path

import pytest

from snellen.imagesets import build_dataset


@pytest.mark.slow
def test_ray_backend_matches_the_local_pool_byte_for_byte(tmp_path: Path) -> None:
    source = "mix:fractals=1,vad-shapes=1"
    local = build_dataset(source, 12, 32, tmp_path / "local", shard_size=4, workers=2,
                          progress=False)  # fmt: skip
    ray = build_dataset(source, 12, 32, tmp_path / "ray", shard_size=4, workers=2,
                        backend="ray", progress=False)  # fmt: skip
    assert ray.images == local.images == 12
    assert ray.shards == local.shards  # names, counts and sha256 of every shard
    assert ray.sandbox["landlock"].startswith("ABI") and ray.sandbox["netns"].startswith("new")
    import ray as ray_module

    assert not ray_module.is_initialized()  # the instance snellen started is stopped
