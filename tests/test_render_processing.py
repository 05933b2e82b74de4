"""The Processing renderer: the sketch-to-Java translation, real rendering with pixel checks,
every status, the sandbox around the JVM, and the render rate on real model replies."""

from __future__ import annotations

import collections
import contextlib
import io
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from snellen.data import ROOT as DATA_ROOT
from snellen.render.base import RenderJob, Status
from snellen.render.pool import LocalPool

pytestmark = pytest.mark.skipif(
    shutil.which("javac") is None, reason="the Processing renderer needs a JDK"
)

from snellen.render.processing import (  # noqa: E402
    ProcessingRenderer,
    TranslateError,
    cold_commands,
    translate,
)
from snellen.render.processing.translate import HEAD_END  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DRAWINGS = DATA_ROOT / "llm-drawings"
RED, BLUE = (255, 0, 0), (0, 0, 255)


def body(code: str) -> str:
    """The translated sketch without the generated head."""
    return translate(code).java.split(HEAD_END, 1)[1]


# -- translation -----------------------------------------------------------------------------
def test_float_literals_outside_strings_and_comments():
    out = body(
        "float a = 0.5; float b = .25; float c = 1e3; double d = 2.0d; float e = 3f;\n"
        "int h = 0xFF; long l = 10L; int i = 7;\n"
        "String s = \"0.5 and #FF0000\"; char q = '.'; // 1.5 in a comment\n"
        "/* 2.5 */ float x = 1.5e-3 * 2;\nvoid setup() {}\n"
    )
    assert "a = 0.5f;" in out and "b = .25f;" in out and "c = 1e3f;" in out
    assert "d = 2.0d;" in out and "e = 3f;" in out and "0xFF;" in out and "10L;" in out
    assert "i = 7;" in out and '"0.5 and #FF0000"' in out and "// 1.5 in a comment" in out
    assert "/* 2.5 */" in out and "1.5e-3f * 2" in out


def test_colour_type_hex_colours_and_conversions():
    out = body(
        "color c = #FF8000;\ncolor[] cs = {#000000, color(1, 2, 3)};\n"
        "void setup() {\n  int a = int(2.7);\n  float b = float(3);\n  int k = (int) 2.5;\n"
        "  boolean t = boolean(1);\n  char ch = char(65);\n  fill(c);\n}\n"
    )
    assert "int c = 0xFFFF8000;" in out and "int[] cs = {0xFF000000, color(1, 2, 3)};" in out
    assert "parseInt(2.7f)" in out and "parseFloat(3)" in out and "(int) 2.5f" in out
    assert "parseBoolean(1)" in out and "parseChar(65)" in out


def test_active_mode_members_become_public_and_imports_move_up():
    code = (
        "import java.util.Map;\n\nint n = 3;\nclass Ball {\n  float x;\n  void show() {}\n}\n"
        "void setup() {\n  size(200, 100);\n}\nprivate void helper() {}\n@Override\n"
        "public void draw() {}\n"
    )
    sketch = translate(code)
    assert sketch.mode == "active" and sketch.imports == ["import java.util.Map;"]
    assert sketch.methods == ["setup", "helper", "draw"]
    java = sketch.java
    head, out = java.split(HEAD_END, 1)
    assert "import java.util.Map;" in head and "extends SketchBase" in head
    assert "public void setup()" in out and "private void helper()" in out
    assert "  void show() {}" in out  # inner class members are left alone
    # line numbers are kept: the sketch's line 9 is line 9 of the Java source
    assert java.splitlines()[8].strip() == "size(200, 100);"


def test_static_mode_is_wrapped_in_setup():
    sketch = translate("size(200, 200);\nbackground(0);\nellipse(50, 50, 20, 20);\n")
    assert sketch.mode == "static" and "public void setup() {" in sketch.java.split(HEAD_END)[0]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("void setup() {\n}\nnoFill();\n", "statement outside any function"),
        ("# a comment\nsize(400, 400)\nellipse(1, 2, 3, 4)\n", "Python mode"),
        ("void setup() {\n  fill(0);\n}\n}\n", "unbalanced"),
        ("void setup() {\n  fill(0);\n", "ends inside a block"),
        ("   \n", "empty"),
    ],
)
def test_translation_errors_say_why(code, message):
    with pytest.raises(TranslateError, match=message):
        translate(code)


# -- rendering -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pool():
    p = LocalPool(workers=1, warm=["processing"]).start()
    yield p
    p.close()


def render(pool, code: str, timeout: float = 10.0, size: int | None = None):
    return pool.render(RenderJob("p", "processing", code, timeout=timeout, size=size))


def pixel(r, x, y):
    return Image.open(io.BytesIO(r.png)).convert("RGB").getpixel((x, y))


def near(a, b, tol=30):
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def test_setup_and_first_draw_at_the_sketchs_own_size(pool):
    code = (
        "int frames = 0;\nvoid setup() {\n  size(300, 200);\n}\nvoid draw() {\n  frames++;\n"
        "  background(255);\n  noStroke();\n  fill(#FF0000);\n  rect(0, 0, 150, 200);\n"
        "  fill(0, 0, 255);\n  if (frames == 1 && frameCount == 1) rect(150, 0, 150, 200);\n}\n"
    )
    r = render(pool, code, size=64)
    assert r.status is Status.OK, r.reason
    assert (r.width, r.height) == (300, 200)
    assert pixel(r, 50, 100) == RED and pixel(r, 250, 100) == BLUE
    assert Image.open(io.BytesIO(r.square_png)).size == (64, 64)


def test_settings_static_mode_and_the_default_canvas(pool):
    r = render(pool, "void settings() {\n  size(120, 80);\n}\nvoid setup() {\n  fill(255, 0, 0);\n  noStroke();\n  rect(0, 0, 60, 80);\n}\n")  # fmt: skip
    assert r.status is Status.OK and (r.width, r.height) == (120, 80)
    assert pixel(r, 10, 40) == RED and pixel(r, 100, 40) == (204, 204, 204)
    r = render(pool, "size(150, 150);\nbackground(0, 0, 255);\nstroke(255, 0, 0);\nstrokeWeight(10);\nline(0, 75, 150, 75);\n")  # fmt: skip
    assert r.status is Status.OK and (r.width, r.height) == (150, 150)
    assert pixel(r, 75, 75) == RED and pixel(r, 75, 10) == BLUE
    r = render(pool, "noStroke();\nfill(255, 0, 0);\nrect(0, 0, 50, 100);\n")
    assert r.status is Status.OK and (r.width, r.height) == (100, 100)


def test_classes_globals_pvector_colour_and_conversions(pool):
    code = """
color sky = #0000FF;
ArrayList<Ball> balls = new ArrayList<Ball>();
class Ball {
  PVector pos;
  color c;
  float r;
  Ball(float x, float y, float r, color c) {
    pos = new PVector(x, y);
    this.r = r;
    this.c = c;
  }
  void show() {
    fill(c);
    noStroke();
    ellipse(pos.x, pos.y, r * 2, r * 2);
  }
}
void setup() {
  size(200, 200);
  balls.add(new Ball(int(50.9), float(50), 30.5, color(255, 0, 0)));
  PVector v = PVector.add(new PVector(100, 100), new PVector(50, 50));
  balls.add(new Ball(v.x, v.y, 20, sky));
}
void draw() {
  background(255);
  for (Ball b : balls) b.show();
}
"""
    r = render(pool, code)
    assert r.status is Status.OK, r.reason
    assert pixel(r, 50, 50) == RED and pixel(r, 150, 150) == BLUE
    assert pixel(r, 100, 20) == (255, 255, 255)


def test_random_and_noise_are_reproducible(pool):
    code = (
        "void setup() {\n  size(200, 200);\n  noLoop();\n}\nvoid draw() {\n  background(255);\n"
        "  for (int i = 0; i < 40; i++) {\n    fill(random(255), noise(i * 0.1) * 255, 0);\n"
        "    ellipse(random(width), random(height), 20, 20);\n  }\n  textSize(20);\n"
        '  text("hi", 10, 30);\n}\n'
    )
    a, b = render(pool, code), render(pool, code)
    assert a.status is Status.OK and a.png == b.png


def test_blank_when_nothing_is_drawn(pool):
    r = render(pool, "void setup() {\n  size(50, 50);\n}\nvoid draw() {\n  background(255);\n}\n")
    assert r.status is Status.BLANK and r.reason


# -- statuses --------------------------------------------------------------------------------
def test_compile_error_keeps_the_javac_message_and_line(pool):
    r = render(pool, "void setup() {\n  size(100, 100);\n  fil(255);\n}\n")
    assert r.status is Status.COMPILE_ERROR
    assert "line 3" in r.reason and "cannot find symbol" in r.reason and "fil(255)" in r.reason
    r = render(pool, "void setup() {\n  background(0)\n}\n")
    assert r.status is Status.COMPILE_ERROR and "line 2" in r.reason and "';' expected" in r.reason


def test_runtime_exception_names_the_line(pool):
    code = (
        "int[] xs = new int[3];\nvoid setup() {\n  helper();\n}\nvoid helper() {\n  xs[7] = 1;\n}\n"
    )
    r = render(pool, code)
    assert r.status is Status.RUNTIME_ERROR
    assert "ArrayIndexOutOfBoundsException" in r.reason
    assert "line 6, in helper" in r.reason and "line 3, in setup" in r.reason
    r = render(pool, "PVector p;\nvoid setup() {\n  ellipse(p.x, 1, 2, 2);\n}\n")
    assert r.status is Status.RUNTIME_ERROR and "NullPointerException" in r.reason


def test_infinite_loop_times_out_and_the_next_sketch_renders(pool):
    t0 = time.monotonic()
    r = render(pool, "void draw() {\n  while (true) {\n    fill(1);\n  }\n}\n", timeout=2)
    assert r.status is Status.TIMEOUT and "still running" in r.reason
    assert time.monotonic() - t0 < 12
    assert render(pool, "rect(10, 10, 50, 50);\n").status is Status.OK


def test_system_exit_is_refused_and_the_run_goes_on(pool):
    r = render(pool, "void setup() {\n  rect(1, 1, 5, 5);\n  System.exit(0);\n}\n")
    assert r.status is Status.KILLED and "System.exit" in r.reason
    r = render(pool, "void setup() {\n  Runtime.getRuntime().halt(1);\n}\n")
    assert r.status is Status.KILLED
    assert render(pool, "rect(10, 10, 50, 50);\n").status is Status.OK


def test_memory_bomb_is_stopped(pool):
    code = (
        "ArrayList<int[]> keep = new ArrayList<int[]>();\nvoid setup() {\n  while (true) {\n"
        "    keep.add(new int[50000000]);\n  }\n}\n"
    )
    r = render(pool, code, timeout=20)
    assert r.status is Status.MEMORY, r.reason
    assert render(pool, "rect(10, 10, 50, 50);\n").status is Status.OK


def test_huge_canvas_is_refused_before_drawing(pool):
    r = render(pool, "void setup() {\n  size(100000, 100000);\n}\n")
    assert r.status is Status.KILLED and "exceeds the limit" in r.reason


# Oracles: red when the forbidden operation worked, blue when it did not.
ORACLE = """
void setup() {{
  size(60, 60);
  boolean worked = false;
  try {{
    {attempt}
  }} catch (Throwable e) {{
    worked = false;
  }}
  background(worked ? color(255, 0, 0) : color(0, 0, 255));
  rect(0, 0, 5, 5);
}}
"""


def oracle(pool, attempt: str):
    r = render(pool, ORACLE.format(attempt=attempt))
    assert r.status is Status.OK, r.reason
    return pixel(r, 30, 30)


def test_the_oracle_sees_what_is_allowed(pool):
    assert oracle(pool, "worked = true;") == RED
    attempt = 'saveStrings("mine.txt", new String[] {"x"}); worked = loadStrings("mine.txt")[0].equals("x");'
    assert oracle(pool, attempt) == RED


def test_reading_system_files_fails(pool):
    assert oracle(pool, 'worked = loadStrings("/etc/passwd") != null;') == BLUE
    attempt = 'worked = new java.io.FileInputStream("/etc/passwd").read() >= 0;'
    assert oracle(pool, attempt) == BLUE
    attempt = (
        'worked = java.nio.file.Files.readAllBytes(java.nio.file.Paths.get("/etc/hostname"))'
        ".length > 0;"
    )
    assert oracle(pool, attempt) == BLUE
    r = render(pool, 'void setup() {\n  println(loadStrings("/etc/passwd")[0]);\n}\n')
    assert r.status is Status.RUNTIME_ERROR and "root:" not in r.reason


def test_writing_outside_the_job_fails(pool, tmp_path):
    target = tmp_path / "written.txt"
    attempt = f'saveStrings("{target}", new String[] {{"x"}}); worked = true;'
    oracle(pool, attempt)
    assert not target.exists()


def test_sockets_to_loopback_fail(pool):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.5)
    port = server.getsockname()[1]
    connected = []

    def accept():
        with contextlib.suppress(OSError):
            connected.append(server.accept())

    t = threading.Thread(target=accept)
    t.start()
    try:
        attempt = f'new java.net.Socket("127.0.0.1", {port}).close(); worked = true;'
        assert oracle(pool, attempt) == BLUE
        attempt = f'worked = loadStrings("http://127.0.0.1:{port}/") != null;'
        assert oracle(pool, attempt) == BLUE
    finally:
        t.join()
        server.close()
    assert not connected


def test_spawning_a_process_fails(pool, tmp_path):
    marker = tmp_path / "spawned"
    attempt = (
        f'Runtime.getRuntime().exec(new String[] {{"touch", "{marker}"}}).waitFor(); worked = true;'
    )
    assert oracle(pool, attempt) == BLUE
    attempt = f'new ProcessBuilder("touch", "{marker}").start().waitFor(); worked = true;'
    assert oracle(pool, attempt) == BLUE
    r = render(pool, 'void setup() {\n  launch("/bin/true");\n  exec("/bin/true");\n}\n')
    assert r.status in (Status.KILLED, Status.BLANK, Status.RUNTIME_ERROR)
    assert not marker.exists()


def test_reflection_cannot_switch_the_guard_off(pool):
    attempt = (
        'java.lang.reflect.Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");\n'
        "    f.setAccessible(true); worked = true;"
    )
    assert oracle(pool, attempt) == BLUE
    attempt = "System.setSecurityManager(null); worked = true;"
    assert oracle(pool, attempt) == BLUE


def test_output_flood_is_cut(pool):
    r = render(
        pool, 'void setup() {\n  for (int i = 0; i < 200000; i++) println("spam " + i);\n  int[] a = new int[1];\n  a[2] = 0;\n}\n'
    )  # fmt: skip
    assert r.status is Status.RUNTIME_ERROR and len(r.reason) <= 4200


def test_threads_left_running_are_stopped(pool):
    code = (
        'void setup() {\n  thread("spin");\n  rect(5, 5, 20, 20);\n}\n'
        "void spin() {\n  while (true) {\n    fill(0);\n  }\n}\n"
    )
    assert render(pool, code).status is Status.OK
    t0 = time.monotonic()
    assert render(pool, "rect(10, 10, 50, 50);\n").status is Status.OK
    assert time.monotonic() - t0 < 5


def test_a_dead_jvm_is_restarted(tmp_path):
    r = ProcessingRenderer()
    r.start(str(tmp_path / "w"))
    try:
        job_dir = tmp_path / "job"
        job_dir.mkdir()
        results = []
        slow = RenderJob("slow", "processing", "void setup() {\n  delay(20000);\n}\n", timeout=30)
        t = threading.Thread(target=lambda: results.append(r.render(slow, str(job_dir))))
        t.start()
        time.sleep(1.0)
        assert r.proc is not None
        os.kill(r.proc.pid, 9)
        t.join(30)
        assert results[0].status is Status.KILLED and "restarted" in results[0].reason
        ok = r.render(RenderJob("ok", "processing", "rect(10, 10, 50, 50);\n"), str(job_dir))
        assert ok.status is Status.OK and r.restarts == 1
    finally:
        r.close()


def test_cold_baseline_renders_with_a_fresh_jvm(tmp_path):
    cmds = cold_commands("size(80, 60);\nfill(255, 0, 0);\nrect(0, 0, 40, 60);\n", tmp_path)
    for cmd in cmds:
        subprocess.run(cmd, cwd=tmp_path, check=True, capture_output=True, timeout=120)
    img = Image.open(tmp_path / "out.png").convert("RGB")
    assert img.size == (80, 60) and img.getpixel((10, 30)) == RED


@pytest.mark.slow
def test_every_sampled_shapes_program_renders(pool):
    from snellen.concepts import load_concepts

    concepts = load_concepts("shapes", 50, seed=11)
    results = list(
        pool.map(RenderJob(c.id, "processing", c.programs["processing"]) for c in concepts)
    )
    bad = [(r.id, r.status.value, r.reason[:200]) for r in results if r.status is not Status.OK]
    assert len(results) == 50 and not bad


# -- real model replies ----------------------------------------------------------------------
def render_rate(workers: int = 2):
    """Render every reply in the shared drawings; returns (rows, reasons table)."""
    from snellen.render.programs import read_programs

    programs = []
    for tsv in sorted(DRAWINGS.glob("*.tsv")):
        programs += list(read_programs(tsv, "transcripts", "processing"))
    model = {p.id: ("gpt-4" if p.id.startswith("gpt4") else "gpt-3.5") for p in programs}
    status = {p.id: ("no_code", "no program in the reply") for p in programs if not p.code}
    jobs = [RenderJob(p.id, "processing", p.code, timeout=20) for p in programs if p.code]
    with LocalPool(workers) as pool:
        for r in pool.map(jobs):
            status[r.id] = (r.status.value, r.reason)
    return model, status


@pytest.mark.slow
def test_render_rate_on_real_replies():
    model, status = render_rate()
    table = collections.Counter((model[k], s) for k, (s, _) in status.items())
    print("\nmodel    status          n")
    for (m, s), n in sorted(table.items()):
        print(f"{m:<8} {s:<15} {n}")
    for k, (s, reason) in sorted(status.items()):
        if s != "ok":
            print(f"{k}: {s}: {reason.splitlines()[0][:150]}")
    for m, threshold in (("gpt-4", 0.90), ("gpt-3.5", 0.80)):
        ids = [k for k in status if model[k] == m]
        rate = sum(status[k][0] == "ok" for k in ids) / len(ids)
        assert len(ids) == 200 and rate >= threshold, (m, rate)
    # every failure comes with a reason
    assert all(reason for s, reason in status.values() if s != "ok")


def test_nothing_leaks_from_one_sketch_into_the_next(pool):
    first = (
        "int counter = 5;\nclass Ball {\n  float x = 1;\n}\nvoid helper() {\n  rect(1, 1, 9, 9);\n}\n"
        "void setup() {\n  helper();\n  Ball b = new Ball();\n}\n"
    )
    assert render(pool, first).status is Status.OK
    r = render(pool, "void setup() {\n  Ball b = new Ball();\n  helper();\n}\n")
    assert r.status is Status.COMPILE_ERROR and "cannot find symbol" in r.reason
    r = render(pool, "void setup() {\n  counter++;\n}\n")
    assert r.status is Status.COMPILE_ERROR and "counter" in r.reason
    second = "class Ball {\n  int y = 2;\n}\nvoid setup() {\n  rect(new Ball().y, 1, 9, 9);\n}\n"
    assert render(pool, second).status is Status.OK


def test_blank_keeps_what_processing_printed(pool):
    r = render(pool, "void setup() {\n  size(200, 200, P3D);\n  background(255);\n  box(50);\n}\n")
    assert r.status is Status.BLANK and "box() is not available" in r.reason


def test_a_jdk_without_the_security_manager_is_refused(tmp_path, monkeypatch):
    """JDK 24 removed the SecurityManager that the Java sandbox is built on: such a JDK is a
    clear error naming it, never a silently weaker sandbox."""
    from snellen.errors import SnellenError
    from snellen.render import processing as proc_module

    home = tmp_path / "jdk-25"
    (home / "bin").mkdir(parents=True)
    for tool in ("java", "javac"):
        script = home / "bin" / tool
        script.write_text("#!/bin/sh\necho '    java.specification.version = 25' >&2\n")
        script.chmod(0o755)
    monkeypatch.setenv("SNELLEN_JAVA_HOME", str(home))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(proc_module, "_JDK_HOMES", ())
    proc_module._java.cache_clear()
    try:
        with pytest.raises(SnellenError, match=r"JDK 17 to 23.*JDK 25.*SNELLEN_JAVA_HOME"):
            proc_module._java()
    finally:
        proc_module._java.cache_clear()


def test_the_chosen_jdk_has_the_security_manager():
    from snellen.render import processing as proc_module

    java, javac = proc_module._java()
    assert proc_module._jdk_major(java) in proc_module.JDK_VERSIONS
    assert Path(javac).name == "javac"
