"""The data snellen ships: present in the package with its licence and source, reachable by
short names, and no test reaching outside the repository for data."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

import snellen
from snellen.data import RECORDINGS, ROOT, captions_path, objects_100, recording
from snellen.errors import InputError

REPO = Path(__file__).resolve().parents[1]


def test_data_lies_inside_the_package_under_test() -> None:
    assert Path(snellen.__file__).resolve().parent / "data" == ROOT
    for folder in ("llm-drawings", "captions", "concepts"):
        licence = (ROOT / folder / "LICENSE").read_text()
        assert licence.startswith("MIT License")
    readme = (ROOT / "README.md").read_text()
    for source in (
        "ZhaofengWu/counterfactual-evaluation",
        "mertyg/vision-language-models-are-bows",
    ):
        assert source in readme


def test_short_names_and_contents() -> None:
    assert set(RECORDINGS) == {"gpt4", "gpt4-cot", "gpt3.5", "gpt3.5-cot"}
    for name in RECORDINGS:
        rows = list(csv.reader(recording(name).open(), delimiter="\t", quoting=csv.QUOTE_NONE))
        assert len(rows) == 100 and all(len(r) == 9 for r in rows)
    assert len(objects_100()) == 100 and objects_100()[0] == "guitar"
    with captions_path().open() as f:
        assert sum(1 for _ in f) == 4848
    with pytest.raises(InputError, match="gpt4, gpt4-cot"):
        recording("gpt5")


def test_no_test_or_benchmark_reads_data_from_outside_the_repository() -> None:
    pattern = re.compile(r"\.\.[/\"' ,]+shared|\"shared\" */ *\"data\"")
    offenders = [
        str(p.relative_to(REPO))
        for folder in ("tests", "benchmarks", "src")
        for p in (REPO / folder).rglob("*.py")
        if pattern.search(p.read_text())
    ]
    assert offenders == []
