"""Hostile programs against the confined pool (matplotlib, turtle, TikZ, SVG).

Every test checks three things: the status recorded says what happened, the host is
unaffected (no file written, no secret leaked, no connection made), and the pool then
renders a good program. Several programs are "oracles": they try something forbidden and
paint the canvas red if it worked, blue if it did not, so the image itself proves the
sandbox held even when the program swallowed the error.
"""

from __future__ import annotations

import io
import os
import socket
import threading
import time
import uuid

import pytest
from PIL import Image

from snellen.render import sandbox
from snellen.render.base import RenderJob, Status
from snellen.render.pool import LocalPool

RED, BLUE = (255, 0, 0), (0, 0, 255)
GOOD = {
    "matplotlib": "import matplotlib.pyplot as plt\nfig = plt.figure(figsize=(2, 2))\nplt.plot([0, 1], [0, 1], 'r')\n",
    "turtle": "import turtle\nt = turtle.Turtle()\nt.color('red')\nt.forward(100)\n",
    "tikz": "\\begin{tikzpicture}\\fill[red] (0,0) rectangle (1,1);\\end{tikzpicture}",
    "svg": '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><rect width="10" height="10" fill="red"/></svg>',
}


def oracle(attempt: str) -> str:
    """A matplotlib program that paints red when ``attempt`` succeeds and blue when it raises."""
    body = "\n".join("    " + line for line in attempt.strip().splitlines())
    return (
        "import matplotlib.pyplot as plt\n"
        "try:\n" + body + "\n    colour = 'red'\n"
        "except BaseException:\n    colour = 'blue'\n"
        "fig = plt.figure(figsize=(1, 1))\nfig.patch.set_facecolor(colour)\n"
        "ax = fig.add_axes((0, 0, 0.2, 0.2))\nax.axis('off')\nax.plot([0, 1], [0, 1], 'k')\n"
    )


def centre(png: bytes) -> tuple[int, int, int]:
    img = Image.open(io.BytesIO(png)).convert("RGB")
    return img.getpixel((img.width // 2, img.height // 2))


@pytest.fixture(scope="module")
def pool():
    p = LocalPool(workers=2).start()
    yield p
    p.close()


def render(pool, language: str, code: str, timeout: float = 10.0):
    return pool.render(
        RenderJob(f"hostile-{uuid.uuid4().hex[:8]}", language, code, timeout=timeout)
    )


def still_works(pool) -> None:
    for language, code in GOOD.items():
        r = render(pool, language, code)
        assert r.status is Status.OK, (language, r.status, r.reason)


@pytest.fixture
def outside(tmp_path):
    """A directory outside every job, holding a secret."""
    secret = tmp_path / "secret.txt"
    token = f"TOKEN-{uuid.uuid4().hex}"
    secret.write_text(token)
    return tmp_path, secret, token


class LoopbackServer:
    """A TCP and a UDP server on 127.0.0.1 that record whether anything reached them."""

    def __init__(self) -> None:
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen()
        self.tcp.settimeout(0.2)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp.settimeout(0.2)
        self.port = self.tcp.getsockname()[1]
        self.udp_port = self.udp.getsockname()[1]
        self.hits: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.tcp.accept()
                self.hits.append("tcp")
                conn.close()
            except OSError:
                pass
            try:
                self.udp.recvfrom(100)
                self.hits.append("udp")
            except OSError:
                pass

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.tcp.close()
        self.udp.close()


@pytest.fixture
def server():
    s = LoopbackServer()
    yield s
    s.close()


def test_all_mechanisms_are_active_here(pool):
    active = {k for k, v in pool.sandbox.items() if not v.startswith("off")}
    assert {"cgroup", "netns", "landlock", "seccomp", "rlimits", "capabilities"} <= active, (
        pool.sandbox
    )


@pytest.mark.parametrize("language", ["matplotlib", "turtle"])
def test_infinite_loop_times_out(pool, language):
    code = {
        "matplotlib": "while True:\n    pass\n",
        "turtle": "import turtle\nwhile True:\n    turtle.forward(1)\n",
    }
    t0 = time.monotonic()
    r = render(pool, language, code[language], timeout=2)
    assert r.status is Status.TIMEOUT, r.reason
    assert time.monotonic() - t0 < 8
    still_works(pool)


def test_tex_infinite_loop_times_out(pool):
    r = render(
        pool,
        "tikz",
        "\\documentclass{article}\\begin{document}\\loop\\iftrue\\repeat\\end{document}",
        timeout=2,
    )
    assert r.status is Status.TIMEOUT, r.reason
    still_works(pool)


@pytest.mark.parametrize(
    "code",
    [
        "x = bytearray(16 * 1024**3)\n",
        "chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 1024**2))\n",
    ],
)
def test_memory_bomb(pool, code):
    r = render(pool, "matplotlib", code)
    assert r.status is Status.MEMORY, r.reason
    still_works(pool)


@pytest.mark.parametrize(
    "code",
    [
        "import os\nwhile True:\n    os.fork()\n",
        "import multiprocessing\nps = [multiprocessing.Process(target=print) for _ in range(50)]\nfor p in ps:\n    p.start()\n",
    ],
)
def test_fork_bomb_is_blocked(pool, code):
    r = render(pool, "matplotlib", code)
    assert r.status is Status.KILLED and "sandbox" in r.reason, r.reason
    still_works(pool)


def test_fork_oracle_shows_no_child_was_made(pool):
    r = render(
        pool, "matplotlib", oracle("import os\npid = os.fork()\nif pid == 0:\n    os._exit(0)")
    )
    assert r.status is Status.OK and centre(r.png) == BLUE


@pytest.mark.parametrize("target", ["/etc/passwd", "SECRET", "/root/.bashrc", "/proc/1/environ"])
def test_reading_outside_the_job_is_denied(pool, outside, target):
    _, secret, token = outside
    path = str(secret) if target == "SECRET" else target
    r = render(pool, "matplotlib", f"print(open({path!r}).read())\n")
    assert r.status is Status.KILLED and "sandbox" in r.reason, r.reason
    assert token not in r.reason and "root:x" not in r.reason
    r = render(pool, "matplotlib", oracle(f"open({path!r}).read()"))
    assert r.status is Status.OK and centre(r.png) == BLUE
    still_works(pool)


def test_turtle_cannot_read_a_secret(pool, outside):
    _, secret, token = outside
    code = f"import turtle\nturtle.write(open({str(secret)!r}).read())\n"
    r = render(pool, "turtle", code)
    assert r.status is Status.KILLED and token not in r.reason
    still_works(pool)


def test_writing_outside_the_job_is_denied(pool, outside):
    tmp, _, _ = outside
    target = tmp / "written.txt"
    r = render(pool, "matplotlib", f"open({str(target)!r}, 'w').write('x')\n")
    assert r.status is Status.KILLED and "sandbox" in r.reason, r.reason
    assert not target.exists()
    r = render(
        pool,
        "matplotlib",
        oracle(f"import matplotlib.pyplot as plt\nplt.savefig({str(tmp / 'fig.png')!r})"),
    )
    assert r.status is Status.OK and centre(r.png) == BLUE
    assert not (tmp / "fig.png").exists()
    still_works(pool)


def test_writing_inside_the_job_is_allowed(pool):
    r = render(pool, "matplotlib", oracle("open('notes.txt', 'w').write('fine')"))
    assert r.status is Status.OK and centre(r.png) == RED


def test_sockets_to_loopback_are_blocked(pool, server):
    tcp = f"import socket\ns = socket.create_connection(('127.0.0.1', {server.port}), timeout=2)\n"
    udp = f"import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.sendto(b'x', ('127.0.0.1', {server.udp_port}))\n"
    for code in (tcp, udp):
        r = render(pool, "matplotlib", code)
        assert r.status is Status.KILLED and "sandbox" in r.reason, r.reason
        r = render(pool, "matplotlib", oracle(code))
        assert r.status is Status.OK and centre(r.png) == BLUE
    time.sleep(0.5)
    assert server.hits == []
    still_works(pool)


@pytest.mark.parametrize(
    "attempt",
    [
        "import subprocess\nsubprocess.run(['touch', 'marker'])",
        "import os\nassert os.system('touch marker') == 0",
        "import os\nif os.posix_spawn('/usr/bin/touch', ['touch', 'marker'], {}):\n    os.wait()",
        "import pty\npty.spawn(['touch', 'marker'])",
        "import os\nos.execv('/usr/bin/touch', ['touch', 'marker'])",
    ],
)
def test_spawning_processes_is_blocked(pool, attempt):
    # 'marker' would land in the job's own (writable) directory: only spawning can fail
    r = render(pool, "matplotlib", oracle(attempt + "\nimport os\nassert os.path.exists('marker')"))
    assert r.status is Status.OK and centre(r.png) == BLUE, r.reason
    r = render(pool, "matplotlib", "import subprocess\nsubprocess.run(['id'])\n")
    assert r.status is Status.KILLED and "sandbox" in r.reason, r.reason
    still_works(pool)


def test_ctypes_cannot_get_around_the_sandbox(pool, outside, server):
    tmp, _, _ = outside
    target = tmp / "ctypes-marker"
    attempts = [
        f"import ctypes\nassert ctypes.CDLL(None).system(b'touch {target}') == 0",
        "import ctypes\nassert ctypes.CDLL(None).fork() >= 0",
        "import ctypes\nassert ctypes.CDLL(None).socket(2, 1, 0) >= 0",
        "import ctypes\nassert ctypes.CDLL(None).syscall(57) >= 0",  # raw fork on x86_64
        f"import ctypes\nassert ctypes.CDLL(None).open(b'{target}', 0o101, 0o644) >= 0",
        "import ctypes\nassert ctypes.CDLL(None).unshare(0x10000000) == 0",
    ]
    for attempt in attempts:
        r = render(pool, "matplotlib", oracle(attempt))
        assert r.status is Status.OK and centre(r.png) == BLUE, (attempt, r.reason)
    r = render(pool, "matplotlib", "import ctypes\nctypes.string_at(0)\n")
    assert r.status is Status.KILLED and "SIGSEGV" in r.reason
    assert not target.exists() and server.hits == []
    still_works(pool)


def test_signals_cannot_reach_the_worker_or_the_host(pool):
    for attempt in (
        "import os\nos.kill(os.getppid(), 9)",
        "import os\nos.kill(1, 0)",
        "import os\nos.kill(-1, 9)",
    ):
        r = render(pool, "matplotlib", oracle(attempt))
        assert r.status is Status.OK and centre(r.png) == BLUE, (attempt, r.reason)
    still_works(pool)


@pytest.mark.parametrize(
    ("language", "code"),
    [
        (
            "matplotlib",
            "import matplotlib.pyplot as plt\nplt.figure(figsize=(500, 500), dpi=100)\n",
        ),
        ("turtle", "import turtle\nturtle.Screen().setup(50000, 50000)\nturtle.forward(10)\n"),
        (
            "svg",
            '<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><rect width="10" height="10"/></svg>',
        ),
        ("tikz", "\\begin{tikzpicture}\\draw (0,0) rectangle (500cm,500cm);\\end{tikzpicture}"),
    ],
)
def test_huge_canvas_is_refused(pool, language, code):
    r = render(pool, language, code)
    assert r.status is Status.KILLED and "exceeds the limit" in r.reason, r.reason
    still_works(pool)


def test_flood_of_output_is_cut(pool):
    r = render(pool, "matplotlib", "while True:\n    print('x' * 100000)\n", timeout=10)
    assert r.status in (Status.KILLED, Status.TIMEOUT), r.reason
    assert len(r.reason) < 5000
    r = render(
        pool,
        "matplotlib",
        GOOD["matplotlib"]
        + "for i in range(20000):\n    print(i, 'y' * 100)\nraise ValueError('after the flood')\n",
    )
    assert (
        r.status is Status.RUNTIME_ERROR and "after the flood" in r.reason and len(r.reason) < 5000
    )
    still_works(pool)


def test_tex_cannot_input_system_files(pool, outside):
    _, secret, token = outside
    for path in ("/etc/passwd", str(secret), "../../../../etc/passwd"):
        doc = f"\\documentclass{{article}}\\begin{{document}}\\input{{{path}}}\\end{{document}}"
        r = render(pool, "tikz", doc)
        assert r.status is Status.COMPILE_ERROR, r.reason
        assert "root:" not in r.reason and token not in r.reason
    # \openin followed by \read, the other way in
    doc = (
        "\\documentclass{article}\\newread\\f\\begin{document}\\openin\\f=/etc/passwd "
        "\\ifeof\\f EMPTY\\else\\read\\f to\\x \\x\\fi\\end{document}"
    )
    r = render(pool, "tikz", doc)
    assert "root:" not in r.reason
    still_works(pool)


def test_tex_shell_escape_and_writes_are_blocked(pool, outside):
    tmp, _, _ = outside
    marker, written = tmp / "write18", tmp / "openout.tex"
    doc = (
        "\\documentclass{article}\\begin{document}"
        f"\\immediate\\write18{{touch {marker}}}"
        f"\\newwrite\\w\\immediate\\openout\\w={written}\\immediate\\write\\w{{x}}\\immediate\\closeout\\w"
        "hello\\end{document}"
    )
    r = render(pool, "tikz", doc)
    assert r.status in (Status.OK, Status.COMPILE_ERROR), r.reason
    assert not marker.exists() and not written.exists()
    still_works(pool)


def test_svg_external_references_are_stripped(pool, outside, server):
    tmp, _, token = outside
    picture = tmp / "red.png"
    Image.new("RGB", (50, 50), RED).save(picture)
    svg = f"""<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY leak SYSTEM "file://{tmp / "secret.txt"}">]>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="100">
  <style>@import url("http://127.0.0.1:{server.port}/a.css"); rect {{ fill: url(http://127.0.0.1:{server.port}/p); }}</style>
  <image href="file://{picture}" x="0" y="0" width="100" height="100"/>
  <image xlink:href="{picture}" x="0" y="0" width="100" height="100"/>
  <image href="http://127.0.0.1:{server.port}/x.png" width="100" height="100"/>
  <use href="{tmp / "other.svg"}#a"/>
  <text x="5" y="50">&leak;</text>
  <circle cx="90" cy="90" r="5" fill="blue"/>
</svg>"""
    r = render(pool, "svg", svg)
    assert r.status is Status.OK, r.reason
    assert centre(r.png) == (255, 255, 255)  # the red picture never loaded
    assert token not in r.reason
    time.sleep(0.3)
    assert server.hits == []
    still_works(pool)


def test_a_dead_worker_is_replaced(pool):
    job = RenderJob("slow", "matplotlib", "import time\ntime.sleep(30)\n", timeout=60)
    results = []
    thread = threading.Thread(target=lambda: results.append(pool.render(job)))
    thread.start()
    time.sleep(1.5)
    victims = [w.proc.pid for w in pool._procs if w is not None]
    for pid in victims:
        os.kill(pid, 9)
    thread.join(timeout=60)
    assert results and results[0].status is Status.KILLED and "worker died" in results[0].reason
    still_works(pool)


@pytest.mark.slow
def test_a_silent_worker_is_killed_at_the_deadline(monkeypatch):
    from snellen.render import pool as pool_module

    monkeypatch.setattr(pool_module, "GRACE_SECONDS", 1.0)
    with LocalPool(workers=1, warm=["svg"]) as p:
        p.start()
        worker = p._procs[0]
        os.kill(worker.proc.pid, 19)  # SIGSTOP: alive but silent
        r = p.render(RenderJob("silent", "svg", GOOD["svg"], timeout=1))
        assert r.status is Status.TIMEOUT and "restarted" in r.reason
        assert worker.proc.poll() is not None
        assert p.render(RenderJob("after", "svg", GOOD["svg"])).status is Status.OK


def test_no_process_outlives_the_pool():
    p = LocalPool(workers=1)
    p.render(RenderJob("a", "matplotlib", GOOD["matplotlib"]))
    slot_dirs = list(p._procs[0].slot.dirs.values()) if p._procs[0].slot else []
    pid = p._procs[0].proc.pid
    p.close()
    assert all(not os.path.exists(d) for d in slot_dirs)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_landlock_is_available_here():
    assert sandbox.landlock_abi() >= 1
