"""Local models run out of process: a native crash, a kill or a hang fails one request with
an LLMError, the worker restarts, and a check-up carries on and resumes."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from snellen.llm import ChatRequest, LLMError, load_model
from snellen.llm.isolated import IsolatedChat
from snellen.llm.registry import register_backend

register_backend("faulty", "isolated_models:load", replace=True)


def test_a_segfault_fails_one_request_and_the_worker_restarts(tmp_path: Path) -> None:
    model = load_model(f"faulty:{tmp_path / 'crashed'}")
    assert isinstance(model, IsolatedChat) and model.default_max_tokens == 64
    first_pid = model.pid
    with pytest.raises(LLMError, match=r"worker died \(signal SIGSEGV\).*restarted"):
        model.chat(ChatRequest(prompt="draw a circle"))
    reply = model.chat(ChatRequest(prompt="draw a circle"))
    assert "<circle" in reply.text
    assert model.restarts == 1 and model.pid != first_pid
    with pytest.raises(LLMError, match="SIGABRT"):
        model.chat(ChatRequest(prompt="ABORT now"))
    assert "<circle" in model.chat(ChatRequest(prompt="again")).text
    assert model.stats.failures == 2
    model.close()
    assert model.pid is None


def test_a_hang_becomes_an_error_after_the_timeout() -> None:
    model = load_model("faulty:", timeout=2.0)
    t0 = time.monotonic()
    with pytest.raises(LLMError, match="no reply within 2 s"):
        model.chat(ChatRequest(prompt="HANG"))
    assert time.monotonic() - t0 < 15
    assert "<circle" in model.chat(ChatRequest(prompt="fine")).text
    model.close()


def test_the_bundled_model_killed_mid_request_restarts() -> None:
    """The real engine in its worker: SIGKILL it while it generates (what an OOM kill
    does); that request fails, the next one is answered by a fresh worker."""
    model = load_model("smollm2")
    request = ChatRequest(prompt="Write a long story about a red circle.", max_tokens=2000)
    pid = model.pid
    assert pid is not None

    def kill_soon() -> None:
        time.sleep(1.5)
        os.kill(pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_soon)
    killer.start()
    with pytest.raises(LLMError, match="SIGKILL"):
        model.chat(request)
    killer.join()
    reply = model.chat(ChatRequest(prompt="Say hi.", max_tokens=8, temperature=0.0))
    assert reply.completion_tokens and reply.completion_tokens > 0
    assert model.restarts == 1
    model.close()


def test_a_checkup_survives_a_crash_and_resumes(tmp_path: Path) -> None:
    from snellen.checkup import run_checkup
    from snellen.checkup.jobs import DRAWINGS
    from snellen.store import Run

    out = tmp_path / "run"
    kwargs = dict(
        model=f"faulty:{tmp_path / 'crashed'}", concepts="shapes-2", languages="svg",
        report=False, progress=False, workers=1,
    )  # fmt: skip
    first = run_checkup(out, **kwargs)  # type: ignore[arg-type]
    assert first.failed == 1 and first.drawings == 1
    second = run_checkup(out, **kwargs)  # type: ignore[arg-type]
    assert second.failed == 0
    rows = list(Run(out).records(DRAWINGS))
    assert len(rows) == 2 and {r["status"] for r in rows} == {"ok"}
