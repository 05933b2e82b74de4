"""A warm render worker: one process that confines itself once, then renders jobs one at a
time with renderers started on first use.

Run by the supervisor as ``python -m snellen.render.worker``; it speaks length-prefixed
JSON over stdin/stdout (never pickle: the supervisor must not trust what a confined
process sends back). :class:`Worker` is also usable in-process, unconfined, which is what
the benchmark compares against.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import struct
import sys
import time
import traceback
from dataclasses import asdict, fields, replace
from typing import IO, Any

from snellen.render import sandbox
from snellen.render.base import LanguageRenderer, RenderJob, RenderResult, Status
from snellen.render.image import finish, truncate
from snellen.render.registry import is_python, renderer_class

MAX_MESSAGE = 512 * sandbox.MiB


# -- wire format -----------------------------------------------------------------------
def send(stream: IO[bytes], obj: dict[str, Any]) -> None:
    data = json.dumps(obj).encode()
    stream.write(struct.pack(">I", len(data)) + data)
    stream.flush()


def read_exact(stream: IO[bytes], n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = stream.read(n - len(buf))
        if not chunk:
            raise EOFError("the other side closed the pipe")
        buf += chunk
    return buf


def receive(stream: IO[bytes]) -> dict[str, Any]:
    (n,) = struct.unpack(">I", read_exact(stream, 4))
    if n > MAX_MESSAGE:
        raise ValueError(f"message of {n} bytes exceeds the limit")
    return json.loads(read_exact(stream, n))


def job_to_wire(job: RenderJob) -> dict[str, Any]:
    return asdict(job)


def job_from_wire(d: dict[str, Any]) -> RenderJob:
    d = dict(d)
    d["fallbacks"] = tuple((str(n), str(c)) for n, c in d.get("fallbacks") or ())
    return RenderJob(**d)


def result_to_wire(r: RenderResult) -> dict[str, Any]:
    d = {f.name: getattr(r, f.name) for f in fields(r) if f.name != "image"}
    d["status"] = r.status.value
    for k in ("png", "square_png"):
        d[k] = base64.b64encode(d[k]).decode() if d[k] is not None else None
    return d


def result_from_wire(d: dict[str, Any]) -> RenderResult:
    d = dict(d)
    d["status"] = Status(d["status"])
    for k in ("png", "square_png"):
        d[k] = base64.b64decode(d[k]) if d.get(k) else None
    return RenderResult(**d)


# -- the worker ------------------------------------------------------------------------
class Worker:
    """Hosts one renderer per language, started lazily; renders jobs one by one."""

    def __init__(self, workspace: str, *, confine: bool = True, oom_kills: Any = None) -> None:
        self.workspace = workspace
        self.confine = confine
        self.renderers: dict[str, LanguageRenderer] = {}
        self.failed: dict[str, str] = {}
        self.count = 0
        self.oom_kills = oom_kills or (lambda: 0)
        os.makedirs(os.path.join(workspace, "jobs"), exist_ok=True)

    def renderer(self, language: str) -> LanguageRenderer | None:
        if language in self.renderers:
            return self.renderers[language]
        if language in self.failed:
            return None
        try:
            r = renderer_class(language)()
            if is_python(language):
                r.confine = self.confine  # type: ignore[attr-defined]
                r.oom_kills = self.oom_kills  # type: ignore[attr-defined]
            home = os.path.join(self.workspace, f"renderer-{language}")
            os.makedirs(home, exist_ok=True)
            r.start(home)
        except Exception as e:  # noqa: BLE001 - a renderer that cannot start fails its jobs
            self.failed[language] = f"the {language} renderer could not start: {e}"
            traceback.print_exc()
            return None
        self.renderers[language] = r
        return r

    def render(self, job: RenderJob) -> RenderResult:
        """Render ``job``; when its code does not compile, its fallbacks in turn (the
        result of the first that compiles, or the job's own compile error)."""
        t0 = time.monotonic()
        result = self.render_code(job)
        if result.status is Status.COMPILE_ERROR:
            for name, code in job.fallbacks:
                other = self.render_code(replace(job, code=code, fallbacks=()))
                if other.status is not Status.COMPILE_ERROR:
                    other.assembly = name
                    result = other
                    break
        result.seconds = time.monotonic() - t0
        return result

    def render_code(self, job: RenderJob) -> RenderResult:
        t0 = time.monotonic()
        self.count += 1
        job_dir = os.path.join(self.workspace, "jobs", str(self.count))
        os.makedirs(job_dir, exist_ok=True)
        try:
            r = self.renderer(job.language)
            if r is None:
                result = RenderResult(
                    job.id, job.language, Status.RUNTIME_ERROR, reason=self.failed[job.language]
                )
            else:
                result = r.render(job, job_dir)
                result = finish(job, result)
        except Exception as e:  # noqa: BLE001 - never let one job take the worker down
            result = RenderResult(
                job.id, job.language, Status.RUNTIME_ERROR,
                reason=truncate(f"renderer failure: {type(e).__name__}: {e}"),
            )  # fmt: skip
        finally:
            shutil.rmtree(job_dir, ignore_errors=True)
        return replace(
            result,
            id=job.id,
            language=job.language,
            reason=truncate(result.reason or ""),
            seconds=time.monotonic() - t0,
        )

    def close(self) -> None:
        for r in self.renderers.values():
            try:
                r.close()
            except Exception:  # noqa: BLE001
                traceback.print_exc()
        self.renderers.clear()


def preload() -> None:
    """Imports made before confinement: they read caches in the user's home (matplotlib's
    font list), which the sandbox hides."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    for name in (
        "numpy",
        "PIL.Image",
        "matplotlib.pyplot",
        "pymupdf",
        "resvg_py",
        "svg_turtle",
        "pyseccomp",
    ):
        try:
            __import__(name)
        except ImportError:
            continue


def main() -> int:
    # the protocol owns the real stdout; everything else printed goes to stderr (a log)
    proto_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    proto_in = sys.stdin.buffer
    config = receive(proto_in)
    workspace = config["workspace"]
    slot = None
    if config.get("cgroup"):
        slot = sandbox.CgroupSlot(config["cgroup"]["dirs"], config["cgroup"]["version"])
    preload()
    report = sandbox.SandboxReport()
    if config.get("confine", True):
        limits = sandbox.Limits(**config.get("limits", {}))
        report = sandbox.confine_worker(
            workspace, limits, cgroup=slot, cgroup_note=config.get("cgroup_note", "")
        )
    else:
        report.off("all", "confinement disabled")
    worker = Worker(
        workspace, confine=config.get("confine", True), oom_kills=slot.oom_kills if slot else None
    )
    for language in config.get("warm", []):
        worker.renderer(language)
    send(
        proto_out,
        {"ready": True, "pid": os.getpid(), "sandbox": report.mechanisms, "failed": worker.failed},
    )
    while True:
        try:
            msg = receive(proto_in)
        except EOFError:
            break
        if msg.get("stop"):
            break
        result = worker.render(job_from_wire(msg["job"]))
        try:
            send(proto_out, {"result": result_to_wire(result)})
        except BrokenPipeError:
            break  # the supervisor is gone
    worker.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
