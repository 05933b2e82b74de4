"""Test fixtures: the real data that ships with snellen (``snellen.data``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from snellen.data import ROOT as DATA_ROOT

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shipped real data (recorded transcripts, objects-100, COCO captions)."""
    return DATA_ROOT
