"""The run store: idempotent records, the reply cache, Parquet export, config checks, and
crash safety under a real SIGKILL with concurrent writers."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from snellen.store import Run, RunError
from snellen.store.run import content_key


def test_put_is_idempotent_and_roundtrips(tmp_path: Path) -> None:
    run = Run.open(tmp_path / "r", command="test", config={"a": 1})
    assert run.put("items", "k1", {"x": 1, "nested": {"y": [1, 2]}})
    assert not run.put("items", "k1", {"x": 999})
    assert run.get("items", "k1") == {"x": 1, "nested": {"y": [1, 2]}}
    assert run.put_many("items", [("k1", {"x": 5}), ("k2", {"x": 2})]) == 1
    assert run.keys("items") == {"k1", "k2"}
    assert run.count("items") == 2
    assert run.get("items", "missing") is None


def test_parquet_export_opens_in_pandas(tmp_path: Path) -> None:
    run = Run.open(tmp_path / "r", command="test")
    run.put_many("rows", [(str(i), {"i": i, "tags": ["a", "b"]}) for i in range(5)])
    path = run.export_parquet("rows")
    frame = pd.read_parquet(path)
    assert sorted(frame["i"]) == list(range(5))
    assert set(frame.columns) >= {"i", "tags", "key"}


def test_artifacts_are_content_addressed(tmp_path: Path) -> None:
    run = Run.open(tmp_path / "r", command="test")
    ref = run.artifacts.put(b"hello", ".txt")
    assert run.artifacts.put(b"hello", ".txt") == ref
    assert run.artifacts.get(ref) == b"hello"
    assert run.artifacts.path(ref).name.endswith(".txt")


def test_reply_cache(tmp_path: Path) -> None:
    run = Run.open(tmp_path / "r", command="test")
    key = content_key("model", [{"role": "user", "content": "hi"}], {"t": 0.7}, 0)
    assert key != content_key("model", [{"role": "user", "content": "hi"}], {"t": 0.7}, 1)
    assert run.cache_get(key) is None
    run.cache_put(key, "model", {"text": "hello"})
    assert run.cache_get(key) == {"text": "hello"}


def test_resume_checks_command_and_config(tmp_path: Path) -> None:
    Run.open(tmp_path / "r", command="render", config={"size": 64}).finish()
    again = Run.open(tmp_path / "r", command="render", config={"size": 64})
    assert len(again.manifest["sessions"]) == 2
    with pytest.raises(RunError, match="size: 64 -> 128"):
        Run.open(tmp_path / "r", command="render", config={"size": 128})
    with pytest.raises(RunError, match="holds a 'render' run"):
        Run.open(tmp_path / "r", command="checkup", config={"size": 64})
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "file.txt").write_text("x")
    with pytest.raises(RunError, match="not empty"):
        Run.open(tmp_path / "other", command="render")
    with pytest.raises(RunError, match="not a snellen run"):
        Run(tmp_path / "other")


def test_manifest_records_versions(tmp_path: Path) -> None:
    run = Run.open(tmp_path / "r", command="t", seeds={"concepts": 3}, models={"llm": "x"})
    manifest = run.manifest
    assert manifest["seeds"] == {"concepts": 3}
    assert manifest["versions"]["snellen"]
    assert "torch" in manifest["versions"]
    run.finish()
    assert run.manifest["sessions"][-1]["status"] == "finished"


def test_run_pickles_by_path(tmp_path: Path) -> None:
    run = Run.open(tmp_path / "r", command="t")
    run.put("a", "1", {"v": 1})
    clone = pickle.loads(pickle.dumps(run))
    assert clone.get("a", "1") == {"v": 1}


_WRITER = textwrap.dedent(
    """
    import sys, time
    from multiprocessing import Pool
    from snellen.store import Run

    path, total = sys.argv[1], int(sys.argv[2])

    def work(i):
        run = Run(path)
        if run.get("jobs", str(i)) is not None:
            return 0
        payload = ("%06d" % i).encode() * 200
        ref = run.artifacts.put(payload, ".bin")
        time.sleep(0.002)
        return int(run.put("jobs", str(i), {"i": i, "artifact": ref}))

    if __name__ == "__main__":
        run = Run.open(path, command="writer", config={"total": total})
        todo = sorted(set(range(total)) - {int(k) for k in run.keys("jobs")})
        with Pool(4) as pool:
            new = sum(pool.imap_unordered(work, todo, chunksize=1))
        run.finish()
        print("NEW", new)
    """
)


def test_kill_and_resume_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    path = tmp_path / "run"
    total = 600
    proc = subprocess.Popen(
        [sys.executable, str(script), str(path), str(total)], start_new_session=True
    )
    deadline = time.time() + 60
    # Kill the whole process group (parent and pool workers) while records are being written.
    while time.time() < deadline:
        if (path / "records.sqlite").exists() and Run(path).count("jobs") > 50:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = Run(path).count("jobs")
    assert 0 < done_before < total, "the writer should have been killed mid-run"

    out = subprocess.run(
        [sys.executable, str(script), str(path), str(total)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    new = int(out.stdout.split("NEW")[1])
    run = Run(path)
    assert run.count("jobs") == total
    assert new == total - done_before, "resume must only do the unfinished work"
    for record in run.records("jobs"):
        expected = f"{record['i']:06d}".encode() * 200
        assert run.artifacts.get(record["artifact"]) == expected
    assert [s["status"] for s in run.manifest["sessions"]] == ["running", "finished"]


def test_a_new_run_may_hold_what_its_caller_prepared_and_nothing_else(tmp_path: Path) -> None:
    out = tmp_path / "run"
    (out / "data").mkdir(parents=True)  # e.g. a dataset built into OUT/data before opening
    Run.open(out, command="x", prepared=("data",)).close()
    other = tmp_path / "other"
    (other / "data").mkdir(parents=True)
    (other / "notes.txt").write_text("mine")
    with pytest.raises(RunError, match="not empty"):
        Run.open(other, command="x", prepared=("data",))
