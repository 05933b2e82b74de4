"""The OpenAI-compatible client against loopback servers: one that misbehaves on purpose
(429 with Retry-After, 500, 503, stalls, connection resets, malformed JSON, 400/401/404),
and the reply cache, whose second run must reach the server zero times."""

from __future__ import annotations

import json
import multiprocessing
import socket
import struct
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from snellen.llm import CachedModel, ChatRequest, LLMConfigError, LLMError, load_model
from snellen.store import Run


class FaultServer(ThreadingHTTPServer):
    """A chat completions endpoint that plays a script: each request takes the next action
    (``("ok",)``, ``("status", code, headers)``, ``("stall", seconds)``, ``("reset",)``,
    ``("garbage",)``, ``("nochoices",)``) and answers normally once the script is spent."""

    daemon_threads = True

    def __init__(self, script: list[tuple[Any, ...]] | None = None, *, delay: float = 0.0,
                 usage: bool = True) -> None:  # fmt: skip
        super().__init__(("127.0.0.1", 0), _FaultHandler)
        self.script = list(script or [])
        self.delay = delay
        self.usage = usage
        self.lock = threading.Lock()
        self.arrivals: list[float] = []
        self.bodies: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    @property
    def calls(self) -> int:
        return len(self.arrivals)

    def next_action(self, body: dict[str, Any]) -> tuple[Any, ...]:
        with self.lock:
            self.arrivals.append(time.monotonic())
            self.bodies.append(body)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return self.script.pop(0) if self.script else ("ok",)

    def done(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # resets and stalls break connections on purpose


class _FaultHandler(BaseHTTPRequestHandler):
    server: FaultServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.loads(raw)
        action = self.server.next_action(body)
        try:
            self._act(action, body)
        finally:
            self.server.done()

    def _act(self, action: tuple[Any, ...], body: dict[str, Any]) -> None:
        kind = action[0]
        if kind == "status":
            headers = action[2] if len(action) > 2 else {}
            msg = json.dumps({"error": {"message": f"injected {action[1]}"}}).encode()
            self._send(action[1], msg, headers)
        elif kind == "stall":
            time.sleep(action[1])
            self._send(200, json.dumps(_completion(body, True)).encode())
        elif kind == "reset":
            # SO_LINGER 0: close with a TCP reset instead of a clean shutdown.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif kind == "trickle":
            # Headers at once, then the body a few bytes at a time: no single read waits
            # long, but the whole reply takes ``action[1]`` seconds.
            payload = json.dumps(_completion(body, True)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.flush()
            steps = 10
            size = -(-len(payload) // steps)
            for i in range(steps):
                time.sleep(action[1] / steps)
                self.wfile.write(payload[i * size : (i + 1) * size])
                self.wfile.flush()
        elif kind == "garbage":
            self._send(200, b'{"choices": [{"message": ')
        elif kind == "nochoices":
            self._send(200, b'{"object": "error", "detail": "overloaded"}')
        else:
            time.sleep(self.server.delay)
            self._send(200, json.dumps(_completion(body, self.server.usage)).encode())


def _completion(body: dict[str, Any], usage: bool) -> dict[str, Any]:
    prompt = body["messages"][-1]["content"]
    text = f"echo {prompt} seed={body.get('seed')}"
    out: dict[str, Any] = {
        "id": "x",
        "object": "chat.completion",
        "model": body["model"],
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],  # fmt: skip
    }
    if usage:
        out["usage"] = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    return out


@pytest.fixture
def serve_faults() -> Iterator[Any]:
    servers: list[FaultServer] = []

    def start(script: list[tuple[Any, ...]] | None = None, **kw: Any) -> FaultServer:
        server = FaultServer(script, **kw)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def client(server: FaultServer, **kw: Any) -> Any:
    options = {"base_url": server.url, "backoff": 0.05, "max_backoff": 0.2, "timeout": 5.0, **kw}
    return load_model("openai:test-model", **options)


def ask(text: str = "hello", **kw: Any) -> ChatRequest:
    return ChatRequest(prompt=text, max_tokens=8, **kw)


def test_plain_request_and_token_counts(serve_faults: Any) -> None:
    server = serve_faults()
    model = client(server)
    reply = model.chat(ask("hi", seed=3))
    assert reply.text == "echo hi seed=3"
    assert (reply.prompt_tokens, reply.completion_tokens, reply.tokens_estimated) == (7, 3, False)
    assert server.bodies[0]["model"] == "test-model"
    assert server.bodies[0]["max_tokens"] == 8
    assert model.describe()["base_url"] == server.url


def test_missing_usage_is_estimated_and_flagged(serve_faults: Any) -> None:
    model = client(serve_faults(usage=False))
    reply = model.chat(ask("hi there"))
    assert reply.tokens_estimated
    assert reply.completion_tokens > 0 and reply.prompt_tokens > 0


def test_429_waits_for_retry_after(serve_faults: Any) -> None:
    server = serve_faults([("status", 429, {"Retry-After": "0.4"})])
    model = client(server)
    reply = model.chat(ask())
    assert reply.text.startswith("echo")
    assert server.calls == 2
    assert server.arrivals[1] - server.arrivals[0] >= 0.4
    [event] = model.retry_events
    assert event.delay == pytest.approx(0.4) and "429" in event.reason


def test_5xx_backoff_grows_and_then_succeeds(serve_faults: Any) -> None:
    server = serve_faults([("status", 500), ("status", 503), ("status", 502)])
    model = client(server, backoff=0.05, max_backoff=10.0)
    reply = model.chat(ask())
    assert reply.text.startswith("echo") and server.calls == 4
    events = model.retry_events
    assert [e.attempt for e in events] == [1, 2, 3]
    assert [e.reason.split(":")[0] for e in events] == ["HTTP 500", "HTTP 503", "HTTP 502"]
    for e in events:  # full jitter: uniform in [0, base * 2^(attempt-1)]
        assert 0 <= e.delay <= 0.05 * 2 ** (e.attempt - 1)
    assert model.stats.retries == 3


def test_gives_up_with_a_clear_error(serve_faults: Any) -> None:
    server = serve_faults([("status", 503)] * 10)
    model = client(server, max_retries=2)
    with pytest.raises(LLMError, match=r"gave up after 3 attempts; last: HTTP 503") as err:
        model.chat(ask())
    assert not isinstance(err.value, LLMConfigError)
    assert "openai:test-model" in str(err.value) and server.url in str(err.value)
    assert server.calls == 3


def test_stall_beyond_timeout_is_retried(serve_faults: Any) -> None:
    server = serve_faults([("stall", 2.0)])
    model = client(server, timeout=0.5)
    t0 = time.monotonic()
    reply = model.chat(ask())
    assert reply.text.startswith("echo")
    assert server.calls == 2
    assert "timed out" in model.retry_events[0].reason
    assert time.monotonic() - t0 < 1.9  # did not wait for the stalled answer


def test_timeout_bounds_the_whole_request(serve_faults: Any) -> None:
    server = serve_faults([("trickle", 2.0)])
    model = client(server, timeout=0.6)
    t0 = time.monotonic()
    reply = model.chat(ask())
    assert reply.text.startswith("echo") and server.calls == 2
    assert "still arriving" in model.retry_events[0].reason
    assert time.monotonic() - t0 < 1.9  # gave up on the trickle before it finished


def test_unreachable_endpoint_names_the_fix() -> None:
    with socket.socket() as s:  # a loopback port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # the default max_retries (6) is cut to 3 attempts for an endpoint never reached
    model = load_model("openai:m", base_url=f"http://127.0.0.1:{port}/v1", concurrency=1,
                       backoff=0.01)  # fmt: skip
    with pytest.raises(
        LLMConfigError, match=r"gave up after 3 attempts; last: cannot connect"
    ) as err:
        model.chat_many([ask("a"), ask("b")], errors="reply")  # stops the batch
    message = str(err.value)
    assert f"Nothing answers at http://127.0.0.1:{port}/v1" in message
    assert "--base-url" in message and "OPENAI_BASE_URL" in message
    assert model.stats.failures == 1


def test_server_gone_after_answering_is_a_request_error(serve_faults: Any) -> None:
    server = serve_faults()
    model = client(server, max_retries=1, headers={"Connection": "close"})
    assert model.chat(ask()).text.startswith("echo")
    server.shutdown()
    server.server_close()
    with pytest.raises(LLMError, match="cannot connect") as err:
        model.chat(ask())
    assert not isinstance(err.value, LLMConfigError)  # it worked before: maybe a restart


def test_connection_reset_is_retried(serve_faults: Any) -> None:
    server = serve_faults([("reset",), ("reset",)])
    model = client(server)
    assert model.chat(ask()).text.startswith("echo")
    assert server.calls == 3
    assert all("connection failed" in e.reason for e in model.retry_events)


def test_malformed_json_is_retried(serve_faults: Any) -> None:
    server = serve_faults([("garbage",), ("nochoices",)])
    model = client(server)
    assert model.chat(ask()).text.startswith("echo")
    reasons = [e.reason for e in model.retry_events]
    assert "not JSON" in reasons[0] and "not a chat completion" in reasons[1]


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [
        (401, LLMConfigError, "OPENAI_API_KEY"),
        (403, LLMConfigError, "SNELLEN_API_KEY"),
        (404, LLMConfigError, "/models"),
        (400, LLMError, "refused this request"),
    ],
)
def test_client_errors_are_not_retried(
    serve_faults: Any, status: int, error: type, words: str
) -> None:
    server = serve_faults([("status", status)])
    model = client(server)
    with pytest.raises(error, match=words) as err:
        model.chat(ask())
    assert f"HTTP {status}" in str(err.value) and f"injected {status}" in str(err.value)
    assert server.calls == 1 and model.retry_events == []


def test_errors_as_replies_keep_the_batch_going(serve_faults: Any) -> None:
    server = serve_faults([("status", 400)])
    model = client(server, concurrency=1)
    replies = model.chat_many([ask("a"), ask("b"), ask("c")], errors="reply")
    assert replies[0].error and "HTTP 400" in replies[0].error and replies[0].text == ""
    assert [r.text for r in replies[1:]] == ["echo b seed=None", "echo c seed=None"]
    assert model.stats.failures == 1
    # a configuration error stops the batch whatever ``errors`` says
    server.script = [("status", 401)]
    with pytest.raises(LLMConfigError):
        model.chat_many([ask("d"), ask("e")], errors="reply")


def test_concurrency_never_exceeds_the_limit(serve_faults: Any) -> None:
    server = serve_faults(delay=0.15)
    model = client(server, concurrency=3)
    requests = [ask(f"p{i}") for i in range(12)]
    # more threads than the client's limit: the limit must still hold
    replies = model.chat_many(requests, concurrency=6)
    assert [r.text for r in replies] == [f"echo p{i} seed=None" for i in range(12)]
    assert server.max_in_flight == 3
    server.max_in_flight = 0
    model.chat_many(requests[:4], concurrency=2)
    assert server.max_in_flight == 2


def test_retry_under_concurrency(serve_faults: Any) -> None:
    server = serve_faults(
        [("status", 429, {"Retry-After": "0.1"}), ("reset",), ("status", 500)], delay=0.05
    )
    model = client(server, concurrency=4)
    replies = model.chat_many([ask(f"q{i}") for i in range(8)])
    assert [r.text for r in replies] == [f"echo q{i} seed=None" for i in range(8)]
    assert server.calls == 11 and len(model.retry_events) == 3
    assert server.max_in_flight <= 4


def test_samples_send_distinct_seeds(serve_faults: Any) -> None:
    server = serve_faults()
    model = client(server)
    model.chat_many([ask("x", seed=7, sample_index=k) for k in range(3)], concurrency=1)
    seeds = [b["seed"] for b in server.bodies]
    assert seeds[0] == 7 and len(set(seeds)) == 3
    model.chat_many([ask("x", seed=7, sample_index=k) for k in range(3)], concurrency=1)
    assert [b["seed"] for b in server.bodies[3:]] == seeds  # reproducible


def test_cache_second_run_makes_no_calls(serve_faults: Any, tmp_path: Any) -> None:
    server = serve_faults()
    requests = [ask(f"c{i}", sample_index=k) for i in range(3) for k in range(2)]
    run = Run.open(tmp_path / "run", command="test")
    first = client(server).chat_many(requests, cache=run, concurrency=3)
    assert server.calls == 6 and run.cache_count() == 6
    assert not any(r.cached for r in first)
    run.close()

    again = Run.open(tmp_path / "run", command="test")
    cached = CachedModel(client(server), again)
    second = cached.chat_many(requests, concurrency=3)
    assert server.calls == 6  # not one more
    assert all(r.cached for r in second)
    assert [r.text for r in second] == [r.text for r in first]
    assert (cached.stats.calls, cached.stats.cache_hits) == (0, 6)
    # a new parameter is a new entry
    cached.chat(ask("c0", temperature=0.1))
    assert server.calls == 7 and again.cache_count() == 7


def test_failed_replies_are_not_cached(serve_faults: Any, tmp_path: Any) -> None:
    server = serve_faults([("status", 400)])
    run = Run.open(tmp_path / "run", command="test")
    model = client(server)
    [bad] = model.chat_many([ask("z")], cache=run, errors="reply")
    assert bad.error and run.cache_count() == 0
    [good] = model.chat_many([ask("z")], cache=run)
    assert good.text.startswith("echo") and run.cache_count() == 1


def _fill_cache(args: tuple[str, str, list[str]]) -> int:
    url, run_path, prompts = args
    model = load_model("openai:test-model", base_url=url, concurrency=2)
    replies = model.chat_many([ask(p) for p in prompts], cache=Run(run_path))
    return len(replies)


def test_cache_is_safe_for_concurrent_processes(serve_faults: Any, tmp_path: Any) -> None:
    server = serve_faults(delay=0.02)
    run = Run.open(tmp_path / "run", command="test")
    prompts = [f"m{i}" for i in range(10)]
    jobs = [(server.url, str(run.path), prompts[:7]), (server.url, str(run.path), prompts[3:])]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        assert list(pool.map(_fill_cache, jobs)) == [7, 7]
    assert run.cache_count() == 10
    before = server.calls
    assert _fill_cache((server.url, str(run.path), prompts)) == 10
    assert server.calls == before


def test_cli_ask_records_replies_for_replay(serve_faults: Any, tmp_path: Any, capsys: Any) -> None:
    from snellen.cli import main

    server = serve_faults([("status", 503)])
    out = tmp_path / "replies.jsonl"
    argv = ["llm", "ask", "openai:test-model", "hi", "--base-url", server.url, "--samples", "2",
            "--seed", "5", "--record", str(out)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "--- sample 0: test-model, 7+3 tokens" in printed and "recorded 2 replies" in printed
    assert server.calls == 3  # the 503 was retried
    second = ask("hi", seed=5, sample_index=1)
    replayed = load_model(f"replay:{out}").chat(second)
    assert replayed.text == f"echo hi seed={second.effective_seed()}"
    assert (replayed.prompt_tokens, replayed.completion_tokens) == (7, 3)
    assert main(["llm", "ask", "openai:test-model", "hi", "--base-url", server.url,
                 "--max-tokens", "0"]) == 2  # fmt: skip
    assert "max_tokens must be at least 1" in capsys.readouterr().err
