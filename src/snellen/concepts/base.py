"""The concept record shared by every concept set (shapes, objects, scenes, user files)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Concept:
    """One thing to draw.

    ``programs`` maps a language name (``processing``, ``tikz``, ``matplotlib``, ``turtle``,
    ``svg``) to a reference program that draws exactly this concept; only generated shapes
    have them.
    """

    id: str
    category: str
    description: str
    attributes: dict[str, Any] = field(default_factory=dict)
    programs: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Concept:
        return cls(
            id=str(data["id"]),
            category=str(data["category"]),
            description=str(data["description"]),
            attributes=dict(data.get("attributes") or {}),
            programs=dict(data.get("programs") or {}),
        )
