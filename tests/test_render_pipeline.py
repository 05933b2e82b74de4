"""Statuses, images, the square copy, the VAD shapes reference programs, and ``snellen
render`` end to end (including a resume after kill -9)."""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from snellen.data import ROOT as DATA_ROOT
from snellen.languages import language
from snellen.render import RenderJob, Status, extract_code, render_programs
from snellen.render.image import is_blank, square
from snellen.render.pool import InProcess, LocalPool

ROOT = Path(__file__).resolve().parents[1]
DRAWINGS = DATA_ROOT / "llm-drawings"


def _has_processing() -> bool:
    import importlib.util

    return importlib.util.find_spec(language("processing").renderer.split(":")[0]) is not None


FIVE = [
    pytest.param(
        "processing",
        marks=pytest.mark.skipif(not _has_processing(), reason="no Processing renderer"),
    )
]
FIVE += ["tikz", "matplotlib", "turtle", "svg"]


@pytest.fixture(scope="module")
def pool():
    p = LocalPool(workers=2).start()
    yield p
    p.close()


def img(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


STATUS_CASES = [
    (
        "ok",
        "svg",
        '<svg xmlns="http://www.w3.org/2000/svg" width="30" height="20"><circle cx="5" cy="5" r="4"/></svg>',
    ),
    ("blank", "svg", '<svg xmlns="http://www.w3.org/2000/svg" width="30" height="20"></svg>'),
    ("blank", "matplotlib", "import matplotlib.pyplot as plt\nplt.figure()\n"),
    ("blank", "matplotlib", "x = 1\n"),
    ("blank", "turtle", "import turtle\nturtle.hideturtle()\n"),
    ("compile_error", "matplotlib", "plt.plot(\n"),
    ("compile_error", "tikz", "\\begin{tikzpicture}\\draw (0,0) -- (1,1)\\end{tikzpicture}"),
    ("compile_error", "svg", "<svg><rect></svg>"),
    ("runtime_error", "matplotlib", "import matplotlib.pyplot as plt\nplt.plot(undefined_name)\n"),
    ("runtime_error", "turtle", "import turtle\nturtle.color('not a colour')\n"),
    ("timeout", "matplotlib", "import time\ntime.sleep(60)\n"),
    ("memory", "matplotlib", "x = [0] * (10 ** 10)\n"),
    ("killed", "matplotlib", "import os\nos.fork()\n"),
]


@pytest.mark.parametrize(("status", "language", "code"), STATUS_CASES)
def test_status_and_reason(pool, status, language, code):
    r = pool.render(RenderJob("s", language, code, timeout=3))
    assert r.status.value == status, r.reason
    assert (r.reason == "") == (status == "ok")
    assert (r.png is not None) == (status in ("ok", "blank")) or language == "matplotlib"


def test_reasons_name_the_problem(pool):
    r = pool.render(
        RenderJob("e", "matplotlib", "import matplotlib.pyplot as plt\n\nplt.plot(nope)\n")
    )
    assert "line 3" in r.reason and "NameError" in r.reason and "nope" in r.reason
    r = pool.render(RenderJob("t", "tikz", "\\begin{tikzpicture}\\drawx (0,0);\\end{tikzpicture}"))
    assert "Undefined control sequence" in r.reason


def test_image_at_own_size_and_square_copy(pool):
    code = "import matplotlib.pyplot as plt\nfig = plt.figure(figsize=(3, 2), dpi=100)\nfig.patch.set_facecolor('red')\nfig.text(0.1, 0.1, 'x')\n"
    r = pool.render(RenderJob("sq", "matplotlib", code, size=64))
    assert r.status is Status.OK and (r.width, r.height) == (300, 200)
    assert img(r.png).size == (300, 200)
    sq = img(r.square_png)
    assert sq.size == (64, 64)
    assert sq.getpixel((32, 2)) == (255, 255, 255)  # padding above
    assert sq.getpixel((32, 32))[0] > 200 and sq.getpixel((32, 32))[1] < 60  # content, centred


def test_square_helper_pads_on_white():
    tall = Image.new("RGBA", (10, 40), (0, 0, 255, 255))
    out = square(tall, 20)
    assert out.size == (20, 20) and out.getpixel((1, 10)) == (255, 255, 255)
    assert out.getpixel((10, 10))[2] > 200
    assert is_blank(Image.new("RGB", (50, 50), (3, 4, 5)))
    dot = Image.new("RGB", (50, 50), (255, 255, 255))
    dot.putpixel((7, 7), (0, 0, 0))
    assert not is_blank(dot)


def test_in_process_backend_matches_the_pool(pool):
    job = RenderJob("same", "svg", STATUS_CASES[0][2])
    with InProcess() as local:
        a = local.render(job)
    b = pool.render(job)
    assert a.status is b.status is Status.OK and a.png == b.png


# -- VAD shapes reference programs -------------------------------------------------------
RED = (0xD6, 0x27, 0x28)
BLUE = (0x1F, 0x5F, 0xD6)


def _spec(**keys):
    spec = {"composition": "single", "phrasing": 0, **keys}
    spec["kinds"] = [k for k in keys if k != "composition"]
    return spec


SPEC_CASES = [
    (
        _spec(shape="circle", colour="red", size="small", position="top left"),
        [(100, 100, RED), (300, 300, (255, 255, 255))],
    ),
    (
        _spec(
            shape="square", colour="blue", background="black", position="bottom right", size="small"
        ),
        [(300, 300, BLUE), (100, 100, (0, 0, 0))],
    ),
]


@pytest.mark.parametrize("language", FIVE)
def test_reference_programs_show_the_spec(pool, language):
    from snellen.concepts.shapes import programs_for

    for spec, expect in SPEC_CASES:
        r = pool.render(RenderJob("spec", language, programs_for(spec)[language]))
        assert r.status is Status.OK, r.reason
        image = img(r.png).resize((400, 400))
        for x, y, colour in expect:
            got = image.getpixel((x, y))
            assert all(abs(a - b) <= 40 for a, b in zip(got, colour, strict=True)), (
                language,
                x,
                y,
                got,
                colour,
            )


@pytest.mark.parametrize("language", FIVE)
def test_every_sampled_shapes_program_renders(pool, language):
    from snellen.concepts import load_concepts

    concepts = load_concepts("shapes", 12, seed=3)
    jobs = [RenderJob(c.id, language, c.programs[language]) for c in concepts]
    results = list(pool.map(jobs))
    bad = [(r.id, r.status.value, r.reason[:200]) for r in results if r.status is not Status.OK]
    assert len(results) == len(jobs) and not bad
    sizes = {(r.width, r.height) for r in results}
    assert sizes == {(400, 400)}, sizes


# -- snellen render ----------------------------------------------------------------------
def _jsonl(path: Path, n: int) -> list[str]:
    ids = []
    with open(path, "w") as f:
        for i in range(n):
            if i % 3 == 0:
                rec = {"id": f"m/{i}", "language": "matplotlib",
                       "code": f"import time\nimport matplotlib.pyplot as plt\ntime.sleep(0.2)\nplt.figure(figsize=(2, 2))\nplt.plot([0, {i}])\n"}  # fmt: skip
            elif i % 3 == 1:
                rec = {"id": f"s/{i}", "language": "svg",
                       "code": f'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><circle cx="20" cy="20" r="{i % 15 + 2}"/></svg>'}  # fmt: skip
            else:
                rec = {
                    "id": f"t {i}",
                    "language": "turtle",
                    "code": f"import turtle\nturtle.forward({i})\n",
                }
            ids.append(rec["id"])
            f.write(json.dumps(rec) + "\n")
    return ids


def _cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "snellen", "render", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip


def _done(out: Path) -> int:
    db = out / "records.sqlite"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=1) as c:
            return c.execute("SELECT COUNT(*) FROM records WHERE kind = 'render'").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_cli_resumes_after_kill_9(tmp_path):
    src = tmp_path / "programs.jsonl"
    ids = _jsonl(src, 45)
    out = tmp_path / "run"
    proc = _cli(str(src), "--out", str(out), "--workers", "2", "--size", "32")
    deadline = time.monotonic() + 120
    while _done(out) < 8 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    first = _done(out)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 0 < first < len(ids), "the first run should be stopped part-way"
    proc = _cli(str(src), "--out", str(out), "--workers", "2", "--size", "32")
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr.decode()[-2000:]
    frame = pd.read_parquet(out / "results.parquet")
    assert sorted(frame["id"]) == sorted(ids) and frame["id"].is_unique
    assert {"id", "language", "status", "reason", "seconds", "image_path"} <= set(frame.columns)
    assert set(frame["status"]) == {"ok"}, frame[frame.status != "ok"][["id", "reason"]]
    for path in frame["image_path"]:
        assert (out / path).exists()
    assert (out / "images" / "m_0.png").exists() and (out / "images" / "t_2.png").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert "landlock" in manifest["sandbox"] and len(manifest["sessions"]) == 2


def test_render_programs_on_a_directory(tmp_path):
    from snellen.concepts.shapes import programs_for

    programs = programs_for(SPEC_CASES[0][0])
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.svg").write_text(programs["svg"])
    (src / "b.tex").write_text(programs["tikz"])
    (src / "c.py").write_text(programs["matplotlib"])
    (src / "d.py").write_text(programs["turtle"])
    frame = render_programs(src, tmp_path / "out", workers=2)
    assert dict(zip(frame["id"], frame["language"], strict=True)) == {
        "a": "svg",
        "b": "tikz",
        "c": "matplotlib",
        "d": "turtle",
    }
    assert set(frame["status"]) == {"ok"}
    again = render_programs(src, tmp_path / "out", workers=2)  # resumes: nothing to do
    assert len(again) == 4


def test_transcript_rows_without_code_are_no_code(tmp_path):
    tsv = tmp_path / "replies.tsv"
    rows = [
        ["draw a cat", "I am sorry, I cannot help with that.", "False", "m", *"xxxxx"],
        ["draw a dot", "```\\nvoid setup() {\\n  size(10, 10);\\n}\\n```", "False", "m", *"xxxxx"],
    ]  # fmt: skip  (a transcript row has nine columns)
    tsv.write_text("\n".join("\t".join(r) for r in rows) + "\n")
    found = extract_code(rows[1][1], "processing")
    assert "size(10, 10);" in found.code
    frame = render_programs(tsv, tmp_path / "out", format="transcripts", workers=1, timeout=60)
    assert frame.loc[frame.id == "replies/1", "status"].item() == "no_code"
    if _has_processing():
        assert frame.loc[frame.id == "replies/2", "status"].item() in ("ok", "blank")


def test_bad_input_is_reported_with_the_file_and_line(tmp_path):
    from snellen.errors import InputError

    bad = tmp_path / "x.jsonl"
    bad.write_text(
        '{"id": 1, "language": "svg", "code": "<svg/>"}\n{"id": 2, "language": "cobol", "code": "x"}\n'
    )
    with pytest.raises(InputError, match=r"x\.jsonl:2: unknown language 'cobol'"):
        render_programs(bad, tmp_path / "out")


@pytest.mark.parametrize(
    "image, blank",
    [
        (Image.new("RGB", (50, 40), (200, 10, 10)), True),
        (Image.new("RGBA", (50, 40), (0, 0, 0, 0)), True),
        (Image.new("L", (0, 0)), True),
    ],
)
def test_flat_images_are_blank(image, blank):
    assert is_blank(image) is blank


@pytest.mark.parametrize("delta, blank", [(8, True), (9, False), (12, False), (30, False)])
def test_blank_tolerance_is_measured_from_the_first_pixel(delta, blank):
    # one pixel off by `delta` in one channel: ranges between the tolerance and twice it
    # are settled pixel by pixel
    a = np.full((30, 30, 3), 100, dtype=np.uint8)
    a[29, 29, 1] += delta
    assert is_blank(Image.fromarray(a)) is blank
    a[0, 0, 1] += 6  # the first pixel is now 6 above the rest: the other pixels decide
    a[29, 29, 1] = 100 + 6 + delta
    assert is_blank(Image.fromarray(a)) is (blank and delta <= 8)


def test_matplotlib_image_is_what_savefig_writes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from snellen.render.mpl import _png

    for transparent in (False, True):
        fig, ax = plt.subplots(figsize=(3, 2), dpi=90)
        ax.plot([0, 1], [0, 1], "r-", lw=3)
        ax.add_patch(plt.Circle((0.5, 0.5), 0.2, alpha=0.5))
        if transparent:
            fig.patch.set_alpha(0.0)
        saved = io.BytesIO()
        fig.savefig(saved, format="png", dpi=fig.dpi)
        ours = Image.open(io.BytesIO(_png(fig))).convert("RGBA")
        assert ours.size == (270, 180)
        assert np.array_equal(np.asarray(ours), np.asarray(Image.open(saved).convert("RGBA")))
        plt.close(fig)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P"])
def test_png_encoding_is_lossless(mode):
    from snellen.render.image import to_png

    rng = np.random.default_rng(1)
    channels = {"RGB": 3, "RGBA": 4}.get(mode)
    shape = (23, 37, channels) if channels else (23, 37)
    image = Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8))
    if mode == "P":
        image = image.convert("P")
    back = Image.open(io.BytesIO(to_png(image)))
    assert back.mode == mode and back.size == (37, 23)
    assert np.array_equal(np.asarray(back), np.asarray(image))


@pytest.mark.parametrize(
    "fault", [OSError("Popen failed: out of file descriptors"), BrokenPipeError("send")]
)
def test_every_job_ends_with_a_record_when_the_supervisor_fails(monkeypatch, fault):
    """A fault outside snellen's own errors (Popen, a broken pipe) must not kill the slot:
    the job gets a ``killed`` record naming the fault and the pool carries on."""
    from snellen.render import pool as pool_module

    real_run = pool_module.WorkerProcess.run
    calls = {"n": 0}

    def flaky_run(self, job):
        calls["n"] += 1
        if job.id in ("j1", "j3"):
            raise fault
        return real_run(self, job)

    monkeypatch.setattr(pool_module.WorkerProcess, "run", flaky_run)
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="5" height="5"/></svg>'
    jobs = [RenderJob(f"j{i}", "svg", svg) for i in range(6)]
    with LocalPool(workers=2) as p:
        results = {r.id: r for r in p.map(jobs)}
        assert p.restarts >= 1
    assert sorted(results) == [j.id for j in jobs]
    for bad in ("j1", "j3"):
        assert results[bad].status == Status.KILLED
        assert type(fault).__name__ in results[bad].reason
    assert all(results[j].status == Status.OK for j in ("j0", "j2", "j4", "j5"))
