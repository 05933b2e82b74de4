"""End-to-end check-ups through the command line: the bundled model on every task, a replay
of real GPT-4 drawings, and a run killed with SIGKILL and resumed."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from checkup_helpers import (
    BUNDLED_ARGS,
    REFERENCE_LANGUAGES,
    REPO,
    SCORER_ARGS,
    bundled_checkup,
    reference_checkup,
    snellen,
)
from snellen.checkup.jobs import DRAWINGS, RECOGNITION
from snellen.render.base import Status
from snellen.store import Run

STATUSES = {s.value for s in Status}
DRAWING_COLUMNS = {
    "key", "task", "concept_id", "category", "description", "language", "model", "sample",
    "round", "status", "reason", "image", "program", "prompt_tokens", "completion_tokens",
}  # fmt: skip


@pytest.fixture(scope="module")
def bundled_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bundled_checkup(tmp_path_factory)


def test_bundled_checkup_runs_every_task(bundled_run: Path) -> None:
    run = Run(bundled_run)
    frame = run.dataframe(DRAWINGS)
    assert set(frame.columns) >= DRAWING_COLUMNS
    assert set(frame["status"]) <= STATUSES
    draws = frame[frame.task == "draw"]
    # 2 concepts x 2 languages x 1 sample
    assert len(draws) == 4
    assert set(draws.language) == {"svg", "tikz"}
    assert set(draws.category) == {"shapes", "objects"}
    corr = frame[frame.task == "correct"]
    assert len(corr) == 4 and set(corr["round"]) == {1}
    assert set(corr.parent) == set(draws.key)
    for _, row in corr.iterrows():
        # the improved program was asked for with the model's own feedback in the prompt
        feedback = run.artifacts.path(row.feedback).read_text().strip()
        assert feedback and feedback[:40] in row.prompt
    par = frame[frame.task == "parametric"]
    assert 4 <= len(par) <= 12  # 1..3 variants per (concept, language)
    for _, row in par.iterrows():
        # variant 0 keeps the model's own values; the others exist only when it named some
        assert row["sample"] == 0 or row["n_params"] > 0
    for _, row in frame.iterrows():
        if row.status == "ok":
            assert run.artifacts.path(row.image).stat().st_size > 0
        if row.status in ("ok", "compile_error", "runtime_error", "blank"):
            assert row.program and (run.artifacts.path(row.program)).exists()
        assert row.completion_tokens > 0
    rec = run.dataframe(RECOGNITION)
    # one shape has reference programs in both languages: 2 languages x 2 modes
    shape_rec = rec[rec.category == "shapes"]
    assert len(shape_rec) == 4 and set(shape_rec["mode"]) == {"choice", "free"}
    assert set(shape_rec.source) == {"reference"}
    for _, row in rec[rec["mode"] == "choice"].iterrows():
        # the true description among distractors of its own category
        options = json.loads(row.options) if isinstance(row.options, str) else list(row.options)
        assert len(options) == 4 and row.description in options
        assert pd.isna(row.chosen) or 0 <= row.chosen < 4
    free = rec[rec["mode"] == "free"]
    assert free["rank"].between(1, 50).all()
    manifest = json.loads((bundled_run / "manifest.json").read_text())
    assert manifest["models"]["llm"]["backend"] == "smollm2"
    assert manifest["sessions"][-1]["status"] == "finished"
    assert manifest["scoring"]["scorer"]
    assert (bundled_run / "metrics.json").exists()
    assert (bundled_run / "drawings.parquet").exists()
    assert pd.read_parquet(bundled_run / "drawings.parquet").shape[0] == len(frame)
    assert (bundled_run / "report.html").stat().st_size > 10_000


def test_rerun_is_free(bundled_run: Path) -> None:
    """Running the same check-up again adds nothing and calls no model."""
    before = Run(bundled_run).count(DRAWINGS)
    proc = snellen("checkup", "--out", str(bundled_run), *BUNDLED_ARGS)
    assert "0 model calls" in proc.stdout
    assert Run(bundled_run).count(DRAWINGS) == before


def test_other_settings_are_refused(bundled_run: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "snellen", "checkup", "--out", str(bundled_run), "--samples", "2",
         *SCORER_ARGS],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "other settings" in proc.stderr and "Traceback" not in proc.stderr


def _count(db: Path, sql: str) -> int:
    conn = sqlite3.connect(db, timeout=30)
    try:
        return int(conn.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def test_killed_checkup_resumes_without_loss_duplicates_or_repeated_calls(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = [
        sys.executable, "-m", "snellen", "checkup", "--out", str(out),
        "--concepts", "shapes-1,objects-1", "--languages", "svg,turtle", "--samples", "2",
        "--tasks", "draw", "--max-tokens", "48", "--workers", "1", "--no-report", *SCORER_ARGS,
    ]  # fmt: skip
    expected = 2 * 2 * 2
    db = out / "records.sqlite"
    proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if (
                db.exists()
                and _count(db, "SELECT COUNT(*) FROM records WHERE kind='drawings'") >= 2
            ):
                break
            time.sleep(0.2)
        assert proc.poll() is None, "the check-up finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    cached_at_kill = _count(db, "SELECT COUNT(*) FROM cache")
    records_at_kill = _count(db, "SELECT COUNT(*) FROM records WHERE kind='drawings'")
    assert 2 <= records_at_kill < expected

    snellen(*args[3:], timeout=600)
    run = Run(out)
    keys = [r["key"] for r in run.records(DRAWINGS)]
    assert len(keys) == len(set(keys)) == expected
    assert {k.split("/")[-3] for k in keys} == {"svg", "turtle"}
    manifest = run.manifest
    assert [s["status"] for s in manifest["sessions"]] == ["running", "finished"]
    usage = manifest["llm_usage"][-1]
    # every cached reply was reused, and only the missing ones were asked for
    assert run.cache_count() == expected
    assert usage["calls"] == expected - cached_at_kill
    assert usage["cache_hits"] >= cached_at_kill - records_at_kill


@pytest.mark.slow
def test_replay_of_gpt4_drawings_is_rendered_and_scored(shared_data: Path, tmp_path: Path) -> None:
    transcript = shared_data / "llm-drawings" / "gpt4_default_without_0cot.tsv"
    out = tmp_path / "gpt4"
    proc = snellen(
        "checkup", "--model", f"replay:{transcript}", "--concepts", "objects-100",
        "--out", str(out), *SCORER_ARGS,
    )  # fmt: skip
    assert "transcript's own 100 concepts" in proc.stdout + proc.stderr
    run = Run(out)
    frame = run.dataframe(DRAWINGS)
    assert len(frame) == 100
    names = {
        ln.strip()
        for ln in (shared_data / "concepts" / "objects-100.txt").read_text().splitlines()
        if ln.strip()
    }
    assert set(frame.description) == names
    assert set(frame.prompt.str[:30]) == {"You are an expert programmer a"}
    # the transcript asks for Processing: that is the language used when none is given
    assert set(frame.language) == {"processing"}
    assert (frame.status == "ok").mean() >= 0.85
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["rendered"] == (frame.status == "ok").sum()
    assert metrics["fidelity"]["overall"]["count"] == metrics["rendered"]
    assert 0 <= metrics["fidelity"]["overall"]["mean"] <= 100
    assert run.manifest["llm_usage"][-1]["calls"] == 100


def test_reference_programs_render_and_score_well(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Replaying the VAD reference programs as a model's replies: every drawing renders, and
    the scorer ranks the true description of these exact drawings well above chance."""
    out = reference_checkup(tmp_path_factory)
    frame = Run(out).dataframe(DRAWINGS)
    assert len(frame) == 6 * len(REFERENCE_LANGUAGES)
    assert (frame.status == "ok").all(), frame[frame.status != "ok"][["key", "reason"]]
    assert set(frame.extraction) != {""}
    fidelity = json.loads((out / "metrics.json").read_text())["fidelity"]
    assert fidelity["overall"]["count"] == len(frame)
    # among 6 candidates chance is 50; the reference drawings should rank far higher
    assert fidelity["overall"]["mean"] >= 70
