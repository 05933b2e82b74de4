"""MoCo-v2 pre-training (a SIGKILL mid-run resumes to the very same weights) and the
linear / kNN probes (checked against scikit-learn and torchmetrics on identical inputs)."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from snellen.imagesets import build_dataset
from snellen.probe import Accuracy, accuracy, knn_predict, logistic_lbfgs, logistic_sgd
from vision_helpers import run_snellen, snellen

ARGS = ["--arch", "resnet18", "--epochs", "2", "--batch-size", "4", "--size", "32",
        "--save-every", "3", "--workers", "0", "--threads", "1", "--momentum", "0.99"]  # fmt: skip


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pre") / "wmm"
    build_dataset("wmm", 16, 32, out, shard_size=8, workers=1, progress=False)
    return out


def test_killed_pretrain_resumes_to_the_same_weights(images: Path, tmp_path: Path) -> None:
    from snellen.pretrain import pretrain

    ref = tmp_path / "ref.pt"
    pretrain(str(images), ref, arch="resnet18", epochs=2, batch_size=4, size=32, save_every=8,
             workers=0, threads=1, momentum=0.99, progress=False)  # fmt: skip
    out = tmp_path / "killed.pt"
    proc = snellen("pretrain", "--data", str(images), "--out", str(out), *ARGS)
    deadline = time.monotonic() + 120
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = torch.load(out, weights_only=False)
    assert 1 <= partial["step"] < 8, "the run should have been killed mid-way"
    text = run_snellen("pretrain", "--data", str(images), "--out", str(out), *ARGS)
    assert f"resumed from step {partial['step']}" in text
    a, b = torch.load(ref, weights_only=False), torch.load(out, weights_only=False)
    assert a["step"] == b["step"] == 8 and b["finished"]
    assert [h["step"] for h in b["history"]] == list(range(1, 9))  # nothing lost or repeated
    assert [h["loss"] for h in a["history"]] == [h["loss"] for h in b["history"]]
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    assert torch.equal(a["queue"], b["queue"]) and torch.equal(a["queue_ptr"], b["queue_ptr"])

    # the probe, end to end, beside its random-init floor
    report = tmp_path / "probe.json"
    run_snellen("probe", str(ref), "--dataset", "digits", "--train-limit", "200",
                "--test-limit", "100", "--threads", "1", "--out", str(report))  # fmt: skip
    r = json.loads(report.read_text())
    assert r["dataset"] == "digits" and r["train_size"] == 200 and r["test_size"] == 100
    assert [m["model"] for m in r["results"]] == ["checkpoint", "random-init"]
    assert all(0.3 < m["linear_top1"] <= 1 and 0.3 < m["knn_top1"] <= 1 for m in r["results"])


def test_probe_on_an_imagefolder(images: Path, tmp_path: Path) -> None:
    from PIL import Image

    from snellen.pretrain import pretrain
    from snellen.probe import probe

    rng = np.random.default_rng(0)
    for split, n in (("train", 6), ("test", 3)):
        for c, colour in enumerate(((255, 0, 0), (0, 0, 255))):
            d = tmp_path / "folder" / split / f"class{c}"
            d.mkdir(parents=True)
            for i in range(n):
                img = np.clip(np.array(colour) + rng.normal(0, 20, (24, 24, 3)), 0, 255)
                Image.fromarray(img.astype(np.uint8)).save(d / f"{i}.png")
    ckpt = tmp_path / "one.pt"
    pretrain(str(images), ckpt, epochs=1, batch_size=8, size=32, stop_after=1, workers=0,
             threads=1, progress=False)  # fmt: skip
    r = probe(ckpt, "imagefolder", root=str(tmp_path / "folder"), k=3, threads=1)
    assert (r.train_size, r.test_size, r.classes) == (12, 6, 2)
    assert all(s.linear_top1 == 1.0 and s.knn_top1 == 1.0 for s in r.results)


def test_knn_matches_scikit_learn_with_the_same_weights() -> None:
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(1)
    centres = rng.normal(0, 1, (4, 16))
    y = rng.integers(0, 4, 300)
    x = centres[y] + rng.normal(0, 1.2, (300, 16))
    xt = torch.tensor(x, dtype=torch.float32)
    train, test = (
        torch.nn.functional.normalize(xt[:200], dim=1),
        torch.nn.functional.normalize(xt[200:], dim=1),
    )
    ours = knn_predict(train, torch.tensor(y[:200]), test, k=5, temperature=0.07)
    # on unit vectors, cosine similarity = 1 - d^2 / 2
    ref = KNeighborsClassifier(
        5, weights=lambda d: np.exp((1 - d**2 / 2) / 0.07), algorithm="brute"
    )
    ref.fit(train.numpy(), y[:200])
    assert np.array_equal(ours.numpy(), ref.predict(test.numpy()))


def test_lbfgs_logistic_regression_matches_scikit_learn() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 400)
    x = rng.normal(0, 1, (400, 10)) + np.eye(3, 10)[y] * 1.5
    tx, sx = torch.tensor(x[:300]), torch.tensor(x[300:])
    scores = logistic_lbfgs(tx, torch.tensor(y[:300]), sx, c=0.5)
    scaler = StandardScaler().fit(x[:300])
    ref = LogisticRegression(C=0.5, max_iter=2000, tol=1e-8)
    ref.fit(scaler.transform(x[:300]) * np.sqrt(300 / 299), y[:300])  # torch's std is unbiased
    ref_pred = ref.predict(scaler.transform(x[300:]) * np.sqrt(300 / 299))
    assert (scores.argmax(1).numpy() == ref_pred).mean() >= 0.99
    proba = torch.softmax(scores.double(), 1).numpy()
    ref_proba = ref.predict_proba(scaler.transform(x[300:]) * np.sqrt(300 / 299))
    assert np.abs(proba - ref_proba).max() < 1e-3


def test_accuracy_matches_torchmetrics() -> None:
    from torchmetrics.classification import MulticlassAccuracy

    g = torch.Generator().manual_seed(0)
    preds, target = torch.randn(50, 5, generator=g), torch.randint(0, 5, (50,), generator=g)
    ref = MulticlassAccuracy(num_classes=5, average="micro")
    ours = Accuracy()
    for i in range(0, 50, 16):
        ours.update(preds[i : i + 16], target[i : i + 16])
        ref.update(preds[i : i + 16], target[i : i + 16])
    assert ours.compute() == pytest.approx(float(ref.compute()))
    assert accuracy(preds, target) == pytest.approx(float(ref.compute()))


def test_moco_sgd_linear_recipe_learns_a_separable_problem() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 300)
    x = torch.tensor(rng.normal(0, 0.3, (300, 8)) + np.eye(3, 8)[y], dtype=torch.float32)
    scores = logistic_sgd(x[:200], torch.tensor(y[:200]), x[200:], epochs=10, lr=1.0)
    assert accuracy(scores, torch.tensor(y[200:])) > 0.95


@pytest.mark.slow
def test_torchrun_ddp_path_on_cpu(images: Path, tmp_path: Path) -> None:
    """Two processes under torchrun (gloo): DistributedDataParallel, shuffled BN across
    processes, keys gathered for the queue; rank 0 writes the checkpoint."""
    import subprocess
    import sys

    out = tmp_path / "ddp.pt"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "-m",
           "snellen", "pretrain", "--data", str(images), "--out", str(out), "--epochs", "1",
           "--batch-size", "4", "--size", "32", "--workers", "0", "--threads", "1"]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("steps (1 epochs)") == 1  # one report, from rank 0
    ckpt = torch.load(out, weights_only=False)
    assert ckpt["step"] == 2 and ckpt["finished"]  # 16 images / (4 x 2 processes)


def test_probe_datasets_load_with_their_real_splits() -> None:
    from snellen.datasets import BuildOptions, LabelledSplits, build_dataset
    from snellen.datasets.vad import vad_shapes

    fm = build_dataset("fashion-mnist", kind=LabelledSplits)
    assert fm.train_x.shape == (60000, 28, 28) and fm.test_x.shape == (10000, 28, 28)
    assert len(fm.classes) == 10 and set(np.unique(fm.test_y)) == set(range(10))
    small = fm.limit(100, 50, seed=0)
    assert len(small.train_y) == 100 and np.bincount(small.train_y).tolist() == [10] * 10
    mn = build_dataset("mnist", kind=LabelledSplits)
    assert len(mn.train_y) + len(mn.test_y) == 5000 and mn.train_x.shape[1:] == (28, 28)
    shapes = vad_shapes(BuildOptions(seed=0), None, n=16, size=32)
    assert shapes.train_x.shape[1:] == (32, 32, 3) and len(shapes.train_y) == 8
    assert set(shapes.train_y) == set(range(8))
