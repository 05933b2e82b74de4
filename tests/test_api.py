"""The Python API mirrors the CLI: every public name resolves, and ``snellen --help`` lists
every subcommand."""

from __future__ import annotations

import subprocess
import sys

import pytest

import snellen


@pytest.mark.parametrize("name", sorted(snellen._API))
def test_public_name_resolves(name: str) -> None:
    value = getattr(snellen, name)
    assert callable(value)
    assert name in dir(snellen)


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        snellen.no_such_thing  # noqa: B018


def test_help_lists_subcommands() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "snellen", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in (
        "checkup",
        "concepts",
        "render",
        "score",
        "train-clip",
        "report",
        "llm",
        "lens",
    ):
        assert command in out
