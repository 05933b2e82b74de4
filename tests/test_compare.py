"""Intervals and ``snellen compare``: the seeded bootstrap agrees with SciPy's percentile
bootstrap, a paired difference is computed on the concepts two runs share, and the compare
page (opened in headless Chromium), CSV and Markdown hold every run with its intervals."""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from score_helpers import make_scored_run
from snellen.errors import InputError
from snellen.metrics.bootstrap import mean_interval, paired_difference
from test_report_chromium import chromium


def test_the_bootstrap_interval_is_seeded_and_agrees_with_scipy() -> None:
    from scipy.stats import bootstrap

    values = np.random.default_rng(1).normal(50.0, 10.0, size=300)
    lo, hi = mean_interval(values)
    # seeded: the same values, in any order, give the same interval
    assert (lo, hi) == mean_interval(values) == mean_interval(values[::-1])
    assert lo < values.mean() < hi
    ref = bootstrap((values,), np.mean, n_resamples=2000, method="percentile",
                    random_state=0).confidence_interval  # fmt: skip
    # two Monte Carlo estimates of the same quantiles: within a small share of the width
    width = ref.high - ref.low
    assert abs(lo - ref.low) < 0.1 * width and abs(hi - ref.high) < 0.1 * width
    assert mean_interval([3.0]) == (None, None)
    assert mean_interval([2.0, 2.0, 2.0]) == (2.0, 2.0)


def test_a_paired_difference_uses_the_shared_units_only() -> None:
    a = {"x": 1.0, "y": 2.0, "z": 3.0, "only-a": 100.0}
    b = {"x": 2.0, "y": 3.5, "z": 3.5, "only-b": -100.0}
    diff = paired_difference(a, b)
    assert diff.units == 3 and diff.difference == pytest.approx(1.0)
    assert diff.lo is not None and diff.hi is not None
    assert 0.5 <= diff.lo <= 1.0 <= diff.hi <= 1.5
    # pairing removes what the runs share: a constant shift has a zero-width interval
    shift = paired_difference({k: float(k) for k in range(20)}, {k: k + 5.0 for k in range(20)})
    assert (shift.difference, shift.lo, shift.hi) == (5.0, 5.0, 5.0)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from snellen.metrics import score_run

    root = tmp_path_factory.mktemp("compare")
    a = make_scored_run(root / "a", n_concepts=4)
    b = make_scored_run(root / "b", n_concepts=3)  # the first 3 concepts of run a
    for run in (a, b):
        score_run(run, diversity=False, similarity=None)
    return a, b


def _per_concept_fidelity(run: Path) -> dict[str, float]:
    from snellen.records.checkup import Drawing
    from snellen.records.scores import FidelityScore
    from snellen.store import Run

    r = Run(run)
    concept = {d.key: d.concept_id for d in r.load_records(Drawing)}
    groups: dict[str, list[float]] = defaultdict(list)
    for s in r.load_records(FidelityScore):
        if s.percentile is not None:
            groups[concept[s.drawing]].append(s.percentile)
    return {k: float(np.mean(v)) for k, v in groups.items()}


def test_compare_rows_and_paired_differences(two_runs: tuple[Path, Path]) -> None:
    from snellen import compare_runs

    a, b = two_runs
    comparison = compare_runs([a, b], ["A", "B"])
    rows = {r["label"]: r for r in comparison.rows}
    assert rows["A"]["concepts"] == 4 and rows["B"]["concepts"] == 3
    for row in rows.values():
        assert row["render_rate_lo"] <= row["render_rate"] <= row["render_rate_hi"]
        assert row["fidelity_lo"] <= row["fidelity"] <= row["fidelity_hi"]
    diffs = {d["metric"]: d for d in comparison.differences}
    fa, fb = _per_concept_fidelity(a), _per_concept_fidelity(b)
    shared = sorted(set(fa) & set(fb))
    assert diffs["fidelity"]["concepts"] == len(shared) == 3
    assert diffs["fidelity"]["difference"] == pytest.approx(
        float(np.mean([fb[c] - fa[c] for c in shared]))
    )
    with pytest.raises(InputError, match="labels"):
        compare_runs([a, b], ["only one"])


@pytest.mark.slow
def test_compare_cli_writes_html_csv_and_markdown(two_runs, tmp_path: Path) -> None:
    from checkup_helpers import snellen

    a, b = two_runs
    for suffix in ("html", "csv", "md"):
        snellen("compare", str(a), str(b), "--out", str(tmp_path / f"cmp.{suffix}"))
    with (tmp_path / "cmp.csv").open() as f:
        table = list(csv.DictReader(f))
    assert [r["label"] for r in table] == ["a", "b"]  # one row per run
    for col in ("render_rate", "fidelity", "fidelity_text_free"):
        for r in table:
            assert float(r[f"{col}_lo"]) <= float(r[col]) <= float(r[f"{col}_hi"])
    md = (tmp_path / "cmp.md").read_text()
    assert "| b - a | fidelity (%) |" in md and "2000 resamples, seed 0" in md
    with pytest.raises(Exception, match="html, .csv or .md"):
        snellen("compare", str(a), "--out", str(tmp_path / "cmp.txt"))

    if not shutil.which("chromium") and not Path("/usr/bin/chromium").exists():
        pytest.skip("chromium is not installed (scripts/setup.sh installs it)")
    dom = chromium("--dump-dom", (tmp_path / "cmp.html").as_uri()).stdout
    assert '<table class="compare"' in dom and '<table class="differences"' in dom
    assert len(re.findall(r'<div class="plot" id="plot-[a-z_-]+"><svg', dom)) >= 3
    body = dom[dom.index('<table class="compare"') :]
    assert re.search(r"\d+\.\d \[\d+\.\d, \d+\.\d\]", body)  # intervals on the page
    assert not re.search(r'(src|href)="(https?:|//|file:)', dom)  # self-contained
    shot = tmp_path / "cmp.png"
    chromium(f"--screenshot={shot}", "--window-size=1200,1400", (tmp_path / "cmp.html").as_uri())
    from PIL import Image

    with Image.open(shot) as im:
        lo, hi = im.convert("L").getextrema()
        assert hi - lo > 100
    assert json.loads((a / "metrics.json").read_text())["headline"]["render_rate_lo"] is not None


@pytest.mark.slow
def test_compare_the_bundled_gpt4_and_gpt35_recordings(tmp_path: Path) -> None:
    """The shipped GPT-4 and GPT-3.5 recordings, replayed on the same recorded objects, side
    by side: the CSV has one row per model with intervals, and their differences are paired
    on the shared objects."""
    from snellen import compare_runs, run_checkup, write_compare

    runs = []
    for model in ("gpt4", "gpt3.5"):
        result = run_checkup(
            tmp_path / model, model=f"replay:{model}", concepts="recorded-objects-6",
            languages="processing", report=False, progress=False, workers=2, similarity=None,
        )  # fmt: skip
        runs.append(result.run)
    comparison = compare_runs(runs, ["GPT-4", "GPT-3.5"])
    out = write_compare(comparison, tmp_path / "compare.csv")
    with out.open() as f:
        table = {r["label"]: r for r in csv.DictReader(f)}
    assert set(table) == {"GPT-4", "GPT-3.5"}
    for row in table.values():
        assert row["drawings"] == "6"
        assert (
            float(row["render_rate_lo"])
            <= float(row["render_rate"])
            <= float(row["render_rate_hi"])
        )
        assert float(row["characters_lo"]) < float(row["characters"]) < float(row["characters_hi"])
        assert row["fidelity"] == ""  # the offline shapes scorer cannot judge objects
    diffs = {d["metric"]: d for d in comparison.differences}
    assert diffs["render_rate"]["concepts"] == 6
    assert "not meaningful for objects" in " ".join(comparison.notes)
    write_compare(comparison, tmp_path / "compare.html")
    assert "GPT-3.5" in (tmp_path / "compare.html").read_text()
