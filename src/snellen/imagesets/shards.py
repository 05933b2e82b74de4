"""WebDataset shards written byte-for-byte reproducibly, and read back.

A shard is a POSIX tar of ``KEY.png`` + ``KEY.json`` pairs (the WebDataset convention, so
``webdataset.WebDataset(urls)`` reads it). Every header field that could vary between
machines (time, owner, mode) is fixed, so the same images give the same bytes anywhere.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SHARD_DIR = "shards"


def shard_name(index: int) -> str:
    return f"shard-{index:06d}.tar"


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = 0
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def write_shard(
    path: str | os.PathLike[str], items: list[tuple[str, bytes, dict[str, Any]]]
) -> str:
    """Write ``(key, png, meta)`` items to ``path`` atomically; returns the file's sha256."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for key, png, meta in items:
            tar.addfile(_info(f"{key}.png", len(png)), io.BytesIO(png))
            blob = json.dumps(meta, sort_keys=True, separators=(",", ":")).encode()
            tar.addfile(_info(f"{key}.json", len(blob)), io.BytesIO(blob))
    data = buf.getvalue()
    target = Path(path)
    tmp = target.with_suffix(target.suffix + f".tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Member:
    """Where one image lies: its shard, byte offset and length (for random access)."""

    shard: str
    key: str
    offset: int
    size: int
    meta_offset: int
    meta_size: int


def index_shard(path: str | os.PathLike[str]) -> list[Member]:
    """The images of one shard with their byte ranges, in order."""
    members: dict[str, dict[str, tuple[int, int]]] = {}
    with tarfile.open(path, mode="r:") as tar:
        for info in tar:
            key, _, ext = info.name.rpartition(".")
            members.setdefault(key, {})[ext] = (info.offset_data, info.size)
    out = []
    for key, parts in members.items():
        if "png" in parts:
            meta = parts.get("json", (0, 0))
            out.append(Member(str(path), key, *parts["png"], *meta))
    return out


def list_shards(root: str | os.PathLike[str]) -> list[Path]:
    """The shard files of a dataset directory (or of a directory of shards)."""
    base = Path(root)
    d = base / SHARD_DIR if (base / SHARD_DIR).is_dir() else base
    return sorted(d.glob("shard-*.tar"))


def read_bytes(member: Member, meta: bool = False) -> bytes:
    offset, size = (member.meta_offset, member.meta_size) if meta else (member.offset, member.size)
    with open(member.shard, "rb") as f:
        f.seek(offset)
        return f.read(size)


def iter_samples(root: str | os.PathLike[str]) -> Iterator[tuple[str, bytes, dict[str, Any]]]:
    """``(key, png, meta)`` for every image of a dataset, shard by shard."""
    for shard in list_shards(root):
        with tarfile.open(shard, mode="r:") as tar:
            pending: dict[str, dict[str, bytes]] = {}
            for info in tar:
                key, _, ext = info.name.rpartition(".")
                f = tar.extractfile(info)
                pending.setdefault(key, {})[ext] = f.read() if f else b""
                if {"png", "json"} <= pending[key].keys():
                    parts = pending.pop(key)
                    yield key, parts["png"], json.loads(parts["json"])
