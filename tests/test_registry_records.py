"""The one registry pattern and the typed record base."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pytest

from snellen.errors import InputError
from snellen.records import Record
from snellen.registry import Registry, parse_name
from snellen.store import Run


def test_registry_lookup_alias_lazy_and_errors() -> None:
    reg: Registry[object] = Registry("widget")
    reg.register("alpha", 1, help="first", aliases=("a",))
    reg.register("joiner", "os.path:join", help="lazy")
    assert reg.get("ALPHA") == 1 and reg.get("a") == 1
    import os.path

    assert reg.get("joiner") is os.path.join
    reg.register("dumper", "json:dumps")  # a top-level module is imported lazily too
    import json

    assert reg.get("dumper") is json.dumps
    reg.register("word", "plain text: kept", help="not an import path")
    assert reg.get("word") == "plain text: kept"
    assert reg.resolve("alpha:xyz") == (1, "xyz")
    assert reg.resolve("alpha") == (1, None)
    assert "a" in reg and "beta" not in reg
    assert reg.help() == {
        "alpha": "first",
        "joiner": "lazy",
        "dumper": "",
        "word": "not an import path",
    }
    with pytest.raises(InputError, match=r"unknown widget 'alpah' \(did you mean 'alpha'\?\)"):
        reg.get("alpah")
    with pytest.raises(ValueError, match="already registered"):
        reg.register("alpha", 2)
    reg.register("alpha", 2, replace=True)
    assert reg.get("alpha") == 2


def test_one_parser_splits_every_user_typed_name() -> None:
    assert parse_name("open-clip:ViT-B-32:laion2b") == ("open-clip", "ViT-B-32:laion2b")
    assert parse_name(" hf-clip:/m/x ") == ("hf-clip", "/m/x")
    assert parse_name("openai:") == ("openai", "")
    assert parse_name("snellen-shapes") == ("snellen-shapes", None)
    reg: Registry[int] = Registry("widget")
    reg.register("alpha", 1)
    assert reg.resolve(" alpha:x:y ") == (1, "x:y") and reg.resolve("alpha:") == (1, None)
    # every place that reads a user-typed name splits it the same way
    from snellen.llm.registry import split_name

    assert split_name("replay:a:b.jsonl") == ("replay", "a:b.jsonl")
    assert split_name("smollm2") == ("smollm2", "")
    with pytest.raises(InputError, match="unknown model 'openai'"):
        split_name("openai")


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True)
class Inner(Record):
    x: float
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outer(Record):
    kind = "outer"
    id: str
    colour: Colour
    inner: Inner
    scores: dict[str, float]
    maybe: int | None = None

    def record_key(self) -> str:
        return self.id


def test_record_round_trip_through_store(tmp_path) -> None:
    rec = Outer("k1", Colour.BLUE, Inner(1.0, ("a", "b")), {"s": 0.5}, None)
    row = rec.to_row()
    assert row == {
        "id": "k1", "colour": "blue", "inner": {"x": 1.0, "tags": ["a", "b"]},
        "scores": {"s": 0.5}, "maybe": None,
    }  # fmt: skip
    assert Outer.from_row(row) == rec
    assert Outer.from_row({**row, "extra_column": 3}) == rec
    with Run.open(tmp_path / "run", command="test") as run:
        assert run.put_record(rec) is True
        assert run.put_record(rec) is False
        assert run.put_records([Outer("k2", Colour.RED, Inner(2), {})]) == 1
        loaded = list(run.load_records(Outer))
        assert [r.id for r in loaded] == ["k1", "k2"]
        assert loaded[0] == rec and loaded[0].colour is Colour.BLUE
        assert run.get_record(Outer, "k2") == Outer("k2", Colour.RED, Inner(2.0), {})
        assert Outer.columns() == ["id", "colour", "inner", "scores", "maybe"]
