"""Caches that follow what they cache (a retrained checkpoint, a model sweep), and runs that
stop with a clear error when no image can be read."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
import torch
from PIL import Image

from evaluate_helpers import make_imagefolder, make_karpathy, make_open_clip, make_vg
from snellen.cli import main
from snellen.errors import InputError
from snellen.evaluate import run_eval
from snellen.score import Scorer


def test_a_checkpoint_retrained_at_the_same_open_clip_path_gets_another_identity(
    tmp_path: Path,
) -> None:
    from snellen.lens.vocab import source_identity

    name, model, _, _ = make_open_clip(tmp_path)
    before = source_identity(name)
    assert before == source_identity(name)
    weights = Path(name.rsplit(":", 1)[1])
    state = {k: v + 0.01 for k, v in model.state_dict().items()}  # type: ignore[attr-defined]
    torch.save({"state_dict": state}, weights)
    assert source_identity(name) != before
    config = Path(name.split(":")[1])
    after_weights = source_identity(name)
    config.write_text(config.read_text().replace('"layers": 2', '"layers": 3', 1))
    assert source_identity(name) != after_weights


class _Letters(Scorer):
    """A small real scorer: a text is its letter counts, an image its mean colour."""

    def __init__(self) -> None:
        self.name, self.device, self.batch_size = "letters", torch.device("cpu"), 8

    def _encode_images(self, images: list[Image.Image]) -> torch.Tensor:
        return torch.tensor(
            [list(im.convert("RGB").resize((1, 1)).getpixel((0, 0))) for im in images]
        ).float()

    def _encode_texts(self, texts: list[str]) -> torch.Tensor:
        return torch.tensor([[t.count(c) + 0.5 for c in "abc"] for t in texts])


def test_the_text_cache_frees_scorers_that_are_gone_and_stays_under_its_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from snellen.evaluate import embed

    embed.clear_text_cache()
    monkeypatch.setattr(embed, "_CACHE_LIMIT", 50)
    for i in range(6):  # a sweep: one scorer after another, each dropped after use
        scorer = _Letters()
        embed.embed_texts(scorer, [f"a red circle {i} {j}" for j in range(20)])
        del scorer
        gc.collect()
        assert embed.cached_texts() <= 50
    gc.collect()
    assert embed.cached_texts() == 0
    live = [_Letters() for _ in range(4)]
    for k, scorer in enumerate(live):  # several at once: the cap holds across all of them
        out = embed.embed_texts(scorer, [f"a blue square {k} {j}" for j in range(20)])
        assert out.shape == (20, 3)
        assert embed.cached_texts() <= 50


def _break_images(root: Path) -> None:
    for image in root.rglob("*"):
        if image.suffix.lower() in (".png", ".jpg"):
            image.write_bytes(b"not an image")


@pytest.mark.parametrize(
    ("task", "dataset", "make"),
    [
        ("zeroshot", "imagefolder", lambda root: make_imagefolder(root)),
        ("retrieval", "retrieval/coco", lambda root: make_karpathy(root, "coco_karpathy_test.json")),
        ("aro", "aro/vg-relation", lambda root: make_vg(root, "relation")),
    ],
)  # fmt: skip
def test_a_run_where_no_image_loads_ends_with_a_clear_error(
    task: str, dataset: str, make, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "data"
    make(root)
    _break_images(root)
    with pytest.raises(InputError, match="could be read"):
        run_eval(task, "snellen-shapes", dataset, root, progress=False, workers=0)
    code = main(["eval", task, "--dataset", dataset, "--root", str(root), "--workers", "0"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and dataset in err


def _checkup(out: Path, **kw: object) -> object:
    from snellen.checkup import run_checkup

    return run_checkup(
        out, model="replay:gpt4", concepts="recorded-objects-1", languages="processing",
        workers=1, report=False, progress=False, **kw,
    )  # fmt: skip


def test_a_checkup_stopped_by_ctrl_c_is_recorded_interrupted_like_eval_and_lens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    import snellen.checkup.draw

    def interrupted(*args: object, **kw: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(snellen.checkup.draw, "run_draw", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _checkup(tmp_path / "run")
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["sessions"][-1]["status"] == "interrupted"


@pytest.mark.slow
def test_drawing_closes_every_run_connection_it_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import snellen.checkup.engine as engine
    from snellen.store import Run

    opened: list[Run] = []

    class Counted(Run):
        def __init__(self, *args: object, **kw: object) -> None:
            super().__init__(*args, **kw)  # type: ignore[arg-type]
            opened.append(self)

    monkeypatch.setattr(engine, "Run", Counted)
    _checkup(tmp_path / "run")
    assert opened, "the drawing step opened no connection of its own"
    assert all(run._conn is None for run in opened)


def test_a_worker_that_fails_to_start_leaves_no_cgroup_slot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    from snellen.render import pool, sandbox

    made: list[sandbox.CgroupSlot] = []
    create = sandbox.CgroupSlot.create

    def recording(name: str, limits: sandbox.Limits) -> tuple[object, str]:
        slot, note = create(name, limits)
        if slot is not None:
            made.append(slot)
        return slot, note

    def no_process(*args: object, **kw: object) -> None:
        raise OSError("cannot start a process")

    monkeypatch.setattr(sandbox.CgroupSlot, "create", staticmethod(recording))
    monkeypatch.setattr(subprocess, "Popen", no_process)
    with pytest.raises(OSError, match="cannot start"):
        pool.WorkerProcess("w0", str(tmp_path), confine=True, limits=sandbox.Limits(), warm=[])
    assert made, "no cgroup slot could be made on this machine"
    assert not any(Path(d).exists() for slot in made for d in slot.dirs.values())


def test_the_digits_have_the_same_pixels_for_the_probe_and_the_evaluation() -> None:
    import numpy as np

    from snellen.datasets import Classification, LabelledSplits, build_dataset

    probe = build_dataset("digits", kind=LabelledSplits, seed=0)
    evaluation = build_dataset("digits", kind=Classification)
    raw = [s.raw for s in evaluation.images if s.raw is not None]
    images = np.stack([np.frombuffer(r[3], np.uint8).reshape(r[2], r[1], -1)[..., 0] for r in raw])
    seen = {im.tobytes() for im in images}
    assert all(x.tobytes() in seen for x in probe.train_x[:50])
    assert images.max() == 255 and int(np.asarray(images == 128).sum()) > 0


def test_one_transcript_unescape_and_no_dead_seccomp_layer() -> None:
    import snellen.render.processing as processing
    from snellen.render import sandbox
    from snellen.transcripts import unescape

    assert processing.unescape is unescape
    assert not hasattr(processing, "_unescape")
    java_escaped = "line one\\nline\\ttwo \\\\ path"
    assert unescape(java_escaped) == "line one\nline\ttwo \\ path"
    assert not hasattr(sandbox, "seccomp_job_filter")


def test_a_transcript_program_of_unknown_language_is_skipped_and_counted(tmp_path: Path) -> None:
    from snellen.imagesets import load_source
    from vision_helpers import write_transcript

    tsv = write_transcript(tmp_path / "t.tsv")
    unknown = "Here is the program:\\n```\\nlet shape = circle 3 in paint shape\\n```"
    prose = "I cannot draw that, sorry."
    with tsv.open("a") as f:
        for reply in (unknown, prose):
            f.write("\t".join(["Draw a ball.", reply, "0", "gpt-4-0314"] + [""] * 5) + "\n")
    source = load_source(f"transcripts:{tsv}")
    assert sorted(p.language for p in source.programs) == ["matplotlib", "svg"]
    assert source.describe()["skipped"] == {
        "code blocks found, but in no known language": 1,
        "no code found": 1,
    }


def test_dataset_backends_are_found_through_their_registry(tmp_path: Path) -> None:
    from snellen.imagesets import build_dataset
    from snellen.imagesets.build import BACKENDS

    assert BACKENDS.names() == ["local", "ray"]
    with pytest.raises(InputError, match=r"unknown dataset backend 'dask'.*known: local, ray"):
        build_dataset("fractals", 2, 8, tmp_path / "ds", backend="dask", progress=False)
    assert not (tmp_path / "ds").exists()
