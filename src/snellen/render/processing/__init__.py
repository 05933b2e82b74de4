"""Processing sketches: translated to Java (:mod:`.translate`), compiled in memory and drawn
off-screen with the real Processing 4 ``core.jar`` (the one inside the py5 wheel) by a warm
JVM (``Worker.java``) that the confined render worker starts and supervises.

The JVM inherits the worker's sandbox (cgroup memory and process limits, empty network
namespace, Landlock, seccomp); on top of that it runs under ``-Xmx`` and its own security
manager while a sketch runs. A sketch that stops the JVM (a crash, a thread that will not
stop, an out-of-memory error) gets its status and the JVM is started again for the next one.

:func:`cold_commands` gives the commands of the cold baseline: a fresh JVM per sketch, as a
pipeline calling ``processing-java`` for every sketch does.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from PIL import Image

from snellen.errors import SnellenError
from snellen.render import sandbox
from snellen.render.base import LanguageRenderer, RenderJob, RenderResult, Status
from snellen.render.image import is_blank, square, to_png
from snellen.render.processing.translate import (
    CLASS_NAME,
    Sketch,
    TranslateError,
    translate,
)
from snellen.transcripts import unescape

__all__ = [
    "ProcessingRenderer",
    "Sketch",
    "TranslateError",
    "cold_commands",
    "core_jar",
    "java_command",
    "translate",
]

HERE = Path(__file__).resolve().parent
JAVA_SOURCES = ("SketchBase.java", "Worker.java")
HEAP = "1g"
# Seconds the renderer waits beyond a job's timeout before it gives up on the JVM; stays
# below the supervisor's grace so the renderer, not the supervisor, reports the timeout.
JVM_GRACE = 6.0
JVM_START = 60.0
WARMUP_ROUNDS = 3
_STATUSES = {s.value: s for s in Status}
# the compiler's task pool (reused symbol tables) is not exported by the jdk.compiler module
EXPORTS = ("--add-exports", "jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED")


def core_jar() -> Path:
    """Processing 4's ``core.jar`` as shipped inside the installed py5 package (found
    without importing py5, which would start a JVM)."""
    spec = importlib.util.find_spec("py5")
    roots = list(spec.submodule_search_locations or []) if spec else []
    for root in roots:
        jar = Path(root) / "jars" / "core.jar"
        if jar.exists():
            return jar
    raise SnellenError(
        "Processing's core.jar was not found: install py5 (it ships Processing 4's core.jar)"
    )


# The sandbox inside the JVM (Worker.java's Guard) is a SecurityManager: JDK 17 to 23 have
# it (18 and later only when asked for with -Djava.security.manager=allow); JDK 24 removed it.
# A JDK without it would run sketches with a weaker sandbox, so it is refused, never used.
JDK_VERSIONS = range(17, 24)
_JDK_HOMES = ("/usr/lib/jvm/java-17-openjdk-*", "/usr/lib/jvm/java-21-openjdk-*")


def _jdk_major(java: str) -> int | None:
    try:
        out = subprocess.run(  # noqa: S603 - a fixed argument list, no shell; the program text goes in a file or on stdin
            [java, "-XshowSettings:properties", "-version"],
            capture_output=True, text=True, timeout=60,
        ).stderr  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.splitlines():
        key, _, value = line.strip().partition(" = ")
        if key == "java.specification.version":
            with contextlib.suppress(ValueError):
                return int(value.strip().split(".")[-1] if value.startswith("1.") else value)
    return None


@functools.cache
def _java() -> tuple[str, str]:
    """java and javac of a JDK whose SecurityManager works: ``SNELLEN_JAVA_HOME``, else a
    Debian JDK 17 or 21, else ``JAVA_HOME``, else the PATH; each is checked."""
    import glob

    candidates: list[tuple[str, str]] = []
    homes = [os.environ.get("SNELLEN_JAVA_HOME", "")]
    homes += [h for pattern in _JDK_HOMES for h in sorted(glob.glob(pattern))]
    homes.append(os.environ.get("JAVA_HOME", ""))
    for home in homes:
        if home and os.access(os.path.join(home, "bin", "javac"), os.X_OK):
            candidates.append(
                (os.path.join(home, "bin", "java"), os.path.join(home, "bin", "javac"))
            )
    java, javac = shutil.which("java"), shutil.which("javac")
    if java and javac:
        candidates.append((java, javac))
    refused = []
    for java, javac in candidates:
        major = _jdk_major(java)
        if major in JDK_VERSIONS:
            return java, javac
        refused.append(f"{java} (JDK {major or '?'})")
    if refused:
        raise SnellenError(
            "the Processing renderer needs a JDK 17 to 23 (its sandbox is a SecurityManager, "
            f"which JDK 24 removed); found only {', '.join(refused)}. Install "
            "openjdk-17-jdk-headless, or point SNELLEN_JAVA_HOME at a JDK 17 or 21"
        )
    raise SnellenError(
        "the Processing renderer needs a JDK 17 or 21 (java and javac); install "
        "openjdk-17-jdk-headless, or point SNELLEN_JAVA_HOME at one"
    )


def compile_worker(out_dir: str | os.PathLike[str]) -> Path:
    """Compile SketchBase/Worker into ``out_dir`` (skipped when already there)."""
    out = Path(out_dir)
    digest = hashlib.sha256()
    for name in JAVA_SOURCES:
        digest.update((HERE / name).read_bytes())
    stamp = out / f".built-{digest.hexdigest()[:16]}"
    if stamp.exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    _, javac = _java()
    proc = subprocess.run(  # noqa: S603 - a fixed argument list, no shell; the program text goes in a file or on stdin
        [javac, "-nowarn", "-encoding", "UTF-8", *EXPORTS, "-cp", str(core_jar()), "-d", str(out)]
        + [str(HERE / name) for name in JAVA_SOURCES],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        raise SnellenError(f"compiling the Processing worker failed:\n{proc.stderr[-3000:]}")
    stamp.write_text("")
    return out


def java_command(
    classes: str | os.PathLike[str], workspace: str, *, guard: bool = True
) -> list[str]:
    """The JVM command line for the worker (the main class's arguments not included).

    The JVM stops at the quick JIT compiler (C1). The optimising one (C2) draws a detailed
    sketch faster once it has compiled Java2D's rasteriser, but its compiler threads compete
    with the other workers for the cores: in ``benchmarks/render.py`` on two cores, C2 halved
    the pool's throughput (55 -> 30 img/s simple, 39 -> 19 on real sketches)."""
    java, _ = _java()
    cmd = [
        java,
        f"-Xmx{HEAP}",
        "-Xss8m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-XX:-UsePerfData",
        "-XX:+IgnoreUnrecognizedVMOptions",
        "-Xshare:auto",
        "-Djava.awt.headless=true",
        "-Djava.security.manager=allow",
        f"-Djava.io.tmpdir={os.path.join(workspace, 'tmp')}",
        f"-Duser.home={workspace}",
        "-Dfile.encoding=UTF-8",
        *EXPORTS,
        "-cp",
        os.pathsep.join([str(core_jar()), str(classes)]),
    ]
    if guard:
        cmd.insert(1, "-Djava.security.manager=allow")
    return cmd + ["Worker"]


def cold_commands(code: str, workdir: str | os.PathLike[str]) -> list[list[str]]:
    """The cold baseline for one sketch: write the translated sketch into ``workdir`` and
    return the command that starts a fresh JVM to compile and render it (``out.png``)."""
    d = Path(workdir)
    classes = compile_worker(Path(tempfile.gettempdir()) / "snellen-processing-classes")
    (d / f"{CLASS_NAME}.java").write_text(translate(code).java)
    return [java_command(classes, str(d), guard=False) + ["--once", str(d.resolve()), "60000"]]


class ProcessingRenderer(LanguageRenderer):
    """Translate, then hand the sketch to the warm JVM and read back the PNG."""

    language = "processing"

    def __init__(self) -> None:
        self.workspace = ""
        self.classes = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = ""
        self.restarts = 0
        self.eof = False

    # -- the JVM -------------------------------------------------------------------------
    def start(self, workspace: str) -> None:
        self.workspace = workspace
        self.classes = str(compile_worker(os.path.join(workspace, "classes")))
        self.log_path = os.path.join(workspace, "jvm.log")
        self._launch()

    def _launch(self) -> None:
        jvm_home = os.path.join(self.workspace, "jvm")
        os.makedirs(jvm_home, exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": jvm_home,
            "TMPDIR": jvm_home,
        }
        if "JAVA_HOME" in os.environ:
            env["JAVA_HOME"] = os.environ["JAVA_HOME"]
        cmd = java_command(self.classes, jvm_home) + [str(WARMUP_ROUNDS)]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 - a fixed argument list, no shell; the program text goes in a file or on stdin
                cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                cwd=jvm_home, env=env, start_new_session=True,
                preexec_fn=sandbox.rlimit_preexec(
                    sandbox.Limits(memory=None, processes=None, file_size=64 * sandbox.MiB)
                ),
            )  # fmt: skip
        line = self._readline(JVM_START)
        if line != "ready":
            tail = self._log_tail()
            self._kill()
            raise SnellenError(f"the Processing JVM did not start ({line!r}):\n{tail}")

    def _log_tail(self) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(max(0, os.path.getsize(self.log_path) - 2000))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _readline(self, timeout: float) -> str | None:
        """One line from the JVM, or None when none came in time or the JVM died (then
        ``self.eof`` is set: the pipe closed, though the process may not be reaped yet)."""
        assert self.proc and self.proc.stdout  # noqa: S101 - an invariant that narrows the type, not a check of input
        self.eof = False
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        buf = b""
        while not buf.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                self.eof = True
                return None
            buf += chunk
        return buf.decode("utf-8", "replace").rstrip("\n")

    def _kill(self) -> None:
        if self.proc is None:
            return
        sandbox.stop_process(self.proc)
        self.proc = None

    def _ensure(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self._kill()
            self.restarts += 1
            self._launch()

    def close(self) -> None:
        self._kill()

    # -- rendering -----------------------------------------------------------------------
    def render(self, job: RenderJob, job_dir: str) -> RenderResult:
        t0 = time.monotonic()
        result = RenderResult(job.id, job.language, Status.OK)
        try:
            sketch = translate(job.code)
        except TranslateError as e:
            result.status, result.reason = Status.COMPILE_ERROR, str(e)
            return result
        self._ensure()
        assert self.proc and self.proc.stdin  # noqa: S101 - an invariant that narrows the type, not a check of input
        Path(job_dir, f"{CLASS_NAME}.java").write_text(sketch.java)
        timeout_ms = max(100, int(job.timeout * 1000))
        try:
            self.proc.stdin.write(f"{os.path.abspath(job_dir)}\t{timeout_ms}\n".encode())
            self.proc.stdin.flush()
            line = self._readline(job.timeout + JVM_GRACE)
        except OSError:
            line = None
        if line is None:
            if self.eof:
                # the pipe closes a moment before the process can be reaped
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=5)
            alive = self.proc.poll() is None
            code = self.proc.returncode
            self._kill()
            if alive:
                result.status = Status.TIMEOUT
                result.reason = (
                    f"the Java VM gave no answer within {job.timeout + JVM_GRACE:g} s; "
                    "it was restarted"
                )
            else:
                how = f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"
                result.status = Status.KILLED
                result.reason = (
                    f"the Java VM died ({how}) while running the sketch; it was restarted"
                )
            return result
        status, width, height, restart, reason = (line.split("\t", 4) + [""] * 5)[:5]
        if restart == "1":
            self._kill()  # the next job starts a fresh JVM
        result.status = _STATUSES.get(status, Status.RUNTIME_ERROR)
        result.reason = unescape(reason)  # the worker's escapes are the transcripts' own
        if result.status is Status.OK:
            printed, result.reason = result.reason, ""
            raw = Path(job_dir, "out.rgb")
            w, h = int(width), int(height)
            if raw.exists() and raw.stat().st_size == w * h * 3:
                image = Image.frombytes("RGB", (w, h), raw.read_bytes())
                result.png, result.image = to_png(image), image
                result.width, result.height = w, h
                if printed and is_blank(image):
                    # what Processing printed often says why nothing shows ("box() is not
                    # available with this renderer")
                    result.status = Status.BLANK
                    result.reason = "the image is a single flat colour\n" + printed
                    if job.size:
                        result.square_png = to_png(square(image, job.size))
        result.seconds = time.monotonic() - t0
        return result
