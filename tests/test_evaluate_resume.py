"""Resumable evaluation: a `snellen eval` killed with SIGKILL half-way and started again
with the same command embeds only the images no stored batch holds, and writes the same
metrics, bit for bit, as an uninterrupted run; a sweep skips runs already complete."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from snellen.cli import main
from snellen.evaluate.checkpoint import PROGRESS, EmbeddingChunk
from snellen.store import Run

N, BATCH = 96, 4
ARGS = ["eval", "aro", "--dataset", "vad-aro/relation", "--n", str(N), "--batch-size",
        str(BATCH), "--workers", "0"]  # fmt: skip


def _eval(out: Path, *extra: str, **kw: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    return subprocess.Popen(
        [sys.executable, "-m", "snellen", *ARGS, "--out", str(out), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
        start_new_session=True, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def _stored_images(out: Path) -> int:
    db = out / PROGRESS / "records.sqlite"
    if not db.exists():
        return 0
    try:
        run = Run(out / PROGRESS)
        return sum(len(c.indices) for c in run.load_records(EmbeddingChunk) if c.indices)
    except Exception:  # the database is being created
        return 0


def _result(out: Path) -> dict:
    (path,) = [p for p in out.glob("*.json")]
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("clean")
    t0 = time.monotonic()
    proc = _eval(out)
    stdout, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, stdout
    row = _result(out)
    row["_wall"] = time.monotonic() - t0
    return row


def test_killed_eval_resumes_where_it_stopped_and_gives_the_same_metrics(
    clean: dict, tmp_path: Path
) -> None:
    out = tmp_path / "runs"
    proc = _eval(out)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _stored_images(out) < N // 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _stored_images(out)
    assert 0 < before < N, "the run should have been killed half-way"
    assert not list(out.glob("*.json")), "a killed run writes no result"

    t0 = time.monotonic()
    again = _eval(out)
    stdout, _ = again.communicate(timeout=300)
    wall = time.monotonic() - t0
    assert again.returncode == 0, stdout
    row = _result(out)
    # the second process embedded only what the first had not stored
    assert row["resumed"]["images"] == before
    assert f"resumed: {before} images" in stdout
    assert _stored_images(out) == N
    assert row["metrics"] == clean["metrics"]  # bit for bit
    assert row["breakdown"] == clean["breakdown"] and row["counts"] == clean["counts"]
    assert clean["resumed"] == {"images": 0, "texts": 0}
    print(f"clean {clean['_wall']:.1f} s; resumed after {before}/{N} images {wall:.1f} s")


def test_another_option_is_another_run_and_a_json_file_keeps_no_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sweep"
    small = ["eval", "aro", "--dataset", "vad-aro/attribution", "--n", "12", "--workers", "0"]
    assert main([*small, "--out", str(out)]) == 0
    assert main([*small, "--out", str(out)]) == 0
    assert "already complete" in capsys.readouterr().out
    assert main([*small, "--seed", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "already complete" not in text
    assert len(list(out.glob("*.json"))) == 2
    # the result file deleted: written again from the stored record, nothing recomputed
    first = sorted(out.glob("*__seed0-*.json"))[0]
    kept = first.read_text()
    first.unlink()
    assert main([*small, "--out", str(out)]) == 0
    assert "already complete" in capsys.readouterr().out and first.read_text() == kept
    # --force: computed afresh, nothing taken from the stored work
    assert main([*small, "--out", str(out), "--force"]) == 0
    assert "already complete" not in capsys.readouterr().out
    again = json.loads(first.read_text())
    assert again["resumed"] == {"images": 0, "texts": 0}
    assert again["metrics"] == json.loads(kept)["metrics"]
    single = tmp_path / "one.json"
    assert main([*small, "--out", str(single)]) == 0
    assert not (tmp_path / PROGRESS).exists() and "resumed" in json.loads(single.read_text())


def test_stored_batches_with_an_image_that_did_not_load_resume_the_same(tmp_path: Path) -> None:
    """Batches of one image, one of them a file that does not decode: a run taken up from
    its stored batches (its completion forgotten, and half its batches) gives the same
    record, skip included."""
    import snellen
    from evaluate_helpers import make_vg
    from snellen.evaluate.checkpoint import CompletedRun

    make_vg(tmp_path / "vg", "relation", broken=True)
    kw = {"root": tmp_path / "vg", "out": tmp_path / "runs", "batch_size": 1, "workers": 0,
          "progress": False}  # fmt: skip
    first = snellen.run_eval("aro", "snellen-shapes", "aro/vg-relation", **kw)
    assert first.counts["skipped"] == 1 and first.resumed == {"images": 0, "texts": 0}
    run = Run(tmp_path / "runs" / PROGRESS)
    assert run.delete(CompletedRun.kind, run.keys(CompletedRun.kind)) == 1
    images = sorted(k for k in run.keys(EmbeddingChunk.kind) if k.startswith("img-"))
    assert len(images) == 5  # four cases and the broken file, one batch each
    run.delete(EmbeddingChunk.kind, images[1:3])  # keeps the broken file's batch
    again = snellen.run_eval("aro", "snellen-shapes", "aro/vg-relation", **kw)
    assert again.resumed["images"] == 2 and again.resumed["texts"] > 0
    assert (again.metrics, again.breakdown, again.counts, again.skipped) == (
        first.metrics, first.breakdown, first.counts, first.skipped,
    )  # fmt: skip


def test_precision_is_part_of_the_model_fingerprint():
    from snellen.evaluate.checkpoint import model_fingerprint
    from snellen.score import load_scorer

    scorer = load_scorer("snellen-shapes", device="cpu")
    fp32 = model_fingerprint(scorer)
    scorer.precision = "amp"  # the same weights, other embeddings: never reuse fp32's
    amp = model_fingerprint(scorer)
    scorer.precision = "bf16"
    bf16 = model_fingerprint(scorer)
    scorer.precision = "fp32"
    assert len({fp32, amp, bf16}) == 3 and model_fingerprint(scorer) == fp32
