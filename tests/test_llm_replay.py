"""Replaying recorded replies: the shared GPT-4 / GPT-3.5 transcripts and snellen's JSONL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from snellen.data import ROOT as DATA_ROOT
from snellen.llm import ChatReply, ChatRequest, LLMConfigError, LLMError, load_model
from snellen.llm.replay import ReplayModel, concept_of, export_cache, unescape, write_jsonl
from snellen.store import Run

DATA = DATA_ROOT
TRANSCRIPTS = sorted((DATA / "llm-drawings").glob("*.tsv"))
OBJECTS = [
    line.strip()
    for line in (DATA / "concepts" / "objects-100.txt").read_text().splitlines()
    if line.strip()
]


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda p: p.name)
def test_transcripts_load_with_their_concepts(path: Path) -> None:
    model = load_model(f"replay:{path}")
    assert isinstance(model, ReplayModel)
    recorded = model.recorded()
    assert len(recorded) == 100
    assert sorted(model.concepts()) == sorted(OBJECTS)
    expected = "gpt-4-0314" if path.name.startswith("gpt4") else "gpt-3.5-turbo-0301"
    assert model.models() == [expected]
    for r in recorded:
        assert r.concept in r.prompt and "processing" in r.prompt
        assert "\\n" not in r.text  # escapes undone
        assert "\n" in r.text


def test_replay_by_exact_prompt_and_by_concept() -> None:
    path = DATA / "llm-drawings" / "gpt4_default_without_0cot.tsv"
    model = load_model(f"replay:{path}")
    first = model.recorded()[0]
    reply = model.chat(ChatRequest(prompt=first.prompt))
    assert reply.text == first.text and reply.model == "gpt-4-0314"
    assert reply.tokens_estimated and reply.completion_tokens > 10
    assert "void setup()" in reply.text or "void draw()" in reply.text
    # a differently worded prompt, matched by the concept hint ...
    by_hint = model.chat(ChatRequest(prompt="draw it", concept="objects/teddy_bear"))
    assert "teddy bear" in model.lookup(concept="Teddy Bear").prompt
    assert by_hint.text == model.lookup(concept="teddy bear").text
    # ... or by the concept named in the paper's prompt
    paper = "write code in the programming language Processing that draws a guitar"
    assert model.chat(ChatRequest(prompt=paper)).text == first.text
    assert model.describe()["backend"] == "replay"


def test_replay_misses_name_the_prompt_and_the_file() -> None:
    path = DATA / "llm-drawings" / "gpt4_default_without_0cot.tsv"
    model = load_model(f"replay:{path}")
    with pytest.raises(
        LLMError, match="no recorded reply for the prompt 'draw a flying teapot'"
    ) as err:
        model.chat(ChatRequest(prompt="draw a flying teapot"))
    assert str(path) in str(err.value)
    with pytest.raises(LLMError, match="not sample 1; ask for fewer samples"):
        model.chat(ChatRequest(prompt="x", concept="guitar", sample_index=1))
    replies = model.chat_many(
        [ChatRequest(prompt="draw a flying teapot"), ChatRequest(prompt="y", concept="violin")],
        errors="reply",
    )
    assert replies[0].error and replies[1].text and not replies[1].error


def test_transcript_escapes() -> None:
    assert unescape(r"a\nb\\c\td") == "a\nb\\c\td"
    assert unescape(r'"\\\\"') == '"\\\\"'  # two escaped backslashes are two backslashes
    path = DATA / "llm-drawings" / "gpt4_default_without_0cot.tsv"
    keyboard = [r for r in load_model(f"replay:{path}").recorded() if '"\\\\"' in r.text]
    assert len(keyboard) == 1  # the one program that writes a backslash key


def test_concept_of_prompts() -> None:
    assert concept_of("there is a line at the top and an airplane in the middle. Can") == "airplane"
    assert (
        concept_of("write code in the programming language TikZ that draws a red circle.")
        == "red circle"
    )
    assert concept_of("hello") is None


def test_bad_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(LLMConfigError, match="no such file"):
        load_model(f"replay:{tmp_path / 'none.tsv'}")
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\tc\n")
    with pytest.raises(LLMConfigError, match=r"bad.tsv, line 1: a transcript row has 9"):
        load_model(f"replay:{bad}")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"model": "m", "text": "t", "prompt": "p"}\n{"model": "m"}\n')
    with pytest.raises(LLMConfigError, match=r"bad.jsonl, line 2: not a snellen reply record"):
        load_model(f"replay:{bad}")


def test_jsonl_round_trip_with_samples(tmp_path: Path) -> None:
    requests = [ChatRequest(prompt="draw a cat", sample_index=k, seed=1) for k in range(3)]
    replies = [
        ChatReply(text=f"cat {k}", model="m1", prompt_tokens=5, completion_tokens=2, sample_index=k)
        for k in range(3)
    ]
    path = tmp_path / "r.jsonl"
    assert write_jsonl(path, zip(requests, replies, strict=True)) == 3
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert lines[1]["sample_index"] == 1 and lines[1]["messages"][0]["content"] == "draw a cat"
    model = load_model(f"replay:{path}")
    got = model.chat_many(requests)
    assert [r.text for r in got] == ["cat 0", "cat 1", "cat 2"]
    assert got[0].prompt_tokens == 5 and not got[0].tokens_estimated
    assert model.concepts() == {"cat": "draw a cat"}


def test_export_a_runs_cache_and_replay_it(tmp_path: Path) -> None:
    source = load_model(f"replay:{DATA / 'llm-drawings' / 'gpt3.5_default_with_0cot.tsv'}")
    prompts = [r.prompt for r in source.recorded()[:5]]
    run = Run.open(tmp_path / "run", command="test")
    first = source.chat_many([ChatRequest(prompt=p) for p in prompts], cache=run)
    out = tmp_path / "export.jsonl"
    assert export_cache(run, out) == 5
    replayed = load_model(f"replay:{out}").chat_many([ChatRequest(prompt=p) for p in prompts])
    assert [r.text for r in replayed] == [r.text for r in first]
