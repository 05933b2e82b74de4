"""The check-up report opened in a real browser (headless Chromium): it draws a non-blank
page, and its DOM holds the tables, images and counts of the run it was made from."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from checkup_helpers import bundled_checkup, reference_checkup, snellen
from snellen.checkup.jobs import DRAWINGS, RECOGNITION
from snellen.report import write_report
from snellen.store import Run

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")
def bundled_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bundled_checkup(tmp_path_factory)


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return reference_checkup(tmp_path_factory)


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (scripts/setup.sh installs it)")
    with tempfile.TemporaryDirectory(prefix="snellen-chromium-") as profile:
        return subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip


def test_report_renders_in_chromium(bundled_run: Path, tmp_path: Path) -> None:
    report = bundled_run / "report.html"
    shot = tmp_path / "report.png"
    proc = chromium(f"--screenshot={shot}", "--window-size=1280,2000", report.as_uri())
    assert shot.exists(), proc.stderr[-2000:]
    with Image.open(shot) as im:
        assert im.size == (1280, 2000)
        gray = im.convert("L")
        lo, hi = gray.getextrema()
        assert hi - lo > 100  # text and badges, not a blank page
        # a good share of the page is not background
        hist = gray.histogram()
        assert sum(hist[:200]) / (im.width * im.height) > 0.02


def test_report_dom_matches_the_run(bundled_run: Path) -> None:
    run = Run(bundled_run)
    drawings = list(run.records(DRAWINGS))
    proc = chromium("--dump-dom", (bundled_run / "report.html").as_uri())
    dom = proc.stdout
    assert "<table" in dom
    # one figure per drawing, each with its status
    figures = re.findall(r'<figure class="cell" data-status="([a-z_]+)"', dom)
    assert sorted(figures) == sorted(r["status"] for r in drawings)
    # every image is inlined (a blank canvas is an image too)
    with_image = sum(bool(r.get("image")) for r in drawings)
    assert len(re.findall(r'class="thumb"[^>]* src="data:image/png;base64,', dom)) == with_image
    # every extracted program is inlined
    with_program = sum(bool(r.get("program")) for r in drawings)
    assert dom.count("<summary>program</summary>") == with_program
    # the tables
    for cls in (
        "metrics",
        "failures",
        "reasons",
        "recognition",
        "rounds",
        "parametric",
        "manifest",
    ):
        assert f'<table class="{cls}"' in dom, cls
    # correction rounds were plotted as inline SVG
    assert re.search(r'<div class="plot" id="rounds-plot"><svg', dom)
    n_rec = run.count(RECOGNITION)
    assert f"{n_rec} recognition questions" in dom
    # self-contained: nothing is fetched from anywhere
    assert not re.search(r'(src|href)="(https?:|//|file:)', dom)


def test_report_shows_the_rendered_drawings_and_their_fidelity(
    reference_run: Path, tmp_path: Path
) -> None:
    run = Run(reference_run)
    drawings = list(run.records(DRAWINGS))
    dom = chromium("--dump-dom", (reference_run / "report.html").as_uri()).stdout
    images = re.findall(r'class="thumb"[^>]* src="data:image/png;base64,([A-Za-z0-9+/=]+)"', dom)
    assert len(images) == len(drawings) == sum(r["status"] == "ok" for r in drawings)
    # each drawing opens full size beside its concept's reference rendering
    assert len(re.findall(r'class="ref" alt="reference rendering"', dom)) == len(drawings)
    assert dom.count('<div class="view" id="v') == len(drawings)
    coloured = 0
    for data in images:
        with Image.open(io.BytesIO(base64.b64decode(data))) as im:
            assert 128 < max(im.size) <= 512  # large enough to judge, full size when opened
            lo, hi = im.convert("L").getextrema()
            assert hi - lo > 30  # a drawing, not an empty canvas
            shown = im.convert("RGB")
            shown.thumbnail((192, 192))  # as the grid shows it (it opens full size)
            coloured += _saturated(shown)
    # the summary card and each cell carry the fidelity of the scoring step
    card = re.search(r'data-metric="mean fidelity">mean fidelity<b>([0-9.]+)%</b>', dom)
    assert card is not None and 0 <= float(card.group(1)) <= 100
    assert len(re.findall(r"· fid \d+%", dom)) == len(drawings)
    assert 'data-concept="shapes/' in dom
    # the plots a researcher would draw, inline
    for plot in ("fidelity-plot", "outcomes-plot"):
        assert re.search(rf'<div class="plot" id="{plot}"><svg', dom), plot
    # the browser really paints the thumbnails: the page shows at least their coloured pixels
    shot = tmp_path / "reference.png"
    page = (reference_run / "report.html").as_uri()
    chromium(f"--screenshot={shot}", "--window-size=1280,4000", page)
    assert coloured > 500
    with Image.open(shot) as im:
        assert _saturated(im) >= 0.9 * coloured


def _saturated(im: Image.Image) -> int:
    """Pixels with a clear colour (shapes, badges), not white, grey or black."""
    hsv = np.asarray(im.convert("RGB").convert("HSV"))
    return int(((hsv[..., 1] > 100) & (hsv[..., 2] > 60)).sum())


def test_report_command_rewrites_the_report(bundled_run: Path, tmp_path: Path) -> None:
    target = tmp_path / "copy.html"
    proc = snellen("report", str(bundled_run), "--out", str(target), "--grid-limit", "1")
    assert "report:" in proc.stdout
    text = target.read_text()
    assert text.count('class="concept"') == 1
    assert "more concepts" in text


def test_report_of_an_empty_run(tmp_path: Path) -> None:
    run = Run.open(tmp_path / "empty", command="checkup", config={})
    path = write_report(run)
    text = path.read_text()
    assert "0 drawings" in text and "<html" in text


def test_demo_page_shows_recorded_drawings_side_by_side(tmp_path: Path) -> None:
    """The demo's comparison page, with its two recording rows (no model call): the shipped
    GPT-4 / GPT-3.5 programs rendered and visible, their object fidelity labelled as not
    meaningful for the offline scorer, each row linking its own report."""
    from snellen.checkup.demo import DEMO_ROWS, DemoRow, run_demo

    rows = tuple(
        DemoRow(r.name, r.label, r.model, "recorded-objects-2", r.languages, r.kind, note=r.note)
        for r in DEMO_ROWS
        if r.kind == "recording"
    )
    result = run_demo(tmp_path / "demo", rows=rows, progress=False, workers=1)
    assert {name: res.drawings for name, res in result.runs.items()} == {"gpt4": 2, "gpt3.5": 2}
    dom = chromium("--dump-dom", result.report.as_uri()).stdout
    assert dom.count('data-kind="recording"') == 2
    assert "not meaningful offline (n=" in dom
    rendered = sum(res.rendered for res in result.runs.values())
    assert rendered >= 3 and dom.count('data-status="ok"') == rendered
    assert dom.count("data:image/png;base64,") >= rendered
    for name in ("gpt4", "gpt3.5"):
        assert f'href="{name}/report.html"' in dom
        assert (result.out / name / "report.html").is_file()
