"""The one learning-rate schedule of snellen's trainers (ShapesCLIP training, NegCLIP
fine-tuning, MoCo pre-training), and fitting it to a wall-clock budget.

Linear warm-up to the peak, then a cosine decay to 0 (:func:`warmup_cosine`; as a multiplier
of the peak for torch's ``LambdaLR``: :func:`warmup_cosine_factor`). With a time budget
(``--max-minutes``; ShapesCLIP training and NegCLIP fine-tuning)
the trainer first times a few steps, estimates how many steps the budget holds
(:func:`fit_steps`), and sets the schedule's length to that, so a time-limited run warms up,
decays and ends annealed instead of being cut off part-way (a fixed 750-step schedule
stopped by the clock after 60 steps never leaves its warm-up). On a shared machine the speed
changes under other jobs, so :class:`StepTimer` re-estimates every ``refit_every`` steps from
the average speed since the probe began (the schedule lengthens up to the planned steps or
shortens); and the decay follows the clock as well (``time_progress``), so the run still
ends at a learning rate near 0 when its time is up.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch

__all__ = [
    "BudgetFit",
    "StepTimer",
    "fit_steps",
    "set_lr",
    "warmup_cosine",
    "warmup_cosine_factor",
]

# the warm-up of a schedule shortened to fit a budget is at most this share of it
MAX_WARMUP_SHARE = 0.1


def warmup_cosine(
    step: int, total: int, peak: float, warmup: int, time_progress: float = 0.0
) -> float:
    """The learning rate of ``step`` (0-based) of ``total``: linear warm-up over ``warmup``
    steps, then cosine decay to 0 by the end of the steps or of the time budget
    (``time_progress``, the share of it used), whichever comes first."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = max((step - warmup) / max(1, total - warmup), time_progress)
    return peak * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def warmup_cosine_factor(total: int, warmup: int) -> Callable[[int], float]:
    """The same schedule as a multiplier of the peak, step -> factor (``LambdaLR``'s
    ``lr_lambda``): warm-up over ``warmup`` steps, cosine to 0 at ``total``."""

    def factor(step: int) -> float:
        return warmup_cosine(step, total, 1.0, warmup)

    return factor


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set every parameter group of ``optimizer`` to the learning rate ``lr``."""
    for group in optimizer.param_groups:
        group["lr"] = lr


@dataclass(frozen=True)
class BudgetFit:
    """How a schedule was fitted to a time budget: the steps the settings ask for, the
    measured speed, and the steps (and warm-up) the budget holds."""

    planned_steps: int
    fitted_steps: int
    warmup_steps: int
    seconds_per_step: float
    timed_steps: int
    budget_seconds: float
    # the first estimate (from the probe) and how many re-estimates followed it
    first_fitted_steps: int | None = None
    refits: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fit_steps(
    planned_steps: int,
    warmup_steps: int,
    *,
    done_steps: int,
    seconds_per_step: float,
    seconds_left: float,
    timed_steps: int,
    budget_seconds: float,
    previous: BudgetFit | None = None,
) -> BudgetFit:
    """The schedule a budget holds: ``done_steps`` already taken plus as many more as
    ``seconds_left`` allows at ``seconds_per_step``, never more than ``planned_steps``; the
    warm-up shrinks with it (to at most a tenth of the fitted steps), never below 1. A
    re-estimate passes the ``previous`` fit: the planned steps stay its plan, and a warm-up
    already finished stays as it was."""
    if previous is not None:
        planned_steps = previous.planned_steps
    more = int(max(0.0, seconds_left) / max(seconds_per_step, 1e-9))
    fitted = max(done_steps + 1, min(planned_steps, done_steps + more))
    warmup = warmup_steps
    if fitted < planned_steps:
        warmup = max(1, min(warmup_steps, int(MAX_WARMUP_SHARE * fitted)))
    first, refits = fitted, 0
    if previous is not None:
        if done_steps >= previous.warmup_steps:
            warmup = previous.warmup_steps
        first = previous.first_fitted_steps or previous.fitted_steps
        refits = previous.refits + 1
    return BudgetFit(
        planned_steps=planned_steps,
        fitted_steps=fitted,
        warmup_steps=warmup,
        seconds_per_step=round(seconds_per_step, 4),
        timed_steps=timed_steps,
        budget_seconds=round(budget_seconds, 1),
        first_fitted_steps=first,
        refits=refits,
    )


class StepTimer:
    """Times ``probe`` training steps after the first (which pays one-off costs: allocation,
    lazy initialisation) and then says the measured seconds per step; after that, every
    ``refit_every`` steps, the average since the probe began (0: once only)."""

    def __init__(self, probe: int = 8, refit_every: int = 25) -> None:
        self.probe = max(1, probe)
        self.refit_every = refit_every
        self._start: float | None = None
        self._steps = 0
        self.fits = 0

    @property
    def done(self) -> bool:
        return self.fits > 0 and not self.refit_every

    def step(self) -> float | None:
        """Call after every step; returns the seconds per step when an estimate is due."""
        if self.done:
            return None
        now = time.monotonic()
        if self._start is None:
            self._start = now
            return None
        self._steps += 1
        due = self.probe if not self.fits else self.probe + self.fits * self.refit_every
        if self._steps < due:
            return None
        self.fits += 1
        return (now - self._start) / self._steps
