"""Grammar-constrained drawing: the GBNF reader (recognise, complete, sample), the drawing
grammars (every sentence renders), the engines that honour them, and the check-up's
``--constrain`` setting."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from snellen.errors import InputError
from snellen.languages import with_part
from snellen.llm import ChatRequest, load_model
from snellen.llm.gbnf import Gbnf, GbnfError
from snellen.llm.grammar import (
    drawing_grammar,
    finish_reply,
    grammar_text,
)
from snellen.render import render_many
from snellen.render.base import RenderJob
from snellen.render.extract import extract_code

TOY = r"""
root ::= "(" expr ")" | "x" " "? [a-c]{1,3}
expr ::= num (" + " num)*   # a comment
num ::= [1-9] [0-9]{0,2}
"""


def test_gbnf_recognises_completes_and_samples() -> None:
    g = Gbnf(TOY)
    assert g.accepts("(1 + 22 + 333)") and g.accepts("xabc") and g.accepts("x a")
    assert not g.accepts("(1 + 2") and not g.accepts("xabcd") and not g.accepts("(0)")
    assert g.viable_prefix("(1 + 2)x") == 7 and g.viable_prefix("(0") == 1
    # the shortest way to a sentence, from a prefix and from a prefix with garbage after it
    assert g.complete("(1 + 2") == "(1 + 2)"
    assert g.complete("(1 + ") == "(1 + 1)"
    assert g.complete("x ") == "x a"
    assert g.complete("(9 zzz") == "(9 + 1)"  # "(9 " is the viable prefix
    rng = random.Random(0)
    samples = {g.sample(rng) for _ in range(50)}
    assert all(g.accepts(s) for s in samples) and len(samples) > 20


def test_gbnf_errors_name_the_problem() -> None:
    with pytest.raises(GbnfError, match="never defined: nope"):
        Gbnf('root ::= "a" nope')
    with pytest.raises(GbnfError, match="no 'root'"):
        Gbnf('start ::= "a"')
    with pytest.raises(GbnfError, match="line 2"):
        Gbnf('root ::= "a"\nb ::= "unterminated')


def test_every_drawing_grammar_reads_in_xgrammar_and_here() -> None:
    import xgrammar as xgr

    for lang in with_part("grammar"):
        text = grammar_text(lang)
        xgr.Grammar.from_ebnf(text)  # raises on anything it cannot read
        drawing_grammar(lang)
    with pytest.raises(InputError, match="no drawing grammar"):
        grammar_text("cobol")


# Samples per language: Processing, SVG, matplotlib and turtle are quick to render; each TikZ
# picture costs a pdflatex run.
SAMPLES = {"processing": 24, "svg": 30, "matplotlib": 16, "turtle": 16, "tikz": 3}


def _programs(rng: random.Random) -> Iterator[tuple[str, str, str]]:
    for lang, n in SAMPLES.items():
        g = drawing_grammar(lang)
        for k in range(n):
            text = g.sample(rng, budget=rng.choice([150, 400, 900]))
            if k % 3 == 2:  # a reply cut off by the token limit, completed
                text = g.complete(text[: rng.randrange(len(text))])
            assert g.accepts(text), text
            yield lang, f"{lang}/{k}", text


def test_every_sentence_of_the_drawing_grammars_renders() -> None:
    """Random sentences of each grammar (some of them cut short and completed) all render:
    a picture or a blank canvas, never an error."""
    jobs, texts = [], {}
    for lang, jid, text in _programs(random.Random(7)):
        found = extract_code(text, lang)
        assert found.method == "single block" and found.code, text
        texts[jid] = found.code
        jobs.append(RenderJob(jid, lang, found.code, timeout=30))
    statuses: Counter[tuple[str, str]] = Counter()
    for r in render_many(jobs, 2):
        assert r.status.value in ("ok", "blank"), f"{r.id}: {r.reason}\n{texts[r.id]}"
        statuses[(r.language, r.status.value)] += 1
    for lang in SAMPLES:
        assert statuses[(lang, "ok")] >= 1, statuses


def test_grammar_enters_the_cache_key_only_when_set() -> None:
    plain = ChatRequest(prompt="draw", seed=1)
    assert "grammar" not in plain.params()  # the keys of unconstrained replies do not move
    constrained = ChatRequest(prompt="draw", seed=1, grammar=grammar_text("svg"))
    other = ChatRequest(prompt="draw", seed=1, grammar=grammar_text("processing"))
    assert constrained.params()["grammar"].startswith("sha256:")
    assert constrained.params() != other.params()


def test_finish_reply_keeps_whole_replies_and_completes_cut_ones() -> None:
    g = grammar_text("processing")
    whole = "```processing\nvoid setup() {\n  size(100, 100);\n  circle(50, 50, 20);\n}\n```"
    assert finish_reply(g, whole) == whole
    cut = finish_reply(g, whole[:-25])
    assert drawing_grammar("processing").accepts(cut) and cut.startswith(whole[:-25])


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-layer Llama with random weights and SmolLM2's real tokenizer: a model that
    knows nothing, so only the grammar can make its replies programs."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from snellen.llm.embedded import smollm2_path

    gguf = smollm2_path()
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
    )  # fmt: skip
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("tiny-llama-grammar")
    LlamaForCausalLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def test_transformers_engine_keeps_replies_inside_the_grammar(tiny_model: Path) -> None:
    model = load_model(f"hf:{tiny_model}")
    assert model.supports_grammar
    jobs = []
    for lang in ("svg", "processing"):
        for k, limit in enumerate((16, 48)):
            request = ChatRequest(
                prompt=f"Draw a red circle in {lang}.", max_tokens=limit, temperature=1.0,
                sample_index=k, grammar=grammar_text(lang),
            )  # fmt: skip
            reply = model.chat(request)
            assert drawing_grammar(lang).accepts(reply.text), reply.text
            jobs.append(RenderJob(f"{lang}/{k}", lang, extract_code(reply.text, lang).code or ""))
    assert {r.status.value for r in render_many(jobs, 2)} <= {"ok", "blank"}
    model.close()


def test_checkup_draws_constrained_and_free_side_by_side(tiny_model: Path, tmp_path: Path) -> None:
    """``snellen checkup --constrain none,grammar`` on a model with random weights: every
    constrained drawing is a program that parses and renders; the free ones do not parse."""
    import json

    from checkup_helpers import snellen
    from snellen.checkup.jobs import DRAWINGS
    from snellen.store import Run

    out = tmp_path / "run"
    proc = snellen(
        "checkup", "--model", f"hf:{tiny_model}", "--concepts", "shapes-2",
        "--languages", "svg,processing", "--constrain", "none,grammar", "--max-tokens", "32",
        "--workers", "2", "--out", str(out),
    )  # fmt: skip
    frame = Run(out).dataframe(DRAWINGS)
    assert len(frame) == 8 and set(frame.constraint) == {"none", "grammar"}
    constrained = frame[frame.constraint == "grammar"]
    assert all(constrained.key.str.endswith("/grammar"))
    assert set(constrained.model) == {f"hf:{tiny_model}+grammar"}
    assert set(constrained.status) <= {"ok", "blank"}, constrained[["key", "reason"]]
    assert not set(frame[frame.constraint == "none"].status) & {"ok", "blank"}
    assert json.loads((out / "manifest.json").read_text())["config"]["constrain"] == [
        "none",
        "grammar",
    ]
    assert "svg+grammar" in proc.stdout and "processing+grammar" in proc.stdout
    report = (out / "report.html").read_text()
    assert "svg (grammar)" in report and "svg (none)" in report  # side by side


def test_constraining_a_model_that_cannot_is_a_clear_error(tmp_path: Path) -> None:
    from checkup_helpers import write_reference_replies
    from snellen.checkup import run_checkup

    replies = write_reference_replies(tmp_path / "replies.jsonl")
    with pytest.raises(InputError, match="--constrain grammar needs a local model"):
        run_checkup(tmp_path / "run", model=f"replay:{replies}", constrain="grammar")
    with pytest.raises(InputError, match="unknown constraint"):
        run_checkup(tmp_path / "run2", model=f"replay:{replies}", constrain="regex")


LLAMA_SCRIPT = r"""
import json, sys
from snellen.llm import ChatRequest, load_model
from snellen.llm.embedded import smollm2_path
from snellen.llm.grammar import grammar_text
model = load_model(f"gguf:{smollm2_path()}", engine="llama-cpp", n_threads=1)
out = {}
for lang in sys.argv[1:]:
    request = ChatRequest(prompt=f"Draw a red circle in {lang}.", max_tokens=24,
                          grammar=grammar_text(lang) if lang != "plain" else None)
    out[lang] = model.chat(request).text
print(json.dumps(out))
"""


def test_llama_cpp_engine_keeps_replies_inside_the_grammar() -> None:
    """Through llama.cpp's own GBNF sampler, in a child process (a llama.cpp built for
    another CPU dies of SIGILL, which must not take the test run with it)."""
    import json
    import subprocess
    import sys

    from snellen.llm.gguf import llama_cpp_available

    if not llama_cpp_available():
        pytest.skip("llama-cpp-python is not installed (the transformers engine is tested)")

    def run(*langs: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", LLAMA_SCRIPT, *langs],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip

    # an unconstrained reply first: a process that dies there has a llama.cpp this CPU
    # cannot run, which setup reports; the grammars are read only when they sample
    proc = run("plain", *with_part("grammar"))
    if proc.returncode < 0 and not proc.stdout.strip():
        pytest.skip(f"llama.cpp crashes on this CPU (signal {-proc.returncode}); see setup")
    assert proc.returncode == 0, proc.stderr[-2000:]
    replies = json.loads(proc.stdout.strip().splitlines()[-1])
    replies.pop("plain")
    assert set(replies) == set(with_part("grammar"))
    for lang, text in replies.items():
        assert drawing_grammar(lang).accepts(text), text
