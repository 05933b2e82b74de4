"""Running one Python drawing program: the worker has already imported the heavy libraries;
each program runs in a forked child (a fresh copy of that warm interpreter, so one program
cannot leave state behind for the next) under a tighter sandbox layer, and sends back PNG
bytes through a pipe."""

from __future__ import annotations

import base64
import contextlib
import errno
import gc
import json
import os
import random
import select
import signal
import sys
import time
import traceback
from typing import Any

from snellen.render import sandbox
from snellen.render.base import LanguageRenderer, RenderJob, RenderResult, Status
from snellen.render.image import truncate

PROGRAM_NAME = "<program>"
OUTPUT_FILE = "output.txt"
# Memory a program may use on top of the warm interpreter it was forked from.
JOB_MEMORY = 1024 * sandbox.MiB


class ProgramFailure(Exception):
    """Raised inside the child to report a classified failure."""

    def __init__(self, status: Status, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _vm_size() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _program_traceback(exc: BaseException) -> str:
    """The traceback frames inside the program only (the harness frames mean nothing to a
    reader of the program), then the error line."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == PROGRAM_NAME]
    lines = [f"line {f.lineno}, in {f.name}" for f in frames[-5:]]
    lines.append("".join(traceback.format_exception_only(type(exc), exc)).strip())
    return "\n".join(lines)


def classify(exc: BaseException) -> tuple[Status, str]:
    """Map an exception a program raised to a status and a reason a person can read."""
    if isinstance(exc, ProgramFailure):
        return exc.status, exc.reason
    if isinstance(exc, SyntaxError):
        return Status.COMPILE_ERROR, f"line {exc.lineno}: {exc.msg}" + (
            f"\n{exc.text.rstrip()}" if exc.text else ""
        )
    if isinstance(exc, MemoryError):
        return Status.MEMORY, "out of memory (the program's memory limit was reached)"
    if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
        return (
            Status.KILLED,
            "output exceeds the file-size limit (a flood of output): " + _program_traceback(exc),
        )
    if isinstance(exc, OSError) and exc.errno in (errno.EPERM, errno.EACCES):
        return Status.KILLED, "blocked by the sandbox: " + _program_traceback(exc)
    return Status.RUNTIME_ERROR, _program_traceback(exc)


def compile_program(code: str) -> Any:
    return compile(code, PROGRAM_NAME, "exec", dont_inherit=True)


class ForkingRenderer(LanguageRenderer):
    """Base for renderers of Python drawing languages.

    Subclasses implement :meth:`warm` (imports, run once in the worker) and :meth:`draw`
    (runs in the child: execute the program, return PNG bytes).
    """

    #: set by the worker: apply the per-program sandbox layer in each child
    confine: bool = True

    def __init__(self) -> None:
        self.workspace = ""
        self.oom_kills = lambda: 0
        self.sandbox: sandbox.JobSandbox | None = None
        #: the per-program sandbox layers the last child reported applied (rlimits,
        #: landlock, seccomp); a mechanism the kernel lacks is missing from it
        self.job_layers: list[str] = []

    def _job_sandbox(self, job_dir: str) -> sandbox.JobSandbox:
        # prepared once, in the parent, so a child only has to switch it on
        if self.sandbox is None:
            self.sandbox = sandbox.JobSandbox(os.path.dirname(os.path.abspath(job_dir)))
        return self.sandbox

    def start(self, workspace: str) -> None:
        self.workspace = workspace
        self.warm()
        # numpy builds its global legacy generator lazily, about 9 ms: build it once here,
        # so the reseed in every forked child is cheap
        numpy = sys.modules.get("numpy")
        if numpy is not None:
            numpy.random.seed(0)
        gc.collect()
        gc.freeze()  # keep the warm heap shared copy-on-write with every child

    def warm(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def draw(self, code: Any, job: RenderJob, job_dir: str) -> bytes:  # pragma: no cover
        raise NotImplementedError

    # -- child -------------------------------------------------------------------------
    def _child(self, job: RenderJob, job_dir: str, wfd: int) -> None:
        payload: dict[str, Any]
        layers: list[str] = []  # the per-program sandbox layers this child got
        try:
            sandbox.die_with_parent()
            # a full disk quota should raise in the program, not kill it silently
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            if self.confine:
                limits = sandbox.Limits(
                    cpu_seconds=int(job.timeout) + 1,
                    address_space=_vm_size() + JOB_MEMORY,
                    file_size=32 * sandbox.MiB,
                    open_files=256,
                    memory=None,
                    processes=None,
                )
                layers = self._job_sandbox(job_dir).apply(limits)
            # nothing but the result pipe: not the worker's protocol, not a JVM's pipes
            os.closerange(3, wfd)
            os.closerange(wfd + 1, 65536)
            os.chdir(job_dir)
            out = os.open(OUTPUT_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(out, 1)
            os.dup2(out, 2)
            os.close(out)
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
            random.seed(0)
            try:
                import numpy

                numpy.random.seed(0)
            except ImportError:
                pass
            code = compile_program(job.code)
            png = self.draw(code, job, job_dir)
            payload = {"status": Status.OK.value, "png": base64.b64encode(png).decode()}
        except BaseException as exc:  # noqa: BLE001 - every failure becomes a status
            status, reason = classify(exc)
            payload = {"status": status.value, "reason": reason}
        payload["layers"] = layers
        # the program may have closed or broken stdout; the payload goes out on its own pipe
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
        data = json.dumps(payload).encode()
        view = memoryview(data)
        while view:
            n = os.write(wfd, view)
            view = view[n:]
        os._exit(0)

    # -- parent (the worker) -------------------------------------------------------------
    def render(self, job: RenderJob, job_dir: str) -> RenderResult:
        t0 = time.monotonic()
        ooms = self.oom_kills()
        if self.confine:
            self._job_sandbox(job_dir)
        rfd, wfd = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            os.close(rfd)
            self._child(job, job_dir, wfd)
        os.close(wfd)
        chunks: list[bytes] = []
        timed_out = False
        deadline = t0 + job.timeout
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    timed_out = True
                    break
                ready, _, _ = select.select([rfd], [], [], left)
                if not ready:
                    continue
                chunk = os.read(rfd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            os.close(rfd)
            if timed_out:
                with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
                    os.kill(pid, signal.SIGKILL)
            _, wstatus = os.waitpid(pid, 0)
        seconds = time.monotonic() - t0
        result = RenderResult(job.id, job.language, Status.OK, seconds=seconds)
        if timed_out:
            result.status = Status.TIMEOUT
            result.reason = (
                f"no image after {job.timeout:g} s (wall clock); the program was stopped"
            )
            return result
        if chunks:
            payload = json.loads(b"".join(chunks))
            self.job_layers = list(payload.get("layers") or [])
            result.status = Status(payload["status"])
            result.reason = truncate(payload.get("reason", ""))
            if "png" in payload:
                result.png = base64.b64decode(payload["png"])
            if result.status is not Status.OK:
                result.reason = self._with_output(result.reason, job_dir)
            return result
        # the child died without a word
        if self.oom_kills() > ooms:
            result.status, result.reason = Status.MEMORY, "killed by the memory limit"
        elif os.WIFSIGNALED(wstatus):
            sig = os.WTERMSIG(wstatus)
            name = (
                signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            )
            if sig in (signal.SIGXCPU, signal.SIGKILL):
                result.status = Status.TIMEOUT
                result.reason = f"CPU time limit of {int(job.timeout) + 1} s reached ({name})"
            else:
                result.status = Status.KILLED
                result.reason = f"the program crashed ({name})"
        else:
            code = os.WEXITSTATUS(wstatus)
            result.status = Status.RUNTIME_ERROR
            result.reason = f"the program exited (status {code}) before producing an image"
        result.reason = self._with_output(result.reason, job_dir)
        return result

    @staticmethod
    def _with_output(reason: str, job_dir: str) -> str:
        path = os.path.join(job_dir, OUTPUT_FILE)
        try:
            size = os.path.getsize(path)
            with open(path, "rb") as f:
                if size > 2000:
                    f.seek(size - 2000)
                tail = f.read().decode("utf-8", "replace").strip()
        except OSError:
            return reason
        if not tail:
            return reason
        head = f"[last 2000 of {size:,} bytes of output]\n" if size > 2000 else ""
        return truncate(f"{reason}\n--- output ---\n{head}{tail}")
