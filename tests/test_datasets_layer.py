"""The one dataset layer below the tasks: every name users type for ``snellen eval``,
``snellen probe`` and ``snellen lens`` resolves in one registry to the kind that command
reads, one image-folder reader serves all three, Fashion-MNIST lives in one place, and the
evaluation's Python twin is ``run_eval`` (the package is no longer callable)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from snellen.datasets import (
    DATASETS,
    EVAL_KINDS,
    VQA,
    Classification,
    LabelledSplits,
    build_dataset,
    dataset_names,
)
from snellen.errors import InputError

SRC = Path(__file__).resolve().parents[1] / "src" / "snellen"
PROBE_NAMES = ("fashion-mnist", "digits", "mnist", "vad-shapes", "imagefolder")
LENS_NAMES = ("vqav2", "okvqa", "ok-vqa", "shapes-vqa", "folder", "imagefolder",
              "shapes-classify", "hateful-memes", "memes")  # fmt: skip


def test_every_command_finds_its_names_as_its_kind() -> None:
    from snellen.evaluate import list_eval

    evaluation = dataset_names(EVAL_KINDS)
    assert list_eval()["datasets"] == evaluation
    assert {"vad-aro/relation", "aro/vg-relation", "imagefolder", "fashion-mnist", "digits",
            "winoground", "sugarcrepe++/swap_att"} <= set(evaluation)  # fmt: skip
    assert not {"vqav2", "mnist", "vad-shapes", "hateful-memes"} & set(evaluation)
    labelled = dataset_names(LabelledSplits)
    assert set(PROBE_NAMES) == set(labelled)
    for name in LENS_NAMES:
        assert DATASETS.get(name).has(VQA), name


def test_a_name_asked_for_the_wrong_kind_says_which_command_reads_it() -> None:
    with pytest.raises(InputError, match=r"'vqav2' comes as a vqa set \(for snellen lens\)"):
        build_dataset("vqav2", kind=EVAL_KINDS)
    with pytest.raises(InputError, match=r"unknown dataset 'fashion-mnst' \(did you mean"):
        build_dataset("fashion-mnst", kind=LabelledSplits)
    with pytest.raises(InputError, match="known: .*vad-shapes") as e:
        build_dataset("no-such-set", kind=LabelledSplits)
    assert "vqav2" not in str(e.value)


def test_one_folder_reader_serves_eval_probe_and_lens(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for cls in ("red_circle", "blue"):
        (tmp_path / cls).mkdir()
        for i in range(5):
            pixels = rng.integers(0, 255, (12, 12, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / cls / f"{i}.png")
        (tmp_path / cls / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden").mkdir()
    test = build_dataset("imagefolder", tmp_path, kind=Classification)
    splits = build_dataset("imagefolder", tmp_path, kind=LabelledSplits, seed=0)
    questions = build_dataset("imagefolder", tmp_path, kind=VQA)
    paths = sorted(s.path or "" for s in test.images)
    assert test.classnames == ["blue", "red circle"] and len(paths) == 10
    assert splits.classes == ["blue", "red_circle"]
    assert len(splits.train_y) + len(splits.test_y) == 10
    assert sorted(it.image for it in questions.items()) == paths
    assert questions.name == "folder" and questions.classes == ("blue", "red circle")


def test_the_digits_and_fashion_mnist_read_the_same_pixels_in_every_kind() -> None:
    test = build_dataset("digits", kind=Classification)
    splits = build_dataset("digits", kind=LabelledSplits, seed=0)
    raw = [s.raw for s in test.images if s.raw is not None]
    images = np.stack([np.frombuffer(r[3], np.uint8).reshape(r[2], r[1], 3)[..., 0] for r in raw])
    pool = np.concatenate([splits.train_x, splits.test_x])
    assert sorted(x.tobytes() for x in images) == sorted(x.tobytes() for x in pool)
    from snellen.datasets.files import FASHION_MNIST_DIR

    if not (FASHION_MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    fm_test = build_dataset("fashion-mnist", kind=Classification, limit=20)
    fm = build_dataset("fashion-mnist", kind=LabelledSplits)
    first = np.frombuffer(fm_test.images[0].raw[3], np.uint8).reshape(28, 28, 3)[..., 0]
    assert np.array_equal(first, fm.test_x[0]) and fm_test.labels == fm.test_y[:20].tolist()


def test_fashion_mnist_lives_in_one_place() -> None:
    holders = [
        p.relative_to(SRC).as_posix()
        for p in SRC.rglob("*.py")
        if "/usr/share/datasets" in p.read_text(encoding="utf-8")
    ]
    assert holders == ["datasets/files.py"]


def test_run_eval_is_the_python_twin_of_snellen_eval() -> None:
    import snellen.evaluate

    assert snellen.run_eval is snellen.evaluate.run_eval
    assert not callable(snellen.evaluate)
    assert "evaluate" not in snellen._API
