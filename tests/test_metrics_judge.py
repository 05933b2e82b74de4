"""The VLM judge against loopback OpenAI-compatible servers started here: one that looks at
the image it is sent (it decodes the data URL and recognises the drawing's exact PNG) and
answers, one that refuses images. The judge's answers are cached in the run, so judging
again reaches no server; its accuracy is summarised per category and language."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from score_helpers import make_scored_run
from snellen.errors import InputError
from snellen.llm.base import LLMConfigError
from snellen.metrics.judge import options_for, parse_choice
from snellen.records.checkup import Drawing
from snellen.records.scores import JudgeAnswer
from snellen.store import Run


class VisionServer(ThreadingHTTPServer):
    """A chat endpoint that answers from the image: ``truth`` maps the SHA-256 of a PNG to
    the description it shows; it names that option's number, except for matplotlib drawings
    (``wrong``), where it names another, so the test knows each language's accuracy.
    ``refuse``: answer every image request with the HTTP 400 a text-only model gives."""

    daemon_threads = True

    def __init__(self, truth: dict[str, str], wrong: set[str], refuse: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.truth, self.wrong, self.refuse = truth, wrong, refuse
        self.bodies: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: VisionServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, obj: dict[str, Any]) -> None:
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.bodies.append(body)
        parts = body["messages"][-1]["content"]
        if self.server.refuse:
            self._send(400, {"error": {"message": "image input is not supported by this model"}})
            return
        text = next(p["text"] for p in parts if p["type"] == "text")
        url = next(p["image_url"]["url"] for p in parts if p["type"] == "image_url")
        png = base64.b64decode(url.split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        sha = hashlib.sha256(png).hexdigest()
        options = [line.split(". ", 1)[1] for line in text.splitlines() if line[:1].isdigit()]
        pick = options.index(self.server.truth[sha])
        if sha in self.server.wrong:
            pick = (pick + 1) % len(options)
        reply = f"{pick + 1}"
        self._send(200, {
            "id": "x", "object": "chat.completion", "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 1},
        })  # fmt: skip


@pytest.fixture(scope="module")
def judged_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_scored_run(tmp_path_factory.mktemp("judge") / "run")


def _serve(server: VisionServer) -> Iterator[VisionServer]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _truth(run: Run) -> tuple[dict[str, str], set[str]]:
    truth, wrong = {}, set()
    for d in run.load_records(Drawing):
        if d.ok:
            sha = hashlib.sha256(run.artifacts.get(str(d.image))).hexdigest()
            truth[sha] = d.description
            if d.language == "matplotlib":
                wrong.add(sha)
    return truth, wrong


def test_choice_parsing_and_options_are_seeded() -> None:
    assert parse_choice("3", 4) == 2
    assert parse_choice("The answer is 2.", 4) == 1
    assert parse_choice("7 or maybe 1", 4) == 0
    assert parse_choice("none of them", 4) is None
    d = Drawing(key="k", task="draw", concept_id="c", category="shapes", description="a",
                language="svg", model="m", sample=0, round=0, status="ok")  # fmt: skip
    opts, answer = options_for(d, ["a", "b", "c", "d", "e"], 4, seed=0)
    assert len(opts) == 4 and opts[answer] == "a" and len(set(opts)) == 4
    assert options_for(d, ["a", "b", "c", "d", "e"], 4, seed=0) == (opts, answer)


def test_judge_sends_images_records_accuracy_and_replays_from_cache(judged_run, monkeypatch):
    from snellen.metrics import score_run

    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    run = Run(judged_run)
    truth, wrong = _truth(run)
    server = VisionServer(truth, wrong)
    for srv in _serve(server):
        metrics = score_run(
            judged_run, diversity=False, ocr=False, similarity=None,
            judge="openai:fake-vlm", judge_base_url=srv.url,
        )  # fmt: skip
    # every rendered drawing was shown once, as an image_url part of the last user message
    assert len(server.bodies) == len(truth) == 16
    content = server.bodies[0]["messages"][-1]["content"]
    assert [p["type"] for p in content] == ["text", "image_url"]
    assert content[1]["image_url"]["url"].startswith("data:image/png;base64,")
    judge = metrics.judge
    assert judge is not None and judge.questions == 16 and judge.options == 4
    by_lang = {r["language"]: r for r in judge.by.get("language")}
    assert by_lang["svg"]["accuracy"] == 1.0 and by_lang["matplotlib"]["accuracy"] == 0.0
    assert judge.accuracy == 0.5 and judge.accuracy_lo < 0.5 < judge.accuracy_hi
    assert metrics.headline["judge_accuracy"] == 0.5
    answers = list(run.load_records(JudgeAnswer))
    assert len(answers) == 16 and all(a.chosen is not None for a in answers)
    saved = json.loads((judged_run / "metrics.json").read_text())
    assert saved["judge"]["by"]["category,language"]

    # judged again with the server gone: answers and replies come from the run, no call
    again = score_run(
        judged_run, diversity=False, ocr=False, similarity=None,
        judge="openai:fake-vlm", judge_base_url=server.url,
    )  # fmt: skip
    assert again.judge == judge
    # a fresh judge record set is rebuilt from the reply cache alone
    with run._connect() as conn:
        conn.execute("DELETE FROM records WHERE kind = 'judge'")
    rebuilt = score_run(
        judged_run, diversity=False, ocr=False, similarity=None,
        judge="openai:fake-vlm", judge_base_url=server.url,
    )  # fmt: skip
    assert rebuilt.judge == judge


def test_an_endpoint_that_refuses_images_gives_a_clear_error(judged_run, monkeypatch, tmp_path):
    from snellen.metrics import score_run

    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    server = VisionServer({}, set(), refuse=True)
    for srv in _serve(server):
        with pytest.raises((LLMConfigError, InputError), match="refused a request with an image"):
            score_run(
                judged_run, diversity=False, ocr=False, similarity=None,
                judge="openai:text-only", judge_base_url=srv.url,
            )  # fmt: skip
    assert 1 <= len(server.bodies) <= 4  # stopped at once, not retried drawing by drawing


def test_score_cli_runs_the_judge(judged_run, tmp_path):
    import shutil as _shutil

    from checkup_helpers import snellen

    run_dir = tmp_path / "run"
    _shutil.copytree(judged_run, run_dir)
    truth, wrong = _truth(Run(run_dir))
    server = VisionServer(truth, wrong)
    for srv in _serve(server):
        proc = snellen(
            "score", str(run_dir), "--no-diversity", "--similarity", "none",
            "--judge", "openai:cli-vlm", "--base-url", srv.url,
        )  # fmt: skip
    assert "judge      openai:cli-vlm" in proc.stdout and "50.0 [" in proc.stdout
    saved = json.loads((run_dir / "metrics.json").read_text())
    assert saved["judge"]["judge"] == "openai:cli-vlm" and saved["judge"]["questions"] == 16
