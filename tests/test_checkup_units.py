"""The check-up's units of work and the alignment of a replayed transcript, without a model."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from snellen.checkup.draw import draw_jobs
from snellen.checkup.jobs import DrawJob, Reply, drawing_record, no_code_result, render_job
from snellen.checkup.pipeline import align_to_replay, check_languages, check_tasks
from snellen.checkup.prompts import PromptTemplates
from snellen.concepts import load_concepts
from snellen.errors import InputError
from snellen.render.base import RenderResult, Status
from snellen.render.extract import extract_code


def test_draw_jobs_use_the_papers_prompt_and_stable_keys() -> None:
    concepts = load_concepts("objects-2", seed=3)
    jobs = draw_jobs(concepts, ["svg", "tikz"], 2, "m", PromptTemplates())
    assert len(jobs) == 8 and len({j.key for j in jobs}) == 8
    first = jobs[0]
    assert first.key == f"draw/{concepts[0].id}/svg/s0/r0"
    assert first.prompt.startswith("write code in the programming language SVG that draws a")
    assert draw_jobs(concepts, ["svg", "tikz"], 2, "m", PromptTemplates()) == jobs


def test_a_job_and_its_record_cross_process_boundaries() -> None:
    """A job pickles (worker processes, Ray tasks) and its typed record turns into plain
    JSON and back."""
    concept = load_concepts("shapes-1", seed=0)[0]
    job = draw_jobs([concept], ["svg"], 1, "m", PromptTemplates())[0]
    assert pickle.loads(pickle.dumps(job)) == job
    reply = Reply(text=f"```svg\n{concept.programs['svg']}\n```", completion_tokens=40)
    found = extract_code(reply.text, "svg")
    rj = render_job(job, found.code, 5.0)
    assert pickle.loads(pickle.dumps(rj)).code == found.code
    result = RenderResult(job.key, "svg", Status.OK, width=64, height=64)
    record = drawing_record(
        job, reply, found, result, image_ref="i", program_ref="p", reply_ref="r"
    )
    row = record.to_row()
    assert json.loads(json.dumps(row)) == row
    assert type(record).from_row(row) == record and pickle.loads(pickle.dumps(record)) == record
    assert row["status"] == "ok" and record.status is Status.OK and record.completion_tokens == 40
    # task-specific columns appear only on the records of their task
    assert "feedback" not in row and "params" not in row and row["parent"] is None
    failed = no_code_result(DrawJob(**{**job.__dict__}), "no program in the reply")
    assert failed.status == Status.NO_CODE and failed.id == job.key


def test_tasks_and_languages_are_checked() -> None:
    assert check_tasks(["correct", "draw"]) == ["draw", "correct"]
    with pytest.raises(InputError, match="unknown task"):
        check_tasks(["paint"])
    assert check_languages(["SVG", "tikz", "svg"]) == ["svg", "tikz"]
    with pytest.raises(InputError, match="unknown language"):
        check_languages(["java"])


def test_replay_alignment_uses_the_transcripts_concepts_and_language(shared_data: Path) -> None:
    from snellen.llm import load_model

    model = load_model(f"replay:{shared_data / 'llm-drawings' / 'gpt4_default_without_0cot.tsv'}")
    plan = align_to_replay(model, ["objects-100"], None, seed=0)
    names = {
        ln.strip()
        for ln in (shared_data / "concepts" / "objects-100.txt").read_text().splitlines()
        if ln.strip()
    }
    assert {c.description for c in plan.concepts} == names
    assert plan.languages == ["processing"]
    assert len(plan.prompts) == 100
    assert any("transcript's own 100 concepts" in n for n in plan.notes)
    with pytest.raises(InputError, match="--languages processing"):
        align_to_replay(model, ["objects-100"], ["svg"], seed=0)


def test_replay_alignment_keeps_a_subset_that_the_transcript_holds(
    shared_data: Path, tmp_path: Path
) -> None:
    from snellen.llm import load_model

    model = load_model(f"replay:{shared_data / 'llm-drawings' / 'gpt4_default_without_0cot.tsv'}")
    concepts = tmp_path / "three.txt"
    concepts.write_text("guitar\nheadphone\nmicrophone\n")
    plan = align_to_replay(model, [str(concepts)], ["processing"], seed=0)
    assert [c.description for c in plan.concepts] == ["guitar", "headphone", "microphone"]
    assert plan.notes == []
    assert all(p.startswith("You are an expert programmer") for p in plan.prompts.values())


def test_recognition_programs_lose_the_comments_that_name_the_answer() -> None:
    from snellen.render.comments import strip_comments

    concept = load_concepts("shapes-1", seed=0)[0]
    # the reference programs name the shape's parts in comments; none is left
    markers = {"processing": "//", "svg": "<!--", "matplotlib": "\n# ", "tikz": "\n% "}
    for language, marker in markers.items():
        program = concept.programs[language]
        assert marker in program, language
        assert marker not in strip_comments(program, language), language
    assert strip_comments('c = "#fff"  # the sun\ny = 2\n', "matplotlib") == 'c = "#fff"\ny = 2\n'
    assert strip_comments('fill("//x"); // sun\n/* a\nb */ rect(1, 2);\n', "processing") == (
        'fill("//x");\n rect(1, 2);\n'
    )
    assert (
        strip_comments("\\draw (0,0); % sun\n50\\% grey\n", "tikz") == "\\draw (0,0);\n50\\% grey\n"
    )
    assert strip_comments("<svg><title>sun</title><!-- sun --><circle/></svg>", "svg") == (
        "<svg><circle/></svg>\n"
    )
    # unreadable Python is returned as it was
    assert strip_comments("def f(:\n  # x\n", "turtle") == "def f(:\n  # x\n"
