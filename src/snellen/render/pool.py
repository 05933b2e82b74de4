"""The supervisor: a pool of warm, confined worker processes behind one ``map`` method.

Each worker slot has a thread that feeds its worker one job at a time and waits for the
answer with a wall-clock deadline. A worker that misses the deadline, dies (a crash, a
program that killed it) or answers nonsense is killed together with everything in its
cgroup and replaced on the next job; the job gets a ``timeout`` or ``killed`` result with
the reason. Jobs and results are plain records, so another backend (Ray, a cluster) only
has to provide ``map``.
"""

from __future__ import annotations

import contextlib
import os
import queue
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol

from snellen.errors import SnellenError
from snellen.render import sandbox
from snellen.render.base import RenderJob, RenderResult, Status
from snellen.render.worker import Worker, job_to_wire, receive, result_from_wire, send

# Time a worker gets beyond a job's own timeout before the supervisor gives up on it;
# the first job of a language also pays for starting its renderer (a JVM, a TeX format).
GRACE_SECONDS = 10.0
START_SECONDS = 90.0
_ENV_KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "MPLCONFIGDIR", "JAVA_HOME", "TEXMFHOME", "TZ")


class Backend(Protocol):
    """What :func:`snellen.render.render_many` needs from an execution backend."""

    def map(self, jobs: Iterable[RenderJob]) -> Iterator[RenderResult]: ...

    def close(self) -> None: ...


def _feed(
    jobs: Iterable[RenderJob], todo: queue.Queue[RenderJob | None],
    done: queue.Queue[RenderResult | BaseException | None], stop: threading.Event, workers: int,
) -> None:  # fmt: skip
    """Hand ``jobs`` to the slots until they run out or ``stop`` is set, then one ``None``
    per slot; an error from the jobs' iterator goes to the caller through ``done``."""
    try:
        for job in jobs:
            while not stop.is_set():
                try:
                    todo.put(job, timeout=0.2)
                    break
                except queue.Full:
                    continue
            if stop.is_set():
                return
    except BaseException as e:  # noqa: BLE001 - surface the input's error to the caller
        done.put(e)
    finally:
        for _ in range(workers):
            todo.put(None)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))


def _worker_env(workspace: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _ENV_KEEP}
    env.update(
        TMPDIR=workspace,
        MPLBACKEND="Agg",
        OPENBLAS_NUM_THREADS="1",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
    )
    return env


def sweep_workspaces() -> None:
    """Remove the workspaces of supervisors that were killed (``kill -9`` leaves them)."""
    for d in Path(tempfile.gettempdir()).glob("snellen-render-*-*"):
        pid = d.name.split("-")[2]
        if pid.isdigit() and int(pid) != os.getpid() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(d, ignore_errors=True)


class WorkerProcess:
    """The supervisor's handle on one worker process (and its cgroup slot)."""

    def __init__(
        self, name: str, root: str, *, confine: bool, limits: sandbox.Limits, warm: list[str]
    ) -> None:
        self.name = name
        self.workspace = os.path.join(root, name)
        os.makedirs(self.workspace, mode=0o700, exist_ok=True)
        self.log_path = os.path.join(root, f"{name}.log")
        self.slot: sandbox.CgroupSlot | None = None
        note = ""
        if confine:
            self.slot, note = sandbox.CgroupSlot.create(f"snellen-{os.getpid()}-{name}", limits)
        try:
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(
                    [sys.executable, "-m", "snellen.render.worker"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                    env=_worker_env(self.workspace), cwd=self.workspace, start_new_session=True,
                )  # fmt: skip
        except BaseException:
            # no worker came up: its cgroup slot would outlive it (nothing else removes it)
            if self.slot is not None:
                self.slot.remove()
                self.slot = None
            raise
        assert self.proc.stdin and self.proc.stdout  # noqa: S101 - an invariant that narrows the type, not a check of input
        self.started: set[str] = set(warm)
        config = {
            "workspace": self.workspace,
            "confine": confine,
            "limits": asdict(limits),
            "cgroup": {"dirs": self.slot.dirs, "version": self.slot.version} if self.slot else None,
            "cgroup_note": note,
            "warm": warm,
        }
        send(self.proc.stdin, config)
        hello = self._read(START_SECONDS + 60 * len(warm))
        if hello is None or not hello.get("ready"):
            tail = self.log_tail()
            self.kill()
            raise SnellenError(f"a render worker failed to start:\n{tail}")
        self.sandbox: dict[str, str] = hello["sandbox"]
        self.failed: dict[str, str] = hello.get("failed", {})

    def log_tail(self, n: int = 3000) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(max(0, os.path.getsize(self.log_path) - n))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _read(self, timeout: float) -> dict[str, Any] | None:
        """The next message, or None when none came in time or the worker died."""
        assert self.proc.stdout  # noqa: S101 - an invariant that narrows the type, not a check of input
        fd = self.proc.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], max(timeout, 0))
        if not ready:
            return None
        try:
            return receive(self.proc.stdout)
        except (EOFError, ValueError, OSError):
            return None

    def alive(self) -> bool:
        return self.proc.poll() is None

    def run(self, job: RenderJob) -> RenderResult:
        t0 = time.monotonic()
        ooms = self.slot.oom_kills() if self.slot else 0
        # each fallback assembly (tried only after a compile error) may take its own timeout
        budget = job.timeout * (1 + len(job.fallbacks)) + GRACE_SECONDS
        if job.language not in self.started:
            budget += START_SECONDS
        assert self.proc.stdin  # noqa: S101 - an invariant that narrows the type, not a check of input
        try:
            send(self.proc.stdin, {"job": job_to_wire(job)})
            msg = self._read(budget)
        except (BrokenPipeError, OSError):
            msg = None
        self.started.add(job.language)
        if msg is not None and "result" in msg:
            try:
                return result_from_wire(msg["result"])
            except (KeyError, TypeError, ValueError):
                pass
        seconds = time.monotonic() - t0
        alive = self.alive()
        self.kill()
        if alive and seconds >= budget - 0.5:
            status, reason = (
                Status.TIMEOUT,
                f"no answer within {budget:g} s; the worker was restarted",
            )
        elif self.slot and self.slot.oom_kills() > ooms:
            status, reason = Status.MEMORY, "the memory limit killed the worker; it was restarted"
        else:
            code = self.proc.returncode
            how = f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"
            status, reason = (
                Status.KILLED,
                f"the worker died ({how}) while rendering; it was restarted",
            )
        return RenderResult(job.id, job.language, status, reason=reason, seconds=seconds)

    def kill(self) -> None:
        if self.slot:
            self.slot.kill_all()
        sandbox.stop_process(self.proc)
        if self.slot:
            self.slot.remove()
            self.slot = None
        shutil.rmtree(self.workspace, ignore_errors=True)

    def stop(self) -> None:
        if self.alive():
            with contextlib.suppress(Exception):
                assert self.proc.stdin  # noqa: S101 - an invariant that narrows the type, not a check of input
                send(self.proc.stdin, {"stop": True})
                self.proc.wait(timeout=10)
        self.kill()


class LocalPool:
    """Warm confined workers on this machine (one per core by default).

    >>> with LocalPool(workers=2) as pool:  # doctest: +SKIP
    ...     for result in pool.map(jobs): ...
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        confine: bool = True,
        limits: sandbox.Limits | None = None,
        warm: Iterable[str] = (),
    ) -> None:
        self.workers = workers or default_workers()
        self.confine = confine
        self.limits = limits or sandbox.Limits()
        self.warm = list(warm)
        sweep_workspaces()
        self.root = tempfile.mkdtemp(prefix=f"snellen-render-{os.getpid()}-")
        if confine:
            sandbox.CgroupSlot.sweep()
        self._procs: list[WorkerProcess | None] = [None] * self.workers
        self._generation = 0
        self._lock = threading.Lock()
        self.sandbox: dict[str, str] = {}
        self.restarts = 0

    # -- worker lifecycle ------------------------------------------------------------
    def _worker(self, i: int) -> WorkerProcess:
        w = self._procs[i]
        if w is not None and w.alive():
            return w
        if w is not None:
            w.kill()
            self.restarts += 1
        with self._lock:
            self._generation += 1
            name = f"w{i}-{self._generation}"
        w = WorkerProcess(name, self.root, confine=self.confine, limits=self.limits, warm=self.warm)
        self.sandbox = w.sandbox
        self._procs[i] = w
        return w

    def _discard(self, i: int) -> None:
        """Kill worker ``i`` after a failure of the supervisor's own, whatever state it is in."""
        w = self._procs[i]
        self._procs[i] = None
        if w is not None:
            with contextlib.suppress(Exception):
                w.kill()
            self.restarts += 1

    def start(self) -> LocalPool:
        """Start every worker now (otherwise each starts with its first job)."""
        threads = [threading.Thread(target=self._worker, args=(i,)) for i in range(self.workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return self

    # -- running -----------------------------------------------------------------------
    def render(self, job: RenderJob) -> RenderResult:
        return next(iter(self.map([job])))

    def map(self, jobs: Iterable[RenderJob]) -> Iterator[RenderResult]:
        """Render ``jobs``, yielding results as they finish (not in input order)."""
        todo: queue.Queue[RenderJob | None] = queue.Queue(maxsize=2 * self.workers)
        done: queue.Queue[RenderResult | BaseException | None] = queue.Queue()
        stop = threading.Event()

        def slot(i: int) -> None:
            try:
                while not stop.is_set():
                    job = todo.get()
                    if job is None:
                        break
                    done.put(self._render(i, job))
            finally:
                done.put(None)

        threads = [
            threading.Thread(target=_feed, args=(jobs, todo, done, stop, self.workers), daemon=True)
        ]
        threads += [
            threading.Thread(target=slot, args=(i,), daemon=True) for i in range(self.workers)
        ]
        for t in threads:
            t.start()
        finished = 0
        try:
            while finished < self.workers:
                item = done.get()
                if item is None:
                    finished += 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    yield item
        finally:
            stop.set()
            with contextlib.suppress(queue.Empty):
                while True:
                    todo.get_nowait()
            for t in threads[1:]:
                t.join(timeout=0.1)

    def _render(self, i: int, job: RenderJob) -> RenderResult:
        """``job`` on slot ``i``'s worker; every job ends with a result, a failure included."""
        try:
            return self._worker(i).run(job)
        except SnellenError as e:
            return RenderResult(job.id, job.language, Status.KILLED, reason=str(e))
        except Exception as e:  # noqa: BLE001 - every job must end with a record
            # An OSError from Popen, a BrokenPipeError from a half-dead worker: drop the
            # worker (the next job starts a fresh one) and record why.
            self._discard(i)
            return RenderResult(
                job.id, job.language, Status.KILLED,
                reason=f"the render worker failed ({type(e).__name__}: {e}); it was restarted",
            )  # fmt: skip

    def close(self) -> None:
        for i, w in enumerate(self._procs):
            if w is not None:
                w.stop()
                self._procs[i] = None
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InProcess:
    """Renderers in the calling process, unconfined: for measuring what the sandbox costs
    and for debugging a renderer. Never use it for untrusted programs."""

    def __init__(self) -> None:
        self.root = tempfile.mkdtemp(prefix=f"snellen-render-{os.getpid()}-")
        self.worker = Worker(self.root, confine=False)
        self.sandbox = {"all": "off: in-process, unconfined"}

    def map(self, jobs: Iterable[RenderJob]) -> Iterator[RenderResult]:
        for job in jobs:
            yield self.worker.render(job)

    def render(self, job: RenderJob) -> RenderResult:
        return self.worker.render(job)

    def close(self) -> None:
        self.worker.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> InProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
