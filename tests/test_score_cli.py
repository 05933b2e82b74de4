"""`snellen score RUN` end to end on a small run of really rendered drawings: metrics land
in the run's records and in RUN/metrics.json, offline networks are labelled non-standard."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import score_helpers
from snellen.store import Run

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scored_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    base = tmp_path_factory.mktemp("score")
    run_dir = score_helpers.make_scored_run(base / "run")
    reference = base / "reference"
    reference.mkdir()
    from snellen.clip.data import render_svg_reference
    from snellen.concepts import load_concepts

    for c in load_concepts("shapes", 6, seed=99):
        render_svg_reference(c.programs["svg"], 128).save(
            reference / f"{c.id.replace('/', '_')}.png"
        )
    proc = subprocess.run(
        [sys.executable, "-m", "snellen", "score", str(run_dir), "--reference", str(reference)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return run_dir, reference, {"metrics": metrics, "stdout": proc.stdout}


@pytest.mark.slow
def test_score_writes_metrics_into_the_run(scored_run):
    run_dir, _, out = scored_run
    metrics = out["metrics"]
    assert metrics["drawings"] == 17 and metrics["rendered"] == 16
    run = Run(run_dir)
    rows = list(run.records("fidelity"))
    assert len(rows) == 16 and {r["scorer"] for r in rows} == {"snellen-shapes"}
    assert run.count("metrics") == 1
    stored = next(iter(run.records("metrics")))
    assert stored["fidelity"] == metrics["fidelity"]
    assert "snellen-shapes, non-standard" in metrics["fidelity"]["metric"]
    overall = metrics["fidelity"]["overall"]
    assert overall["count"] == 16
    # each image ranks its description among the run's 4 shape descriptions: the reference
    # drawings (sample 0) are recognised far above chance (50)
    ref = [r["percentile"] for r in rows if r["sample"] == 0]
    assert sum(ref) / len(ref) > 75
    by = metrics["fidelity"]["by"]
    assert {r["language"] for r in by["language"]} == {"svg", "matplotlib"}
    assert "fidelity[snellen-shapes, non-standard]" in out["stdout"]


@pytest.mark.slow
def test_score_labels_offline_networks_non_standard(scored_run):
    _, reference, out = scored_run
    metrics = out["metrics"]
    div = metrics["diversity"]
    assert div["standard"] is False and "non-standard" in div["metric"]
    # 8 groups of (concept, language) with two drawings each; the broken one is alone
    assert div["groups"] == 8
    assert all(r["mean"] > 0 for r in div["by"]["language"])
    real = metrics["realism"]
    assert real["standard"] is False and real["reference"] == str(reference)
    assert real["images"] == 16 and real["reference_images"] == 6
    fid = real["fid[efficientnet-lite0, non-standard]"]
    assert fid is not None and fid > 0
    assert set(real["by_language"]) == {"svg", "matplotlib"}
    notes = " ".join(metrics["labels"])
    assert "--inception-weights" in notes and "--lpips-weights" in notes


def test_score_refuses_a_directory_without_drawings(tmp_path):
    Run.open(tmp_path / "empty", command="x", config={}).finish()
    proc = subprocess.run(
        [sys.executable, "-m", "snellen", "score", str(tmp_path / "empty"), "--no-diversity"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode != 0
    assert "no 'drawings' records" in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr
