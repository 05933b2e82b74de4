"""The local reasoner beside other work: the OpenMP wait policy reaches the model worker
before its engine loads, threads follow the free CPUs, transformers batches greedy requests
(left-padded) with the same replies as one at a time, and candidate answers are ranked by
log-likelihood the same way by both engines."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from lens_helpers import save_tiny_llama
from snellen.llm import ChatModel, ChatRequest, load_model
from snellen.llm.base import ChatReply
from snellen.llm.cpu import apply_wait_policy, auto_threads, free_cpus, omp_environment
from snellen.llm.gguf import llama_cpp_usable
from snellen.llm.isolated import IsolatedChat


class EnvEcho(ChatModel):
    """Replies with the worker's OpenMP wait policy (a real model process, no engine)."""

    name = "env-echo"

    def describe(self) -> dict[str, Any]:
        return {"backend": "env-echo"}

    def _chat(self, request: ChatRequest) -> ChatReply:
        policy = os.environ.get("OMP_WAIT_POLICY", "unset")
        return ChatReply(
            text=f"{policy} {os.environ.get('GOMP_SPINCOUNT', 'unset')}", model=self.name
        )


def make_echo() -> ChatModel:
    return EnvEcho()


def test_wait_policy_reaches_the_worker_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    model = IsolatedChat(f"{__name__}:make_echo", env=omp_environment("passive"))
    try:
        assert model.chat(ChatRequest(prompt="x")).text == "PASSIVE 0"
    finally:
        model.close()
    # a policy the user set is kept
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    assert "OMP_WAIT_POLICY" not in omp_environment("passive")
    with pytest.raises(ValueError, match="unknown wait policy"):
        omp_environment("spin")


def test_policy_is_only_set_before_the_engine_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert apply_wait_policy("passive", module="json") is False  # already imported
    assert "OMP_WAIT_POLICY" not in os.environ
    assert apply_wait_policy("passive", module="a_module_nobody_imported") is True
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"


def test_threads_follow_the_free_cpus() -> None:
    cpus = len(os.sched_getaffinity(0))
    assert free_cpus(load=0.0) == cpus
    assert free_cpus(load=cpus + 3.0) == 1  # a busy machine: one thread
    assert free_cpus(load=cpus - 1.0) == 1
    assert auto_threads(3) == 3
    with pytest.raises(ValueError):
        auto_threads(-1)


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_llama(tmp_path_factory.mktemp("llama") / "m")


def _requests() -> list[ChatRequest]:
    questions = ["What colour is the circle?", "How many?", "Is there a red square in it?"]
    return [ChatRequest(prompt=q, temperature=0.0, max_tokens=6) for q in questions]


def test_transformers_batches_greedy_requests_like_one_at_a_time(tiny_llama: Path) -> None:
    batched = load_model(f"hf:{tiny_llama}", batch_size=8)
    single = load_model(f"hf:{tiny_llama}", batch_size=1)
    assert batched.batch_size == 8 and single.batch_size == 1
    together = batched.chat_many(_requests())
    alone = single.chat_many(_requests())
    assert [r.text for r in together] == [r.text for r in alone]
    assert [r.completion_tokens for r in together] == [r.completion_tokens for r in alone]
    # a sampled request is never batched (its seed fixes its reply alone)
    sampled = ChatRequest(prompt="hi", temperature=0.7, max_tokens=4, seed=3)
    assert batched.chat_batch([sampled, sampled])[0].text == single.chat(sampled).text


def test_rank_scores_each_candidate_as_the_whole_reply(tiny_llama: Path) -> None:
    import torch

    model: Any = load_model(f"hf:{tiny_llama}")
    request = _requests()[0]
    scores = model.rank(request, ["red", "blue", "a dark red"])
    # the same log-likelihood computed token by token with plain forward passes
    tok, net = model.tokenizer, model.model
    prompt = model.render_prompt(request)
    ids = tok(prompt + "a dark red", add_special_tokens=False)["input_ids"]
    n = len(tok(prompt, add_special_tokens=False)["input_ids"])
    with torch.no_grad():
        logp = torch.log_softmax(net(torch.tensor([ids])).logits[0].float(), -1)
    expected = sum(float(logp[p - 1, ids[p]]) for p in range(n, len(ids)))
    assert scores[2] == pytest.approx(expected, abs=1e-4)
    assert len(scores) == 3 and all(s < 0 for s in scores)


@pytest.mark.skipif(not llama_cpp_usable(), reason="llama-cpp-python is not usable here")
def test_both_engines_rank_alike_and_llama_cpp_keeps_the_prefix() -> None:
    request = ChatRequest(
        messages=[{"role": "system", "content": "Answer with one word."},
                  {"role": "user", "content": "Captions: a red circle\nQuestion: What colour is the circle?"}],
        temperature=0.0, max_tokens=4,
    )  # fmt: skip
    candidates = ["red", "blue", "green", "light blue"]
    llama = load_model("smollm2", engine="llama-cpp", n_threads=1)
    try:
        first = llama.rank(request, candidates)
        again = llama.rank(request, candidates)  # the prompt is kept evaluated: same scores
        runtime = llama.describe()["runtime"]
    finally:
        llama.close()
    hf = load_model("smollm2", engine="transformers")
    try:
        reference = hf.rank(request, candidates)
    finally:
        hf.close()
    assert runtime["omp_wait_policy"].startswith(os.environ.get("OMP_WAIT_POLICY", "PASSIVE"))
    assert runtime["prefix_cache"] is True
    assert again == pytest.approx(first, abs=1e-3)
    # the quantised engine and the de-quantised one agree to a few tenths of a nat, in order
    assert first == pytest.approx(reference, abs=0.3)
    assert max(range(4), key=lambda i: first[i]) == max(range(4), key=lambda i: reference[i])
