"""What one command writes, the next accepts as written; a bad input gets one line naming
the input and the fix (exit code 2, no traceback), as a new user would try them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from snellen.cli import main


def _error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("snellen ")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.slow
def test_train_clip_output_is_accepted_by_eval_as_written_and_as_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "neg.pt"
    argv = ["train-clip", "--out", str(out), "--n-train", "48", "--n-eval", "16",
            "--batch-size", "16", "--epochs", "1", "--image-size", "32", "--eval-gallery", "16",
            "--threads", "2"]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    name = re.search(r"evaluate it as (\S+)", printed)
    assert name is not None and name.group(1) == f"snellen-shapes:{out}"
    small = ["eval", "zeroshot", "--dataset", "vad-zeroshot/colour", "--n", "8", "--workers", "0"]
    for model in (str(out), name.group(1)):
        assert main([*small, "--model", model]) == 0, capsys.readouterr().err
        assert f"with snellen-shapes:{out}" in capsys.readouterr().out


def test_a_weights_file_without_its_architecture_says_how_to_name_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    weights = tmp_path / "tuned.pt"
    torch.save({"visual.proj": torch.zeros(2, 2)}, weights)
    line = _error(capsys, ["eval", "zeroshot", "--dataset", "vad-zeroshot/colour",
                           "--model", str(weights)])  # fmt: skip
    assert str(weights) in line and f"open-clip:ARCH:{weights}" in line


def test_probe_of_a_file_that_is_not_a_checkpoint_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "notes.pt"
    bad.write_text("these are my notes, not a checkpoint\n")
    line = _error(capsys, ["probe", str(bad), "--dataset", "digits"])
    assert str(bad) in line and "snellen pretrain" in line


@pytest.mark.parametrize("n", ["-5", "0"])
def test_exporting_no_concepts_is_an_error_and_writes_nothing(
    n: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "none.jsonl"
    line = _error(capsys, ["concepts", "export", "shapes", "--n", n, "--out", str(out)])
    assert f"n={n}" in line and "1 or more" in line
    assert not out.exists()


@pytest.mark.parametrize(("name", "fmt"), [("empty.tsv", "transcripts"), ("empty.jsonl", None)])
def test_rendering_an_empty_input_says_so(
    name: str, fmt: str | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / name
    empty.write_text("")
    argv = ["render", str(empty), "--out", str(tmp_path / "out")]
    line = _error(capsys, argv + (["--format", fmt] if fmt else []))
    assert str(empty) in line and "no programs" in line
    assert not (tmp_path / "out").exists()
