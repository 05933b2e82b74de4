"""The page of a directory of `snellen eval` runs (`snellen report DIR`), opened in headless
Chromium: a non-blank page whose DOM holds, for every run, the numbers its JSON holds (the
page formats them, it computes none), the plots as inline SVG, the per-group breakdowns, the
spread over perturbation seeds and the published numbers beside a comparable run."""

from __future__ import annotations

import dataclasses
import html
import json
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

import snellen
from snellen.cli import main
from snellen.evaluate import EvalResult, load_results, write_result
from snellen.records import ScorerLabels
from snellen.records.evaluation import PublishedNumber
from test_report_chromium import _saturated, chromium


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("eval") / "runs"
    weights = next((Path(snellen.__file__).parent / "score" / "weights").glob("*.pt"))
    copy = out.parent / "shapes-copy.pt"
    shutil.copy(weights, copy)
    kw = {"out": out, "progress": False, "workers": 0, "n": 16}
    for model in ("snellen-shapes", f"snellen-shapes:{copy}"):
        snellen.run_eval("aro", model, "vad-aro/relation", **kw)
    snellen.run_eval("aro", "snellen-shapes", "vad-aro/order", n_seeds=3, **kw)
    snellen.run_eval("zeroshot", "snellen-shapes", "vad-zeroshot/colour", **kw)
    snellen.run_eval("retrieval", "snellen-shapes", "vad-retrieval", **kw)
    # The record a standard published model writes on an official set (no such weights are
    # reachable here): a real run's record with the fields such a run fills in, so the page's
    # handling of published numbers is exercised.
    (relation,) = [r for r in load_results(out) if r.dataset == "vad-aro/relation"
                   and r.model == "snellen-shapes"]  # fmt: skip
    standard = dataclasses.replace(
        relation, model="open-clip:ViT-B-32:openai", dataset="aro/vg-relation",
        comparable_with_published=True, not_comparable_because=[],
        model_labels=ScorerLabels(True, "ViT-B-32"),
        published=[PublishedNumber("CLIP ViT-B/32", "macro_accuracy", 0.59,
                                   "ARO (Yuksekgonul et al., ICLR 2023)", "aro/vg-relation")],
    )  # fmt: skip
    write_result(standard, out)
    assert main(["report", str(out)]) == 0
    return out


def _rows(dom: str, cls: str) -> list[list[str]]:
    """The cells of every table of class ``cls`` (text, unescaped)."""
    out = []
    for body in re.findall(rf'<table class="{cls}[^"]*">.*?<tbody>(.*?)</tbody>', dom, re.S):
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
            out.append([html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)])
    return out


def test_eval_page_holds_what_the_runs_hold(runs: Path, tmp_path: Path) -> None:
    results = load_results(runs)
    assert len(results) == 6
    dom = chromium("--dump-dom", (runs / "report.html").as_uri()).stdout
    # one row per run in its task's table, with the JSON's headline number
    rows = {(r[0], r[1], r[2]): r for r in _rows(dom, "eval-results")}
    assert len(rows) == len(results)
    for r in results:
        name, value = r.main_metric()
        row = rows[(r.dataset, r.model, str(r.seed))]
        assert row[3] == name and row[4] == _pct(value), row
        assert row[6] == (_pct(r.metrics["chance"]) if "chance" in r.metrics else "–")
    # the published number beside the comparable run only
    published = [row for row in rows.values() if row[7] != "–"]
    assert [(p[1], p[7], p[8]) for p in published] == [
        ("open-clip:ViT-B-32:openai", "CLIP ViT-B/32: 59.0% (ARO (Yuksekgonul et al., ICLR 2023))",
         "yes")
    ]  # fmt: skip
    # the order set's spread: mean ± std and each draw, as the JSON has them
    (order,) = [r for r in results if r.dataset == "vad-aro/order"]
    assert rows[("vad-aro/order", "snellen-shapes", "0")][5] == _pct(order.metrics["accuracy_std"])
    (seed_row,) = _rows(dom, "eval-seeds")
    by_seed = order.breakdown["accuracy_by_seed"]
    assert seed_row[1:4] == [_pct(by_seed[str(s)]) for s in (0, 1, 2)]
    # per-relation breakdown: one column per model, the JSON's per-group accuracies
    relation = [r for r in results if r.dataset == "vad-aro/relation"]
    groups = {g: row for row, g in ((row, row[0]) for row in _rows(dom, "eval-breakdown"))
              if g in relation[0].breakdown["per_group"]}  # fmt: skip
    assert set(groups) == set(relation[0].breakdown["per_group"])
    for g, row in groups.items():
        assert row[1:3] == [_pct(r.breakdown["per_group"][g]) for r in relation]
    assert 'data-breakdown="per_class_recall"' in dom
    # plots: one per task, one per breakdown, the seeds, all inline SVG
    for plot in ("aro-plot", "retrieval-plot", "zeroshot-plot", "seeds-plot", "breakdown-0-plot"):
        assert re.search(rf'<div class="plot" id="{plot}"><svg', dom), plot
    assert not re.search(r'(src|href)="(https?:|//|file:)', dom)
    assert "<script" not in (runs / "report.html").read_text()

    # eval table --out x.html writes the same page
    page = tmp_path / "table.html"
    assert main(["eval", "table", str(runs), "--out", str(page)]) == 0
    assert page.read_text() == (runs / "report.html").read_text()


def test_eval_page_renders_in_chromium(runs: Path, tmp_path: Path) -> None:
    shot = tmp_path / "eval.png"
    proc = chromium(
        f"--screenshot={shot}", "--window-size=1280,3000", (runs / "report.html").as_uri()
    )
    assert shot.exists(), proc.stderr[-2000:]
    with Image.open(shot) as im:
        lo, hi = im.convert("L").getextrema()
        assert hi - lo > 100
        assert _saturated(im) > 20_000  # the coloured bars are painted


def test_report_of_a_directory_without_runs_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "other.json").write_text(json.dumps({"a": 1}))
    assert main(["report", str(tmp_path / "empty")]) != 0
    err = capsys.readouterr().err
    assert "not a check-up run" in err and "none of the JSON files is an evaluation result" in err


def test_a_record_written_before_resuming_existed_still_loads() -> None:
    row = {"task": "aro", "dataset": "d", "model": "m", "pretrained": "", "metrics": {},
           "comparable_with_published": False}  # fmt: skip
    assert EvalResult.from_row(row).resumed == {}
