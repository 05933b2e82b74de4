"""Helpers shared by the check-up and report tests: running the CLI, and one small
check-up on the bundled model built once per test session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The tests score with the shipped default scorer, or with the checkpoint that
# SNELLEN_TEST_SCORER names (a scorer name such as snellen-shapes:/path/to/model.pt).
SCORER_ARGS: tuple[str, ...] = (
    ("--scorer", os.environ["SNELLEN_TEST_SCORER"]) if os.environ.get("SNELLEN_TEST_SCORER") else ()
)
BUNDLED_ARGS = (
    "--concepts", "shapes-1,objects-1", "--languages", "svg,tikz",
    "--tasks", "draw,recognize,correct,parametric", "--rounds", "1", "--variants", "3",
    "--max-tokens", "48", "--workers", "2", *SCORER_ARGS,
)  # fmt: skip


def snellen(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "snellen", *args],
        cwd=REPO, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    assert proc.returncode == 0, (
        f"snellen {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr[-4000:]}"
    )
    return proc


def bundled_checkup(factory: pytest.TempPathFactory) -> Path:
    """The session's check-up on the bundled model, every task (built on first use)."""
    out = factory.getbasetemp() / "checkup-bundled"
    manifest = out / "manifest.json"
    if not (
        manifest.exists()
        and json.loads(manifest.read_text())["sessions"][-1]["status"] == "finished"
    ):
        snellen("checkup", "--out", str(out), *BUNDLED_ARGS)
    return out


REFERENCE_CONCEPTS = "shapes-6"
REFERENCE_LANGUAGES = ("svg", "matplotlib")


def write_reference_replies(path: Path, seed: int = 0) -> Path:
    """A snellen reply file in which a "model" answers each draw prompt with the concept's
    VAD reference program: real programs that draw exactly what was asked."""
    from snellen.checkup.draw import draw_prompt
    from snellen.checkup.prompts import PromptTemplates
    from snellen.concepts import load_concepts

    lines = []
    for concept in load_concepts(REFERENCE_CONCEPTS, seed=seed):
        for language in REFERENCE_LANGUAGES:
            program = concept.programs[language]
            lines.append(
                {
                    "model": "vad-reference-programs",
                    "prompt": draw_prompt(concept, language, PromptTemplates()),
                    "text": f"Here is the program:\n\n```\n{program}\n```\n",
                    "concept": concept.description,
                }
            )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def reference_checkup(factory: pytest.TempPathFactory) -> Path:
    """A check-up replaying the reference programs (every drawing should render and score
    well), built once per test session."""
    base = factory.getbasetemp()
    out = base / "checkup-reference"
    manifest = out / "manifest.json"
    if not (
        manifest.exists()
        and json.loads(manifest.read_text())["sessions"][-1]["status"] == "finished"
    ):
        replies = write_reference_replies(base / "reference-replies.jsonl")
        snellen(
            "checkup", "--model", f"replay:{replies}", "--concepts", REFERENCE_CONCEPTS,
            "--languages", ",".join(REFERENCE_LANGUAGES), "--out", str(out), "--workers", "2",
            *SCORER_ARGS,
        )  # fmt: skip
    return out
