"""``snellen reproduce vision --preset quick``: the finding's schema, the per-(source, seed)
records a rerun resumes from, that training moved the loss, and the page's figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from snellen.errors import InputError
from snellen.reproduce import ReproduceOptions, run_reproduce
from snellen.reproduce.vision import FLOOR, resolve, verdict


@pytest.mark.slow
def test_quick_preset_writes_a_finding_whose_training_moved(tmp_path: Path) -> None:
    out = tmp_path / "vision"
    finding = run_reproduce("vision", out=out, preset="quick", sources=("spectrum",),
                            extra={"in_domain": "0"}, progress=False)  # fmt: skip
    data = json.loads((out / "findings.json").read_text())
    for key in ("claim", "paper", "preset", "verdict", "reason", "seconds", "rows", "config"):
        assert key in data
    assert data["preset"] == "quick" and data["verdict"] == finding.verdict
    sources = {r["source"] for r in data["rows"]}
    assert sources == {FLOOR, "spectrum"}
    assert {r["probe"] for r in data["rows"]} == {"fashion-mnist", "digits"}
    for row in data["rows"]:
        assert row["seeds"] == 2
        for key in ("linear_mean", "linear_sd", "knn_mean", "knn_sd"):
            assert 0 <= row[key] <= 100, (row, key)
    # training moved: every trained source's loss changed and the weights left random init
    for name in ("spectrum",):
        for seed in (0, 1):
            rec = json.loads(next((out / "probes").glob(f"{name}-s{seed}-*.json")).read_text())
            loss = rec["loss"]
            assert len(loss) == rec["steps"] > 2
            assert max(loss) - min(loss) > 0.05, loss
            assert len(rec["monitor"]) == 3  # before training and after each of 2 epochs
    html = (out / "findings.html").read_text()
    assert "sources.png" not in html or "missing figure" not in html
    assert (out / "sources.png").stat().st_size > 1000
    assert (out / "probes.png").stat().st_size > 1000

    # a rerun resumes from the stored records: same rows, nothing retrained
    stamp = {p: p.stat().st_mtime_ns for p in (out / "ckpt").glob("*.pt")}
    again = run_reproduce("vision", out=out, preset="quick", sources=("spectrum",),
                          extra={"in_domain": "0"}, progress=False)  # fmt: skip
    assert again.rows == finding.rows
    assert stamp == {p: p.stat().st_mtime_ns for p in (out / "ckpt").glob("*.pt")}


def test_the_in_domain_source_is_fashion_mnist_training_images(tmp_path: Path) -> None:
    from snellen.pretrain.data import index_images
    from snellen.reproduce.vision import MONITOR_BANK, build_in_domain, sample_images

    out = build_in_domain(tmp_path / "in-domain", 40, 32)
    members = index_images([out])
    assert len(members) == 40
    metas = [json.loads(Path(m.shard).read_bytes()[m.meta_offset : m.meta_offset + m.meta_size])
             for m in members]  # fmt: skip
    assert all(m["index"] < MONITOR_BANK[0] for m in metas)  # never the monitor's images
    img = sample_images(out, 2)[0]
    assert img.shape == (32, 32, 3)


def test_overrides_and_their_errors(tmp_path: Path) -> None:
    opts = ReproduceOptions(out=tmp_path, preset="cpu", seeds=3, n=100, epochs=1,
                            sources=("dead-leaves", "transcripts"), extra={"width": "16"})  # fmt: skip
    p = resolve(opts)
    assert (p.seeds, p.n, p.epochs, p.width) == (3, 100, 1, 16)
    assert p.sources == ("dead-leaves", "transcripts")
    with pytest.raises(InputError, match="--sources nope"):
        resolve(ReproduceOptions(out=tmp_path, sources=("nope",)))
    with pytest.raises(InputError, match="--set colour"):
        resolve(ReproduceOptions(out=tmp_path, extra={"colour": "1"}))


def _row(source: str, mean: float, sd: float, seeds: int = 2) -> dict[str, object]:
    return {"source": source, "probe": "fashion-mnist", "linear_mean": mean, "linear_sd": sd,
            "knn_mean": mean, "knn_sd": sd, "seeds": seeds}  # fmt: skip


def test_verdict_needs_a_margin_beyond_the_spread() -> None:
    floor = _row(FLOOR, 80.0, 0.3)
    v, reason, _ = verdict([floor, _row("dead-leaves", 80.9, 0.1), _row("transcripts", 80.5, 0.1)])
    assert v == "undecided at this preset" and "no source beats" in reason
    v, reason, _ = verdict([floor, _row("dead-leaves", 81.5, 0.8), _row("transcripts", 81.2, 0.1)])
    assert v == "holds in kind"  # dead-leaves' 1.5 points are inside twice its sd 0.8
    assert "best: dead-leaves (transcripts beat" in reason
    v, reason, _ = verdict([floor, _row("dead-leaves", 81.0, 0.7), _row("transcripts", 83.0, 0.2)])
    assert v == "holds in kind" and "fewer than 3" in reason and "mixture" in reason
    full = [floor, _row("dead-leaves", 81.0, 0.7), _row("fractals", 80.5, 0.2),
            _row("shaders", 81.2, 0.3), _row("transcripts+shaders", 83.0, 0.2)]  # fmt: skip
    v, _, _ = verdict(full)
    assert v == "holds"
    knn_below = dict(full[-1], knn_mean=79.0)
    v, reason, _ = verdict([*full[:-1], knn_below])
    assert v == "holds in kind" and "kNN probe disagrees" in reason
    v, _, _ = verdict([floor, _row("dead-leaves", 83.0, 0.2), _row("transcripts", 82.0, 0.2)])
    assert v == "holds in kind"
    v, _, _ = verdict([floor, _row("dead-leaves", 83.0, 0.2), _row("transcripts", 80.2, 0.2)])
    assert v == "does not hold"
