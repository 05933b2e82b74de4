"""How a local engine shares the CPU with other work.

llama.cpp's portable build parallelises with OpenMP. GNU OpenMP's default wait policy spins
at every barrier for a while before sleeping; with more runnable threads than cores (LENS
beside a training job, render workers, a second experiment) the spinning threads take the
cores from the very thread they wait for, and a reply takes many times its fair share
(measured in ``benchmarks/llm.py``: see docs/llm.md). A passive wait policy sleeps instead.
The policy is read once, when the OpenMP runtime loads, so it must be in the environment
before the engine's library is imported: the isolated model worker gets it in its
environment, and an in-process load sets it just before the import.

The thread count comes from the CPUs this process may use minus the ones other work keeps
busy (the one-minute load average), so a busy machine gets one thread and an idle one all.
"""

from __future__ import annotations

import os
import sys

__all__ = ["WAIT_POLICIES", "free_cpus", "omp_environment", "apply_wait_policy", "auto_threads"]

WAIT_POLICIES = ("passive", "active")


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def free_cpus(load: float | None = None) -> int:
    """Usable CPUs minus the load other work puts on them (at least one)."""
    cpus = usable_cpus()
    if load is None:
        try:
            load = os.getloadavg()[0]
        except OSError:
            load = 0.0
    return max(1, min(cpus, cpus - int(load + 0.5)))


def auto_threads(requested: int | None = None) -> int:
    """``requested`` when given, else the free CPUs."""
    if requested:
        if requested < 1:
            raise ValueError(f"threads must be 1 or more, not {requested}")
        return requested
    return free_cpus()


def omp_environment(policy: str = "passive") -> dict[str, str]:
    """The OpenMP variables for ``policy``; variables the user already set are kept."""
    if policy not in WAIT_POLICIES:
        raise ValueError(f"unknown wait policy {policy!r}; use one of {', '.join(WAIT_POLICIES)}")
    wanted = (
        {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "0"}
        if policy == "passive"
        else {"OMP_WAIT_POLICY": "ACTIVE"}
    )
    return {k: v for k, v in wanted.items() if k not in os.environ}


def apply_wait_policy(policy: str = "passive", module: str = "llama_cpp") -> bool:
    """Put ``policy`` into this process's environment before ``module`` loads; False when
    the module is already imported (then the runtime has read its policy already)."""
    if module in sys.modules:
        return False
    os.environ.update(omp_environment(policy))
    return True
