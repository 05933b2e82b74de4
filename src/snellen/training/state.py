"""The state a training run saves so that a killed run, started again, continues exactly.

:class:`TrainingState` names the parts a trainer steps (the model, its optimizer, and where
it has them a learning-rate scheduler, an AMP grad scaler, its own torch generators and
``random.Random`` draws) and saves them, with the global random states (python ``random``,
numpy, torch on the CPU and, once CUDA is in use, every CUDA device) and the run's settings,
step and epoch, into one file written atomically (a temporary file beside it, then
``os.replace``): a run killed mid-write leaves the previous state whole. Resuming checks the
settings first (another run's state never silently continues), then restores every part.

A saved state is a dict: ``format``, ``config`` (the run's settings), ``model``,
``optimizer``, ``rng``, ``step``, ``epoch``, and where present ``scheduler``, ``scaler``,
``generators`` and ``randoms`` (by name), beside whatever else the trainer keeps in it.
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from snellen.errors import InputError

__all__ = [
    "STATE_FORMAT",
    "TrainingState",
    "atomic_save",
    "read_state",
    "rng_kept",
    "rng_state",
    "set_rng_state",
    "settings_diff",
]

#: what a file :meth:`TrainingState.save` wrote says it is
STATE_FORMAT = "snellen-training-state/1"


def atomic_save(obj: object, path: str | os.PathLike[str]) -> None:
    """``torch.save(obj)`` to ``path`` through a temporary file in the same folder and
    ``os.replace``: readers see the old file or the new one, never a torn one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def rng_state() -> dict[str, Any]:
    """The global random states: python ``random``, numpy, torch (CPU), and every CUDA
    device's once CUDA is in use (a process that never touched CUDA has drawn nothing
    from it)."""
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():  # type: ignore[no-untyped-call]
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Mapping[str, Any]) -> None:
    """Restore what :func:`rng_state` returned (the parts it holds)."""
    if "torch" in state:
        torch.set_rng_state(_cpu_bytes(state["torch"]))
    if "numpy" in state:
        np.random.set_state(state["numpy"])
    if "python" in state:
        random.setstate(state["python"])
    if state.get("cuda") is not None and torch.cuda.is_available():
        cuda = [_cpu_bytes(s) for s in state["cuda"]]
        torch.cuda.set_rng_state_all(cuda[: torch.cuda.device_count()])


def _cpu_bytes(value: Any) -> torch.Tensor:
    """A saved generator state as the CPU byte tensor torch takes (``torch.load`` with a
    ``map_location`` may have moved it)."""
    return torch.as_tensor(value).cpu()


@contextlib.contextmanager
def rng_kept() -> Iterator[None]:
    """Keep the global random states across a block (a monitor must not change training)."""
    state = rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


def settings_diff(saved: Mapping[str, Any] | None, wanted: Mapping[str, Any]) -> list[str]:
    """The names of the settings in which ``saved`` and ``wanted`` differ, sorted."""
    saved = saved or {}
    return sorted(k for k in {*saved, *wanted} if saved.get(k) != wanted.get(k))


def read_state(
    path: str | os.PathLike[str], *, map_location: Any = "cpu", hint: str = ""
) -> dict[str, Any]:
    """The training state saved at ``path``; a torn or foreign file is an ``InputError``
    that ends with ``hint`` (what to do about it)."""
    try:
        state = torch.load(path, map_location=map_location, weights_only=False)  # noqa: S614 - a state this program wrote holds its settings as Python objects
    except Exception as e:  # noqa: BLE001 - a torn or foreign file, whatever the unpickler says
        raise InputError(f"{path}: cannot read this training state ({e}); {hint}") from None
    if not isinstance(state, dict) or "model" not in state:
        raise InputError(f"{path}: not a training state (no model weights); {hint}")
    return state


@dataclass
class TrainingState:
    """The parts of a run that a resumed run must get back exactly (see the module doc)."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any = None  # a torch learning-rate scheduler
    scaler: Any = None  # a torch.amp.GradScaler
    generators: dict[str, torch.Generator] = field(default_factory=dict)
    randoms: dict[str, random.Random] = field(default_factory=dict)

    def state_dict(self) -> dict[str, Any]:
        """Every part's state and the global random states."""
        state: dict[str, Any] = {
            "format": STATE_FORMAT,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "rng": rng_state(),
        }
        if self.scheduler is not None:
            state["scheduler"] = self.scheduler.state_dict()
        if self.scaler is not None:
            state["scaler"] = self.scaler.state_dict()
        if self.generators:
            state["generators"] = {k: g.get_state() for k, g in self.generators.items()}
        if self.randoms:
            state["randoms"] = {k: r.getstate() for k, r in self.randoms.items()}
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore every part from ``state`` (as :meth:`state_dict` made it)."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        if self.scaler is not None:
            self.scaler.load_state_dict(state["scaler"])
        for name, gen in self.generators.items():
            gen.set_state(_cpu_bytes(state["generators"][name]))
        for name, rng in self.randoms.items():
            rng.setstate(state["randoms"][name])
        set_rng_state(state.get("rng") or {})

    def save(
        self, path: str | os.PathLike[str], *, settings: Mapping[str, Any], step: int,
        epoch: int, **extra: Any,
    ) -> None:  # fmt: skip
        """Write the state, the run's ``settings``, ``step``, ``epoch`` and ``extra`` (what
        else the trainer keeps) to ``path`` atomically."""
        state = self.state_dict()
        state.update(config=dict(settings), step=step, epoch=epoch, **extra)
        atomic_save(state, path)

    def resume(
        self, path: str | os.PathLike[str], *, settings: Mapping[str, Any],
        map_location: Any = "cpu", mismatch: str, hint: str,
        upgrade: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Restore the state saved at ``path`` and return it all. Saved settings other than
        ``settings`` are an ``InputError``: ``mismatch`` formatted with ``path`` and
        ``diff`` (the settings that differ); an unreadable file ends with ``hint``.
        ``upgrade`` turns a state an older layout wrote into this one."""
        state = read_state(path, map_location=map_location, hint=hint)
        if upgrade is not None:
            state = upgrade(state)
        diff = settings_diff(state.get("config"), settings)
        if diff:
            raise InputError(mismatch.format(path=path, diff=", ".join(diff)))
        self.load_state_dict(state)
        return state
