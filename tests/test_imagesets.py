"""Image datasets drawn by programs: sources, variants, reproducible shards, the CLI, and a
SIGKILL in the middle of a build."""

from __future__ import annotations

import io
import json
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from snellen.errors import InputError
from snellen.imagesets import build_dataset, iter_samples, list_shards, load_source
from snellen.imagesets.sources import _split_mix
from snellen.imagesets.variants import literal_parameters, program_parameters
from snellen.store.run import RunError
from vision_helpers import PLASMA, run_snellen, snellen, write_transcript

PROCEDURAL = [
    "dead-leaves:squares", "dead-leaves:oriented", "dead-leaves:mixed",
    "dead-leaves:textured", "fractals", "spectrum", "wmm",
]  # fmt: skip


@pytest.mark.parametrize("name", PROCEDURAL)
def test_procedural_sources_are_deterministic_and_varied(name: str) -> None:
    src = load_source(name)
    a, b, c = src.plan(3, 7, 32), src.plan(3, 7, 32), src.plan(4, 7, 32)
    assert a.pixels is not None and a.pixels.shape == (32, 32, 3) and a.pixels.dtype == np.uint8
    assert np.array_equal(a.pixels, b.pixels)
    assert not np.array_equal(a.pixels, c.pixels)
    assert a.pixels.std() > 5  # not a flat image
    assert a.meta["source"] == name and a.meta["program_id"] == f"{name.split(':')[0]}/3"


def test_dead_leaves_cover_the_canvas() -> None:
    src = load_source("dead-leaves:squares")
    img = src.plan(0, 0, 64).pixels
    # fully covered: no pixel keeps the black start colour unless a leaf drew it
    assert (img.reshape(-1, 3).max(1) > 0).mean() > 0.97


def test_literal_parameters_skip_canvas_comments_and_strings() -> None:
    code = 'void setup() {\n  size(400, 300);\n}\n// 12 in a comment\nellipse(200, 150.5, 80, 80);\ntext("7 dwarfs", 10, 20);'
    params = literal_parameters(code, "processing")
    assert [p.value for p in params] == [200, 150.5, 80, 80, 10, 20]
    assert params[1].integer is False and params[0].integer is True
    how, named = program_parameters(
        "float w = 120;\nvoid draw() { rect(0, 0, w, 10); }", "processing"
    )
    assert how == "named" and [p.name for p in named] == ["w"]


def test_mix_parts_may_hold_commas() -> None:
    assert _split_mix("transcripts:a.tsv,b.tsv=0.5,fractals=0.5") == [
        "transcripts:a.tsv,b.tsv=0.5",
        "fractals=0.5",
    ]
    with pytest.raises(InputError, match="weight"):
        load_source("mix:fractals=x")
    with pytest.raises(InputError, match="unknown image source"):
        load_source("fractal")


def test_transcripts_build_through_the_cli(tmp_path: Path) -> None:
    """Recorded replies -> confined renders with parametric variants -> WebDataset shards
    that webdataset itself reads."""
    import webdataset as wds

    tsv = write_transcript(tmp_path / "t.tsv")
    out = tmp_path / "ds"
    text = run_snellen("dataset", "build", f"transcripts:{tsv}", "--n", "6", "--size", "32",
                       "--out", str(out), "--shard-size", "3", "--workers", "1")  # fmt: skip
    assert "6 images in 2 shards" in text
    manifest = json.loads((out / "dataset.json").read_text())
    assert manifest["images"] == 6 and manifest["sandbox"]["landlock"].startswith("ABI")
    samples = list(wds.WebDataset([str(p) for p in list_shards(out)], shardshuffle=False))
    assert len(samples) == 6
    metas = [json.loads(s["json"]) for s in samples]
    assert sorted(m["index"] for m in metas) == list(range(6))
    assert {m["concept"] for m in metas} == {"ball", "box"}
    assert all(m["model"] == "gpt-4-0314" for m in metas)
    box = [m for m in metas if m["concept"] == "box"]
    assert [m["variant"] for m in box] == [0, 1, 2] and box[0]["parameters"] == "literals"
    imgs = {
        m["index"]: Image.open(io.BytesIO(s["png"])) for m, s in zip(metas, samples, strict=True)
    }
    assert all(im.size == (32, 32) for im in imgs.values())
    # variants of the box program differ from the program as written
    box_ids = [m["index"] for m in box]
    assert np.asarray(imgs[box_ids[0]]).tobytes() != np.asarray(imgs[box_ids[1]]).tobytes()


def test_failed_renders_are_counted_and_retried(tmp_path: Path) -> None:
    good = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="4" height="8" fill="red"/></svg>'
    lines = [{"id": "bad", "language": "svg", "code": "<svg><oops"},
             {"id": "good", "language": "svg", "code": good}]  # fmt: skip
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    s = build_dataset(f"jsonl:{path}", 4, 16, tmp_path / "ds", workers=1, progress=False)
    assert s.images == 4  # every slot of the bad program was retried with the good one
    assert s.failures == {"compile_error": 2}


def test_shaders_render_on_the_cpu_confined(tmp_path: Path) -> None:
    shaders = tmp_path / "shaders"
    shaders.mkdir()
    (shaders / "plasma.frag").write_text(PLASMA)
    (shaders / "broken.frag").write_text("void mainImage(out vec4 c, in vec2 p) { c = nope; }")
    s = build_dataset(f"shaders:{shaders}", 4, 32, tmp_path / "ds", workers=1, progress=False)
    assert s.images == 4 and s.failures.get("compile_error", 0) >= 1
    items = list(iter_samples(tmp_path / "ds"))
    assert {m["program_id"] for _, _, m in items} == {"plasma"}
    times = {m["params"]["time"] for _, _, m in items}
    assert len(times) == 4  # each image at its own time
    assert s.sandbox.get("seccomp", "").endswith("rules")


def test_vad_shapes_and_mixtures(tmp_path: Path) -> None:
    s = build_dataset("mix:vad-shapes=1,spectrum=1", 8, 32, tmp_path / "m", shard_size=4,
                      workers=1, progress=False)  # fmt: skip
    assert s.images == 8
    sources = {m["source"] for _, _, m in iter_samples(tmp_path / "m")}
    assert sources == {"vad-shapes", "spectrum"}


def test_killed_build_resumes_with_the_same_bytes(tmp_path: Path) -> None:
    """SIGKILL a build mid-way; the resumed build has every slot once, and the same shard
    bytes as a build that was never interrupted."""
    ref = build_dataset(
        "spectrum", 60, 32, tmp_path / "ref", shard_size=3, workers=1, progress=False
    )
    out = tmp_path / "ds"
    proc = snellen("dataset", "build", "spectrum", "--n", "60", "--size", "32", "--out", str(out),
                   "--shard-size", "3", "--workers", "1")  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list_shards(out) if out.exists() else []) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = len(list_shards(out))
    assert 0 < before < 20, "the build should have been killed mid-run"
    again = build_dataset("spectrum", 60, 32, out, shard_size=3, workers=1, progress=False)
    # a shard written but not yet recorded when the kill came is written again, same bytes
    assert 20 - before <= again.shards_this_session <= 20 - before + 1
    assert again.shards == ref.shards
    keys = [k for k, _, _ in iter_samples(out)]
    assert sorted(keys) == [f"{i:09d}" for i in range(60)]
    assert not list((out / "shards").glob("*.tmp*"))


def test_a_checkup_run_is_a_source(tmp_path: Path) -> None:
    from snellen.store import Run

    run = Run.open(tmp_path / "run", command="checkup", config={})
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><circle cx="4" cy="4" r="3" fill="blue"/></svg>'
    ref = run.artifacts.put(svg.encode(), ".svg")
    row = {
        "status": "ok",
        "program": ref,
        "language": "svg",
        "description": "a blue dot",
        "model": "m",
    }
    run.put("drawings", "draw/c1/svg/s0/r0", row)
    run.put("drawings", "draw/c2/svg/s0/r0", {**row, "status": "compile_error"})
    run.close()
    src = load_source(f"run:{tmp_path / 'run'}")
    assert [p.id for p in src.programs] == ["draw/c1/svg/s0/r0"]
    s = build_dataset(src, 2, 16, tmp_path / "ds", workers=1, progress=False)
    metas = [m for _, _, m in iter_samples(tmp_path / "ds")]
    assert s.images == 2 and metas[0]["concept"] == "a blue dot" and metas[0]["model"] == "m"


def test_programs_moved_to_another_path_resume_and_changed_ones_do_not(tmp_path: Path) -> None:
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="4" height="8" fill="{c}"/></svg>'
    line = {"id": "box", "language": "svg", "code": svg.format(c="red")}
    first, moved = tmp_path / "a" / "p.jsonl", tmp_path / "b" / "p.jsonl"
    for path in (first, moved):
        path.parent.mkdir()
        path.write_text(json.dumps(line) + "\n")
    out = tmp_path / "ds"
    a = build_dataset(f"jsonl:{first}", 2, 16, out, workers=1, progress=False)
    # the same programs at another path (a moved checkout) resume the same build
    b = build_dataset(f"jsonl:{moved}", 2, 16, out, workers=1, progress=False)
    assert (a.images, b.images) == (2, 2)
    moved.write_text(json.dumps({**line, "code": svg.format(c="blue")}) + "\n")
    with pytest.raises(RunError, match="other settings"):
        build_dataset(f"jsonl:{moved}", 2, 16, out, workers=1, progress=False)


def test_the_backend_choices_are_the_registered_backends(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import subprocess
    import sys

    from snellen.cli import build_parser
    from snellen.imagesets.build import BACKENDS

    monkeypatch.setattr(BACKENDS, "_entries", dict(BACKENDS._entries))
    BACKENDS.register("toy", BACKENDS.get("local"), help="a backend registered later")
    args = ["dataset", "build", "vad-shapes", "--n", "1", "--out", "o", "--backend"]
    assert build_parser().parse_args([*args, "toy"]).backend == "toy"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["dataset", "build", "--help"])
    assert "--backend {local,ray,toy}" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        build_parser().parse_args([*args, "nope"])
    assert "invalid choice: 'nope' (choose from 'local', 'ray', 'toy')" in capsys.readouterr().err
    # building the command line imports no image-set code
    code = (
        "import sys; from snellen.cli import build_parser; build_parser(); "
        "print(any(m.startswith('snellen.imagesets') for m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "False", out.stderr


def test_a_build_started_with_the_path_as_its_identity_still_resumes(tmp_path: Path) -> None:
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="4" height="8" fill="red"/></svg>'
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"id": "box", "language": "svg", "code": svg}) + "\n")
    out = tmp_path / "ds"
    build_dataset(f"jsonl:{path}", 2, 16, out, workers=1, progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["config"]["source"] = f"jsonl:{path}"  # how builds named programs before
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert build_dataset(f"jsonl:{path}", 2, 16, out, workers=1, progress=False).images == 2
