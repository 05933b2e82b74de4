"""Confinement for processes that run untrusted drawing programs.

Two layers, both built from kernel mechanisms that need no helper binary:

* :func:`confine_worker` confines a whole warm worker process once, at start-up, before it
  runs any program. Everything the worker later starts (a forked Python child, ``pdflatex``,
  a JVM) inherits it and cannot undo it:

  - **cgroup** (:class:`CgroupSlot`, created by the supervisor): ``pids.max`` stops fork
    bombs (RLIMIT_NPROC does not bind root), the memory limit OOM-kills a runaway JVM;
    the supervisor kills every process of the slot when it retires a worker.
  - **network namespace**: a fresh, empty one (loopback down): no host or loopback sockets.
  - **capabilities** dropped (bounding set and effective/permitted sets) and
    ``no_new_privs`` set: a program cannot regain root powers, mount, load modules.
  - **rlimits**: no core dumps, bounded file size and open files.
  - **Landlock**: read-only access to the system paths interpreters, the JVM and TeX need
    (:func:`default_read_paths`), read-write access to the worker's workspace only, no TCP
    bind/connect, and (kernel ABI 6+) no signals or abstract sockets outside the sandbox.
  - **seccomp**: no socket except AF_UNIX, no ptrace, mount, namespaces, bpf, perf, kexec,
    modules, keyrings, ``kill`` of process groups.

* :class:`JobSandbox` adds a tighter layer inside a forked per-program child (the Python
  languages): CPU-seconds and address-space limits, Landlock write access to the job's own
  directory only, and seccomp that forbids ``execve``, ``fork`` and every socket. It is
  prepared once in the worker; :meth:`JobSandbox.apply` switches it on in each child and
  returns the layers it applied (the renderer keeps them, see ``ForkingRenderer.job_layers``).

Every mechanism degrades gracefully: when the kernel or the machine lacks one, it is
skipped and the returned :class:`SandboxReport` says so (the report goes into the run
manifest). A child process that a confined worker spawns, such as a JVM, needs nothing
extra; to give it its own rlimits pass ``preexec_fn=rlimit_preexec(limits)`` to
:class:`subprocess.Popen`.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import glob
import os
import resource
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MiB = 1024 * 1024
GiB = 1024 * MiB


@dataclass(frozen=True)
class Limits:
    """Resource limits. ``None`` means "leave as it is".

    ``address_space`` suits Python children only: a JVM reserves far more virtual memory
    than it uses, so bound it with ``memory`` (a cgroup) and ``-Xmx`` instead.
    """

    cpu_seconds: int | None = None
    address_space: int | None = None
    memory: int | None = 4 * GiB
    processes: int | None = 256
    file_size: int | None = 64 * MiB
    open_files: int | None = 1024


@dataclass
class SandboxReport:
    """Which mechanisms are in force: mechanism name -> "on" or why it is off."""

    mechanisms: dict[str, str] = field(default_factory=dict)

    def on(self, name: str, detail: str = "on") -> None:
        self.mechanisms[name] = detail

    def off(self, name: str, why: str) -> None:
        self.mechanisms[name] = f"off: {why}"

    @property
    def active(self) -> list[str]:
        return [k for k, v in self.mechanisms.items() if not v.startswith("off")]


# -- libc ------------------------------------------------------------------------------
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.prctl.restype = ctypes.c_int

_SYS = {  # syscall numbers of the generic table (x86_64 and aarch64 share these three)
    "landlock_create_ruleset": 444,
    "landlock_add_rule": 445,
    "landlock_restrict_self": 446,
}
_CLONE_NEWNET = 0x40000000
_CLONE_THREAD = 0x00010000
_PR_SET_NO_NEW_PRIVS = 38
_PR_CAPBSET_DROP = 24
_PR_SET_PDEATHSIG = 1


def _errno_message(what: str) -> str:
    e = ctypes.get_errno()
    return f"{what}: {os.strerror(e)}"


def set_no_new_privs() -> None:
    if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), _errno_message("prctl(NO_NEW_PRIVS)"))


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Ask the kernel to kill this process when its parent dies (no orphaned workers)."""
    _libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL a child started in its own session (its whole process group), reap it and
    close its pipes; safe to call on a process that already died."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        proc.kill()
    with contextlib.suppress(Exception):
        proc.wait(timeout=10)
    for stream in (proc.stdin, proc.stdout):
        with contextlib.suppress(Exception):
            stream.close()  # type: ignore[union-attr]


# -- rlimits ---------------------------------------------------------------------------
def apply_rlimits(limits: Limits) -> list[str]:
    """Set the rlimits ``limits`` asks for (only ever lowering them); returns their names."""
    wanted: list[tuple[str, int, int | None]] = [
        ("core", resource.RLIMIT_CORE, 0),
        ("cpu", resource.RLIMIT_CPU, limits.cpu_seconds),
        ("as", resource.RLIMIT_AS, limits.address_space),
        ("fsize", resource.RLIMIT_FSIZE, limits.file_size),
        ("nofile", resource.RLIMIT_NOFILE, limits.open_files),
        ("nproc", resource.RLIMIT_NPROC, limits.processes),
    ]
    done = []
    for name, which, value in wanted:
        if value is None:
            continue
        soft, hard = resource.getrlimit(which)
        new_hard = value if hard == resource.RLIM_INFINITY else min(hard, value)
        # CPU: the soft limit sends SIGXCPU first; the hard one a second later is SIGKILL.
        new_soft = min(value, new_hard)
        if which == resource.RLIMIT_CPU and new_hard != resource.RLIM_INFINITY:
            new_hard = new_hard + 1 if hard == resource.RLIM_INFINITY else new_hard
        resource.setrlimit(which, (new_soft, new_hard))
        done.append(name)
    return done


def rlimit_preexec(limits: Limits) -> Callable[[], None]:
    """A ``preexec_fn`` for :class:`subprocess.Popen` that applies ``limits`` as rlimits."""

    def _apply() -> None:
        apply_rlimits(limits)

    return _apply


# -- cgroups ---------------------------------------------------------------------------
def _cgroup_mounts() -> dict[str, str]:
    """controller -> mount point (v1), plus "unified" -> mount point of cgroup2."""
    out: dict[str, str] = {}
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        pre, _, post = line.partition(" - ")
        fields = pre.split()
        fstype, _src, *rest = post.split()
        mountpoint = fields[4]
        if fstype == "cgroup2":
            out.setdefault("unified", mountpoint)
        elif fstype == "cgroup":
            for opt in (rest[0] if rest else "").split(","):
                if opt in ("pids", "memory"):
                    out[opt] = mountpoint
    return out


def _own_cgroup_paths() -> dict[str, str]:
    out: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if controllers == "":
                out["unified"] = path
            for c in controllers.split(","):
                out[c] = path
    return out


class CgroupSlot:
    """A cgroup (v1 pids+memory, or v2) for one worker and everything it starts.

    Created by the (unconfined) supervisor, nested under the supervisor's own cgroup so
    that limits set on it by the machine still apply; joined by the worker itself.
    """

    def __init__(self, dirs: dict[str, str], version: int) -> None:
        self.dirs = dirs  # controller ("pids", "memory" or "unified") -> directory
        self.version = version

    @classmethod
    def create(cls, name: str, limits: Limits) -> tuple[CgroupSlot | None, str]:
        """Make the slot; returns ``(slot, "")`` or ``(None, why not)``."""
        mounts = _cgroup_mounts()
        own = _own_cgroup_paths()
        dirs: dict[str, str] = {}
        errors = []
        if "pids" in mounts or "memory" in mounts:
            for ctrl in ("pids", "memory"):
                if ctrl not in mounts:
                    errors.append(f"no {ctrl} controller")
                    continue
                d = os.path.join(mounts[ctrl], own.get(ctrl, "/").lstrip("/"), name)
                try:
                    os.makedirs(d, exist_ok=True)
                    if ctrl == "pids" and limits.processes:
                        Path(d, "pids.max").write_text(str(limits.processes))
                    if ctrl == "memory" and limits.memory:
                        Path(d, "memory.limit_in_bytes").write_text(str(limits.memory))
                    dirs[ctrl] = d
                except OSError as e:
                    errors.append(f"{ctrl}: {e.strerror}")
            if dirs:
                return cls(dirs, 1), "; ".join(errors)
            return None, "; ".join(errors) or "cgroup v1 not writable"
        if "unified" in mounts:
            parent = os.path.join(mounts["unified"], own.get("unified", "/").lstrip("/"))
            d = os.path.join(parent, name)
            try:
                os.makedirs(d, exist_ok=True)
                controllers = Path(d, "cgroup.controllers").read_text().split()
                if limits.processes and "pids" in controllers:
                    Path(d, "pids.max").write_text(str(limits.processes))
                if limits.memory and "memory" in controllers:
                    Path(d, "memory.max").write_text(str(limits.memory))
                missing = {"pids", "memory"} - set(controllers)
                if missing:
                    errors.append("controllers not delegated: " + ", ".join(sorted(missing)))
                return cls({"unified": d}, 2), "; ".join(errors)
            except OSError as e:
                return None, f"cgroup v2 not writable: {e.strerror}"
        return None, "no cgroup file system"

    @staticmethod
    def sweep(prefix: str = "snellen-") -> int:
        """Remove empty slots left behind by supervisors that were killed; returns how many."""
        removed = 0
        mounts = _cgroup_mounts()
        own = _own_cgroup_paths()
        for ctrl, mount in mounts.items():
            parent = os.path.join(mount, own.get(ctrl, "/").lstrip("/"))
            for d in glob.glob(os.path.join(parent, prefix + "*")):
                try:
                    owner = int(os.path.basename(d)[len(prefix) :].split("-", 1)[0])
                except ValueError:
                    continue
                if owner != os.getpid() and not os.path.exists(f"/proc/{owner}"):
                    with contextlib.suppress(OSError):
                        os.rmdir(d)
                        removed += 1
        return removed

    def join(self, pid: int = 0) -> None:
        pid = pid or os.getpid()
        for d in self.dirs.values():
            Path(d, "cgroup.procs").write_text(str(pid))

    def describe(self) -> str:
        parts = []
        for d in self.dirs.values():
            for f in ("pids.max", "memory.limit_in_bytes", "memory.max"):
                p = Path(d, f)
                if p.exists():
                    with contextlib.suppress(OSError):
                        parts.append(f"{f}={p.read_text().strip()}")
        return f"v{self.version} " + " ".join(parts)

    def pids(self) -> list[int]:
        out: set[int] = set()
        for d in self.dirs.values():
            with contextlib.suppress(OSError):
                out.update(int(x) for x in Path(d, "cgroup.procs").read_text().split())
        return sorted(out)

    def oom_kills(self) -> int:
        """How many processes the memory limit has killed so far."""
        for d in self.dirs.values():
            for f in ("memory.oom_control", "memory.events"):
                with contextlib.suppress(OSError):
                    for line in Path(d, f).read_text().splitlines():
                        key, _, value = line.partition(" ")
                        if key == "oom_kill":
                            return int(value)
        return 0

    def kill_all(self) -> None:
        """SIGKILL every process in the slot (a retired worker's JVM, pdflatex, children)."""
        for d in self.dirs.values():
            kill_file = Path(d, "cgroup.kill")
            if kill_file.exists():
                with contextlib.suppress(OSError):
                    kill_file.write_text("1")
        for _ in range(50):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            os.sched_yield()

    def remove(self) -> None:
        self.kill_all()
        for d in self.dirs.values():
            for _ in range(100):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    self.kill_all()
                    time.sleep(0.01)


# -- network namespace -----------------------------------------------------------------
def unshare_network() -> None:
    """Move this process into a new, empty network namespace (needs CAP_SYS_ADMIN)."""
    if _libc.unshare(_CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), _errno_message("unshare(CLONE_NEWNET)"))


# -- capabilities ----------------------------------------------------------------------
class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def drop_capabilities() -> None:
    """Drop every capability, including from the bounding set, so exec cannot regain them."""
    try:
        last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    except OSError:
        last = 40
    for cap in range(last + 1):
        _libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    if _libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), _errno_message("capset"))


# -- Landlock --------------------------------------------------------------------------
_FS_EXECUTE = 1 << 0
_FS_WRITE_FILE = 1 << 1
_FS_READ_FILE = 1 << 2
_FS_READ_DIR = 1 << 3
_FS_REFER = 1 << 13
_FS_TRUNCATE = 1 << 14
_FS_IOCTL_DEV = 1 << 15
_NET_BIND_TCP = 1 << 0
_NET_CONNECT_TCP = 1 << 1
_SCOPE_ABSTRACT_UNIX = 1 << 0
_SCOPE_SIGNAL = 1 << 1
_FILE_RIGHTS = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, or 0 when Landlock is unavailable."""
    v = _libc.syscall(_SYS["landlock_create_ruleset"], None, ctypes.c_size_t(0), 1)
    return max(int(v), 0)


def _fs_rights(abi: int) -> int:
    rights = (1 << 13) - 1  # ABI 1: EXECUTE .. MAKE_SYM
    if abi >= 2:
        rights |= _FS_REFER
    if abi >= 3:
        rights |= _FS_TRUNCATE
    if abi >= 5:
        rights |= _FS_IOCTL_DEV
    return rights


def landlock_ruleset(
    read: Iterable[str], write: Iterable[str], *, deny_tcp: bool = True, scope: bool = True
) -> tuple[int, str]:
    """A Landlock ruleset fd allowing only reading ``read`` and reading+writing ``write``
    (files or directory trees), denying TCP bind/connect and (when ``scope``) signals and
    abstract sockets leaving the sandbox; plus a short description. Enforce it with
    :func:`landlock_enforce` (in this process or in a forked child)."""
    abi = landlock_abi()
    if abi < 1:
        raise OSError(errno.ENOSYS, "Landlock is not available in this kernel")
    handled = _fs_rights(abi)
    sizes = {1: 8, 2: 8, 3: 8, 4: 16, 5: 16}
    attr = _RulesetAttr(handled, 0, 0)
    if deny_tcp and abi >= 4:
        attr.handled_access_net = _NET_BIND_TCP | _NET_CONNECT_TCP
    if scope and abi >= 6:
        attr.scoped = _SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL
    size = sizes.get(abi, ctypes.sizeof(_RulesetAttr))
    fd = _libc.syscall(
        _SYS["landlock_create_ruleset"], ctypes.byref(attr), ctypes.c_size_t(size), 0
    )
    if fd < 0:
        raise OSError(ctypes.get_errno(), _errno_message("landlock_create_ruleset"))
    read_rights = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR
    rules = 0
    try:
        for paths, rights in ((read, read_rights), (write, handled)):
            for p in paths:
                try:
                    pfd = os.open(p, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue
                try:
                    allowed = rights
                    if not os.path.isdir(p):
                        allowed &= _FILE_RIGHTS
                        if p == os.devnull:
                            allowed |= _FS_WRITE_FILE | (_FS_TRUNCATE if abi >= 3 else 0)
                    allowed &= handled
                    rule = _PathBeneathAttr(allowed, pfd)
                    if _libc.syscall(_SYS["landlock_add_rule"], fd, 1, ctypes.byref(rule), 0) != 0:
                        raise OSError(ctypes.get_errno(), _errno_message(f"landlock_add_rule {p}"))
                    rules += 1
                finally:
                    os.close(pfd)
    except BaseException:
        os.close(fd)
        raise
    extras = []
    if attr.handled_access_net:
        extras.append("no TCP")
    if attr.scoped:
        extras.append("signals scoped")
    return fd, f"ABI {abi}, {rules} rules" + (", " + ", ".join(extras) if extras else "")


def landlock_enforce(ruleset_fd: int) -> None:
    """Restrict the calling process (and all it starts) to a ruleset."""
    set_no_new_privs()
    if _libc.syscall(_SYS["landlock_restrict_self"], ruleset_fd, 0) != 0:
        raise OSError(ctypes.get_errno(), _errno_message("landlock_restrict_self"))


def landlock_restrict(
    read: Iterable[str], write: Iterable[str], *, deny_tcp: bool = True, scope: bool = True
) -> str:
    """Build a ruleset (see :func:`landlock_ruleset`) and enforce it on this process."""
    fd, description = landlock_ruleset(read, write, deny_tcp=deny_tcp, scope=scope)
    try:
        landlock_enforce(fd)
    finally:
        os.close(fd)
    return description


def _python_paths() -> list[str]:
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    paths.add(os.path.dirname(os.path.realpath(sys.executable)))
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        with contextlib.suppress(KeyError):
            paths.add(sysconfig.get_paths()[key])
    for entry in sys.path:
        # site-packages and the like, but never a source checkout as a whole
        if (
            entry
            and os.path.isdir(entry)
            and ("site-packages" in entry or entry.startswith(sys.base_prefix))
        ):
            paths.add(entry)
    # the snellen package itself (this file is snellen/render/sandbox.py)
    paths.add(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return sorted(paths)


_SYSTEM_READ = (
    "/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32",
    "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives",
    "/etc/fonts", "/etc/texmf", "/etc/localtime", "/var/lib/texmf", "/var/cache/fontconfig",
    "/usr/share/fonts", "/proc", "/sys",
    "/dev/urandom", "/dev/random", "/dev/zero", "/dev/null",
)  # fmt: skip


def default_read_paths(extra: Iterable[str] = ()) -> list[str]:
    """System paths a confined program may read: libraries, fonts, TeX trees, the JDK's
    configuration, the Python installation and its packages (never /etc/passwd, /root,
    /home, /tmp or a source checkout)."""
    paths = list(_SYSTEM_READ)
    paths += glob.glob("/etc/java-*")
    paths += _python_paths()
    paths += list(extra)
    return [p for p in dict.fromkeys(paths) if os.path.exists(p)]


# -- seccomp ---------------------------------------------------------------------------
_ALWAYS_DENIED = (
    "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root",
    "chroot", "unshare", "setns", "bpf", "perf_event_open", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module", "reboot", "swapon", "swapoff",
    "open_by_handle_at", "name_to_handle_at", "keyctl", "add_key", "request_key",
    "userfaultfd", "acct", "quotactl", "settimeofday", "clock_settime", "adjtimex",
    "sethostname", "setdomainname", "iopl", "ioperm", "fanotify_init", "lookup_dcookie",
    "move_mount", "open_tree", "fsopen", "fsmount", "fspick", "mount_setattr", "syslog",
    "io_uring_setup", "personality",
)  # fmt: skip


def _deny(f: Any, name: str, err: int = errno.EPERM, *args: Any) -> bool:
    import pyseccomp as sc

    try:
        f.add_rule(sc.ERRNO(err), name, *args)
        return True
    except (OSError, ValueError, RuntimeError):
        return False  # a syscall this architecture does not have


def seccomp_worker_filter() -> str:
    """Deny what no renderer needs: non-AF_UNIX sockets, tracing, namespaces, mounts, kernel
    interfaces, and ``kill`` aimed at a process group or at every process."""
    import pyseccomp as sc

    f = sc.SyscallFilter(sc.ALLOW)
    n = sum(_deny(f, name) for name in _ALWAYS_DENIED)
    n += _deny(f, "socket", errno.EACCES, sc.Arg(0, sc.NE, socket.AF_UNIX))
    for name in ("kill",):
        n += _deny(f, name, errno.EPERM, sc.Arg(0, sc.EQ, 0))
        n += _deny(f, name, errno.EPERM, sc.Arg(0, sc.MASKED_EQ, 0x80000000, 0x80000000))
    # clone with a namespace flag (NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET)
    for flag in (0x20000, 0x2000000, 0x4000000, 0x8000000, 0x10000000, 0x20000000, 0x40000000):
        n += _deny(f, "clone", errno.EPERM, sc.Arg(0, sc.MASKED_EQ, flag, flag))
    f.load()
    return f"{n} rules"


def _job_filter() -> Any:
    import pyseccomp as sc

    f = sc.SyscallFilter(sc.ALLOW)
    for name in ("execve", "execveat", "fork", "vfork", "socket", "socketpair", "kill", "tkill"):
        _deny(f, name)
    # clone3 hides its flags in memory the filter cannot read: make libc fall back to clone
    _deny(f, "clone3", errno.ENOSYS)
    _deny(f, "clone", errno.EPERM, sc.Arg(0, sc.MASKED_EQ, _CLONE_THREAD, 0))
    return f


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def load_bpf(program: bytes) -> None:
    """Install a seccomp BPF program exported earlier (cheap: nothing is compiled)."""
    buf = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
    set_no_new_privs()
    if _libc.prctl(22, 2, ctypes.byref(prog), 0, 0) != 0:  # PR_SET_SECCOMP, MODE_FILTER
        raise OSError(ctypes.get_errno(), _errno_message("prctl(PR_SET_SECCOMP)"))


class JobSandbox:
    """The per-program layer, prepared once in a worker and applied in each forked child
    at almost no cost: a Landlock ruleset (write access below ``jobs_root`` only) and a
    compiled seccomp program."""

    def __init__(self, jobs_root: str, extra_read: Iterable[str] = ()) -> None:
        self.ruleset_fd = -1
        self.bpf: bytes | None = None
        self.notes: dict[str, str] = {}
        try:
            self.ruleset_fd, _ = landlock_ruleset(default_read_paths(extra_read), [jobs_root])
        except OSError as e:
            self.notes["landlock"] = f"off: {e.strerror or e}"
        try:
            import tempfile

            with tempfile.TemporaryFile() as f:
                _job_filter().export_bpf(f)
                f.seek(0)
                self.bpf = f.read()
        except (ImportError, OSError, RuntimeError) as e:
            self.notes["seccomp"] = f"off: {e}"

    def apply(self, limits: Limits) -> list[str]:
        """In the child: rlimits, then Landlock, then seccomp. Returns the layers applied."""
        applied = []
        with contextlib.suppress(OSError, ValueError):
            apply_rlimits(limits)
            applied.append("rlimits")
        if self.ruleset_fd >= 0:
            with contextlib.suppress(OSError):
                landlock_enforce(self.ruleset_fd)
                applied.append("landlock")
        if self.bpf:
            with contextlib.suppress(OSError):
                load_bpf(self.bpf)
                applied.append("seccomp")
        return applied


# -- the two entry points --------------------------------------------------------------
def confine_worker(
    workspace: str,
    limits: Limits = Limits(),
    *,
    cgroup: CgroupSlot | None = None,
    cgroup_note: str = "",
    extra_read: Iterable[str] = (),
    network: bool = False,
) -> SandboxReport:
    """Confine the calling process (a warm worker) for the rest of its life. Irreversible.

    Call it after the worker has imported what it needs and before it runs any program.
    ``workspace`` becomes the only writable directory.
    """
    report = SandboxReport()
    os.makedirs(workspace, exist_ok=True)
    if cgroup is not None:
        try:
            cgroup.join()
            report.on("cgroup", cgroup.describe() + (f" ({cgroup_note})" if cgroup_note else ""))
        except OSError as e:
            report.off("cgroup", f"cannot join: {e.strerror}")
    else:
        report.off("cgroup", cgroup_note or "no cgroup slot")
    if network:
        report.off("netns", "network allowed by configuration")
    else:
        try:
            unshare_network()
            report.on("netns", "new empty network namespace")
        except OSError as e:
            report.off("netns", e.strerror or str(e))
    try:
        report.on("rlimits", ",".join(apply_rlimits(limits)))
    except (OSError, ValueError) as e:
        report.off("rlimits", str(e))
    try:
        drop_capabilities()
        report.on("capabilities", "all dropped")
    except OSError as e:
        report.off("capabilities", e.strerror or str(e))
    try:
        report.on(
            "landlock",
            landlock_restrict(default_read_paths(extra_read), [workspace], deny_tcp=not network),
        )
    except OSError as e:
        report.off("landlock", e.strerror or str(e))
    try:
        report.on("seccomp", seccomp_worker_filter())
    except (ImportError, OSError, RuntimeError) as e:
        report.off("seccomp", str(e))
    if os.geteuid() == 0:
        report.off(
            "uid",
            "runs as root: the interpreter or its packages may not be readable by another user",
        )
    return report
